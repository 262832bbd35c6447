// The results of `mesh check` and `mesh check --proxy`, run by the dashboard's server.
import { useEffect, useState } from "preact/hooks";
import { getJson } from "./api";
import type { CheckRun } from "../../../src/dashboard/wire";

const ICON = { ok: "√", warning: "‼", error: "×" } as const;
const WORD = { ok: "passed", warning: "warning", error: "failed" } as const;

function Run({ mode, nonce }: { mode: "default" | "proxy"; nonce: number }) {
  const [run, setRun] = useState<CheckRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const ac = new AbortController();
    setBusy(true);
    setError(null);
    getJson<CheckRun>(`api/check?mode=${mode}`, ac.signal)
      .then((r) => setRun(r), (e: Error) => !ac.signal.aborted && setError(e.message))
      .finally(() => !ac.signal.aborted && setBusy(false));
    return () => ac.abort();
  }, [mode, nonce]);
  const title = mode === "proxy" ? "mesh check --proxy" : "mesh check";
  return (
    <section class="check-run" id={`check-${mode}`} aria-labelledby={`check-${mode}-title`} aria-busy={busy}>
      <h2 id={`check-${mode}-title`}>
        <code>{title}</code>
        {run && !busy ? <span class={`badge ${run.success ? "ok" : "bad"}`}>{run.success ? "all checks passed" : "checks failed"}</span> : null}
      </h2>
      {busy ? <p role="status" class="muted">Running {title}…</p> : null}
      {error ? <p class="alert" role="alert">{error}</p> : null}
      {run
        ? run.categories.map((c) => (
            <div key={c.id} class="category">
              <h3>{c.id}</h3>
              <ul class="checks">
                {c.checks.map((ch) => (
                  <li key={ch.id} class={`check ${ch.status}`} data-status={ch.status} data-id={ch.id}>
                    <span class="icon" aria-hidden="true">{ICON[ch.status]}</span>
                    <span class="sr-only">{WORD[ch.status]}: </span>
                    <span class="desc">{ch.description}</span>
                    {ch.error ? <div class="err">{ch.error}</div> : null}
                    {ch.hint ? (
                      <div class="hint">
                        see <a href={ch.hint} rel="noreferrer noopener" target="_blank">{ch.hint}</a> for hints
                      </div>
                    ) : null}
                  </li>
                ))}
              </ul>
            </div>
          ))
        : null}
    </section>
  );
}

export function CheckPage() {
  const [nonce, setNonce] = useState(0);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Checks</h1>
      <p class="muted">The checks of mesh check and mesh check --proxy, run now against the cluster (retrying checks are not waited for; extension checks run only in the CLI).</p>
      <button type="button" onClick={() => setNonce((n) => n + 1)}>Run again</button>
      <Run mode="default" nonce={nonce} />
      <Run mode="proxy" nonce={nonce} />
    </section>
  );
}
