/**
 * The per-run cache behind the checks' getters: each key (one API request, one lookup) is loaded
 * once, failures included, and shared by every check that reads it. Each check attempt records
 * what it read, so the runner can tell whether a result is still current (nothing it read was
 * reloaded since) and can reload exactly the reads of a check it retries.
 */
export interface Read {
  key: string;
  gen: number;
}

export class Memo {
  private readonly entries = new Map<string, { gen: number; promise: Promise<unknown> }>();
  private gen = 0;
  /** Loads started, by key prefix up to the first ":" (for tests and benchmarks). */
  readonly loads: string[] = [];

  get<T>(key: string, load: () => Promise<T>, reads?: Read[]): Promise<T> {
    let e = this.entries.get(key);
    if (!e) {
      this.loads.push(key);
      const promise = Promise.resolve().then(load);
      promise.catch(() => undefined); // failures are memoised; whoever reads them handles them
      e = { gen: ++this.gen, promise };
      this.entries.set(key, e);
    }
    reads?.push({ key, gen: e.gen });
    return e.promise as Promise<T>;
  }

  /** True when every read still refers to the cached load. */
  isCurrent(reads: readonly Read[]): boolean {
    return reads.every((r) => this.entries.get(r.key)?.gen === r.gen);
  }

  /** Drops the cached loads these reads saw, so that the next read reloads them. */
  invalidate(reads: readonly Read[]): void {
    for (const r of reads) if (this.entries.get(r.key)?.gen === r.gen) this.entries.delete(r.key);
  }
}
