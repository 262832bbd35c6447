import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import { clusterApi, type Cluster } from "../../src/kube/cluster.js";
import { apiError } from "../../src/kube/errors.js";

/** The real typed API (RestCluster) over a getText-only cluster serving linkerd-config with these values. */
function withConfigValues(values: string | undefined, namespace = "linkerd") {
  const fake: Cluster = {
    server: "https://fake",
    async getJson() {
      throw new Error("unused");
    },
    async controlPlaneVersion() {
      throw new Error("unused: the RestCluster reads linkerd-config itself");
    },
    async getText(path: string) {
      if (values !== undefined && path === `/api/v1/namespaces/${namespace}/configmaps/linkerd-config`)
        return JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace }, data: { values } });
      throw apiError(404, "GET", path, JSON.stringify({ message: "not found" }));
    },
  };
  return async () => clusterApi(fake);
}

for (const [name, values] of [
  ["plain", "linkerdVersion: stable-2.14.10\ncontrollerLogLevel: info\n"],
  ["double-quoted", 'linkerdVersion: "stable-2.14.10"\ncontrollerLogLevel: info\n'],
  ["single-quoted", "linkerdVersion: 'stable-2.14.10'\ncontrollerLogLevel: info\n"],
  ["quoted, with a comment after it", 'controllerLogLevel: info\nlinkerdVersion: "stable-2.14.10" # set by the installer\n'],
] as const)
  test(`version prints the server version read from linkerd-config's YAML without quotes (${name})`, async () => {
    const r = await runMesh(["version"], { cluster: withConfigValues(values) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nServer version: stable-2\.14\.10\n$/);
    const short = await runMesh(["version", "--short"], { cluster: withConfigValues(values) });
    assert.match(short.stdout, /\nstable-2\.14\.10\n$/);
    const json = await runMesh(["version", "-o", "json"], { cluster: withConfigValues(values) });
    assert.equal((JSON.parse(json.stdout) as { serverVersion: string }).serverVersion, "stable-2.14.10");
  });

test("version -L reads that namespace's linkerd-config; without one the server version is unavailable", async () => {
  const r = await runMesh(["version", "-L", "l5d"], { cluster: withConfigValues('linkerdVersion: "stable-2.14.9"\n', "l5d") });
  assert.match(r.stdout, /\nServer version: stable-2\.14\.9\n$/);
  const none = await runMesh(["version"], { cluster: withConfigValues(undefined) });
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /\nServer version: unavailable\n$/);
});
