import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describeCertificate, expectedIdentity, formatIdentityJson, formatIdentityPem, formatIdentityText, proxyAdminPort, readProxyIdentity, type PodIdentity } from "../../src/identity/identity.js";
import { podNameOf } from "../../src/commands/identity.js";
import type { ClusterApi } from "../../src/kube/cluster.js";
import type { Pod } from "../../src/kube/types.js";
import { certFixture } from "../fixtures/certs/fixtures.js";

const pod = (env: Record<string, string>, ports: { name: string; containerPort: number }[] = []): Pod =>
  ({
    metadata: { name: "web-1", namespace: "shop" },
    spec: {
      serviceAccountName: "web",
      containers: [{ name: "app", image: "x" }, { name: "linkerd-proxy", image: "p", ports, env: Object.entries(env).map(([name, value]) => ({ name, value })) }],
    },
    status: { phase: "Running" },
  }) as unknown as Pod;

test("the expected identity: the proxy's local name with the pod's account and namespace filled in, else linkerd's _l5d_ns/_l5d_trustdomain", () => {
  assert.equal(
    expectedIdentity(pod({ _l5d_ns: "linkerd", _l5d_trustdomain: "cluster.local", LINKERD2_PROXY_IDENTITY_LOCAL_NAME: "$(_pod_sa).$(_pod_ns).serviceaccount.identity.$(_l5d_ns).$(_l5d_trustdomain)" })),
    "web.shop.serviceaccount.identity.linkerd.cluster.local",
  );
  assert.equal(expectedIdentity(pod({ _l5d_ns: "l5d", _l5d_trustdomain: "example.org" })), "web.shop.serviceaccount.identity.l5d.example.org");
  assert.equal(expectedIdentity(pod({})), undefined);
});

test("the proxy's admin port: the port named linkerd-admin, found by name on the linkerd-proxy container only", () => {
  assert.deepEqual(proxyAdminPort(pod({}, [{ name: "linkerd-proxy", containerPort: 4143 }, { name: "linkerd-admin", containerPort: 4291 }])), { container: "linkerd-proxy", port: 4291 });
  // No name, no port: 4191 is not assumed, and the inbound port is not a substitute.
  assert.equal(proxyAdminPort(pod({})), undefined);
  assert.equal(proxyAdminPort(pod({}, [{ name: "linkerd-proxy", containerPort: 4143 }])), undefined);
  // A linkerd-admin port on another container is not the proxy's.
  const elsewhere = { metadata: { name: "p" }, spec: { containers: [{ name: "app", image: "x", ports: [{ name: "linkerd-admin", containerPort: 4191 }] }] } } as unknown as Pod;
  assert.equal(proxyAdminPort(elsewhere), undefined);
});

test("a pod whose proxy declares no linkerd-admin port is reported in one line, without touching the cluster", async () => {
  const untouched = new Proxy({}, { get: () => assert.fail("the cluster was used") }) as ClusterApi;
  const r = await readProxyIdentity(untouched, pod({}, [{ name: "linkerd-proxy", containerPort: 4143 }]), { timeoutMs: 1000 });
  assert.equal(r.error, "pod web-1 has no linkerd-admin port in a linkerd-proxy container: is it meshed?");
  assert.deepEqual(r.certificates, []);
  assert.equal(r.verified, false);
});

test("pod arguments: NAME, po/NAME, pod/NAME, pods/NAME; anything else is a usage error", () => {
  for (const a of ["web-1", "po/web-1", "pod/web-1", "pods/web-1"]) assert.equal(podNameOf(a), "web-1");
  for (const a of ["deploy/web", "Web", "a/b/c", ""]) assert.throws(() => podNameOf(a), (e: Error & { exitCode?: number }) => e.exitCode === 2);
});

test("a certificate's fields as Go prints them: decimal serial, RFC 3339 UTC times, RFC 2253 names", () => {
  const pem = certFixture("ca.crt");
  const x = new X509Certificate(pem);
  const c = describeCertificate(x.raw);
  assert.equal(c.version, 3);
  assert.equal(c.serialNumber, BigInt(`0x${x.serialNumber}`).toString(10));
  assert.equal(c.subject, "CN=identity.linkerd.cluster.local");
  assert.equal(c.issuer, "CN=identity.linkerd.cluster.local");
  assert.equal(c.notBefore, "2025-01-01T00:00:00Z");
  assert.equal(c.notAfter, "2125-01-01T00:00:00Z");
  assert.equal(c.signatureAlgorithm, "ECDSA-SHA256");
  assert.equal(c.publicKeyAlgorithm, "ECDSA");
  assert.match(c.signature, /^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  assert.equal(c.pem, x.toString());
});

const sample = (over: Partial<PodIdentity> = {}): PodIdentity => ({
  namespace: "shop",
  pod: "web-1",
  container: "linkerd-proxy",
  identity: "web.shop.serviceaccount.identity.linkerd.cluster.local",
  verified: true,
  certificates: [describeCertificate(new X509Certificate(certFixture("ca.crt")).raw)],
  ...over,
});

test("text: linkerd's block per pod, with the error in place of the fields; server strings are sanitised", () => {
  const hostile = sample({ pod: "web-2", verified: false, verifyError: "no" });
  hostile.certificates = [{ ...hostile.certificates[0]!, subject: "CN=\x1b[31mred" }];
  const out = formatIdentityText([sample(), hostile, sample({ pod: "web-3", certificates: [], error: "pod not running: web-3" })]);
  assert.match(out, /^\n POD web-1 \(1 of 3\)\n\nVersion:  3\nSerial Number:  \d+\nSignature Algorithm:  ECDSA-SHA256\nValidity\n\t Not Before:  2025-01-01T00:00:00Z\n\t Not After:  2125-01-01T00:00:00Z\nSubject:  CN=identity\.linkerd\.cluster\.local\nIssuer:   CN=identity\.linkerd\.cluster\.local\n/);
  assert.match(out, /\nVerified:  yes \(issued by the pod's trust anchors, for web\.shop\.serviceaccount\.identity\.linkerd\.cluster\.local\)\n\n-----BEGIN CERTIFICATE-----\n/);
  assert.match(out, /\nVerified:  no: no\n/);
  assert.doesNotMatch(out, /\x1b/);
  assert.match(out, /\n POD web-3 \(3 of 3\)\n\n\npod not running: web-3\n$/);
});

test("pem: every chain, leaf first; json: one object per pod", () => {
  const two = sample();
  two.certificates = [...two.certificates, ...two.certificates];
  assert.equal(formatIdentityPem([two, sample({ certificates: [], error: "x" })]).match(/-----BEGIN CERTIFICATE-----/g)!.length, 2);
  const json = JSON.parse(formatIdentityJson([sample()])) as PodIdentity[];
  assert.equal(json[0]!.certificates[0]!.subject, "CN=identity.linkerd.cluster.local");
  assert.equal(json[0]!.verified, true);
});
