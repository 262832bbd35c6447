// mesh viz authz, allow-scrapes and profile against the real API server and the proxy stand-ins
// (test/cluster/README.md): the policy labels of the inbound series and inbound_http_authz_*
// counters, the policy CRDs' validation of what allow-scrapes renders (and the stand-in's 403 for
// plaintext admin requests under a deny default policy), and a ServiceProfile built from a pod's
// access log that the API server accepts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { connect } from "../../src/kube/cluster.js";
import { podProxyPath } from "../../src/kube/cluster.js";
import { connectTestCluster, KubeRestError, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";

const skip = testClusterSkipReason();
let c: TestCluster;
let ns: string;
const createdCrds: string[] = [];

/** The CRDs these tests need; missing ones are applied from `mesh install --crds` and removed afterwards. */
const NEEDED = ["servers.policy.linkerd.io", "httproutes.policy.linkerd.io", "authorizationpolicies.policy.linkerd.io", "networkauthentications.policy.linkerd.io", "meshtlsauthentications.policy.linkerd.io", "serviceprofiles.linkerd.io"];

function deployment(name: string, annotations: Record<string, string>, env: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": name }, annotations },
        spec: {
          containers: [
            { name: "app", image: `example/${name}:1`, ports: [{ name: "http", containerPort: 8080 }] },
            { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy:stable-2.14.10", ports: [{ name: "linkerd-admin", containerPort: 4191 }], env: Object.entries(env).map(([n, value]) => ({ name: n, value })) },
          ],
        },
      },
    },
  });
}

// Real clock: a fixed one would make every scrape look simultaneous.
async function mesh(args: string[]) {
  const [{ run }, { memoryIo }] = await Promise.all([import("../../src/cli.js"), import("../../src/io.js")]);
  const m = memoryIo();
  const code = await run(["--kubeconfig", c.kubeconfig, ...args], { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) });
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

const WEB_FLOWS = [
  { direction: "inbound", rps: 20, successRate: 0.9, latencyMs: 3, method: "GET", path: "/api/list", policy: { server: "web-http", authorization: "authorizationpolicy/web-authz" } },
  { direction: "inbound", rps: 10, latencyMs: 7, method: "POST", path: "/api/vote", policy: { server: "web-http", route: "vote", authorization: "authorizationpolicy/vote-authz" } },
  { direction: "inbound", rps: 5, authz: "deny", clientId: null, method: "GET", path: "/admin/stats.json", policy: { server: "web-http" } },
  { direction: "inbound", rps: 4, latencyMs: 1, method: "GET", path: "/" },
];

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("policy");
  const missing: string[] = [];
  for (const crd of NEEDED) if ((await c.kubectl(["get", "crd", crd], { allowFail: true })).code !== 0) missing.push(crd);
  if (missing.length) {
    // What `mesh install --crds | kubectl apply -f -` applies, restricted to the missing CRDs.
    const crds = await runMesh(["install", "--crds", "--ignore-cluster", "-o", "json"]);
    assert.equal(crds.code, 0, crds.stderr);
    const items = (JSON.parse(crds.stdout).items as { metadata: { name: string } }[]).filter((o) => missing.includes(o.metadata.name));
    assert.equal(items.length, missing.length, `mesh install --crds renders ${missing.join(", ")}`);
    await c.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }) });
    createdCrds.push(...missing);
    await c.kubectl(["wait", "--for=condition=Established", ...missing.map((n) => `crd/${n}`), "--timeout=30s"]);
  }
  await c.apply(deployment("web", { "config.linkerd.io/access-log": "json", "mesh.test/traffic": JSON.stringify({ flows: WEB_FLOWS }) }, { LINKERD2_PROXY_ACCESS_LOG: "json" }), ns);
  await c.apply(deployment("locked", { "config.linkerd.io/default-inbound-policy": "deny" }), ns);
  await c.waitForPods(ns, "app in (web,locked)", { count: 2 });
});

after(async () => {
  if (skip || !c) return;
  await c.deleteNamespace(ns);
  if (createdCrds.length) await c.kubectl(["delete", "crd", ...createdCrds, "--ignore-not-found", "--wait=false"], { allowFail: true });
});

