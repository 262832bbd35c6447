// The dashboard's API (served by `mesh viz dashboard` under the page's own token path): every
// URL is relative to the page, so the token never needs to be known here.
import { useEffect, useState } from "preact/hooks";

export type { Meta, NamespaceRow, Numbers, Point, WorkloadRow } from "../../../src/dashboard/wire";

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** The latest round number, pushed by the server after each collection (server-sent events). */
export function useRound(): { round: number; connected: boolean; error: string | null } {
  const [state, setState] = useState({ round: 0, connected: false, error: null as string | null });
  useEffect(() => {
    const es = new EventSource("api/events");
    es.addEventListener("round", (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { round: number; error: string | null };
      setState({ round: d.round, connected: true, error: d.error });
    });
    es.onerror = () => setState((s) => ({ ...s, connected: false }));
    return () => es.close();
  }, []);
  return state;
}

/** Fetches `path` now and again whenever `round` changes; keeps the last good answer. */
export function useLive<T>(path: string | null, round: number): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null; path: string | null }>({ data: null, error: null, path: null });
  useEffect(() => {
    if (!path) return;
    const ac = new AbortController();
    getJson<T>(path, ac.signal).then(
      (data) => setState({ data, error: null, path }),
      (err: Error) => {
        if (!ac.signal.aborted) setState((s) => ({ data: s.path === path ? s.data : null, error: err.message, path }));
      },
    );
    return () => ac.abort();
  }, [path, round]);
  return state.path === path ? state : { data: null, error: null };
}

export const fmt = {
  success: (v: number | null) => (v === null ? "-" : `${(v * 100).toFixed(2)}%`),
  rps: (v: number | null) => (v === null ? "-" : `${v.toFixed(1)} rps`),
  ms: (v: number | null) => (v === null ? "-" : `${Math.round(v)} ms`),
  time: (t: number | null) => (t === null ? "-" : new Date(t).toLocaleTimeString()),
};

export const SHORT_KIND: Record<string, string> = { deployment: "deploy", statefulset: "sts", daemonset: "ds", cronjob: "cj", job: "job", replicationcontroller: "rc" };

export const nsHref = (ns: string) => `#/ns/${encodeURIComponent(ns)}`;
export const workloadHref = (ns: string, kind: string, name: string) => `#/ns/${encodeURIComponent(ns)}/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`;
