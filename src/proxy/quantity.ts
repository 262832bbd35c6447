/**
 * Kubernetes resource quantities (`100m`, `1.5`, `2Gi`, `1e3`), as far as Linkerd uses
 * them: validating proxy resource overrides and turning a CPU limit into whole cores.
 */

const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

export function isQuantity(s: string): boolean {
  return QUANTITY_RE.test(s);
}

/**
 * The quantity rounded up (away from zero) to a whole number, as Linkerd's
 * ToWholeCPUCores: `100m` → 1, `1` → 1, `1500m` → 2. Exact (no floating point).
 * Undefined when `s` is not a quantity.
 */
export function wholeCores(s: string): number | undefined {
  const m = QUANTITY_RE.exec(s);
  if (!m) return undefined;
  const [, sign, num, suffix = ""] = m;
  const [int, frac = ""] = num.split(".");
  let n = BigInt((int || "0") + frac);
  let den = 10n ** BigInt(frac.length);
  if (suffix in BINARY_EXP) n *= 2n ** BigInt(BINARY_EXP[suffix]);
  else {
    const exp = suffix in DECIMAL_EXP ? DECIMAL_EXP[suffix] : Number(suffix.slice(1));
    if (exp >= 0) n *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  const q = (n + den - 1n) / den;
  const v = Number(q);
  return sign === "-" && v !== 0 ? -v : v;
}
