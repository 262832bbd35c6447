/**
 * The real kube-apiserver (1.20, Go's TLS client) calls a webhook served with a certificate made
 * by mesh's generator, trusting only that certificate as the caBundle, as it will call the
 * proxy injector and the validators. The webhook here is a local HTTPS server reached by URL
 * (`https://localhost:<port>`), so the certificate is made for `localhost`; its shape is the one
 * `mesh install` writes for `linkerd-<webhook>.<namespace>.svc`. The webhook denies, with a
 * message only it knows, the ConfigMaps the test labels: seeing that message in the API server's
 * answer proves the handshake and the call happened.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { KubeRestError } from "../cluster/kube-rest.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { generateWebhookCertificate, type WebhookCertificate, type WebhookKeyAlgorithm } from "../../src/tls/index.js";

const skip = testClusterSkipReason();
let c: TestCluster;
let ns: string;
const configs: string[] = [];

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("webhook-tls");
});

after(async () => {
  if (skip || !c) return;
  for (const name of configs) await c.api.json("DELETE", `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`).catch(() => undefined);
  await c.deleteNamespace(ns);
});

interface Served {
  server: Server;
  port: number;
  calls: { cipher: string; protocol: string | null }[];
}

/** An HTTPS admission webhook with the pair that denies everything with `message`. */
async function serve(pair: WebhookCertificate, message: string): Promise<Served> {
  const calls: Served["calls"] = [];
  const server = createServer({ cert: pair.crtPem, key: pair.keyPem }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const socket = req.socket as TLSSocket;
      calls.push({ cipher: socket.getCipher().name, protocol: socket.getProtocol() });
      const review = JSON.parse(body) as { request: { uid: string } };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: review.request.uid, allowed: false, status: { code: 403, message } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, calls };
}

/** Registers the webhook for CREATE of ConfigMaps labelled `mesh.test/webhook=<id>`. */
async function register(id: string, port: number, caBundlePem: string): Promise<void> {
  const name = `${ns}-${id}`;
  configs.push(name);
  await c.api.json("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name },
    webhooks: [
      {
        name: "tls.mesh.test",
        clientConfig: { url: `https://localhost:${port}/`, caBundle: Buffer.from(caBundlePem.trim()).toString("base64") },
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"], scope: "Namespaced" }],
        objectSelector: { matchLabels: { "mesh.test/webhook": id } },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 10,
      },
    ],
  });
}

/**
 * Creates labelled ConfigMaps until the webhook answers (a new configuration takes a moment to
 * reach the API server's webhook cache); returns the API server's refusal.
 */
async function refusal(id: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (let i = 0; ; i++) {
    const name = `${id}-${i}`;
    try {
      await c.api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { "mesh.test/webhook": id } } });
    } catch (e) {
      if (!(e instanceof KubeRestError)) throw e;
      return (JSON.parse(e.body) as { message: string }).message;
    }
    await c.api.json("DELETE", `/api/v1/namespaces/${ns}/configmaps/${name}`).catch(() => undefined);
    assert.ok(Date.now() < deadline, "the webhook was never called");
    await new Promise((r) => setTimeout(r, 250));
  }
}

for (const [algorithm, cipher] of [
  ["ECDSA-P256", /ECDSA|TLS_AES|TLS_CHACHA20/],
  ["RSA-2048", /RSA|TLS_AES|TLS_CHACHA20/],
] as [WebhookKeyAlgorithm, RegExp][])
  test(`the API server calls a webhook served with a generated ${algorithm} certificate, trusting it as the caBundle`, { skip }, async (t) => {
    const id = algorithm.toLowerCase();
    const pair = await generateWebhookCertificate({ host: "localhost", now: new Date(), algorithm });
    const message = `denied by the ${algorithm} webhook`;
    const w = await serve(pair, message);
    try {
      await register(id, w.port, pair.crtPem);
      const err = await refusal(id);
      assert.equal(err, `admission webhook "tls.mesh.test" denied the request: ${message}`);
      assert.ok(w.calls.length > 0);
      t.diagnostic(`API server connected with ${w.calls[0]!.protocol} ${w.calls[0]!.cipher}`);
      assert.match(w.calls[0]!.cipher, cipher);
    } finally {
      await new Promise((r) => w.server.close(r));
    }
  });

test("the API server's check is real: a caBundle that did not sign the serving certificate fails the call", { skip }, async () => {
  const pair = await generateWebhookCertificate({ host: "localhost", now: new Date() });
  const other = await generateWebhookCertificate({ host: "localhost", now: new Date() });
  const w = await serve(pair, "never seen");
  try {
    await register("wrong-ca", w.port, other.crtPem);
    const err = await refusal("wrong-ca");
    // (1.2x adds "failed to call webhook:" and "tls: failed to verify certificate:" to the chain)
    assert.match(err, /^Internal error occurred: failed calling webhook "tls\.mesh\.test": (failed to call webhook: )?Post "https:\/\/localhost:\d+\/\?timeout=10s": (tls: failed to verify certificate: )?x509: certificate signed by unknown authority/, err);
    assert.doesNotMatch(err, /never seen/);
  } finally {
    await new Promise((r) => w.server.close(r));
  }
});
