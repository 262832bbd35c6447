// Hostile kubeconfigs: syntax errors around a token, empty files, nesting bombs, wrong shapes,
// broken TLS material, and exec credential plugins that hang, fail, are missing or print garbage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiHandler, certFixture, DEPLOYMENT, expectCheckEnds, expectClean, fakeServer, kubeconfig, meshIn, meshProcess, script, tempDir, TOKEN } from "./harness.js";

/** The probe: inject reads linkerd-config from the cluster before it writes anything. */
function probe(kc: string): string[] {
  const dir = tempDir();
  const manifest = join(dir, "deploy.yaml");
  writeFileSync(manifest, DEPLOYMENT);
  return ["--kubeconfig", kc, "inject", manifest];
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

const syntaxCases: [name: string, text: string, message: RegExp][] = [
  [
    "a syntax error on the line after a token",
    `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n    foo: [unclosed\ncontexts: []\n`,
    /^kubeconfig .*config is not valid YAML: .* at line \d+, column \d+$/,
  ],
  ["a bad escape inside the token itself", `users:\n- name: u\n  user:\n    token: "${TOKEN}\\q"\n`, /^kubeconfig .*config is not valid YAML: invalid escape sequence at line 4, column \d+$/],
  ["a block scalar header with the token on it", `users:\n- name: u\n  user:\n    token: |x ${TOKEN}\n      more\n`, /^kubeconfig .*config is not valid YAML: .* at line 4, column \d+$/],
  ["an unterminated quote", `users:\n- name: u\n  user:\n    token: '${TOKEN}\n`, /^kubeconfig .*config is not valid YAML: .* at line \d+, column \d+$/],
  ["a tab in the indentation", `users:\n- name: u\n  user:\n\ttoken: ${TOKEN}\n`, /^kubeconfig .*config is not valid YAML: .* at line 4, column \d+$/],
  ["a duplicate key", `users:\n- name: u\n  user:\n    token: ${TOKEN}\n    token: other\n`, /^kubeconfig .*config is not valid YAML: duplicate key "token" at line 5, column 5$/],
  ["nesting 5,000 levels deep (flow)", `users: ${"[".repeat(5000)}${"]".repeat(5000)}\n`, /^kubeconfig .*config is not valid YAML: nesting deeper than 256 levels at line 1, column \d+$/],
  ["nesting 5,000 levels deep (block)", Array.from({ length: 5000 }, (_, i) => `${" ".repeat(i)}a:\n`).join(""), /^kubeconfig .*config is not valid YAML: nesting deeper than 256 levels at line \d+, column \d+$/],
  ["an empty file", "", /^kubeconfig .*config is empty$/],
  ["only comments", `# token: ${TOKEN}\n\n# nothing else\n`, /^kubeconfig .*config is empty$/],
  ["a list instead of a map", `- ${TOKEN}\n`, /^kubeconfig .*config is not a kubeconfig: it holds a list, not a map/],
  ["users as a string", `users: "${TOKEN}"\n`, /^kubeconfig .*config is not a kubeconfig: its "users" is not a list$/],
];

for (const [name, text, message] of syntaxCases) {
  test(`kubeconfig: ${name} is named by file and line, its text never printed`, async () => {
    const dir = tempDir();
    const kc = join(dir, "config");
    writeFileSync(kc, text);
    expectClean(await meshIn(probe(kc)), { code: 1, message, maxMs: 10_000 });
  });
}

test("kubeconfig: a syntax error in `check` fails its first check, the token stays out of the report", async () => {
  const dir = tempDir();
  const kc = join(dir, "config");
  writeFileSync(kc, `users:\n- name: u\n  user:\n    token: ${TOKEN}\n    foo: [unclosed\nother: 1\n`);
  const r = await meshIn(["--kubeconfig", kc, "check", "--pre", "--expected-version", "stable-2.14.10"]);
  expectCheckEnds(r, { failing: /can initialize the client\n\s+kubeconfig .*config is not valid YAML: .* at line \d+, column \d+\n/, maxMs: 15_000 });
});

test("kubeconfig: a client key that is not a key names the user and the field, not OpenSSL", async () => {
  const kc = kubeconfig("https://127.0.0.1:1", `    client-certificate-data: ${b64(certFixture("issuer.crt"))}\n    client-key-data: ${b64(`-----BEGIN PRIVATE KEY-----\n${b64(TOKEN)}\n-----END PRIVATE KEY-----\n`)}`);
  const r = await meshIn(probe(kc));
  expectClean(r, { code: 1, message: /^client-key-data of user "victim" in kubeconfig .*config is not a PEM private key/, maxMs: 10_000 });
  assert.doesNotMatch(r.stderr, /routines|error:[0-9A-F]{8}/);
});

test("kubeconfig: a client key that belongs to another certificate says so", async () => {
  const kc = kubeconfig("https://127.0.0.1:1", `    client-certificate-data: ${b64(certFixture("issuer.crt"))}\n    client-key-data: ${b64(certFixture("ca.key"))}`);
  const r = await meshIn(probe(kc));
  expectClean(r, { code: 1, message: /^client-key-data of user "victim" in kubeconfig .*config does not match its client-certificate-data$/, maxMs: 10_000 });
  assert.doesNotMatch(r.stderr, /key values mismatch|routines/);
});

test("kubeconfig: a client certificate that is not one names the field", async () => {
  const kc = kubeconfig("https://127.0.0.1:1", `    client-certificate-data: ${b64("not a certificate")}\n    client-key-data: ${b64(certFixture("issuer.key"))}`);
  expectClean(await meshIn(probe(kc)), { code: 1, message: /^client-certificate-data of user "victim" in kubeconfig .*config is not a PEM certificate$/, maxMs: 10_000 });
});

test("kubeconfig: a CA that is not a certificate names the cluster and the field", async () => {
  const dir = tempDir();
  const kc = join(dir, "config");
  writeFileSync(kc, `clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: ${b64("garbage")}\nusers:\n- name: u\n  user: {token: ${TOKEN}}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
  expectClean(await meshIn(probe(kc)), { code: 1, message: /^certificate-authority-data of cluster "c" in kubeconfig .*config is not a PEM certificate$/, maxMs: 10_000 });
});

// ---- exec credential plugins ----------------------------------------------------------------

async function withApi<T>(f: (url: string, seen: { auth?: string }[]) => Promise<T>): Promise<T> {
  const s = await fakeServer(apiHandler());
  try {
    return await f(s.url, s.seen);
  } finally {
    await s.close();
  }
}

const execUser = (command: string, extra = "") => `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${command}\n${extra}`;

test("exec plugin: one that never returns is stopped at the request timeout, and check still ends", async () => {
  await withApi(async (url) => {
    const dir = tempDir();
    script(dir, "hang.sh", "exec sleep 600");
    const kc = kubeconfig(url, execUser(join(dir, "hang.sh")), dir);
    // a process, so that a plugin left running would keep it alive past the bound
    const r = await meshProcess(["--kubeconfig", kc, "check", "--pre", "--expected-version", "stable-2.14.10", "--request-timeout", "2s"], { killAfterMs: 40_000 });
    expectCheckEnds(r, { failing: /exec credential plugin ".*hang\.sh" of kubeconfig user "victim" did not finish within 2s; mesh stopped it/, maxMs: 35_000 });
  });
});

test("exec plugin: one that fails reports its exit status and the first line of its stderr, sanitised", async () => {
  await withApi(async (url, seen) => {
    const dir = tempDir();
    script(dir, "fail.sh", `printf '\\033[2Jlogin required: run \\033[31msso login\\033[0m\\nerror: fake second line ${TOKEN}\\n' >&2; exit 3`);
    const kc = kubeconfig(url, execUser(join(dir, "fail.sh")), dir);
    const r = await meshIn(probe(kc));
    expectClean(r, { code: 1, message: /^the exec credential plugin ".*fail\.sh" of kubeconfig user "victim" failed \(exit status 3\): login required: run sso login$/, maxMs: 10_000 });
    assert.equal(seen.length, 0, "no request went out without credentials");
  });
});

test("exec plugin: a missing one is reported with its install hint; no request goes out", async () => {
  await withApi(async (url, seen) => {
    const kc = kubeconfig(url, execUser("mesh-no-such-plugin-xyz", "      installHint: install it with `brew install xyz`\n"));
    const r = await meshIn(probe(kc));
    expectClean(r, { code: 1, message: /^the exec credential plugin "mesh-no-such-plugin-xyz" of kubeconfig user "victim" was not found$/, maxMs: 10_000 });
    assert.match(r.stderr, /hint: install it with `brew install xyz`/);
    assert.equal(seen.length, 0);
  });
});

const garbage: [name: string, stdout: string, message: RegExp][] = [
  ["prints text that is not JSON", `${TOKEN} is not json`, /printed something other than an ExecCredential \(not JSON\)$/],
  ["prints JSON that is not an ExecCredential", `{"kind":"Pod","status":{"token":"${TOKEN}"}}`, /printed JSON that is not an ExecCredential with a status$/],
  ["prints an ExecCredential without credentials", `{"kind":"ExecCredential","status":{}}`, /printed an ExecCredential without a token or a client certificate$/],
  ["prints a certificate without a key", `{"kind":"ExecCredential","status":{"clientCertificateData":"x"}}`, /printed an ExecCredential with a client certificate but no key$/],
];
for (const [name, out, message] of garbage) {
  test(`exec plugin: one that ${name} is reported`, async () => {
    await withApi(async (url, seen) => {
      const dir = tempDir();
      writeFileSync(join(dir, "out.txt"), out);
      script(dir, "garbage.sh", `cat "$(dirname "$0")/out.txt"`);
      const kc = kubeconfig(url, execUser(join(dir, "garbage.sh")), dir);
      expectClean(await meshIn(probe(kc)), { code: 1, message, maxMs: 10_000 });
      assert.equal(seen.length, 0);
    });
  });
}

test("exec plugin: one that prints without end is stopped", async () => {
  await withApi(async (url) => {
    const dir = tempDir();
    script(dir, "flood.sh", "exec yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    const kc = kubeconfig(url, execUser(join(dir, "flood.sh")), dir);
    expectClean(await meshIn(probe(kc)), { code: 1, message: /printed more than 1 MiB; mesh stopped it$/, maxMs: 10_000 });
  });
});

test("exec plugin: a working one (relative to the kubeconfig) is run once and its token sent", async () => {
  await withApi(async (url, seen) => {
    const dir = tempDir();
    script(dir, "ok.sh", `test "$(printenv KUBERNETES_EXEC_INFO | grep -c ExecCredential)" = 1 || exit 9\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"plugin-token"}}'`);
    const kc = kubeconfig(url, execUser("./ok.sh"), dir);
    const r = await meshIn(["--kubeconfig", kc, "check", "--pre", "--expected-version", "stable-2.14.10", "-o", "short"]);
    assert.ok(seen.length > 3, r.stderr);
    assert.ok(seen.every((s) => s.auth === "Bearer plugin-token"), JSON.stringify(seen.slice(0, 3)));
  });
});

test("KUBECONFIG lists: an empty file among them is named; an exec plugin of a merged config is bounded and reported", async () => {
  await withApi(async (url, seen) => {
    const dir = tempDir();
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    const good = kubeconfig(url);
    const manifest = join(dir, "deploy.yaml");
    writeFileSync(manifest, DEPLOYMENT);
    const r1 = await meshProcess(["inject", manifest], { env: { KUBECONFIG: `${good}:${empty}` }, killAfterMs: 40_000 });
    expectClean(r1, { code: 1, message: /^kubeconfig .*empty is empty$/, maxMs: 35_000 });

    script(dir, "fail.sh", "echo 'token expired' >&2; exit 4");
    const withPlugin = kubeconfig(url, execUser(join(dir, "fail.sh")), tempDir());
    const other = join(dir, "other");
    writeFileSync(other, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
    const r2 = await meshProcess(["inject", manifest], { env: { KUBECONFIG: `${withPlugin}:${other}` }, killAfterMs: 40_000 });
    expectClean(r2, { code: 1, message: /^the exec credential plugin ".*fail\.sh" of kubeconfig user "victim" failed \(exit status 4\): token expired$/, maxMs: 35_000 });
    assert.equal(seen.length, 0, "no request went out without credentials");
  });
});
