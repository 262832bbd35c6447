/**
 * Prometheus' `histogram_quantile` over one cumulative histogram (its classic-bucket rule), and
 * Linkerd's rounding of the result to whole milliseconds.
 */

/**
 * The `q`-quantile of a cumulative histogram given as parallel arrays of upper bounds and counts
 * (any order). NaN when the histogram cannot answer: fewer than two buckets, no `+Inf` bucket, or
 * no observations. q < 0 gives -Inf and q > 1 gives +Inf, as in Prometheus.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const idx = bounds.map((_, i) => i).sort((a, b) => bounds[a] - bounds[b]);
  // Sort, then merge buckets with the same bound (their counts add up).
  const le: number[] = [];
  const n: number[] = [];
  for (const i of idx) {
    const c = Number.isNaN(counts[i]) ? 0 : counts[i];
    if (le.length && le[le.length - 1] === bounds[i]) n[n.length - 1] += c;
    else {
      le.push(bounds[i]);
      n.push(c);
    }
  }
  if (le.length < 2 || le[le.length - 1] !== Infinity) return NaN;
  // Cumulative counts must not decrease: a lower count than the bucket before is raised to it.
  for (let i = 1; i < n.length; i++) if (n[i] < n[i - 1]) n[i] = n[i - 1];
  const total = n[n.length - 1];
  if (!(total > 0)) return NaN;
  let rank = q * total;
  let b = 0;
  while (b < n.length - 1 && n[b] < rank) b++;
  if (b === le.length - 1) return le[le.length - 2];
  if (b === 0 && le[0] <= 0) return le[0];
  let start = 0;
  let count = n[b];
  if (b > 0) {
    start = le[b - 1];
    count -= n[b - 1];
    rank -= n[b - 1];
  }
  return start + (le[b] - start) * (rank / count);
}

/** Go's math.Round: half away from zero. */
export function roundHalfAway(x: number): number {
  if (!Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** A latency quantile as Linkerd shows it: whole milliseconds, half away from zero; NaN becomes 0. */
export function latencyMs(x: number): number {
  if (Number.isNaN(x)) return 0;
  return roundHalfAway(x);
}
