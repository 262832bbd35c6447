import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextNamespace, readSimpleKubeconfig } from "../../src/kube/kubeconfig.js";
import { MeshError } from "../../src/errors.js";

function write(text: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-kc-"));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  const file = join(dir, "config");
  writeFileSync(file, text);
  return file;
}

const config = (cluster: string, user: string, more = "") => `apiVersion: v1
kind: Config
current-context: a
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: other}
clusters:
- name: c
  cluster:
${cluster}
users:
- name: u
  user:
${user}
- name: other
  user:
    token: other-token
${more}`;

test("token, CA data and TLS server name", () => {
  const ca = Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64");
  const k = readSimpleKubeconfig({ kubeconfig: write(config(`    server: https://10.0.0.1:6443\n    certificate-authority-data: ${ca}\n    tls-server-name: api.example`, "    token: abc")) }, {});
  assert.deepEqual({ ...k, ca: k?.ca?.toString(), origin: undefined }, { server: "https://10.0.0.1:6443", ca: "-----BEGIN CERTIFICATE-----\n", insecure: false, serverName: "api.example", cert: undefined, key: undefined, headers: { Authorization: "Bearer abc" }, origin: undefined, exec: undefined });
  assert.deepEqual(k?.origin, { file: k?.origin.file, cluster: "c", user: "u", fields: { ca: "certificate-authority-data" } });
});

test("files are read relative to the kubeconfig; --context picks another user", () => {
  const file = write(config("    server: https://h\n    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true", "    client-certificate: tls.crt\n    client-key: tls.key\n    tokenFile: token"), { "ca.crt": "CA", "tls.crt": "CRT", "tls.key": "KEY", token: "file-token\n" });
  const k = readSimpleKubeconfig({ kubeconfig: file }, {})!;
  assert.equal(k.ca?.toString(), "CA");
  assert.equal(k.cert?.toString(), "CRT");
  assert.equal(k.key?.toString(), "KEY");
  assert.equal(k.insecure, true);
  assert.equal(k.headers.Authorization, "Bearer file-token");
  assert.equal(readSimpleKubeconfig({ kubeconfig: file, context: "b" }, {})!.headers.Authorization, "Bearer other-token");
});

test("basic auth", () => {
  const k = readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    username: admin\n    password: pw")) }, {})!;
  assert.equal(k.headers.Authorization, `Basic ${Buffer.from("admin:pw").toString("base64")}`);
});

test("exec plugins are read here; auth providers, proxies and merged KUBECONFIG lists are left to client-node", () => {
  const exec = readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    exec:\n      command: aws\n      args: [eks, get-token]")) }, {})!.exec;
  assert.deepEqual([exec?.command, exec?.args, exec?.origin.user], ["aws", ["eks", "get-token"], "u"]);
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    auth-provider:\n      name: oidc")) }, {}), undefined);
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h\n    proxy-url: http://proxy:3128", "    token: t")) }, {}), undefined);
  assert.equal(readSimpleKubeconfig({}, { KUBECONFIG: "/a:/b", HOME: "/nonexistent" }), undefined);
  assert.equal(readSimpleKubeconfig({}, { HOME: "/nonexistent" }), undefined);
});

test("a missing context or an unreadable file is a MeshError naming it", () => {
  const file = write(config("    server: https://h", "    token: t"));
  assert.throws(() => readSimpleKubeconfig({ kubeconfig: file, context: "nope" }, {}), (e: unknown) => e instanceof MeshError && e.message === 'context "nope" not found in kubeconfig' && e.hint === "available contexts: a, b");
  assert.throws(() => readSimpleKubeconfig({ kubeconfig: "/nonexistent/kubeconfig" }, {}), /cannot load kubeconfig \/nonexistent\/kubeconfig/);
  const missingCa = write(config("    server: https://h\n    certificate-authority: nope.crt", "    token: t"));
  assert.throws(() => readSimpleKubeconfig({ kubeconfig: missingCa }, {}), /cannot read .*nope\.crt, the certificate-authority of cluster "c" in kubeconfig .*config: no such file/);
});

test("contextNamespace: the selected context's namespace, merged across KUBECONFIG files as kubectl does", () => {
  const first = write("apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {cluster: c, user: u, namespace: production}\n");
  const second = write("apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: prod\n  context: {cluster: c, user: u, namespace: shadowed}\n- name: dev\n  context: {cluster: c, user: u}\n");
  assert.equal(contextNamespace({}, { KUBECONFIG: `${first}:${second}` }), "production");
  assert.equal(contextNamespace({ context: "dev" }, { KUBECONFIG: `${first}:${second}` }), undefined);
  assert.equal(contextNamespace({ kubeconfig: second }, {}), undefined);
  assert.equal(contextNamespace({ kubeconfig: second, context: "prod" }, {}), "shadowed");
  // a missing file in the list is skipped; a broken one gives undefined (connecting reports it)
  assert.equal(contextNamespace({}, { KUBECONFIG: `/nonexistent/config:${first}` }), "production");
  assert.equal(contextNamespace({ kubeconfig: write("{{{") }, {}), undefined);
});
