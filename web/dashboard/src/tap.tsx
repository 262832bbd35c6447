// Live tap: the filters of `mesh viz tap`, rows as the proxies log requests, pause and resume.
import { useEffect, useRef, useState } from "preact/hooks";
import type { TapRow } from "../../../src/dashboard/wire";

const FIELDS = [
  { name: "namespace", label: "Namespace", placeholder: "default" },
  { name: "resource", label: "Resource", placeholder: "deploy/web" },
  { name: "to", label: "To resource", placeholder: "svc/web-svc" },
  { name: "toNamespace", label: "To namespace", placeholder: "" },
  { name: "method", label: "Method", placeholder: "GET" },
  { name: "path", label: "Path prefix", placeholder: "/api" },
  { name: "authority", label: "Authority", placeholder: "web-svc.ns.svc.cluster.local:80" },
  { name: "scheme", label: "Scheme", placeholder: "http" },
  { name: "maxRps", label: "Max RPS", placeholder: "100" },
] as const;

type Params = Record<(typeof FIELDS)[number]["name"], string>;

/** Rows kept on the page (newest first). */
const MAX_ROWS = 200;

export function TapPage({ defaultNamespace }: { defaultNamespace: string }) {
  const initial = Object.fromEntries(FIELDS.map((f) => [f.name, ""])) as Params;
  initial.namespace = defaultNamespace;
  const [params, setParams] = useState<Params>(initial);
  const [state, setState] = useState<"idle" | "running" | "paused">("idle");
  const [rows, setRows] = useState<TapRow[]>([]);
  const [notes, setNotes] = useState<string[]>([]);
  const [failure, setFailure] = useState<{ error: string; hint: string | null } | null>(null);
  const es = useRef<EventSource | null>(null);
  const active = useRef<Params | null>(null);

  const close = () => {
    es.current?.close();
    es.current = null;
  };
  useEffect(() => close, []);

  const open = (p: Params) => {
    close();
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(p)) if (v.trim()) q.set(k, v.trim());
    const source = new EventSource(`api/tap?${q}`);
    es.current = source;
    source.addEventListener("row", (e) => {
      const row = JSON.parse((e as MessageEvent<string>).data) as TapRow;
      setRows((rs) => [row, ...rs].slice(0, MAX_ROWS));
    });
    source.addEventListener("note", (e) => {
      const { message } = JSON.parse((e as MessageEvent<string>).data) as { message: string };
      setNotes((ns) => [...ns, message].slice(-10));
    });
    source.addEventListener("failure", (e) => {
      setFailure(JSON.parse((e as MessageEvent<string>).data) as { error: string; hint: string | null });
      close();
      setState("idle");
    });
    source.onerror = () => {
      // A 4xx/5xx answer (bad form, too many sessions) arrives as an error without events.
      if (source.readyState === EventSource.CLOSED) {
        setFailure((f) => f ?? { error: "the tap stream was refused or ended; check the form and try again", hint: null });
        setState("idle");
      }
    };
  };

  const start = (ev: Event) => {
    ev.preventDefault();
    setRows([]);
    setNotes([]);
    setFailure(null);
    active.current = { ...params };
    open(active.current);
    setState("running");
  };
  const pause = () => {
    close();
    setState("paused");
  };
  const resume = () => {
    if (active.current) open(active.current);
    setState("running");
  };
  const stop = () => {
    close();
    setState("idle");
  };

  const accessLogOff = failure && /access log is off/.test(failure.error);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Live tap</h1>
      <p class="muted">Requests the resource's pods receive, read from their proxies' access logs, with the filters of mesh viz tap.</p>
      <form class="tap-form" onSubmit={start} aria-describedby="tap-help">
        {FIELDS.map((f) => (
          <label key={f.name}>
            <span>{f.label}</span>
            <input
              name={f.name}
              value={params[f.name]}
              placeholder={f.placeholder}
              required={f.name === "resource"}
              inputMode={f.name === "maxRps" ? "decimal" : undefined}
              onInput={(e) => setParams({ ...params, [f.name]: (e.target as HTMLInputElement).value })}
            />
          </label>
        ))}
        <p id="tap-help" class="muted">Resource: TYPE/NAME, e.g. deploy/web. Path matches as a prefix; method and scheme ignore case.</p>
        <div class="buttons">
          <button type="submit">{state === "idle" ? "Start" : "Restart"}</button>
          <button type="button" onClick={pause} disabled={state !== "running"}>Pause</button>
          <button type="button" onClick={resume} disabled={state !== "paused"}>Resume</button>
          <button type="button" onClick={stop} disabled={state === "idle"}>Stop</button>
        </div>
      </form>
      <p role="status" class="muted" id="tap-state">
        {state === "running" ? `Tapping (${rows.length} requests shown)` : state === "paused" ? `Paused (${rows.length} requests shown)` : "Not tapping"}
      </p>
      {failure ? (
        <div class="alert" role="alert" id="tap-failure">
          <strong>{accessLogOff ? "Access logs are off: " : "Cannot tap: "}</strong>
          {failure.error}
          {failure.hint ? <p class="hint">{failure.hint}</p> : null}
        </div>
      ) : null}
      {notes.length ? (
        <ul class="notes" aria-label="Notes about the tapped pods">
          {notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      ) : null}
      <table id="tap-rows">
        <caption>Requests, newest first (at most {MAX_ROWS})</caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Path</th>
            <th scope="col">Authority</th>
            <th scope="col" class="num">Status</th>
            <th scope="col" class="num">Latency</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">mTLS</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.dstPod} ${r.id}`} data-id={`${r.dstPod} ${r.id}`} data-method={r.method} data-path={r.path}>
              <td>{r.method}</td>
              <td class="path">{r.path}</td>
              <td>{r.authority}</td>
              <td class={`num ${r.status !== null && r.status >= 500 ? "bad" : ""}`}>{r.status ?? "-"}</td>
              <td class="num">{r.latencyMs === null ? "-" : `${r.latencyMs < 1 ? r.latencyMs.toFixed(2) : Math.round(r.latencyMs)} ms`}</td>
              <td>{r.srcPod ?? r.src}</td>
              <td>{r.dstPod}</td>
              <td>{r.tls === "true" ? "yes" : r.tls || "-"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
