// `mesh viz routes` and `mesh viz edges` with --prometheus-url: the PromQL of Linkerd's metrics
// API for each shape (B4: route_* by rt_route and dst, `dst` matched as profile names with an
// optional port, the actual-attempt counts only with --to; B5: open outbound connections between
// owners of one type), written out by hand from those facts; and the reading of the results into
// rows and edges.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildEdgesPromQuery, buildRoutePromQueries, edgeGroupsFromPrometheus, routeDstMatcher, routeRowsFromPrometheus, type PromSample } from "../../src/viz/prometheus.js";
import { edgesFromGroups } from "../../src/viz/edges.js";
import { DEFAULT_ROUTE, type RouteQuery } from "../../src/viz/routes.js";

const WEB = { column: "web-svc", name: "web-svc.emojivoto.svc.cluster.local", routes: ["GET /api/list", "POST /api/vote"] };
const EMOJI = { column: "emoji-svc", name: "emoji-svc.emojivoto.svc.cluster.local", routes: [] };
/** `dst` as the query text spells it: the names, then a port group whose `\d` is escaped inside the string literal. */
const dstRe = (names: string) => String.raw`dst=~"(${names})(:\\d+)?"`;

describe("routes PromQL (B4)", () => {
  test("routes deploy/web: inbound, the deployment's labels, dst of its profile; no actual counts", () => {
    const q: RouteQuery = { direction: "inbound", labels: { deployment: "web", namespace: "emojivoto" }, profiles: [WEB] };
    const sel = `{deployment="web", direction="inbound", ${dstRe("web-svc.emojivoto.svc.cluster.local")}, namespace="emojivoto"}`;
    assert.deepEqual(buildRoutePromQueries(q, 60_000), {
      requests: `sum(increase(route_response_total${sel}[1m])) by (rt_route, dst, classification)`,
      latency: {
        p50: `histogram_quantile(0.5, sum(irate(route_response_latency_ms_bucket${sel}[1m])) by (le, dst, rt_route))`,
        p95: `histogram_quantile(0.95, sum(irate(route_response_latency_ms_bucket${sel}[1m])) by (le, dst, rt_route))`,
        p99: `histogram_quantile(0.99, sum(irate(route_response_latency_ms_bucket${sel}[1m])) by (le, dst, rt_route))`,
      },
    });
  });

  test("--to: outbound, and route_actual_response_total with the same selector; several profiles joined (sorted) in one alternation", () => {
    const q: RouteQuery = { direction: "outbound", labels: { deployment: "vote-bot", namespace: "emojivoto" }, profiles: [WEB, EMOJI] };
    const sel = `{deployment="vote-bot", direction="outbound", ${dstRe("emoji-svc.emojivoto.svc.cluster.local|web-svc.emojivoto.svc.cluster.local")}, namespace="emojivoto"}`;
    const qs = buildRoutePromQueries(q, 15_000);
    assert.equal(qs.requests, `sum(increase(route_response_total${sel}[15s])) by (rt_route, dst, classification)`);
    assert.equal(qs.actual, `sum(increase(route_actual_response_total${sel}[15s])) by (rt_route, dst, classification)`);
    assert.equal(qs.latency.p99, `histogram_quantile(0.99, sum(irate(route_response_latency_ms_bucket${sel}[15s])) by (le, dst, rt_route))`);
  });

  test("namespace and service targets: only the namespace label, as Linkerd's query labels give them", () => {
    const ns = buildRoutePromQueries({ direction: "inbound", labels: { namespace: "emojivoto" }, profiles: [EMOJI] }, 60_000);
    assert.equal(ns.requests, `sum(increase(route_response_total{direction="inbound", ${dstRe("emoji-svc.emojivoto.svc.cluster.local")}, namespace="emojivoto"}[1m])) by (rt_route, dst, classification)`);
    const job = buildRoutePromQueries({ direction: "inbound", labels: { k8s_job: "migrate", namespace: "emojivoto" }, profiles: [] }, 60_000);
    assert.equal(job.requests, 'sum(increase(route_response_total{direction="inbound", k8s_job="migrate", namespace="emojivoto"}[1m])) by (rt_route, dst, classification)');
  });

  test("the dst matcher: a profile name with or without a port, nothing else", () => {
    const m = routeDstMatcher(["web-svc.emojivoto.svc.cluster.local"]);
    for (const ok of ["web-svc.emojivoto.svc.cluster.local", "web-svc.emojivoto.svc.cluster.local:80"]) assert.ok(m.regex!.test(ok), ok);
    for (const bad of ["web-svc.emojivoto.svc.cluster.local:http", "xweb-svc.emojivoto.svc.cluster.local", "web-svc.emojivoto.svc.cluster.local.evil:80"]) assert.ok(!m.regex!.test(bad), bad);
  });
});

const s = (metric: Record<string, string>, value: number): PromSample => ({ metric, value });

