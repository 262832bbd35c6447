// `mesh viz stat --prometheus-url`: the PromQL for each query shape of B2.2 against expectations
// written by hand from the spec (B2.1's formulas, Linkerd's label names, the -t window), the
// reading of results into rows, and the HTTP client's error paths against a fake Prometheus on
// 127.0.0.1 (error JSON, HTML, hangs, huge and broken bodies).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { apiError } from "../../src/kube/errors.js";
import type { Cluster } from "../../src/kube/cluster.js";
import { MeshError, UsageError } from "../../src/errors.js";
import {
  buildStatPromQueries,
  groupsFromPrometheus,
  parsePrometheusUrl,
  parseSampleValue,
  promDuration,
  promSelector,
  promString,
  PrometheusClient,
  PrometheusError,
  proxyVersionQuery,
  type PromSample,
} from "../../src/viz/prometheus.js";
import { parseResourceArgs, type ResourceRef } from "../../src/viz/resources.js";
import { buildQuery, groupKey, type StatRequest } from "../../src/viz/stat.js";

// ---------------------------------------------------------------------------------------------
// Query strings

const ref = (arg: string, namespace = "emojivoto"): ResourceRef => parseResourceArgs([arg], namespace)[0];

function queries(arg: string, o: { to?: string; from?: string; allNamespaces?: boolean; windowMs?: number; tcp?: boolean } = {}) {
  const req: StatRequest = { ref: ref(arg), allNamespaces: !!o.allNamespaces, to: o.to ? ref(o.to) : undefined, from: o.from ? ref(o.from) : undefined, clusterDomain: "cluster.local" };
  return buildStatPromQueries(buildQuery(req), o.windowMs ?? 60_000, { tcp: o.tcp ?? true });
}

/** The seven queries of B2.1 for selector S, bytes selector SB, group-by G, window W. */
function expected(S: string, SB: string, G: string, W = "1m") {
  return {
    requests: `sum(increase(response_total{${S}}[${W}])) by (${G}, classification, tls)`,
    latency: {
      p50: `histogram_quantile(0.5, sum(irate(response_latency_ms_bucket{${S}}[${W}])) by (le, ${G}))`,
      p95: `histogram_quantile(0.95, sum(irate(response_latency_ms_bucket{${S}}[${W}])) by (le, ${G}))`,
      p99: `histogram_quantile(0.99, sum(irate(response_latency_ms_bucket{${S}}[${W}])) by (le, ${G}))`,
    },
    tcpConnections: `sum(tcp_open_connections{${S}}) by (${G})`,
    readBytes: `sum(increase(tcp_read_bytes_total{${SB}}[${W}])) by (${G})`,
    writeBytes: `sum(increase(tcp_write_bytes_total{${SB}}[${W}])) by (${G})`,
  };
}

