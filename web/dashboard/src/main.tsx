// The mesh dashboard: hash routes (#/, #/ns/NS, #/ns/NS/KIND/NAME, #/tap, #/check), live through
// the server's event stream.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { getJson, useRound, type Meta } from "./api";
import { CheckPage } from "./check";
import { NamespacePage, OverviewPage, WorkloadPage } from "./pages";
import { TapPage } from "./tap";
import "./style.css";

type Route = { page: "overview" } | { page: "namespace"; ns: string } | { page: "workload"; ns: string; kind: string; name: string } | { page: "tap" } | { page: "check" };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "tap") return { page: "tap" };
  if (parts[0] === "check") return { page: "check" };
  if (parts[0] === "ns" && parts.length === 2) return { page: "namespace", ns: parts[1] };
  if (parts[0] === "ns" && parts.length === 4) return { page: "workload", ns: parts[1], kind: parts[2], name: parts[3] };
  return { page: "overview" };
}

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function App() {
  const route = useHashRoute();
  const live = useRound();
  const [meta, setMeta] = useState<Meta | null>(null);
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    getJson<Meta>("api/meta").then((m) => {
      setMeta(m);
      if (!location.hash && m.defaultNamespace) location.hash = `#/ns/${encodeURIComponent(m.defaultNamespace)}`;
    }, () => undefined);
  }, []);
  // A new page moves focus to its content, as a page load would (keyboard and screen readers).
  const key = JSON.stringify(route);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [key]);
  const title = route.page === "namespace" ? `Namespace ${route.ns}` : route.page === "workload" ? `${route.kind} ${route.name}` : route.page === "tap" ? "Tap" : route.page === "check" ? "Checks" : "Namespaces";
  useEffect(() => {
    document.title = `${title} · mesh dashboard`;
  }, [title]);
  const current = (p: Route["page"][]) => (p.includes(route.page) ? "page" : undefined);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header>
        <span class="brand">mesh dashboard</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={current(["overview", "namespace", "workload"])}>Namespaces</a>
          <a href="#/tap" aria-current={current(["tap"])}>Tap</a>
          <a href="#/check" aria-current={current(["check"])}>Check</a>
        </nav>
        <span class="live" role="status" aria-live="off">
          <span class={`dot ${live.connected ? "on" : "off"}`} aria-hidden="true" />
          {live.connected ? `live · round ${live.round}` : "connecting…"}
          {meta ? ` · every ${meta.intervalMs / 1000}s from ${meta.source === "prometheus" ? "Prometheus" : "the proxies"}` : ""}
        </span>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route.page === "overview" ? <OverviewPage round={live.round} /> : null}
        {route.page === "namespace" ? <NamespacePage round={live.round} ns={route.ns} /> : null}
        {route.page === "workload" ? <WorkloadPage round={live.round} ns={route.ns} kind={route.kind} name={route.name} /> : null}
        {route.page === "tap" ? <TapPage defaultNamespace={meta?.defaultNamespace ?? ""} /> : null}
        {route.page === "check" ? <CheckPage /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
