/**
 * Go durations, exactly: Linkerd parses `--identity-issuance-lifetime` and
 * `--identity-clock-skew-allowance` with time.ParseDuration and stores them re-formatted with
 * Duration.String (`48h` becomes `48h0m0s`), and the identity controller parses them back.
 */

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX = 2n ** 63n - 1n;

/** Nanoseconds of a Go duration string, or undefined when Go would reject it. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length) {
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const unit = UNIT_NS[m[3]];
    const frac = m[2] ?? "";
    let ns = BigInt(m[1] || "0") * unit;
    if (frac) ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += ns;
    if (total > MAX) return undefined;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

/** Go's Duration.String(): `24h0m0s`, `20s`, `1.5s`, `300ms`, `0s`. */
export function formatGoDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  const frac = (v: bigint, prec: number): { text: string; rest: bigint } => {
    let digits = "";
    let printed = false;
    for (let i = 0; i < prec; i++) {
      const d = v % 10n;
      printed ||= d !== 0n;
      if (printed) digits = d.toString() + digits;
      v /= 10n;
    }
    return { text: printed ? `.${digits}` : "", rest: v };
  };
  let out: string;
  if (u === 0n) return "0s";
  if (u < 1_000_000_000n) {
    const [prec, unit] = u < 1_000n ? [0, "ns"] : u < 1_000_000n ? [3, "µs"] : [6, "ms"];
    const f = frac(u, prec);
    out = `${f.rest}${f.text}${unit}`;
  } else {
    const f = frac(u, 9);
    u = f.rest;
    out = `${u % 60n}${f.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}
