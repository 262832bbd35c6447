// mesh identity end to end: install a control plane (mesh install | kubectl apply), mesh a
// Deployment (mesh inject --manual | kubectl apply), then read the certificates the proxies present
// on their admin port (linkerd-admin, 4191) through port-forward, as linkerd does. The proxy
// stand-in's leaf is signed with the installed issuer; the test checks it against the issuer
// certificate it reads itself from linkerd-identity-issuer. The last tests show the admin port
// answering plain HTTP and HTTP inside TLS over one port-forward session, and mesh identity's
// connection counted by the admin server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { request } from "node:http";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { connect, type ClusterApi } from "../../src/kube/cluster.js";
import { forwardedGet, openPortForward, type PortForward } from "../../src/kube/portforward.js";
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
  // A proxy container (served by the stand-in on 4191) that declares no linkerd-admin port.
  await c.apply(
    `
apiVersion: v1
kind: Pod
metadata: {name: unnamed, labels: {app: unnamed, linkerd.io/control-plane-ns: ${cp}}}
spec:
  containers:
  - {name: app, image: example/unnamed:1}
  - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10, ports: [{name: linkerd-proxy, containerPort: 4143}]}
`,
    ns,
  );
  // Admin ports that give no certificate: a proxy of a control plane without an issuer (it answers
  // plain HTTP only), and a linkerd-admin port on which nothing listens.
  const proxyPod = (name: string, controlPlane: string, adminPort: number) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: broken, linkerd.io/control-plane-ns: ${controlPlane}}}
spec:
  containers:
  - {name: app, image: example/${name}:1}
  - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10, ports: [{name: linkerd-admin, containerPort: ${adminPort}}]}
`;
  await c.apply(proxyPod("no-issuer", "nowhere", 4191), ns);
  await c.apply(proxyPod("closed-admin", cp, 4999), ns);
  pods = await c.waitForPods(ns, "app=web", { count: 2 });
  await c.waitForPods(ns, "app=plain", { count: 1 });
  await c.waitForPods(ns, "app=unnamed", { count: 1 });
  await c.waitForPods(ns, "app=broken", { count: 2 });
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

test("-l picks the pods with a proxy admin port; -o json carries every certificate, with distinct leaves per pod", async () => {
  const r = await mesh(["identity", "-n", ns, "-l", "app in (web,plain,unnamed)", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pod: string; container: string; verified: boolean; identity: string; certificates: { subject: string; dnsNames: string[]; serialNumber: string; pem: string }[] }[];
  assert.deepEqual(out.map((x) => x.pod), pods.map((p) => p.metadata.name).sort(), "the unmeshed pod and the proxy without a linkerd-admin port are left out");
  assert.deepEqual(out.map((x) => x.container), ["linkerd-proxy", "linkerd-proxy"]);
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

test("a pod without a proxy, or whose proxy declares no linkerd-admin port, named explicitly, is an error in its block and exit 1", async () => {
  const [plain] = await c.waitForPods(ns, "app=plain", { count: 1 });
  const [unnamed] = await c.waitForPods(ns, "app=unnamed", { count: 1 });
  const r = await mesh(["identity", "-n", ns, plain!.metadata.name, unnamed!.metadata.name, pods[0]!.metadata.name]);
  assert.equal(r.code, 1);
  const why = (name: string) => `pod ${name} has no linkerd-admin port in a linkerd-proxy container: is it meshed\\?`;
  assert.match(r.stdout, new RegExp(`POD ${plain!.metadata.name} \\(\\d of 3\\)\\n\\n\\n${why(plain!.metadata.name)}\\n`));
  assert.match(r.stdout, new RegExp(`POD ${unnamed!.metadata.name} \\(\\d of 3\\)\\n\\n\\n${why(unnamed!.metadata.name)}\\n`));
  // The others are still read (linkerd stops at the first pod it cannot read).
  assert.equal([...r.stdout.matchAll(/^Verified:  yes /gm)].length, 1);
  assert.match(r.stderr, /^error: could not read the certificate of 2 of 3 pods$/m);
});

test("an admin port that gives no certificate is an error in the pod's block: no TLS there, or nothing listening", async () => {
  const r = await mesh(["identity", "-n", ns, "no-issuer", "closed-admin"]);
  assert.equal(r.code, 1);
  // The kubelet's refusal, when its error stream is read before the data stream ends (mesh's port-forward client may see the end first).
  assert.match(r.stdout, new RegExp(`POD closed-admin \\(1 of 2\\)\\n\\n\\n(port-forward to port 4999 of pod ${ns}/closed-admin failed: [^\\n]*ECONNREFUSED|no TLS handshake on the proxy's admin port 4999: )[^\\n]*\\n`));
  assert.match(r.stdout, /POD no-issuer \(2 of 2\)\n\n\nno TLS handshake on the proxy's admin port 4191: [^\n]+\n/);
  assert.match(r.stderr, /^error: could not read the certificate of 2 of 2 pods$/m);
  // Plain HTTP still works on the admin port without a certificate.
  assert.match(await c.proxyMetrics(ns, "no-issuer", "/ready"), /^ready\n$/);
});

