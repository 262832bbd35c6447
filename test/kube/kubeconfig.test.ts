import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextNamespace, headerKeyEscape, impersonationHeaders, readSimpleKubeconfig } from "../../src/kube/kubeconfig.js";
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
  assert.deepEqual({ ...k, ca: k?.ca?.toString(), origin: undefined }, { server: "https://10.0.0.1:6443", ca: "-----BEGIN CERTIFICATE-----\n", insecure: false, serverName: "api.example", cert: undefined, key: undefined, headers: { Authorization: "Bearer abc" }, origin: undefined, exec: undefined, impersonate: { user: undefined, uid: undefined, groups: [], extra: {} }, proxyUrl: undefined, disableCompression: false });
  assert.deepEqual(k?.origin, { file: k?.origin.file, cluster: "c", user: "u", fields: { ca: "certificate-authority-data" } });
});

test("files are read relative to the kubeconfig; --context picks another user", () => {
  const file = write(config("    server: https://h\n    certificate-authority: ca.crt", "    client-certificate: tls.crt\n    client-key: tls.key\n    tokenFile: token"), { "ca.crt": "CA", "tls.crt": "CRT", "tls.key": "KEY", token: "file-token\n" });
  const k = readSimpleKubeconfig({ kubeconfig: file }, {})!;
  assert.equal(k.ca?.toString(), "CA");
  assert.equal(k.cert?.toString(), "CRT");
  assert.equal(k.key?.toString(), "KEY");
  assert.equal(k.insecure, false);
  assert.equal(k.headers.Authorization, "Bearer file-token");
  assert.equal(readSimpleKubeconfig({ kubeconfig: file, context: "b" }, {})!.headers.Authorization, "Bearer other-token");
});

test("basic auth", () => {
  const k = readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    username: admin\n    password: pw")) }, {})!;
  assert.equal(k.headers.Authorization, `Basic ${Buffer.from("admin:pw").toString("base64")}`);
});

test("exec plugins and http proxies are read here; auth providers, socks5 proxies and merged KUBECONFIG lists are left to client-node", () => {
  const exec = readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    exec:\n      command: aws\n      args: [eks, get-token]")) }, {})!.exec;
  assert.deepEqual([exec?.command, exec?.args, exec?.origin.user], ["aws", ["eks", "get-token"], "u"]);
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    auth-provider:\n      name: oidc")) }, {}), undefined);
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h\n    proxy-url: http://proxy:3128", "    token: t")) }, {})?.proxyUrl, "http://proxy:3128");
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h\n    proxy-url: socks5://proxy:1080", "    token: t")) }, {}), undefined);
  assert.throws(() => readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h\n    proxy-url: ftp://proxy:21", "    token: t")) }, {}), /^MeshError: proxy-url of cluster "c" in kubeconfig .* has the scheme "ftp"; kubectl supports http, https and socks5$/);
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

test("only keys the fast path implements take it: any other key in the context, cluster or user hands over to client-node", () => {
  const base = (cluster: string, user: string, context = "{cluster: c, user: u}") =>
    `apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: ${context}\nclusters:\n- name: c\n  cluster:\n    server: https://h\n${cluster}\nusers:\n- name: u\n  user:\n    token: t\n${user}\n`;
  // everything implemented, extensions included
  assert.ok(readSimpleKubeconfig({ kubeconfig: write(base("    extensions: []", "    as: bob\n    extensions: []", "{cluster: c, user: u, namespace: n, extensions: []}")) }, {}));
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(base("    disable-compression: true", "")) }, {})?.disableCompression, true);
  for (const [where, text] of [
    ["cluster", base("    certificate-authority-file: x", "")],
    ["cluster", base("    some-future-field: x", "")],
    ["user", base("", "    impersonate: bob")],
    ["user", base("", "    auth-provider: {name: gcp}")],
    ["context", base("", "", "{cluster: c, user: u, other: x}")],
  ] as const)
    assert.equal(readSimpleKubeconfig({ kubeconfig: write(text) }, {}), undefined, `an unknown key in the ${where} entry`);
});

