import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import type { Cluster } from "../../src/kube/cluster.js";
import type { Pod } from "../../src/kube/types.js";
import { apiError } from "../../src/kube/errors.js";
import { computeProxyVersions, formatProxyVersions } from "../../src/version/proxy-versions.js";

const pod = (ns: string, name: string, image: string | undefined, phase = "Running"): Pod => ({
  metadata: { name, namespace: ns, labels: { "linkerd.io/control-plane-ns": "linkerd" } },
  spec: { containers: [{ name: "app", image: "example/app:1" }, ...(image === undefined ? [] : [{ name: "linkerd-proxy", image }])] },
  status: { phase },
});

const PODS = [
  pod("shop", "web-2", "cr.l5d.io/linkerd/proxy:stable-2.14.10"),
  pod("shop", "web-1", "cr.l5d.io/linkerd/proxy:stable-2.14.10"),
  pod("shop", "old-1", "localhost:5000/linkerd/proxy:stable-2.14.9"),
  pod("shop", "done-1", "cr.l5d.io/linkerd/proxy:stable-2.13.0", "Succeeded"),
  pod("batch", "odd-1", "cr.l5d.io/linkerd/proxy:dev-abc123"),
  pod("batch", "bare-1", undefined),
];

/** A getText-only cluster serving `objects` by path (query ignored) and recording every path asked. */
function fakeCluster(objects: Record<string, unknown>, version: string | undefined = "stable-2.14.10") {
  const paths: string[] = [];
  const cluster: Cluster = {
    server: "https://fake",
    async getJson() {
      throw new Error("unused");
    },
    async controlPlaneVersion() {
      return version;
    },
    async getText(path: string) {
      paths.push(path);
      const body = objects[path.split("?")[0]];
      if (body === undefined) throw apiError(404, "GET", path, JSON.stringify({ message: "not found" }));
      if (body instanceof Error) throw body;
      return JSON.stringify(body);
    },
  };
  return { cluster, paths };
}

test("proxy versions: the image tag after the last colon, newest first, finished pods left out, older ones flagged", () => {
  const groups = computeProxyVersions(PODS, "stable-2.14.10");
  assert.deepEqual(groups, [
    { version: "stable-2.14.10", pods: ["shop/web-1", "shop/web-2"], olderThanControlPlane: false },
    { version: "stable-2.14.9", pods: ["shop/old-1"], olderThanControlPlane: true },
    { version: "", pods: ["batch/bare-1"], olderThanControlPlane: false },
    { version: "dev-abc123", pods: ["batch/odd-1"], olderThanControlPlane: false },
  ]);
  assert.equal(
    formatProxyVersions(groups, "stable-2.14.10"),
    "Proxy versions:\n\tstable-2.14.10 (2 pods)\n\t\tshop/web-1\n\t\tshop/web-2\n\tstable-2.14.9 (1 pod, older than the control plane (stable-2.14.10))\n\t\tshop/old-1\n\t(no linkerd-proxy container) (1 pod)\n\t\tbatch/bare-1\n\tdev-abc123 (1 pod)\n\t\tbatch/odd-1\n",
  );
});

test("proxy versions: nothing is flagged when the control plane's version is unknown", () => {
  assert.ok(computeProxyVersions(PODS, undefined).every((g) => !g.olderThanControlPlane));
  assert.equal(formatProxyVersions([], undefined), "Proxy versions: unavailable (no meshed pods found)\n");
});

test("proxy versions: a hostile image tag is printed inert", () => {
  const groups = computeProxyVersions([pod("x", "p", "img:\x1b]0;owned\x07v1\nfake")], "stable-2.14.10");
  assert.doesNotMatch(formatProxyVersions(groups, "stable-2.14.10"), /\x1b|\nfake/);
});

test("version --proxy lists every namespace's meshed pods by default (one list call with the control-plane label)", async () => {
  const f = fakeCluster({ "/api/v1/pods": { items: PODS } });
  const r = await runMesh(["version", "--proxy"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Client version: .*\nServer version: stable-2\.14\.10\nProxy versions:\n\tstable-2\.14\.10 \(2 pods\)\n/);
  assert.match(r.stdout, /\tstable-2\.14\.9 \(1 pod, older than the control plane \(stable-2\.14\.10\)\)\n\t\tshop\/old-1\n/);
  assert.deepEqual(f.paths, [`/api/v1/pods?labelSelector=${encodeURIComponent("linkerd.io/control-plane-ns=linkerd")}`]);
});

test("version --proxy -n NS lists one namespace; -L names the control plane in the selector", async () => {
  const f = fakeCluster({ "/api/v1/namespaces/shop/pods": { items: PODS.filter((p) => p.metadata.namespace === "shop") } });
  const r = await runMesh(["version", "--proxy", "-n", "shop", "-L", "mesh-cp"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(f.paths, [`/api/v1/namespaces/shop/pods?labelSelector=${encodeURIComponent("linkerd.io/control-plane-ns=mesh-cp")}`]);
  assert.doesNotMatch(r.stdout, /batch\//);
});

test("version --proxy -o json: one document with the groups", async () => {
  const f = fakeCluster({ "/api/v1/pods": { items: PODS } });
  const r = await runMesh(["version", "--proxy", "-A", "-o", "json"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { serverVersion: string; proxyVersions: { version: string; pods: string[]; olderThanControlPlane: boolean }[] };
  assert.equal(doc.serverVersion, "stable-2.14.10");
  assert.deepEqual(doc.proxyVersions[1], { version: "stable-2.14.9", pods: ["shop/old-1"], olderThanControlPlane: true });
  const client = await runMesh(["version", "--client", "-o", "json"]);
  assert.equal((JSON.parse(client.stdout) as { clientVersion: string }).clientVersion.startsWith("stable-"), true);
});

test("version: bad flag combinations are usage errors (exit 2) before any I/O", async () => {
  let connected = false;
  const cluster = async () => {
    connected = true;
    return fakeCluster({}).cluster;
  };
  for (const args of [["-n", "shop"], ["--proxy", "-n", "shop", "-A"], ["--proxy", "--client"], ["--proxy", "-n", "Bad_NS"], ["-o", "yaml"]]) {
    const r = await runMesh(["version", ...args], { cluster });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
  assert.equal(connected, false);
});

test("version --proxy: an API error listing pods exits 1 with one error line", async () => {
  const f = fakeCluster({ "/api/v1/pods": apiError(403, "GET", "/api/v1/pods", JSON.stringify({ message: 'pods is forbidden: User "x" cannot list resource "pods"' })) });
  const r = await runMesh(["version", "--proxy"], { cluster: async () => f.cluster });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .*forbidden/);
  assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
});

test("proxy versions: the table lists at most 10 pods per version and says how many more there are", () => {
  const many = Array.from({ length: 12 }, (_, i) => pod("big", `p-${String(i).padStart(2, "0")}`, "x/proxy:stable-2.14.10"));
  const out = formatProxyVersions(computeProxyVersions(many, "stable-2.14.10"), "stable-2.14.10");
  assert.match(out, /\t\tbig\/p-09\n\t\t… and 2 more \(-o json lists every pod\)\n$/);
  assert.doesNotMatch(out, /p-10/);
});