describe("PromQL per query shape (B2.1, B2.2)", () => {
  test("stat deploy -n emojivoto: inbound, by namespace and deployment, bytes from peer=src", () => {
    assert.deepEqual(
      queries("deploy"),
      expected('direction="inbound", namespace="emojivoto"', 'direction="inbound", namespace="emojivoto", peer="src"', "namespace, deployment"),
    );
  });

  test("stat deploy/web: the name is a deployment label", () => {
    assert.deepEqual(
      queries("deploy/web"),
      expected('deployment="web", direction="inbound", namespace="emojivoto"', 'deployment="web", direction="inbound", namespace="emojivoto", peer="src"', "namespace, deployment"),
    );
  });

  test("every workload kind uses Linkerd's label name; jobs are k8s_job", () => {
    // Matchers are sorted as text, so the kind label lands before or after namespace.
    const cases: [string, string, string][] = [
      ["sts/db", 'direction="inbound", namespace="emojivoto", statefulset="db"', "statefulset"],
      ["ds/agent", 'daemonset="agent", direction="inbound", namespace="emojivoto"', "daemonset"],
      ["rs/web-5f8", 'direction="inbound", namespace="emojivoto", replicaset="web-5f8"', "replicaset"],
      ["rc/old", 'direction="inbound", namespace="emojivoto", replicationcontroller="old"', "replicationcontroller"],
      ["cj/nightly", 'cronjob="nightly", direction="inbound", namespace="emojivoto"', "cronjob"],
      ["po/web-1", 'direction="inbound", namespace="emojivoto", pod="web-1"', "pod"],
    ];
    for (const [arg, sel, kind] of cases) assert.equal(queries(arg).requests, `sum(increase(response_total{${sel}}[1m])) by (namespace, ${kind}, classification, tls)`, arg);
    assert.equal(queries("job/migrate").requests, 'sum(increase(response_total{direction="inbound", k8s_job="migrate", namespace="emojivoto"}[1m])) by (namespace, k8s_job, classification, tls)');
  });

  test("stat deploy -A: no namespace matcher", () => {
    assert.deepEqual(queries("deploy", { allNamespaces: true }), expected('direction="inbound"', 'direction="inbound", peer="src"', "namespace, deployment"));
  });

  test("stat ns and ns/N: grouped by namespace alone", () => {
    assert.deepEqual(queries("ns"), expected('direction="inbound"', 'direction="inbound", peer="src"', "namespace"));
    assert.deepEqual(queries("ns/emojivoto"), expected('direction="inbound", namespace="emojivoto"', 'direction="inbound", namespace="emojivoto", peer="src"', "namespace"));
  });

  test("stat au and au/A: inbound, by namespace and authority; no TCP queries for authorities", () => {
    const au = queries("au", { tcp: false });
    assert.equal(au.requests, 'sum(increase(response_total{direction="inbound", namespace="emojivoto"}[1m])) by (namespace, authority, classification, tls)');
    assert.equal(au.tcpConnections, undefined);
    assert.equal(au.readBytes, undefined);
    const named = queries("au/web-svc.emojivoto.svc.cluster.local:80", { tcp: false });
    assert.equal(named.latency.p95, 'histogram_quantile(0.95, sum(irate(response_latency_ms_bucket{authority="web-svc.emojivoto.svc.cluster.local:80", direction="inbound", namespace="emojivoto"}[1m])) by (le, namespace, authority))');
  });

  test("--to U/M: outbound with dst_<U> and dst_namespace; bytes from peer=dst", () => {
    assert.deepEqual(
      queries("deploy/web", { to: "svc/emoji-svc" }),
      expected(
        'deployment="web", direction="outbound", dst_namespace="emojivoto", dst_service="emoji-svc", namespace="emojivoto"',
        'deployment="web", direction="outbound", dst_namespace="emojivoto", dst_service="emoji-svc", namespace="emojivoto", peer="dst"',
        "namespace, deployment",
      ),
    );
    assert.equal(queries("deploy", { to: "deploy/voting" }).tcpConnections, 'sum(tcp_open_connections{direction="outbound", dst_deployment="voting", dst_namespace="emojivoto", namespace="emojivoto"}) by (namespace, deployment)');
    assert.equal(queries("deploy", { to: "job/migrate" }).tcpConnections, 'sum(tcp_open_connections{direction="outbound", dst_k8s_job="migrate", dst_namespace="emojivoto", namespace="emojivoto"}) by (namespace, deployment)');
  });

  test("--to U without a name adds no destination labels; --to au/A uses authority", () => {
    assert.equal(queries("deploy", { to: "deploy" }).requests, 'sum(increase(response_total{direction="outbound", namespace="emojivoto"}[1m])) by (namespace, deployment, classification, tls)');
    assert.equal(queries("deploy/web", { to: "au/emoji-svc.emojivoto:8080" }).requests, 'sum(increase(response_total{authority="emoji-svc.emojivoto:8080", deployment="web", direction="outbound", namespace="emojivoto"}[1m])) by (namespace, deployment, classification, tls)');
  });

  test("--from U/M: client-side labels, grouped by dst_namespace and dst_<T>", () => {
    assert.deepEqual(
      queries("deploy", { from: "deploy/vote-bot" }),
      expected('deployment="vote-bot", direction="outbound", namespace="emojivoto"', 'deployment="vote-bot", direction="outbound", namespace="emojivoto", peer="dst"', "dst_namespace, dst_deployment"),
    );
    assert.equal(
      queries("deploy/web", { from: "deploy/vote-bot" }).requests,
      'sum(increase(response_total{deployment="vote-bot", direction="outbound", dst_deployment="web", dst_namespace="emojivoto", namespace="emojivoto"}[1m])) by (dst_namespace, dst_deployment, classification, tls)',
    );
    assert.equal(queries("ns", { from: "deploy/vote-bot" }).requests, 'sum(increase(response_total{deployment="vote-bot", direction="outbound", namespace="emojivoto"}[1m])) by (dst_namespace, classification, tls)');
  });

  test("stat svc[/X]: outbound, authority regex on X.<ns>.svc.<cd> (X is .+ unnamed, dots unescaped), by dst_namespace and dst_service", () => {
    assert.deepEqual(
      queries("svc/web-svc"),
      expected('authority=~"web-svc.emojivoto.svc.cluster.local.*", direction="outbound"', 'authority=~"web-svc.emojivoto.svc.cluster.local.*", direction="outbound", peer="dst"', "dst_namespace, dst_service"),
    );
    assert.equal(queries("svc").requests, 'sum(increase(response_total{authority=~".+.emojivoto.svc.cluster.local.*", direction="outbound"}[1m])) by (dst_namespace, dst_service, classification, tls)');
    assert.equal(
      queries("svc/web-svc", { from: "deploy/vote-bot" }).requests,
      'sum(increase(response_total{authority=~"web-svc.emojivoto.svc.cluster.local.*", deployment="vote-bot", direction="outbound", namespace="emojivoto"}[1m])) by (dst_namespace, dst_service, classification, tls)',
    );
  });

  test("-t becomes the range of every increase and irate", () => {
    assert.match(queries("deploy", { windowMs: 15_000 }).requests, /\[15s\]\)\) by/);
    assert.match(queries("deploy", { windowMs: 90_000 }).latency.p99, /\[1m30s\]\)\) by/);
    assert.match(queries("deploy", { windowMs: 3_600_000 }).readBytes!, /\[1h\]\)\) by/);
    assert.equal(promDuration(60_000), "1m");
    assert.equal(promDuration(15_500), "15s500ms");
    assert.equal(promDuration(2 * 3_600_000 + 5 * 60_000 + 7_000), "2h5m7s");
    assert.throws(() => promDuration(0));
  });

  test("string literals and selectors are escaped and sorted", () => {
    assert.equal(promString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
    assert.equal(promSelector([{ name: "namespace", value: "x" }, { name: "direction", value: "inbound" }]), '{direction="inbound", namespace="x"}');
    assert.throws(() => promSelector([{ name: "bad-name", value: "x" }]), MeshError);
    assert.equal(proxyVersionQuery(), "count(proxy_build_info) by (namespace, pod, version)");
    assert.equal(proxyVersionQuery(["a", "b.c"]), 'count(proxy_build_info{namespace=~"a|b\\\\.c"}) by (namespace, pod, version)');
  });
});