test("route rows from Prometheus: per-sample rounding, ports cut, [DEFAULT] without rt_route, unknown routes dropped, RPS over -t", () => {
  const q: RouteQuery = { direction: "outbound", labels: { deployment: "vote-bot", namespace: "emojivoto" }, profiles: [WEB, EMOJI] };
  const dst = "web-svc.emojivoto.svc.cluster.local:80";
  const rows = routeRowsFromPrometheus(q, 60_000, {
    requests: [
      s({ dst, rt_route: "GET /api/list", classification: "success" }, 1139.6), // 1140
      s({ dst: "web-svc.emojivoto.svc.cluster.local:8080", rt_route: "GET /api/list", classification: "success" }, 0.5), // 1 (half away from zero)
      s({ dst, rt_route: "GET /api/list", classification: "failure" }, 59.4), // 59
      s({ dst, classification: "success" }, 12), // [DEFAULT]
      s({ dst, rt_route: "GET /gone", classification: "success" }, 500), // not in the profile
    ],
    actual: [
      s({ dst, rt_route: "GET /api/list", classification: "success" }, 1140),
      s({ dst, rt_route: "GET /api/list", classification: "failure" }, 120),
    ],
    latency: {
      p50: [s({ dst, rt_route: "GET /api/list" }, 3.5), s({ dst }, NaN)],
      p95: [s({ dst, rt_route: "GET /api/list" }, 18.2)],
      p99: [s({ dst, rt_route: "GET /api/list" }, 31.9)],
    },
  });
  const zero = { success: 0, failure: 0, actualSuccess: 0, actualFailure: 0, rps: 0, actualRps: 0, p50: 0, p95: 0, p99: 0 };
  assert.deepEqual(rows, [
    { route: DEFAULT_ROUTE, authority: "emoji-svc", ...zero },
    { route: "GET /api/list", authority: "web-svc", success: 1141, failure: 59, actualSuccess: 1140, actualFailure: 120, rps: 20, actualRps: 21, p50: 4, p95: 18, p99: 32 },
    { route: "POST /api/vote", authority: "web-svc", ...zero },
    { route: DEFAULT_ROUTE, authority: "web-svc", ...zero, success: 12, rps: 0.2 },
  ]);
});

describe("edges PromQL (B5)", () => {
  test("each type: outbound connections whose both ends carry the owner label, grouped by both ends, pod, identities and TLS", () => {
    const by = "pod, server_id, namespace, dst_namespace, no_tls_reason";
    assert.equal(buildEdgesPromQuery("deployment"), `sum(tcp_open_connections{deployment!="", direction="outbound", dst_deployment!=""}) by (deployment, dst_deployment, ${by})`);
    assert.equal(buildEdgesPromQuery("job"), `sum(tcp_open_connections{direction="outbound", dst_k8s_job!="", k8s_job!=""}) by (k8s_job, dst_k8s_job, ${by})`);
    assert.equal(buildEdgesPromQuery("pod"), `sum(tcp_open_connections{direction="outbound", dst_pod!="", pod!=""}) by (pod, dst_pod, ${by})`);
    assert.equal(buildEdgesPromQuery("namespace"), `sum(tcp_open_connections{direction="outbound", dst_namespace!="", namespace!=""}) by (namespace, dst_namespace, ${by})`);
    assert.equal(buildEdgesPromQuery("statefulset"), `sum(tcp_open_connections{direction="outbound", dst_statefulset!="", statefulset!=""}) by (statefulset, dst_statefulset, ${by})`);
  });

  test("edges from the result: zero sums dropped, the namespace filter on either end, the first group (label order) decides, pods without identity skipped", () => {
    const conn = (o: Record<string, string>, v: number) => s({ namespace: "emojivoto", dst_namespace: "emojivoto", server_id: "web.emojivoto.serviceaccount.identity.linkerd.cluster.local", ...o }, v);
    const groups = edgeGroupsFromPrometheus("deployment", [
      conn({ deployment: "vote-bot", dst_deployment: "web", pod: "vote-bot-2" }, 1),
      conn({ deployment: "vote-bot", dst_deployment: "web", pod: "vote-bot-1", no_tls_reason: "not_provided_by_remote" }, 2),
      conn({ deployment: "web", dst_deployment: "emoji", pod: "web-1", server_id: "emoji.emojivoto.x" }, 0), // closed: dropped
      conn({ deployment: "prom", dst_deployment: "web", pod: "prom-1", namespace: "linkerd-viz" }, 3), // into emojivoto: kept
      conn({ deployment: "prom", dst_deployment: "tap", pod: "prom-1", namespace: "linkerd-viz", dst_namespace: "linkerd-viz" }, 3), // elsewhere: dropped
      conn({ deployment: "ghost", dst_deployment: "web", pod: "ghost-1" }, 1), // pod gone: no identity
    ]);
    const ids: Record<string, string> = { "emojivoto/vote-bot-1": "vote-bot.emojivoto.x", "emojivoto/vote-bot-2": "vote-bot.emojivoto.y", "linkerd-viz/prom-1": "prometheus.linkerd-viz.x" };
    const edges = edgesFromGroups(groups, { type: "deployment", namespace: "emojivoto" }, (pod, ns) => ids[`${ns}/${pod}`]);
    assert.deepEqual(edges, [
      { src: "vote-bot", srcNamespace: "emojivoto", dst: "web", dstNamespace: "emojivoto", clientId: "vote-bot.emojivoto.x", serverId: "web.emojivoto.serviceaccount.identity.linkerd.cluster.local", msg: "Not Provided By Remote" },
      { src: "prom", srcNamespace: "linkerd-viz", dst: "web", dstNamespace: "emojivoto", clientId: "prometheus.linkerd-viz.x", serverId: "web.emojivoto.serviceaccount.identity.linkerd.cluster.local", msg: "" },
    ]);
  });
});
