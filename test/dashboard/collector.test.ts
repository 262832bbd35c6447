// The dashboard's collection loop over a fake cluster: rounds of scrapes become numbers (as
// `viz stat` computes them from two scrapes) and history points; a cluster that refuses every
// scrape becomes the page's error, not a crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterApi } from "../../src/kube/cluster.js";
import { Collector, type Round } from "../../src/dashboard/collector.js";
import { deployment, fakeMesh, list, pod, replicaSet, service, T0 } from "../viz/fake-mesh.js";
import { payload } from "../viz/payload.js";

const NS = "emojivoto";
const start = T0 / 1000 - 600;
// Cumulative counters at each scrape: +100 requests (10 % failing) and mesh's own scrape each time.
const scrape = (n: number) => payload({ ip: "10.42.0.1", success: 90 * n, failure: 10 * n, admin: n, start });

function fake(fail?: (path: string) => { status: number; body: string } | undefined) {
  const empty = list([]);
  return fakeMesh({
    objects: {
      "/api/v1/namespaces": list([{ metadata: { name: NS, uid: "uid-ns" } }, { metadata: { name: "idle", uid: "uid-idle" } }]),
      "/api/v1/pods": list([pod(NS, "web-1", "web")]),
      "/apis/apps/v1/deployments": list([deployment(NS, "web")]),
      "/apis/apps/v1/replicasets": list([replicaSet(NS, "web")]),
      "/apis/apps/v1/statefulsets": empty,
      "/apis/apps/v1/daemonsets": empty,
      "/apis/batch/v1/jobs": empty,
      "/apis/batch/v1/cronjobs": empty,
      "/api/v1/replicationcontrollers": empty,
      [`/api/v1/namespaces/${NS}/pods`]: list([pod(NS, "web-1", "web")]),
      [`/api/v1/namespaces/${NS}/services`]: list([service(NS, "web-svc", "web")]),
    },
    metrics: { [`${NS}/web-1`]: [scrape(0), scrape(1), scrape(2)] },
    fail,
  });
}

/** Runs the loop until `rounds` rounds were announced (or 10 s passed); each round moves the clock 10 s on. */
async function collect(f: ReturnType<typeof fake>, rounds: number) {
  let extra = 0;
  const warnings: string[] = [];
  const c = new Collector({ cluster: clusterApi(f.cluster), cp: "linkerd", intervalMs: 5, firstIntervalMs: 1, historyPoints: 10, now: () => f.now().getTime() + extra, warn: (m) => warnings.push(m), clusterDomain: "cluster.local" });
  const seen: Round[] = [];
  const ac = new AbortController();
  c.subscribe((r) => {
    seen.push(r);
    extra += 10_000;
    if (seen.length >= rounds) ac.abort();
  });
  const timer = setTimeout(() => ac.abort(), 10_000);
  await c.run(ac.signal);
  clearTimeout(timer);
  return { c, seen, warnings };
}

test("each round's numbers are viz stat's, from the deltas to the previous round; history grows a point per round", async () => {
  const { c, seen } = await collect(fake(), 2);
  assert.equal(seen.length, 2);
  const ns = seen[0].namespaces.find((n) => n.name === NS)!;
  assert.deepEqual({ meshed: ns.meshed, total: ns.total, success: ns.success, rps: ns.rps }, { meshed: 1, total: 1, success: 0.9, rps: 10 });
  assert.deepEqual(seen[0].namespaces.find((n) => n.name === "idle"), { name: "idle", meshed: 0, total: 0, success: null, rps: null, p50: null, p95: null, p99: null });
  const web = seen[1].workloads.find((w) => w.name === "web")!;
  assert.equal(web.kind, "deployment");
  assert.equal(web.success, 0.9);
  assert.ok(Math.abs(web.rps! - 10) < 1e-9, `rps ${web.rps}`);
  assert.deepEqual(c.history.get(`wl/${NS}/deployment/web`).map((p) => p.success), [0.9, 0.9]);
  assert.equal(c.history.get(`ns/${NS}`).length, 2);
  assert.equal(c.latest()?.round, 2);
  const detail = await c.workload(NS, "deployment", "web");
  assert.deepEqual(detail?.pods.map((p) => [p.name, p.meshed]), [["web-1", true]]);
  // No ServiceProfile CRD here: the Service's requests are all [DEFAULT] (no route_* series in these payloads).
  assert.deepEqual(detail?.routes.map((r) => [r.route, r.service, r.rps]), [["[DEFAULT]", "web-svc", null]]);
  assert.equal(await c.workload(NS, "deployment", "nope"), undefined);
});

test("a cluster that refuses every scrape (RBAC) is the round's error, said once on stderr, and the loop goes on", async () => {
  const denied = (path: string) => (path.includes(":4191/proxy/") ? { status: 403, body: JSON.stringify({ message: 'pods "web-1" is forbidden: User "jane" cannot get resource "pods/proxy"' }) } : undefined);
  const { c, seen, warnings } = await collect(fake(denied), 2);
  assert.equal(seen.length, 2, "the loop kept going");
  assert.match(c.lastError ?? "", /missing RBAC permission "get" on pods\/proxy in namespace emojivoto/);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.equal(c.latest(), undefined, "no numbers were made up");
});
