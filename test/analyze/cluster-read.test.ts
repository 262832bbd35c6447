import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterApi } from "../../src/kube/cluster.js";
import { readCluster } from "../../src/analyze/cluster.js";

/** A cluster that answers list paths from a table (anything else: an empty list). */
function fakeCluster(lists: Record<string, unknown[]>): ClusterApi {
  return { getJson: async (path: string) => (path.includes("/configmaps/") ? undefined : { items: lists[path] ?? [] }) } as unknown as ClusterApi;
}

const server = (ns: string, name: string, extra: Record<string, unknown> = {}) => ({ metadata: { name, namespace: ns, ...extra }, spec: { podSelector: { matchLabels: { app: "x" } }, port: 8080 } });

test("--cluster leaves out what is being deleted: objects with a deletionTimestamp, and everything in a terminating namespace", async () => {
  const state = await readCluster(
    fakeCluster({
      "/api/v1/namespaces": [{ metadata: { name: "live" } }, { metadata: { name: "going", deletionTimestamp: "2026-12-02T00:00:00Z" } }],
      "/apis/policy.linkerd.io/v1beta1/servers": [server("live", "kept"), server("live", "deleted", { deletionTimestamp: "2026-12-02T00:00:00Z" }), server("going", "in-terminating")],
    }),
    undefined,
    "linkerd",
  );
  const servers = state.objects.filter((o) => o.kind === "Server").map((o) => `${o.namespace}/${o.name}`);
  assert.deepEqual(servers, ["live/kept"]);
  assert.deepEqual(state.objects.filter((o) => o.kind === "Namespace").map((o) => o.name), ["live"]);
});
