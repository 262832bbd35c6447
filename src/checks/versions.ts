/**
 * Linkerd release versions are `channel-version` (`stable-2.14.10`, `edge-24.2.1`). The version
 * check service answers `{ "stable": "stable-2.14.10", "edge": "edge-24.2.4" }`; a version is
 * "up-to-date" when it equals the entry of its own channel.
 */
export interface ChannelVersion {
  channel: string;
  version: string;
}

export function parseChannelVersion(v: string): ChannelVersion {
  const i = v.indexOf("-");
  if (i < 0) throw new Error(`unsupported version format: ${v}`);
  return { channel: v.slice(0, i), version: v.slice(i + 1) };
}

const str = (cv: ChannelVersion) => `${cv.channel}-${cv.version}`;

export class Channels {
  constructor(readonly entries: readonly ChannelVersion[] = []) {}

  /** The single expected version given with `--expected-version`. */
  static of(expected: string): Channels {
    return new Channels([parseChannelVersion(expected)]);
  }

  /** Validates a version-check response: every value is `channel-version` of its own key. */
  static fromResponse(body: unknown): Channels {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error("unexpected versioncheck response: not a JSON object");
    const entries: ChannelVersion[] = [];
    for (const [channel, value] of Object.entries(body as Record<string, unknown>)) {
      if (typeof value !== "string") throw new Error(`unexpected versioncheck response: ${channel} is not a string`);
      let cv: ChannelVersion;
      try {
        cv = parseChannelVersion(value);
      } catch (e) {
        throw new Error(`unexpected versioncheck response: ${(e as Error).message}`);
      }
      if (cv.channel !== channel) throw new Error(`unexpected versioncheck response: channel in ${str(cv)} does not match ${channel}`);
      entries.push(cv);
    }
    return new Channels(entries);
  }

  /** Throws, with Linkerd's wording, unless `actual` is the latest version of its channel. */
  match(actual: string): void {
    if (!actual) throw new Error("actual version is empty");
    let a: ChannelVersion;
    try {
      a = parseChannelVersion(actual);
    } catch (e) {
      throw new Error(`failed to parse actual version: ${(e as Error).message}`);
    }
    const expected = this.entries.find((e) => e.channel === a.channel);
    if (!expected) throw new Error(`unsupported version channel: ${actual}`);
    if (str(expected) === actual) return;
    throw new Error(`is running version ${a.version} but the latest ${a.channel} version is ${expected.version}`);
  }
}

/** Numeric comparison of `stable-2.14.10`-style versions of one channel; undefined when not comparable. */
export function compareVersions(a: string, b: string): number | undefined {
  let x: ChannelVersion, y: ChannelVersion;
  try {
    x = parseChannelVersion(a);
    y = parseChannelVersion(b);
  } catch {
    return undefined;
  }
  if (x.channel !== y.channel) return undefined;
  const nums = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const xs = nums(x.version);
  const ys = nums(y.version);
  if (xs.some(Number.isNaN) || ys.some(Number.isNaN)) return undefined;
  for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
    const d = (xs[i] ?? 0) - (ys[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

/** `https://linkerd.io/2.14/checks/#` for stable releases, `https://linkerd.io/2/checks/#` otherwise. */
export function hintBaseUrl(cliVersion: string): string {
  const m = /stable-(\d\.\d+)\./.exec(cliVersion);
  return m ? `https://linkerd.io/${m[1]}/checks/#` : "https://linkerd.io/2/checks/#";
}
