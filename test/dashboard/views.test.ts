// The dashboard's views over viz's cores, with hand-made pods, groups and connection gauges.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "../../src/kube/types.js";
import type { Target } from "../../src/viz/objects.js";
import type { GroupStats } from "../../src/viz/stat.js";
import { edgeViews, namespaceSummaries, podViews, workloadSummaries } from "../../src/dashboard/views.js";

const CP = "linkerd";

function pod(name: string, ns: string, o: { meshed?: boolean; version?: string; deployment?: string } = {}): Pod {
  const meshed = o.meshed ?? true;
  const labels: Record<string, string> = meshed ? { "linkerd.io/control-plane-ns": CP, ...(o.deployment ? { "linkerd.io/proxy-deployment": o.deployment } : {}) } : {};
  const containers = [{ name: "app", image: "app:1" }, ...(meshed ? [{ name: "linkerd-proxy", image: `cr.l5d.io/linkerd/proxy:${o.version ?? "stable-2.14.10"}`, env: [{ name: "LINKERD2_PROXY_IDENTITY_LOCAL_NAME", value: "$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.cluster.local" }] }] : [])];
  return { metadata: { name, namespace: ns, labels }, spec: { containers, serviceAccountName: "default" }, status: { phase: "Running" } } as unknown as Pod;
}

const stats = (success: number, failure: number, rps: number): GroupStats => ({ success, failure, rps, p50: 3, p95: 40, p99: 48, tcpConn: 1, readRate: 0, writeRate: 0 });

test("namespaces: meshed/total from the pods, numbers from the namespace's group, '-' (null) without requests", async () => {
  const targets: Target[] = [
    { ref: { type: "namespace", name: "web", namespace: "" }, pods: [pod("a", "web"), pod("b", "web"), pod("c", "web", { meshed: false })] },
    { ref: { type: "namespace", name: "idle", namespace: "" }, pods: [pod("d", "idle")] },
  ];
  const rows = await namespaceSummaries(targets, () => new Map([["web", stats(90, 10, 12.5)]]), CP, "cluster.local");
  assert.deepEqual(rows, [
    { name: "idle", meshed: 1, total: 1, success: null, rps: null, p50: null, p95: null, p99: null },
    { name: "web", meshed: 2, total: 3, success: 0.9, rps: 12.5, p50: 3, p95: 40, p99: 48 },
  ]);
});

test("workloads: every workload type's rows, unmeshed ones included, grouped by namespace and name", async () => {
  const byType = new Map([
    ["deployment", [{ ref: { type: "deployment", name: "web", namespace: "app" }, pods: [pod("web-1", "app", { deployment: "web" })] }, { ref: { type: "deployment", name: "plain", namespace: "app" }, pods: [pod("plain-1", "app", { meshed: false })] }]],
  ] as [string, Target[]][]) as Map<never, Target[]>;
  const seen: string[] = [];
  const rows = await workloadSummaries(byType, (req) => (seen.push(req.ref.type), new Map([[`app\u0000web`, stats(1, 0, 2)]])), CP, "cluster.local");
  assert.deepEqual(seen, ["deployment"], "only types with objects are queried");
  assert.deepEqual(
    rows.map((r) => [r.kind, r.name, r.meshed, r.total, r.rps]),
    [
      ["deployment", "plain", 0, 1, null],
      ["deployment", "web", 1, 1, 2],
    ],
  );
});

test("pods: proxy version from the image tag; older than the control plane flagged; unmeshed pods have none", () => {
  const views = podViews([pod("new", "app"), pod("old", "app", { version: "stable-2.13.0" }), pod("plain", "app", { meshed: false }), pod("edge", "app", { version: "edge-24.1.1" })], CP, "stable-2.14.10");
  assert.deepEqual(
    views.map((v) => [v.name, v.proxyVersion, v.outdated, v.meshed]),
    [
      ["edge", "edge-24.1.1", false, true],
      ["new", "stable-2.14.10", false, true],
      ["old", "stable-2.13.0", true, true],
      ["plain", "", false, false],
    ],
  );
  assert.equal(podViews([pod("old", "app", { version: "stable-2.13.0" })], CP, undefined)[0].outdated, false, "no control plane version: nothing to compare");
});

test("edges: connections into the workload are inbound, from it outbound; identities shortened", () => {
  const bot = pod("bot-1", "app", { deployment: "bot" });
  const web = pod("web-1", "app", { deployment: "web" });
  const conn = (dst: string) => new Map([[{ direction: "outbound", peer: "dst", dst_deployment: dst, dst_namespace: "app", server_id: `${dst}.app.serviceaccount.identity.linkerd.cluster.local` }, 1]]);
  const pods = [
    { attached: { namespace: "app", pod: "bot-1", deployment: "bot" }, connections: conn("web") },
    { attached: { namespace: "app", pod: "web-1", deployment: "web" }, connections: conn("db") },
  ];
  const byKey = new Map([["app/bot-1", bot], ["app/web-1", web]]);
  const v = edgeViews("deployment", "app", "web", pods, byKey);
  assert.deepEqual(v.inbound.map((e) => [e.peer, e.clientId, e.serverId, e.noTlsReason]), [["app/bot", "default.app", "web.app", ""]]);
  assert.deepEqual(v.outbound.map((e) => e.peer), ["app/db"]);
});
