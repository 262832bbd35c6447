// The pages: namespaces, a namespace's workloads, one workload. Server strings are only ever
// rendered as text (preact escapes them).
import { Chart } from "./chart";
import { fmt, nsHref, SHORT_KIND, useLive, workloadHref, type Numbers } from "./api";
import type { EdgeView, NamespaceData, Overview, WorkloadDetail } from "../../../src/dashboard/wire";

function NumberCells({ n }: { n: Numbers }) {
  return (
    <>
      <td class="num" data-col="success" data-value={n.success ?? ""}>{fmt.success(n.success)}</td>
      <td class="num" data-col="rps" data-value={n.rps ?? ""}>{fmt.rps(n.rps)}</td>
      <td class="num" data-col="p50" data-value={n.p50 ?? ""}>{fmt.ms(n.p50)}</td>
      <td class="num" data-col="p95" data-value={n.p95 ?? ""}>{fmt.ms(n.p95)}</td>
      <td class="num" data-col="p99" data-value={n.p99 ?? ""}>{fmt.ms(n.p99)}</td>
    </>
  );
}

const NUMBER_HEADERS = (
  <>
    <th scope="col" class="num">Success</th>
    <th scope="col" class="num">RPS</th>
    <th scope="col" class="num">P50</th>
    <th scope="col" class="num">P95</th>
    <th scope="col" class="num">P99</th>
  </>
);

export function Status({ time, error, loading }: { time?: number | null; error?: string | null; loading: boolean }) {
  if (error) return <p class="alert" role="alert">{error}</p>;
  if (loading) return <p class="muted" role="status">Collecting the first numbers (two scrapes of every proxy)…</p>;
  return <p class="muted">Updated {fmt.time(time ?? null)}</p>;
}

