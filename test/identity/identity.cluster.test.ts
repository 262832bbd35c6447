// mesh identity end to end: install a control plane (mesh install | kubectl apply), mesh a
// Deployment (mesh inject --manual | kubectl apply), then read the certificates the proxies present
// on 4143 through port-forward. The proxy stand-in's leaf is signed with the installed issuer; the
// test checks it against the issuer certificate it reads itself from linkerd-identity-issuer.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { fileURLToPath } from "node:url";
import { connect } from "../../src/kube/cluster.js";
import { installLinkerd, uninstallLinkerd } from "../checks/install-on-cluster.js";
import { connectTestCluster, type Pod, type TestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";

let c: TestCluster;
let cp: string;
let ns: string;
let pods: Pod[];

const deployment = (name: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - {name: app, image: example/${name}:1}
`;

before(async () => {
  c = await connectTestCluster();
  cp = `l5d-${Math.random().toString(36).slice(2, 8)}`;
  await installLinkerd(c, cp);
  ns = await c.newNamespace("ident");
  await pipeline(c, `mesh inject --manual -L ${cp} - | kubectl apply -n ${ns} -f -`, { stdin: deployment("web", 2) });
  // Its proxy trusts another CA than the one that issues the certificates: the chain does not verify.
  const foreign = fileURLToPath(new URL("../fixtures/certs/foreign-ca.crt", import.meta.url));
  await pipeline(c, `mesh inject --manual -L ${cp} --identity-trust-anchors-file ${foreign} - | kubectl apply -n ${ns} -f -`, { stdin: deployment("stranger", 1) });
  await c.apply(deployment("plain", 1), ns);
  pods = await c.waitForPods(ns, "app=web", { count: 2 });
  await c.waitForPods(ns, "app=plain", { count: 1 });
});

after(async () => {
  if (ns) await c.deleteNamespace(ns);
  if (cp) await uninstallLinkerd(c, cp);
});

async function mesh(argv: string[]) {
  const [{ run }, { memoryIo }] = await Promise.all([import("../../src/cli.js"), import("../../src/io.js")]);
  const m = memoryIo();
  const code = await run(["--kubeconfig", c.kubeconfig, "-L", cp, ...argv], { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) });
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** The installed issuer, read from its secret (not through mesh). */
async function issuer(): Promise<X509Certificate> {
  const s = await c.api.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${cp}/secrets/linkerd-identity-issuer`);
  return new X509Certificate(Buffer.from(s.data["crt.pem"]!, "base64"));
}

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----\n[\s\S]*?-----END CERTIFICATE-----\n/g) ?? [];

test("-o pem: the proxy's leaf names the pod's identity and was issued by the installed issuer", async () => {
  const pod = pods[0]!;
  const r = await mesh(["identity", "-n", ns, pod.metadata.name, "-o", "pem"]);
  assert.equal(r.code, 0, r.stderr);
  const blocks = pemBlocks(r.stdout);
  assert.equal(blocks.length, 2, "leaf and issuer");
  const [leaf, inter] = blocks.map((b) => new X509Certificate(b));
  const expected = `default.${ns}.serviceaccount.identity.${cp}.cluster.local`;
  assert.equal(leaf!.subject, `CN=${expected}`);
  assert.equal(leaf!.subjectAltName, `DNS:${expected}`);
  const iss = await issuer();
  assert.equal(leaf!.issuer, iss.subject);
  // The CA `mesh install` generates is named as Linkerd names it: identity.<ns>.<empty trust domain flag>.
  assert.equal(iss.subject, `CN=identity.${cp}.`);
  assert.ok(leaf!.checkIssued(iss), "issued by the installed issuer");
  assert.ok(leaf!.verify(iss.publicKey), "signed with the installed issuer's key");
  assert.equal(inter!.fingerprint256, iss.fingerprint256);
  assert.equal(r.stderr, "");
});

test("text: linkerd's block per pod, the leaf's fields, verified against the pod's trust anchors", async () => {
  const r = await mesh(["identity", "-n", ns, ...pods.map((p) => p.metadata.name)]);
  assert.equal(r.code, 0, r.stderr);
  const names = pods.map((p) => p.metadata.name).sort();
  assert.match(r.stdout, new RegExp(`^\\n POD ${names[0]} \\(1 of 2\\)\\n\\nVersion:  3\\nSerial Number:  \\d+\\nSignature Algorithm:  ECDSA-SHA256\\nValidity\\n\\t Not Before:  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n`));
  assert.match(r.stdout, new RegExp(`\\n POD ${names[1]} \\(2 of 2\\)\\n`));
  const subjects = [...r.stdout.matchAll(/^Subject:  (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(subjects, [`CN=default.${ns}.serviceaccount.identity.${cp}.cluster.local`, `CN=default.${ns}.serviceaccount.identity.${cp}.cluster.local`]);
  const issuers = [...r.stdout.matchAll(/^Issuer:   (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(issuers, [(await issuer()).subject, (await issuer()).subject]);
  assert.equal([...r.stdout.matchAll(/^Verified:  yes /gm)].length, 2);
  assert.equal(pemBlocks(r.stdout).length, 2, "each pod's leaf, as linkerd prints it");
});

test("-l picks the meshed pods; -o json carries every certificate, with distinct leaves per pod", async () => {
  const r = await mesh(["identity", "-n", ns, "-l", "app in (web,plain)", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pod: string; verified: boolean; identity: string; certificates: { subject: string; dnsNames: string[]; serialNumber: string; pem: string }[] }[];
  assert.deepEqual(out.map((x) => x.pod), pods.map((p) => p.metadata.name).sort(), "the unmeshed pod is left out");
  const iss = await issuer();
  for (const x of out) {
    assert.equal(x.verified, true);
    assert.deepEqual(x.certificates[0]!.dnsNames, [x.identity]);
    assert.ok(new X509Certificate(x.certificates[0]!.pem).checkIssued(iss));
  }
  assert.notEqual(out[0]!.certificates[0]!.serialNumber, out[1]!.certificates[0]!.serialNumber);
});

test("a proxy whose certificate its own trust anchors did not issue is shown, marked not verified", async () => {
  const [stranger] = await c.waitForPods(ns, "app=stranger", { count: 1 });
  const r = await mesh(["identity", "-n", ns, stranger!.metadata.name]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Subject:  CN=default\\.${ns}\\.serviceaccount`, "m"));
  assert.match(r.stdout, /^Verified:  no: not issued by the pod's trust anchors \(\w+/m);
  const json = JSON.parse((await mesh(["identity", "-n", ns, stranger!.metadata.name, "-o", "json"])).stdout) as { verified: boolean; verifyError: string }[];
  assert.equal(json[0]!.verified, false);
});

test("a pod without a proxy, named explicitly, is an error in its block and exit 1", async () => {
  const [plain] = await c.waitForPods(ns, "app=plain", { count: 1 });
  const r = await mesh(["identity", "-n", ns, plain!.metadata.name]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`POD ${plain!.metadata.name} \\(1 of 1\\)\\n\\n\\npod ${plain!.metadata.name} has no linkerd-proxy container: is it meshed\\?\\n`));
  assert.match(r.stderr, /^error: could not read the certificate of 1 of 1 pod$/m);
});
