import { podProxyPath, type ClusterApi } from "../kube/cluster.js";
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
 * Each scrape is one streamed GET that asks for gzip (the proxy compresses `/metrics` when asked,
 * and the API server's pod proxy passes that through): the body is decompressed and parsed chunk
 * by chunk, so a payload is never held whole in memory. A cluster whose transport cannot stream
 * (a test's fake) falls back to one buffered GET.
 */

export const ADMIN_PORT = 4191;

export interface ScrapedPod extends PodScrape {
  /** Bytes of the body as the proxy wrote it (compressed when gzip was used), for discounting mesh's own scrape. */
  bodyBytes: number;
}

export interface ScrapeCounters {
  requests: number;
  /** Bytes of metrics text parsed (after decompression). */
  bytes: number;
  /** Bytes of the scrapes' bodies as received (compressed when the proxy used gzip). */
  wireBytes: number;
  failures: number;
}

/** A scrape's body: text, or chunks as they arrive. */
export type ScrapeBody = string | AsyncIterable<Uint8Array>;

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
      return rbac ? `forbidden: missing RBAC permission "get" on pods/proxy (${sanitize(err.serverMessage, 160)})` : "admin endpoint not authorized by policy (the proxy answered 403; `mesh viz allow-scrapes` renders a policy that admits mesh's scrapes)";
    }
    return sanitize(err.message, 200);
  }
  if (err instanceof MeshError) return sanitize(err.message, 200);
  return sanitize(err instanceof Error ? err.message : String(err), 200);
}

/** A 403 from the API server's authorizer (not from the proxy's own policy). */
const isRbacDenial = (e: unknown) => e instanceof KubeApiError && e.status === 403 && /cannot get resource|is forbidden|forbidden: User/i.test(e.serverMessage);

/** The error of a round in which no pod could be scraped. */
function allFailed(failed: Map<string, unknown>): MeshError {
  const errs = [...failed.values()];
  if (errs.some(isRbacDenial)) {
    const namespaces = [...new Set([...failed.keys()].map((k) => k.split("/")[0]))].sort();
    return new MeshError(
      `cannot read the proxies' metrics: missing RBAC permission "get" on pods/proxy in namespace${namespaces.length > 1 ? "s" : ""} ${namespaces.map((n) => sanitize(n, 63)).join(", ")}`,
      "mesh reads each proxy's /metrics through the API server (GET pods/proxy); ask a cluster admin to grant it, or use a context with more rights (--context)",
    );
  }
  const reasons = [...new Set(errs.map(describeScrapeError))];
  return new MeshError(`cannot scrape any of the ${failed.size} proxies: ${reasons.slice(0, 3).join("; ")}${reasons.length > 3 ? "; …" : ""}`);
}

export class Scraper {
  readonly counters: ScrapeCounters = { requests: 0, bytes: 0, wireBytes: 0, failures: 0 };
  private readonly interners = new Map<string, Interner>();
  private readonly reported = new Set<string>();
  private warnings = 0;
  private suppressed = 0;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly o: ScraperOptions,
    /** Fetches a pod's metrics; defaults to a streamed, gzip-accepting GET through the API server's pod proxy. */
    private readonly fetch: (namespace: string, pod: string, onWireBytes: (n: number) => void) => Promise<ScrapeBody> | ScrapeBody = (ns, pod, onWireBytes) =>
      cluster.getStream(podProxyPath(ns, pod, ADMIN_PORT, "/metrics"), { onWireBytes }),
  ) {}

  /**
   * Scrapes every pod once; failed pods are missing from the result (which is empty when
   * `onScraped` takes each scrape as it completes instead). With `throwIfAllFail`, a
   * round in which the API server refused every scrape (RBAC: no `get` on pods/proxy) throws one
   * MeshError instead of a warning per pod: a later round cannot do better.
   */
  async round(pods: Pod[], opts: { throwIfAllFail?: boolean; onScraped?: (key: string, scraped: ScrapedPod) => void } = {}): Promise<Map<string, ScrapedPod>> {
    const out = new Map<string, ScrapedPod>();
    let scraped = 0;
    const failed = new Map<string, unknown>();
    const queue = pods.slice();
    const seen = new Set(pods.map(podKey));
    // Forget interners of pods no longer scraped.
    for (const k of this.interners.keys()) if (!seen.has(k)) this.interners.delete(k);
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const key = podKey(p);
        try {
          this.counters.requests++;
          let interner = this.interners.get(key);
          if (!interner) this.interners.set(key, (interner = new Interner()));
          const c = new ExpositionCollector({ families: this.o.families, interner });
          let wire: number | undefined;
          const body = await this.fetch(p.metadata.namespace ?? "", p.metadata.name, (n) => (wire = (wire ?? 0) + n));
          // The scrape's time is when its first byte arrived: the proxy rendered the counters just
          // before. Reading and parsing the rest takes longer for the first scrape (a cold parser),
          // which would otherwise shorten Δt and inflate the rates.
          let time: number | undefined;
          let textBytes = 0;
          if (typeof body === "string") {
            time = this.o.now();
            textBytes = Buffer.byteLength(body);
            c.write(body);
          } else
            for await (const chunk of body) {
              time ??= this.o.now();
              textBytes += chunk.length;
              c.write(chunk);
            }
          time ??= this.o.now();
          this.counters.bytes += textBytes;
          this.counters.wireBytes += wire ?? textBytes;
          // The proxy's write counter, from which mesh's own scrape is discounted, counts what went
          // on the wire: the compressed size when gzip was used.
          const result: ScrapedPod = { time, metrics: c.end(), bodyBytes: wire ?? textBytes };
          // Between rounds the interner keeps only the strings and label sets both scrapes share.
          interner.forgetRaw();
          scraped++;
          // With a callback each scrape is handed over as it completes and not kept here, so the
          // caller can reduce it (e.g. to a delta) and let it go before the round ends.
          if (opts.onScraped) opts.onScraped(key, result);
          else out.set(key, result);
          this.reported.delete(key);
        } catch (err) {
          this.counters.failures++;
          failed.set(key, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency ?? 16, pods.length)) }, worker));
    if (opts.throwIfAllFail && pods.length > 0 && scraped === 0 && [...failed.values()].every(isRbacDenial)) throw allFailed(failed);
    for (const [key, err] of failed) {
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      if (this.warnings < (this.o.maxWarnings ?? 10)) {
        this.warnings++;
        this.o.warn(`cannot scrape pod ${sanitize(key, 120)}: ${describeScrapeError(err)}; skipping it`);
      } else this.suppressed++;
    }
    return out;
  }

  /** Failures not reported line by line, once: call after the last round. */
  flushWarnings(): void {
    if (this.suppressed > 0) this.o.warn(`${this.suppressed} more pods could not be scraped and were skipped`);
    this.suppressed = 0;
  }
}