test("viz authz deploy/web: rows per server, route and authorization from the stand-in's policy labels; denials as UNAUTHORIZED", { skip }, async () => {
  const r = await mesh(["viz", "authz", "deploy/web", "-n", ns, "--interval", "2s", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, string | number>[];
  const key = (x: Record<string, string | number>) => `${x.server} ${x.route} ${x.authorization}`;
  assert.deepEqual(rows.map(key), [
    "default:all-unauthenticated default default/all-unauthenticated",
    "web-http default ",
    "web-http default authorizationpolicy/web-authz",
    "web-http vote authorizationpolicy/vote-authz",
  ]);
  const [dflt, denied, list, vote] = rows;
  const near = (v: number | string, want: number, tol: number, what: string) => assert.ok(Math.abs(Number(v) - want) <= tol, `${what}: ${v}, want ${want}±${tol}`);
  near(list.rps, 20, 3, "web-authz rps");
  near(list.success, 0.9, 0.05, "web-authz success");
  assert.equal(list.latency_ms_p50, 3);
  near(vote.rps, 10, 2, "vote rps");
  assert.equal(vote.success, 1);
  assert.equal(vote.latency_ms_p50, 8); // 7 ms lands in the (5, 10] bucket: its median interpolates to 7.5
  near(denied.unauthorized, 5, 1.5, "denied rate");
  assert.equal(list.unauthorized, 0);
  // the default row: the model's un-policied flow plus the kubelet-free admin traffic (mesh's own scrapes are discounted)
  near(dflt.rps, 4, 1.5, "default-policy rps");
  const table = await mesh(["viz", "authz", "srv/web-http", "-n", ns, "--interval", "1s"]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^ROUTE +SERVER +AUTHORIZATION +UNAUTHORIZED +SUCCESS +RPS +LATENCY_P50 +LATENCY_P95 +LATENCY_P99 {2}$/);
  assert.equal(lines.length, 4, table.stdout);
  assert.match(lines[2], /^default +web-http +authorizationpolicy\/web-authz +0\.0rps +\d+\.\d\d% +\d+\.\drps +3ms +\d+ms +\d+ms {2}$/);
});

test("viz allow-scrapes: the policy CRDs accept the objects; the stand-in keeps refusing plaintext admin requests under deny", { skip }, async () => {
  const r = await runMesh(["viz", "allow-scrapes", "-n", ns, "--scrapers", "mesh,prometheus"]);
  assert.equal(r.code, 0, r.stderr);
  const dry = await c.kubectl(["apply", "--dry-run=server", "-f", "-"], { stdin: r.stdout });
  assert.match(dry.stdout, /server\.policy\.linkerd\.io\/proxy-admin created \(server dry run\)/);
  await c.kubectl(["apply", "-f", "-"], { stdin: r.stdout });
  const objs = parseAllDocuments(r.stdout).map((d) => d.toJSON() as { kind: string; metadata: { name: string } });
  for (const o of objs) {
    const got = await c.kubectl(["get", `${o.kind.toLowerCase()}.policy.linkerd.io/${o.metadata.name}`, "-n", ns, "-o", "json"]);
    assert.equal(JSON.parse(got.stdout).metadata.name, o.metadata.name);
  }

  // The shape, checked against the objects mesh scrapes: the locked pod's labels satisfy the
  // Server's podSelector, its proxy's admin port is the named port, and mesh's scrape path is the
  // HTTPRoute's path.
  const [locked] = await c.waitForPods(ns, "app=locked", { count: 1 });
  const server = JSON.parse((await c.kubectl(["get", "server.policy.linkerd.io/proxy-admin", "-n", ns, "-o", "json"])).stdout);
  for (const e of server.spec.podSelector.matchExpressions as { key: string; operator: string }[]) {
    assert.equal(e.operator, "Exists");
    assert.ok(locked.metadata.labels?.[e.key] !== undefined, `pod has label ${e.key}`);
  }
  const proxy = (locked.spec.containers as { name: string; ports?: { name?: string; containerPort: number }[] }[]).find((x) => x.name === "linkerd-proxy")!;
  assert.equal(proxy.ports?.find((p) => p.name === server.spec.port)?.containerPort, 4191);
  const route = JSON.parse((await c.kubectl(["get", "httproute.policy.linkerd.io/proxy-metrics", "-n", ns, "-o", "json"])).stdout);
  const scrapePath = podProxyPath(ns, locked.metadata.name, 4191, "/metrics");
  assert.ok(scrapePath.endsWith(`/proxy${route.spec.rules[0].matches[0].path.value}`), scrapePath);
  const authn = JSON.parse((await c.kubectl(["get", "networkauthentication.policy.linkerd.io/kube-api-server", "-n", ns, "-o", "json"])).stdout);
  assert.deepEqual(authn.spec.networks, [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }]);

  // Under `deny` the stand-in answers a plaintext request from off the pod with 403, as a proxy
  // does without these objects. The stand-in does not evaluate policy objects, so it still does
  // after they were applied (a real proxy would now admit the API server's requests).
  await assert.rejects(c.proxyMetrics(ns, locked.metadata.name), (e: unknown) => e instanceof KubeRestError && e.status === 403);
  const ready = await c.proxyMetrics(ns, locked.metadata.name, "/ready");
  assert.match(ready, /ready/);
  const a = await mesh(["viz", "authz", "deploy/locked", "-n", ns, "--interval", "1s"]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /cannot scrape pod .*locked.*: admin endpoint not authorized by policy/);
});

test("viz profile --tap: the routes are the model's methods and paths, and the API server accepts the profile", { skip }, async () => {
  const r = await mesh(["viz", "profile", "-n", ns, "web-svc", "--tap", "deploy/web", "--tap-duration", "4s"]);
  assert.equal(r.code, 0, r.stderr);
  const doc = parse(r.stdout);
  assert.equal(doc.metadata.name, `web-svc.${ns}.svc.cluster.local`);
  const routes = doc.spec.routes as { name: string; condition: { method: string; pathRegex: string } }[];
  // every flow with a path other than "/" (denied requests are logged too: the proxy answered them)
  assert.deepEqual(routes.map((x) => x.name), ["GET /admin/stats.json", "GET /api/list", "POST /api/vote"]);
  assert.deepEqual(routes[0].condition, { method: "GET", pathRegex: "/admin/stats\\.json" });
  for (const route of routes) assert.ok(new RegExp(`^${route.condition.pathRegex}$`).test(route.name.split(" ")[1]));
  const dry = await c.kubectl(["apply", "--dry-run=server", "-f", "-"], { stdin: r.stdout });
  assert.match(dry.stdout, /serviceprofile\.linkerd\.io\/web-svc\..* created \(server dry run\)/);
  const limited = await mesh(["viz", "profile", "-n", ns, "web-svc", "--tap", "deploy/web", "--tap-duration", "30s", "--tap-route-limit", "1"]);
  assert.equal(limited.code, 0, limited.stderr);
  assert.equal(parse(limited.stdout).spec.routes.length, 1);
});