export function OverviewPage({ round }: { round: number }) {
  const { data, error } = useLive<Overview>("api/overview", round);
  const rows = data?.namespaces ?? [];
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Namespaces</h1>
      <Status time={data?.time} error={error ?? data?.error} loading={!data || data.round === 0} />
      <table id="namespaces">
        <caption>Meshed pods and golden metrics of each namespace's inbound traffic</caption>
        <thead>
          <tr>
            <th scope="col">Namespace</th>
            <th scope="col" class="num">Meshed</th>
            {NUMBER_HEADERS}
            <th scope="col">RPS over time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n.name} data-name={n.name}>
              <th scope="row">
                <a href={nsHref(n.name)}>{n.name}</a>
              </th>
              <td class="num" data-col="meshed">{`${n.meshed}/${n.total}`}</td>
              <NumberCells n={n} />
              <td>
                <Chart spark points={n.history} fields={["rps"]} label={`RPS of namespace ${n.name}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function NamespacePage({ round, ns }: { round: number; ns: string }) {
  const { data, error } = useLive<NamespaceData>(`api/namespace?ns=${encodeURIComponent(ns)}`, round);
  const rows = data?.workloads ?? [];
  return (
    <section aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Namespaces</a> / <span aria-current="page">{ns}</span>
      </nav>
      <h1 id="page-title">Namespace {ns}</h1>
      <Status time={data?.time} error={error ?? data?.error} loading={!data || data.round === 0} />
      {data && data.round > 0 && rows.length === 0 ? <p>No workloads in this namespace.</p> : null}
      <table id="workloads">
        <caption>Workloads of namespace {ns}: meshed pods, golden metrics and their recent history</caption>
        <thead>
          <tr>
            <th scope="col">Workload</th>
            <th scope="col" class="num">Meshed</th>
            {NUMBER_HEADERS}
            <th scope="col">RPS over time</th>
            <th scope="col">P95 over time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <tr key={`${w.kind}/${w.name}`} data-name={w.name} data-kind={w.kind}>
              <th scope="row">
                <a href={workloadHref(w.namespace, w.kind, w.name)}>
                  {SHORT_KIND[w.kind] ?? w.kind}/{w.name}
                </a>
              </th>
              <td class="num" data-col="meshed">{`${w.meshed}/${w.total}`}</td>
              <NumberCells n={w} />
              <td>
                <Chart spark points={w.history} fields={["rps"]} label={`RPS of ${w.kind} ${w.name}`} />
              </td>
              <td>
                <Chart spark points={w.history} fields={["p95"]} label={`P95 latency of ${w.kind} ${w.name}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type WorkloadData = WorkloadDetail & { error: string | null };

function Edges({ id, title, edges, peerLabel }: { id: string; title: string; edges: EdgeView[]; peerLabel: string }) {
  return (
    <table id={id}>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">{peerLabel}</th>
          <th scope="col">Client identity</th>
          <th scope="col">Server identity</th>
          <th scope="col">Secured</th>
        </tr>
      </thead>
      <tbody>
        {edges.length === 0 ? (
          <tr>
            <td colSpan={4}>None</td>
          </tr>
        ) : (
          edges.map((e) => (
            <tr key={e.peer}>
              <th scope="row">{e.peer}</th>
              <td>{e.clientId || "-"}</td>
              <td>{e.serverId || "-"}</td>
              <td>{e.noTlsReason ? e.noTlsReason : "yes (mTLS)"}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function WorkloadPage({ round, ns, kind, name }: { round: number; ns: string; kind: string; name: string }) {
  const { data, error } = useLive<WorkloadData>(`api/workload?ns=${encodeURIComponent(ns)}&kind=${encodeURIComponent(kind)}&name=${encodeURIComponent(name)}`, round);
  const w = data?.workload;
  const outdated = data?.pods.filter((p) => p.outdated) ?? [];
  return (
    <section aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Namespaces</a> / <a href={nsHref(ns)}>{ns}</a> / <span aria-current="page">{`${SHORT_KIND[kind] ?? kind}/${name}`}</span>
      </nav>
      <h1 id="page-title">
        {kind} {name}
        {outdated.length ? (
          <span class="badge warn" id="outdated-badge">
            {outdated.length} proxy{outdated.length === 1 ? "" : "s"} older than the control plane
          </span>
        ) : null}
      </h1>
      <Status time={data?.time} error={error ?? data?.error} loading={!data || !w} />
      {w ? (
        <>
          <table id="summary">
            <caption>Golden metrics of its inbound traffic</caption>
            <thead>
              <tr>
                <th scope="col" class="num">Meshed</th>
                {NUMBER_HEADERS}
              </tr>
            </thead>
            <tbody>
              <tr>
                <td class="num" data-col="meshed">{`${w.meshed}/${w.total}`}</td>
                <NumberCells n={w} />
              </tr>
            </tbody>
          </table>
          <div class="charts">
            <figure>
              <figcaption>Success rate (%)</figcaption>
              <Chart points={data!.history} fields={["success"]} label={`Success rate of ${kind} ${name}`} />
            </figure>
            <figure>
              <figcaption>Requests per second</figcaption>
              <Chart points={data!.history} fields={["rps"]} label={`RPS of ${kind} ${name}`} />
            </figure>
            <figure>
              <figcaption>Latency (ms)</figcaption>
              <Chart points={data!.history} fields={["p50", "p95", "p99"]} label={`Latency percentiles of ${kind} ${name}`} />
            </figure>
          </div>
          {data!.note ? <p class="muted">{data!.note}</p> : null}
          <h2>Routes</h2>
          <table id="routes">
            <caption>Inbound routes (from the ServiceProfiles of its Services)</caption>
            <thead>
              <tr>
                <th scope="col">Route</th>
                <th scope="col">Service</th>
                {NUMBER_HEADERS}
              </tr>
            </thead>
            <tbody>
              {data!.routes.length === 0 ? (
                <tr>
                  <td colSpan={7}>No Service selects this workload</td>
                </tr>
              ) : (
                data!.routes.map((r) => (
                  <tr key={`${r.service} ${r.route}`}>
                    <th scope="row">{r.route}</th>
                    <td>{r.service}</td>
                    <NumberCells n={r} />
                  </tr>
                ))
              )}
            </tbody>
          </table>
          <h2>Edges</h2>
          <Edges id="inbound" title="Inbound: clients connected to it" edges={data!.inbound} peerLabel="From" />
          <Edges id="outbound" title="Outbound: what it is connected to" edges={data!.outbound} peerLabel="To" />
          <h2>Pods</h2>
          <table id="pods">
            <caption>Pods and their proxy versions (control plane: {data!.controlPlaneVersion ?? "unknown"})</caption>
            <thead>
              <tr>
                <th scope="col">Pod</th>
                <th scope="col">Status</th>
                <th scope="col">Proxy version</th>
              </tr>
            </thead>
            <tbody>
              {data!.pods.map((p) => (
                <tr key={p.name} data-name={p.name}>
                  <th scope="row">{p.name}</th>
                  <td>{p.status}</td>
                  <td>
                    {p.meshed ? p.proxyVersion || "unknown" : "not meshed"}
                    {p.outdated ? <span class="badge warn">older than the control plane</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