test("impersonation: as, as-uid, as-groups and as-user-extra are read in the fast path", () => {
  const k = readSimpleKubeconfig(
    { kubeconfig: write(config("    server: https://h", "    token: t\n    as: viewer\n    as-uid: \"42\"\n    as-groups: [devs, ops]\n    as-user-extra:\n      scopes: [view, edit]\n      reason: [audit]")) },
    {},
  )!;
  assert.deepEqual(k.impersonate, { user: "viewer", uid: "42", groups: ["devs", "ops"], extra: { scopes: ["view", "edit"], reason: ["audit"] } });
  assert.deepEqual(impersonationHeaders(k.impersonate, {}, "user"), {
    "Impersonate-User": "viewer",
    "Impersonate-Uid": "42",
    "Impersonate-Group": ["devs", "ops"],
    "Impersonate-Extra-scopes": ["view", "edit"],
    "Impersonate-Extra-reason": ["audit"],
  });
  assert.throws(
    () => readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h", "    token: t\n    as-groups: devs")) }, {}),
    /^MeshError: as-groups of user "u" in kubeconfig .* is not a list of single-line strings$/,
  );
});

test("impersonation: --as and --as-group override the kubeconfig's as and as-groups, field by field (kubectl's merge)", () => {
  const k = { user: "viewer", uid: undefined, groups: ["devs"], extra: {} };
  assert.deepEqual(impersonationHeaders(k, { as: "alice" }, "user"), { "Impersonate-User": "alice", "Impersonate-Group": ["devs"] });
  assert.deepEqual(impersonationHeaders(k, { asGroup: ["ops", "sre"] }, "user"), { "Impersonate-User": "viewer", "Impersonate-Group": ["ops", "sre"] });
  assert.deepEqual(impersonationHeaders(undefined, {}, "user"), {});
  assert.deepEqual(impersonationHeaders(undefined, { as: "alice" }, "user"), { "Impersonate-User": "alice" });
});

test("impersonation: groups, a uid or extra without a user are refused, as kubectl refuses them", () => {
  assert.throws(() => impersonationHeaders(undefined, { asGroup: ["devs"] }, "user"), /^MeshError: --as-group is given without a user to impersonate$/);
  assert.throws(
    () => impersonationHeaders({ uid: "1", groups: [], extra: {} }, {}, 'user "u" in kubeconfig f'),
    /^MeshError: user "u" in kubeconfig f sets as-uid, as-groups or as-user-extra but no `as` user to impersonate$/,
  );
});

for (const [key, header] of [
  ["scopes", "scopes"],
  ["example.com/team", "example.com%2Fteam"],
  ["a b", "a%20b"],
  ["100%", "100%25"],
  ["café", "caf%C3%A9"],
] as const)
  test(`an as-user-extra key ${JSON.stringify(key)} is the header Impersonate-Extra-${header}`, () => assert.equal(headerKeyEscape(key), header));

test("a certificate authority together with insecure-skip-tls-verify is refused in one line, as client-go refuses it", () => {
  for (const ca of ["certificate-authority: ca.crt", "certificate-authority-data: Q0E="]) {
    const file = write(config(`    server: https://h\n    ${ca}\n    insecure-skip-tls-verify: true`, "    token: t"), { "ca.crt": "CA" });
    assert.throws(
      () => readSimpleKubeconfig({ kubeconfig: file }, {}),
      (e: unknown) =>
        e instanceof MeshError &&
        /^insecure-skip-tls-verify of cluster "c" in kubeconfig \S+ is true while the entry also names a certificate authority: /.test(e.message) &&
        !e.message.includes("\n") &&
        /remove insecure-skip-tls-verify/.test(e.hint ?? ""),
    );
  }
  // either one alone is fine
  assert.equal(readSimpleKubeconfig({ kubeconfig: write(config("    server: https://h\n    insecure-skip-tls-verify: true", "    token: t")) }, {})?.insecure, true);
});