// ---------------------------------------------------------------------------------------------
// Results → numbers

const sample = (metric: Record<string, string>, value: number): PromSample => ({ metric, value });

test("results: counts rounded per (group, classification, tls), rps over the window, NaN latency 0, TCP only for groups with requests", () => {
  const q = buildQuery({ ref: ref("deploy"), allNamespaces: false, clusterDomain: "cluster.local" });
  const web = { namespace: "emojivoto", deployment: "web" };
  const emoji = { namespace: "emojivoto", deployment: "emoji" };
  const groups = groupsFromPrometheus(q, 60_000, {
    requests: [
      sample({ ...web, classification: "success", tls: "true" }, 1140.4), // 1140
      sample({ ...web, classification: "success", tls: "no_identity" }, 59.5), // 60 (half away from zero)
      sample({ ...web, classification: "failure", tls: "true" }, 59.6), // 60
      sample({ ...emoji, classification: "success", tls: "true" }, 0.2), // 0
    ],
    latency: {
      p50: [sample(web, 4.5), sample(emoji, NaN)],
      p95: [sample(web, 14.49), sample(emoji, NaN)],
      p99: [sample(web, 19.93), sample(emoji, NaN)],
    },
    tcpConnections: [sample(web, 6), sample({ namespace: "emojivoto", deployment: "vote-bot" }, 2)],
    readBytes: [sample(web, 15_000.4)],
    writeBytes: [sample(web, 73_800)],
  });
  assert.deepEqual([...groups.keys()].sort(), [groupKey(["emojivoto", "emoji"]), groupKey(["emojivoto", "web"])]);
  assert.deepEqual(groups.get(groupKey(["emojivoto", "web"])), { success: 1200, failure: 60, rps: 21, p50: 5, p95: 14, p99: 20, tcpConn: 6, readRate: 250, writeRate: 1230 });
  assert.deepEqual(groups.get(groupKey(["emojivoto", "emoji"])), { success: 0, failure: 0, rps: 0, p50: 0, p95: 0, p99: 0, tcpConn: 0, readRate: 0, writeRate: 0 });
});

