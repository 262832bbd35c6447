// `mesh viz profile`: routes from access-log requests (the tap session, with log streams faked), and --template.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { runMesh } from "../helpers/run.js";
import { FakeApi } from "../kube/fake-api.js";
import type { Pod } from "../../src/kube/types.js";
import type { StreamOptions } from "../../src/kube/cluster.js";
import { pathToRegex, ProfileRoutes, renderProfile, routeOf } from "../../src/viz/profile.js";
import { expectGolden } from "../helpers/golden.js";

const pod = (name: string, ip: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop", uid: `${name}-uid`, labels: { app: "web", "linkerd.io/control-plane-ns": "linkerd" } },
  spec: { serviceAccountName: "web", containers: [{ name: "app", ports: [{ containerPort: 8080 }] }, { name: "linkerd-proxy", env: [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: "json" }] }] },
  status: { phase: "Running", podIP: ip },
});

const line = (method: string, uri: string) =>
  `2026-01-01T00:00:05.000000001Z {"client.addr":"10.42.0.17:4000","client.id":"-","host":"web-svc.shop:80","method":"${method}","processing_ns":"1","request_bytes":"","response_bytes":"12","status":200,"timestamp":"x","total_ns":"2500000","trace_id":"","uri":"${uri}","user_agent":"","version":"HTTP/2.0"}`;

const aborted = (signal?: AbortSignal) => new Promise<void>((r) => (signal?.aborted ? r() : signal?.addEventListener("abort", () => r(), { once: true })));

/** A cluster whose web-1 log yields `lines`, then stays open until the session ends; counts lines read. */
function cluster(lines: string[]) {
  const c = new FakeApi([pod("web-1", "10.42.0.21")]).cluster();
  const read = { n: 0 };
  c.streamLines = async function* (_path: string, opts?: StreamOptions) {
    for (const l of lines) {
      read.n++;
      yield l;
    }
    await aborted(opts?.signal);
  } as typeof c.streamLines;
  c.watch = async function* (_path: string, opts?: { signal?: AbortSignal }) {
    await aborted(opts?.signal);
  } as unknown as typeof c.watch;
  return { c, read };
}

const now = new Date("2026-01-01T00:00:00.500Z");
const TRAFFIC = [
  line("GET", "http://web-svc.shop:80/api/list"),
  line("POST", "http://web-svc.shop:80/api/vote?choice=:rocket:"),
  line("GET", "http://web-svc.shop:80/"),
  line("GET", "http://web-svc.shop:80/api/list"),
  line("GET", "http://web-svc.shop:80/js/app.min.js"),
  line("DELETE", "http://web-svc.shop:80/books/{id}"),
];

test("profile --tap: one route per method and path, escaped as Linkerd's generator escapes them, sorted by name", async () => {
  const { c } = cluster(TRAFFIC);
  const started = Date.now();
  const r = await runMesh(["viz", "profile", "-n", "shop", "web-svc", "--tap", "po/web-1", "--tap-duration", "300ms"], { cluster: async () => c, now });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started >= 250, "ran for the tap duration");
  expectGolden("viz/profile-tap.yaml", r.stdout);
  const doc = parse(r.stdout);
  assert.equal(doc.metadata.name, "web-svc.shop.svc.cluster.local");
  assert.equal(doc.metadata.namespace, "shop");
  assert.equal(doc.metadata.creationTimestamp, null);
  assert.deepEqual(
    doc.spec.routes.map((x: { name: string }) => x.name),
    ["DELETE /books/{id}", "GET /api/list", "GET /js/app.min.js", "POST /api/vote"],
  );
  assert.deepEqual(doc.spec.routes[2], { condition: { method: "GET", pathRegex: "/js/app\\.min\\.js" }, name: "GET /js/app.min.js" });
  assert.equal(doc.spec.routes[0].condition.pathRegex, "/books/[^/]*");
  assert.match(r.stdout, /^spec:\n {2}routes:\n {2}- condition:\n {6}method: DELETE\n/m);
});

test("profile --tap-route-limit stops tapping once that many routes were seen", async () => {
  const { c, read } = cluster(TRAFFIC);
  const started = Date.now();
  const r = await runMesh(["viz", "profile", "-n", "shop", "web-svc", "--tap", "po/web-1", "--tap-duration", "60s", "--tap-route-limit", "2"], { cluster: async () => c, now });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 30_000, "did not wait for the tap duration");
  assert.deepEqual(parse(r.stdout).spec.routes.map((x: { name: string }) => x.name), ["GET /api/list", "POST /api/vote"]);
  assert.ok(read.n <= TRAFFIC.length);
});

test("profile --tap with no requests: spec {}", async () => {
  const { c } = cluster([]);
  const r = await runMesh(["viz", "profile", "-n", "shop", "web-svc", "--tap", "po/web-1", "--tap-duration", "50ms"], { cluster: async () => c, now });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata:\n  creationTimestamp: null\n  name: web-svc.shop.svc.cluster.local\n  namespace: shop\nspec: {}\n");
});

test("profile --template: a ServiceProfile to edit, without a cluster", async () => {
  const r = await runMesh(["viz", "profile", "-n", "shop", "web-svc", "--template"], { cluster: async () => assert.fail("no cluster") });
  assert.equal(r.code, 0, r.stderr);
  const doc = parse(r.stdout);
  assert.equal(doc.kind, "ServiceProfile");
  assert.equal(doc.metadata.name, "web-svc.shop.svc.cluster.local");
  assert.equal(doc.spec.routes[0].condition.pathRegex, "/items/[^/]*");
});

test("profile: usage errors exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["web-svc"], /The --tap flag must be specified/],
    [[], /accepts 1 arg\(s\), received 0/],
    [["a", "b", "--tap", "deploy/web"], /accepts 1 arg\(s\), received 2/],
    [["Web_Svc", "--tap", "deploy/web"], /invalid service "Web_Svc"/],
    [["1svc", "--tap", "deploy/web"], /invalid service "1svc"/],
    [["web-svc", "--tap", "deploy/web", "--template"], /mutually exclusive/],
    [["web-svc", "--tap", "svc/web-svc"], /unsupported resource type for tap: service/],
    [["web-svc", "--tap", "deploy/web", "--tap-route-limit", "x"], /not a non-negative integer/],
  ];
  for (const [args, re] of cases) {
    const r = await runMesh(["viz", "profile", "-n", "shop", ...args], { cluster: async () => assert.fail("no cluster") });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test("pathToRegex and routeOf: Go's QuoteMeta, template parameters, no query, no root", () => {
  assert.equal(pathToRegex("/a.b+c*d?e(f)g|h[i]j{k}l^m$n\\o"), "/a\\.b\\+c\\*d\\?e\\(f\\)g\\|h\\[i\\]j[^/]*l\\^m\\$n\\\\o");
  assert.equal(pathToRegex("/users/{id}/posts/{post}"), "/users/[^/]*/posts/[^/]*");
  assert.equal(pathToRegex("/plain-path_~"), "/plain-path_~");
  assert.equal(routeOf("GET", "/"), undefined);
  assert.equal(routeOf("GET", "/?q=1"), undefined);
  assert.deepEqual(routeOf("PUT", "/x?y=1"), { name: "PUT /x", condition: { method: "PUT", pathRegex: "/x" } });
  const r = new ProfileRoutes(0);
  assert.equal(r.full, true);
  assert.equal(renderProfile("s", "n", "example.org", []).includes("name: s.n.svc.example.org"), true);
});
