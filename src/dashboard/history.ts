// The charts' history, kept in memory while the dashboard runs: per series key (a namespace or a
// workload), the last `maxPoints` samples. Bounded twice: points per key, and keys (a key not
// seen in a round is dropped, so the history follows the objects that exist). Pure.

import type { Point } from "./wire.js";

export type { Point };

export class History {
  private readonly series = new Map<string, Point[]>();

  constructor(readonly maxPoints: number) {
    if (!(maxPoints >= 2)) throw new Error("history needs room for at least 2 points");
  }

  /** Records one round: a point per key; keys absent from the round are forgotten. */
  record(points: ReadonlyMap<string, Point>): void {
    for (const key of this.series.keys()) if (!points.has(key)) this.series.delete(key);
    for (const [key, p] of points) {
      let list = this.series.get(key);
      if (!list) this.series.set(key, (list = []));
      list.push(p);
      if (list.length > this.maxPoints) list.splice(0, list.length - this.maxPoints);
    }
  }

  /** A copy of a key's points, oldest first. */
  get(key: string): Point[] {
    return (this.series.get(key) ?? []).slice();
  }

  get keys(): number {
    return this.series.size;
  }
}