/** One HTTP GET over a TLS connection to the admin port of an open port-forward session; the socket is kept for its certificate. */
async function tlsGet(pf: PortForward, servername: string, path: string): Promise<{ status: number; body: string; sock: TLSSocket }> {
  const conn = await pf.dial(4191);
  const sock = tlsConnect({ socket: conn, servername, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    sock.once("secureConnect", resolve);
    sock.once("error", reject);
  });
  return new Promise((resolve, reject) => {
    const req = request({ createConnection: () => sock, path, headers: { Host: "localhost:4191", Connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, sock }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

test("the admin port answers plain HTTP and TLS with the pod's certificate, over one port-forward session", async () => {
  const pod = pods[1]!;
  const identity = `default.${ns}.serviceaccount.identity.${cp}.cluster.local`;
  const startTime = (text: string) => /^process_start_time_seconds (\S+)$/m.exec(text)?.[1];
  let cluster: ClusterApi | undefined;
  let pf: PortForward | undefined;
  try {
    cluster = await connect({ kubeconfig: c.kubeconfig, linkerdNamespace: cp, verbose: false, color: false });
    pf = await openPortForward(cluster, ns, pod.metadata.name, { timeoutMs: 15_000 });
    // Plain /metrics: what viz and check scrape, unchanged.
    const plain = await forwardedGet(pf, 4191, "/metrics", { timeoutMs: 15_000 });
    assert.equal(plain.status, 200);
    const plainText = plain.body.toString("utf8");
    assert.ok(startTime(plainText));
    // The same proxy, through the API server's pod proxy (plain HTTP, no port-forward).
    assert.equal(startTime(await c.proxyMetrics(ns, pod.metadata.name)), startTime(plainText));
    // TLS on the same port of the same session: the pod's leaf, issued by the installed issuer, then HTTP inside.
    const ready = await tlsGet(pf, identity, "/ready");
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "ready\n");
    const leaf = ready.sock.getPeerX509Certificate()!;
    assert.equal(leaf.subject, `CN=${identity}`);
    assert.ok(leaf.checkIssued(await issuer()));
    const metrics = await tlsGet(pf, identity, "/metrics");
    assert.equal(metrics.status, 200);
    assert.equal(startTime(metrics.body), startTime(plainText), "the same proxy answered over TLS");
    ready.sock.destroy();
    metrics.sock.destroy();
    // And plain HTTP again afterwards, on another connection of the session.
    assert.equal((await forwardedGet(pf, 4191, "/ready", { timeoutMs: 15_000 })).body.toString("utf8"), "ready\n");
  } finally {
    pf?.close();
    cluster?.close();
  }
});

test("mesh identity connects to the admin port: the proxy counts its connection there", async () => {
  const pod = pods[0]!;
  const cluster = await connect({ kubeconfig: c.kubeconfig, linkerdNamespace: cp, verbose: false, color: false });
  const pf = await openPortForward(cluster, ns, pod.metadata.name, { timeoutMs: 15_000 });
  // Connections the admin server accepted; each GET over the port-forward is one more.
  const opened = async () => {
    const text = (await forwardedGet(pf, 4191, "/metrics", { timeoutMs: 15_000 })).body.toString("utf8");
    return Number(/^tcp_open_total\{[^}]*target_port="4191"[^}]*\} (\d+)$/m.exec(text)?.[1]);
  };
  try {
    const a = await opened();
    const b = await opened();
    assert.equal(b - a, 1, "one connection per GET");
    const r = await mesh(["identity", "-n", ns, pod.metadata.name, "-o", "pem"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await opened()) - b, 2, "mesh identity's connection, then this GET's");
  } finally {
    pf.close();
    cluster.close();
  }
});
