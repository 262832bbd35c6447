import type { ClusterApi } from "../kube/cluster.js";
import { KubeApiError } from "../kube/errors.js";
import type { Pod } from "../kube/types.js";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { ExpositionCollector, ExpositionError, Interner } from "./exposition.js";
import type { PodScrape } from "./delta.js";

/**
 * Scraping proxies' `/metrics` through the API server's pod proxy (D1, D4): bounded concurrency,
 * one interner per pod shared by its scrapes, and a pod that fails reported once and skipped.
 *
 * Compression: `ClusterApi.podProxyText()` sends no `Accept-Encoding`, so payloads arrive
 * uncompressed; a transport that can ask for gzip (and stream the body into the parser) can
 * replace `fetch` below without other changes.
 */

export const ADMIN_PORT = 4191;

export interface ScrapedPod extends PodScrape {
  /** Bytes of the body received (for discounting mesh's own scrape). */
  bodyBytes: number;
}

export interface ScrapeCounters {
  requests: number;
  bytes: number;
  failures: number;
}

export interface ScraperOptions {
  families: readonly string[];
  /** Parallel requests (default 16). */
  concurrency?: number;
  /** Local clock, ms. */
  now: () => number;
  /** A line for stderr about a pod that could not be scraped (called once per pod). */
  warn: (message: string) => void;
  /** Individual failure lines before they are only counted (default 10). */
  maxWarnings?: number;
}

export const podKey = (p: Pick<Pod, "metadata">) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`;

/** Why a scrape failed, in one line. */
export function describeScrapeError(err: unknown): string {
  if (err instanceof ExpositionError) return `malformed metrics: ${sanitize(err.message, 160)}`;
  if (err instanceof KubeApiError) {
    if (err.status === 404) return "pod not found (deleted?)";
    if (err.status === 403) {
      const rbac = /cannot get resource|is forbidden|forbidden: User/i.test(err.serverMessage);
      return rbac ? `forbidden: missing RBAC permission "get" on pods/proxy (${sanitize(err.serverMessage, 160)})` : "admin endpoint not authorized by policy (the proxy answered 403)";
    }
    return sanitize(err.message, 200);
  }
  if (err instanceof MeshError) return sanitize(err.message, 200);
  return sanitize(err instanceof Error ? err.message : String(err), 200);
}

export class Scraper {
  readonly counters: ScrapeCounters = { requests: 0, bytes: 0, failures: 0 };
  private readonly interners = new Map<string, Interner>();
  private readonly reported = new Set<string>();
  private warnings = 0;
  private suppressed = 0;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly o: ScraperOptions,
    /** Fetches a pod's metrics text; defaults to the API server's pod proxy. */
    private readonly fetch: (namespace: string, pod: string) => Promise<string> = (ns, pod) => cluster.podProxyText(ns, pod, ADMIN_PORT, "/metrics"),
  ) {}

  /** Scrapes every pod once; failed pods are missing from the result. */
  async round(pods: Pod[]): Promise<Map<string, ScrapedPod>> {
    const out = new Map<string, ScrapedPod>();
    const queue = pods.slice();
    const seen = new Set(pods.map(podKey));
    // Forget interners of pods no longer scraped.
    for (const k of this.interners.keys()) if (!seen.has(k)) this.interners.delete(k);
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const key = podKey(p);
        try {
          this.counters.requests++;
          const text = await this.fetch(p.metadata.namespace ?? "", p.metadata.name);
          const time = this.o.now();
          const bodyBytes = Buffer.byteLength(text);
          this.counters.bytes += bodyBytes;
          let interner = this.interners.get(key);
          if (!interner) this.interners.set(key, (interner = new Interner()));
          const c = new ExpositionCollector({ families: this.o.families, interner });
          c.write(text);
          out.set(key, { time, metrics: c.end(), bodyBytes });
          this.reported.delete(key);
        } catch (err) {
          this.counters.failures++;
          if (!this.reported.has(key)) {
            this.reported.add(key);
            if (this.warnings < (this.o.maxWarnings ?? 10)) {
              this.warnings++;
              this.o.warn(`cannot scrape pod ${sanitize(key, 120)}: ${describeScrapeError(err)}; skipping it`);
            } else this.suppressed++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency ?? 16, pods.length)) }, worker));
    return out;
  }

  /** Failures not reported line by line, once: call after the last round. */
  flushWarnings(): void {
    if (this.suppressed > 0) this.o.warn(`${this.suppressed} more pods could not be scraped and were skipped`);
    this.suppressed = 0;
  }
}