test("sample values: Prometheus' strings", () => {
  assert.equal(parseSampleValue("1.5"), 1.5);
  assert.ok(Number.isNaN(parseSampleValue("NaN")));
  assert.equal(parseSampleValue("+Inf"), Infinity);
  assert.equal(parseSampleValue("-Inf"), -Infinity);
  assert.ok(Number.isNaN(parseSampleValue("")));
});

// ---------------------------------------------------------------------------------------------
// The URL

test("--prometheus-url: base URL, path prefix, API suffix, credentials kept out of messages", () => {
  const a = parsePrometheusUrl("http://localhost:9090");
  assert.equal(a.endpoint.href, "http://localhost:9090/api/v1/query");
  assert.equal(a.display, "http://localhost:9090");
  const b = parsePrometheusUrl("https://user:p%40ss@mon.example/prometheus/?x=1#y");
  assert.equal(b.endpoint.href, "https://mon.example/prometheus/api/v1/query");
  assert.equal(b.display, "https://mon.example/prometheus");
  assert.equal(b.authorization, `Basic ${Buffer.from("user:p@ss").toString("base64")}`);
  assert.equal(parsePrometheusUrl("http://h:9090/api/v1/query").endpoint.href, "http://h:9090/api/v1/query");
  assert.equal(parsePrometheusUrl("http://h:9090/api/v1/").endpoint.href, "http://h:9090/api/v1/query");
  assert.throws(() => parsePrometheusUrl("localhost:9090/x y"), UsageError);
  assert.throws(() => parsePrometheusUrl("ftp://h/"), /must be an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => parsePrometheusUrl("not a url"), /is not a URL/);
});

// ---------------------------------------------------------------------------------------------
// A fake Prometheus

type Handler = (req: IncomingMessage, res: ServerResponse, query: string) => void;
let server: Server;
let base: string;
let handler: Handler;
const seen: { path: string; query: string; headers: IncomingMessage["headers"] }[] = [];
const open = new Set<ServerResponse>();

before(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    const query = u.searchParams.get("query") ?? "";
    seen.push({ path: u.pathname, query, headers: req.headers });
    open.add(res);
    res.on("close", () => open.delete(res));
    handler(req, res, query);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const vector = (result: { metric: Record<string, string>; value: [number, string] }[]) => ({ status: "success", data: { resultType: "vector", result } });

async function rejects(p: Promise<unknown>, re: RegExp): Promise<PrometheusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PrometheusError, `not a PrometheusError: ${String(e)}`);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message + (e.hint ?? ""), /[\x00-\x1f\x7f]/, "control characters reach the terminal");
    return e;
  }
  assert.fail(`expected a rejection matching ${re}`);
}

