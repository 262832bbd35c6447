/** Go standard-library parsing and formatting that Linkerd's behaviour depends on. */

/** strconv.ParseBool. */
export function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** strconv.ParseInt(s, 10, bits). */
export function parseInt10(s: string, bits: 32 | 64): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (n > max || n < -max - 1n) return undefined;
  return Number(n);
}

/** strconv.ParseUint(s, 10, 64). */
export function parseUint10(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n > 18446744073709551615n) return undefined;
  return Number(n);
}

/** strconv.Atoi. */
export function atoi(s: string): number | undefined {
  return parseInt10(s, 64);
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };

/** time.ParseDuration, in nanoseconds (a float: precision beyond 2^53 ns is not needed here). */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest) {
    const m = re.exec(rest);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return undefined;
    const whole = m[1] ? Number(m[1]) : 0;
    const frac = m[2] ? Number(`0.${m[2]}`) : 0;
    total += (whole + frac) * UNIT_NS[m[3]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** time.Duration.String() of a whole number of nanoseconds (e.g. `1m0s`, `1.5s`, `300ms`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    let unit: string;
    let div: number;
    if (u < 1e3) return `${neg ? "-" : ""}${u}ns`;
    if (u < 1e6) {
      unit = "µs";
      div = 1e3;
    } else {
      unit = "ms";
      div = 1e6;
    }
    out = trimFrac(u / div) + unit;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const sec = trimFrac(u / 1e9);
    out = h ? `${h}h${m}m${sec}s` : m ? `${m}m${sec}s` : `${sec}s`;
  }
  return (neg ? "-" : "") + out;
}

function trimFrac(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, "");
}