describe("client against a fake Prometheus", () => {
  test("a vector: path, query, headers, values", async () => {
    handler = (_req, res) => json(res, 200, vector([{ metric: { namespace: "a", deployment: "web" }, value: [1700000000.1, "12.5"] }, { metric: {}, value: [1700000000.1, "NaN"] }]));
    const url = new URL(base);
    url.username = "u";
    url.password = "secret";
    url.pathname = "/prom";
    const c = new PrometheusClient(url.href);
    const r = await c.query('sum(response_total{a="b"})');
    assert.deepEqual(r[0], { metric: { namespace: "a", deployment: "web" }, value: 12.5 });
    assert.ok(Number.isNaN(r[1].value));
    const last = seen[seen.length - 1];
    assert.equal(last.path, "/prom/api/v1/query");
    assert.equal(last.query, 'sum(response_total{a="b"})');
    assert.equal(last.headers.authorization, `Basic ${Buffer.from("u:secret").toString("base64")}`);
    assert.equal(c.counters.queries, 1);
  });

  test("400 with Prometheus' error JSON: the server's message, sanitised, and the URL without credentials", async () => {
    handler = (_req, res) => json(res, 400, { status: "error", errorType: "bad_data", error: "1:14: parse error: unexpected \x1b[31m}\x1b[0m\nin label matching" });
    const e = await rejects(new PrometheusClient(base.replace("http://", "http://bob:hunter2@")).query("sum(x{)"), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ rejected a query \(400 bad_data\): 1:14: parse error: unexpected } in label matching$/);
    assert.doesNotMatch(e.message + e.hint, /hunter2|bob/);
    assert.match(e.hint ?? "", /the query was: sum\(x\{\)/);
  });

  test("503 and 422 with error JSON", async () => {
    handler = (_req, res) => json(res, 503, { status: "error", errorType: "unavailable", error: "TSDB not ready" });
    await rejects(new PrometheusClient(base).query("up"), /rejected a query \(503 unavailable\): TSDB not ready$/);
    handler = (_req, res) => json(res, 422, { status: "error", errorType: "execution", error: "query processing would load too many samples into memory" });
    await rejects(new PrometheusClient(base).query("up"), /\(422 execution\): query processing would load too many samples/);
  });

  test("an HTML error page from a proxy in front: status, type and a short inert excerpt", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { "content-type": "text/html; charset=utf-8" });
      res.end(`<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>${"<p>filler</p>".repeat(500)}</body></html>`);
    };
    const e = await rejects(new PrometheusClient(base).query("up"), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ answered HTTP 502 \(text\/html: "502 Bad Gateway Bad Gateway filler/);
    assert.ok(e.message.length < 260, e.message);
  });

  test("200 with HTML (a UI URL, not the API) and 404", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>Grafana</title>");
    };
    await rejects(new PrometheusClient(base).query("up"), /did not answer with the Prometheus API's JSON \(text\/html: "Grafana"\)/);
    handler = (_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found\n");
    };
    const e = await rejects(new PrometheusClient(`${base}/wrong`).query("up"), /answered HTTP 404 \(text\/plain: "404 page not found"\)/);
    assert.match(e.hint ?? "", /\/wrong\/api\/v1\/query was not found/);
  });

  test("401 asks for credentials", async () => {
    handler = (_req, res) => {
      res.writeHead(401, { "www-authenticate": "Basic" });
      res.end();
    };
    const e = await rejects(new PrometheusClient(base).query("up"), /answered HTTP 401 \(no content type, empty body\)/);
    assert.match(e.hint ?? "", /credentials/);
  });

  test("bad JSON and JSON of the wrong shape", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"success","data":{"resultType":"vec');
    };
    await rejects(new PrometheusClient(base).query("up"), /did not answer with the Prometheus API's JSON \(application\/json: "\{"status":"success"/);
    handler = (_req, res) => json(res, 200, { hello: "world" });
    await rejects(new PrometheusClient(base).query("up"), /JSON that is not a Prometheus query result/);
    handler = (_req, res) => json(res, 200, { status: "success", data: { resultType: "matrix", result: [] } });
    await rejects(new PrometheusClient(base).query("up"), /answered a matrix where a vector was expected/);
    handler = (_req, res) => json(res, 200, { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: "x" }] } });
    await rejects(new PrometheusClient(base).query("up"), /malformed vector sample/);
  });

  test("a server that never answers: timeout, naming the URL", async () => {
    handler = () => undefined; // accept, read, never respond
    const t0 = Date.now();
    await rejects(new PrometheusClient(base, { timeoutMs: 300 }).query("up"), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 300ms$/);
    assert.ok(Date.now() - t0 < 3000);
  });

  test("a body that stalls after the headers: timeout", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"status":"success","data":{');
    };
    await rejects(new PrometheusClient(base, { timeoutMs: 300 }).query("up"), /did not answer within 300ms/);
  });

  test("a huge body: cut off at the cap, with or without Content-Length", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    };
    const t0 = Date.now();
    await rejects(new PrometheusClient(base, { maxBytes: 1024 * 1024 }).query("up"), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ sent more than 1 MiB for one query$/);
    assert.ok(Date.now() - t0 < 5000);
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(1 << 30) });
      res.write("{");
    };
    await rejects(new PrometheusClient(base, { maxBytes: 1024 * 1024 }).query("up"), /sent more than 1 MiB/);
  });

  test("nothing listening: cannot reach, naming the URL", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const e = await rejects(new PrometheusClient(`http://127.0.0.1:${port}`).query("up"), new RegExp(`^cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.match(e.hint ?? "", /--prometheus-url/);
  });
});

// ---------------------------------------------------------------------------------------------
// The command: same rows and output as the scrape path, numbers from the fake Prometheus

const meta = (name: string, uid: string, labels: Record<string, string>, owner?: string) => ({
  name,
  namespace: "emojivoto",
  uid,
  labels,
  ...(owner ? { ownerReferences: [{ kind: "X", name: owner, uid: `uid-${owner}` }] } : {}),
});
const podObj = (name: string, app: string) => ({
  metadata: meta(name, `uid-${name}`, { app, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": app }, `${app}-rs`),
  spec: { containers: [{ name: app }, { name: "linkerd-proxy", ports: [{ name: "linkerd-admin", containerPort: 4191 }] }] },
  status: { phase: "Running", podIP: "10.42.0.9", containerStatuses: [{ name: "linkerd-proxy", ready: true, state: { running: {} } }] },
});

function fakeCluster(): { cluster: Cluster; paths: string[] } {
  const list = (items: unknown[]) => JSON.stringify({ items });
  const routes: Record<string, string> = {
    "/api/v1/namespaces/emojivoto/pods": list([podObj("web-1", "web"), podObj("web-2", "web"), podObj("vote-bot-1", "vote-bot")]),
    "/apis/apps/v1/namespaces/emojivoto/deployments": list(["vote-bot", "web"].map((a) => ({ metadata: meta(a, `uid-${a}`, { app: a }), spec: { selector: { matchLabels: { app: a } } } }))),
    "/api/v1/namespaces/linkerd/configmaps/linkerd-config": JSON.stringify({ metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\nclusterDomain: cluster.local\n" } }),
    "/apis/apps/v1/namespaces/emojivoto/replicasets": list(["vote-bot", "web"].map((a) => ({ metadata: meta(`${a}-rs`, `uid-${a}-rs`, { app: a }, a), spec: { selector: { matchLabels: { app: a } } } }))),
  };
  const paths: string[] = [];
  return {
    paths,
    cluster: {
      server: "https://fake",
      async getJson() {
        throw new Error("unused");
      },
      async controlPlaneVersion() {
        return "stable-2.14.10";
      },
      async getText(path: string) {
        paths.push(path);
        const body = routes[path.split("?")[0]];
        if (body === undefined) throw apiError(404, "GET", path, JSON.stringify({ message: "not found" }));
        return body;
      },
    },
  };
}

/** Answers Linkerd's stat queries for deployment web: 1140 ok + 60 failed over 1m, latency 3/18/32, 6 conns, bytes. */
const statHandler: Handler = (_req, res, q) => {
  const web = { namespace: "emojivoto", deployment: "web" };
  const v = (metric: Record<string, string>, value: string) => ({ metric, value: [1700000000, value] as [number, string] });
  if (q.startsWith("sum(increase(response_total")) return json(res, 200, vector([v({ ...web, classification: "success", tls: "true" }, "1140.2"), v({ ...web, classification: "failure", tls: "true" }, "59.9")]));
  const quantile = /^histogram_quantile\((0\.\d+),/.exec(q)?.[1];
  if (quantile) return json(res, 200, vector([v(web, { "0.5": "3.4", "0.95": "17.5", "0.99": "32.1" }[quantile]!)]));
  if (q.startsWith("sum(tcp_open_connections")) return json(res, 200, vector([v(web, "6")]));
  if (q.startsWith("sum(increase(tcp_read_bytes_total")) return json(res, 200, vector([v(web, "15000")]));
  if (q.startsWith("sum(increase(tcp_write_bytes_total")) return json(res, 200, vector([v(web, "73800")]));
  if (q.startsWith("count(proxy_build_info")) return json(res, 200, vector([v({ namespace: "emojivoto", pod: "web-1", version: "2.210.4" }, "1"), v({ namespace: "emojivoto", pod: "web-2", version: "2.210.4" }, "1")]));
  json(res, 400, { status: "error", errorType: "bad_data", error: `unexpected query ${q}` });
};

async function mesh(args: string[], env: Record<string, string> = {}) {
  const m = memoryIo();
  const fake = fakeCluster();
  const deps: Deps = { io: m.io, now: () => new Date(), env, cluster: async () => fake.cluster };
  const code = await run(["viz", "stat", ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr(), paths: fake.paths };
}

describe("mesh viz stat --prometheus-url", () => {
  test("json: Linkerd's numbers from the query results, rows from the API", async () => {
    handler = statHandler;
    const before = seen.length;
    const r = await mesh(["deploy", "-n", "emojivoto", "-o", "json", "--prometheus-url", base]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.deepEqual(JSON.parse(r.stdout), [
      { namespace: "emojivoto", kind: "deployment", name: "vote-bot", success: null, rps: null, latency_ms_p50: null, latency_ms_p95: null, latency_ms_p99: null },
      { namespace: "emojivoto", kind: "deployment", name: "web", success: 1140 / 1200, rps: 20, latency_ms_p50: 3, latency_ms_p95: 18, latency_ms_p99: 32, tcp_open_connections: 6, tcp_read_bytes_rate: 250, tcp_write_bytes_rate: 1230 },
    ]);
    const qs = seen.slice(before).map((s) => s.query).sort();
    assert.equal(qs.length, 7);
    assert.ok(qs.includes('sum(increase(response_total{direction="inbound", namespace="emojivoto"}[1m])) by (namespace, deployment, classification, tls)'), qs.join("\n"));
    // No proxy was scraped.
    assert.deepEqual(r.paths.filter((p) => p.includes("/proxy/")), []);
  });

  test("table and wide: the same layout as the scrape path; MESH_PROMETHEUS_URL; -t sets the range", async () => {
    handler = statHandler;
    const before = seen.length;
    const table = await mesh(["deploy", "-n", "emojivoto", "-t", "30s"], { MESH_PROMETHEUS_URL: base });
    assert.equal(table.code, 0, table.stderr);
    assert.equal(
      table.stdout,
      [
        "NAME       MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN",
        "vote-bot      1/1         -         -             -             -             -          -",
        "web           2/2    95.00%   40.0rps           3ms          18ms          32ms          6",
        "",
      ].join("\n"),
    );
    assert.ok(seen.slice(before).every((s) => !/\[\w+\]/.test(s.query) || s.query.includes("[30s]")));
    const wide = await mesh(["deploy/web", "-n", "emojivoto", "-o", "wide", "--prometheus-url", base]);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, /^web +2\/2 +95\.00% +20\.0rps +3ms +18ms +32ms +6 +250\.0B\/s +1230\.0B\/s +2\.210\.4$/m);
  });

  test("--proxy-version-mismatch: versions from proxy_build_info in Prometheus, only the outdated workload, with its fix", async () => {
    handler = (req, res, q) => {
      if (q.startsWith("count(proxy_build_info")) {
        const v = (pod: string, version: string) => ({ metric: { namespace: "emojivoto", pod, version }, value: [1700000000, "1"] as [number, string] });
        return json(res, 200, vector([v("web-1", "2.210.4"), v("web-2", "2.203.1"), v("vote-bot-1", "2.210.4")]));
      }
      statHandler(req, res, q);
    };
    const before = seen.length;
    const r = await mesh(["deploy", "-n", "emojivoto", "--proxy-version-mismatch", "--prometheus-url", base]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +MESHED +SUCCESS .* PROXY_VERSION\nweb +2\/2 +95\.00% .* 2\.203\.1,2\.210\.4\n/);
    assert.doesNotMatch(r.stdout, /vote-bot/);
    assert.match(r.stdout, /The control plane's proxy version is 2\.210\.4\. To restart these proxies:\n {2}kubectl rollout restart deployment\/web -n emojivoto\n$/);
    assert.ok(seen.slice(before).some((s) => s.query === 'count(proxy_build_info{namespace=~"emojivoto"}) by (namespace, pod, version)'));
    assert.deepEqual(r.paths.filter((p) => p.includes("/proxy/")), []);
  });

  test("errors: exit 1, the URL named, no stack; a bad URL is a usage error", async () => {
    handler = (_req, res) => json(res, 503, { status: "error", errorType: "unavailable", error: "not ready" });
    const r = await mesh(["deploy", "-n", "emojivoto", "--prometheus-url", base]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^error: Prometheus at ${base.replace(/[.]/g, "\\.")} rejected a query \\(503 unavailable\\): not ready\\nhint: the query was: `));
    const bad = await mesh(["deploy", "-n", "emojivoto", "--prometheus-url", "ftp://x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must be an http:\/\/ or https:\/\/ URL/);
  });
});
