// Independent assertions for the certificate checks, next to the goldens (which mesh wrote
// itself): each broken state is first confirmed broken by the system's openssl, then the one
// check that must catch it is asserted with Linkerd's exact message (pkg/issuercerts and
// pkg/healthcheck of stable-2.14.10, Go 1.19's crypto/x509 texts), with dates and serials read
// from the certificates by openssl, not by mesh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../src/kube/types.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
import { healthyCluster, linkerdValues, problems, runAgainst } from "./fixtures.js";
import type { CheckResult } from "../../src/checks/types.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Runs openssl on fixture files; returns status and output (never throws, failures are data here). */
function openssl(args: string[], files: Record<string, string> = {}): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "mesh-openssl-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.error) throw r.error;
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** NotBefore/NotAfter as openssl prints them (`notAfter=Jan  1 00:00:00 2021 GMT`), in Go's RFC 3339. */
function opensslDate(fixture: string, which: "startdate" | "enddate"): string {
  const { out } = openssl(["x509", "-noout", `-${which}`, "-in", "c.pem"], { "c.pem": certFixture(fixture) });
  const m = /=(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4}) GMT/.exec(out);
  assert.ok(m, out);
  const mm = String(MONTHS.indexOf(m[1]!) + 1).padStart(2, "0");
  return `${m[6]}-${mm}-${m[2]!.padStart(2, "0")}T${m[3]}:${m[4]}:${m[5]}Z`;
}

/** The serial in decimal (Go's `%v`), from openssl's hex. */
const opensslSerial = (fixture: string): string =>
  BigInt("0x" + /serial=([0-9A-F]+)/.exec(openssl(["x509", "-noout", "-serial", "-in", "c.pem"], { "c.pem": certFixture(fixture) }).out)![1]).toString(10);

/** Whether openssl verifies `leaf` with `anchors` as the only trusted certificates. */
const opensslVerifies = (anchors: string, leaf: string): boolean =>
  openssl(["verify", "-no-CApath", "-no-CAstore", "-CAfile", "anchors.pem", "leaf.pem"], { "anchors.pem": anchors, "leaf.pem": leaf }).status === 0;

/** The public key of a certificate or a private key, as openssl derives it. */
const opensslPublicKey = (pem: string, from: "x509" | "pkey"): string =>
  openssl(from === "x509" ? ["x509", "-noout", "-pubkey", "-in", "in.pem"] : ["pkey", "-pubout", "-in", "in.pem"], { "in.pem": pem }).out;

function withIssuer(crt: string, key: string, anchors?: string): KubeObject[] {
  return healthyCluster().map((o) => {
    if (o.kind === "Secret" && o.metadata.name === "linkerd-identity-issuer") {
      return { ...o, data: { "crt.pem": b64(certFixture(crt)), "key.pem": b64(certFixture(key)) } } as KubeObject;
    }
    if (anchors !== undefined && o.kind === "ConfigMap" && o.metadata.name === "linkerd-config") {
      return { ...o, data: { ...(o as unknown as { data: Record<string, string> }).data, values: linkerdValues({ identityTrustAnchorsPEM: anchors }) } } as KubeObject;
    }
    return o;
  });
}

/** Final status of every linkerd-identity check, by description. */
function identityStatuses(results: CheckResult[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of results) if (r.category === "linkerd-identity" && !r.retry) out[r.description] = r.status;
  return out;
}

const CONFIG = "certificate config is valid";
const ANCHOR_ALG = "trust anchors are using supported crypto algorithm";
const ANCHOR_TIME = "trust anchors are within their validity period";
const ANCHOR_SOON = "trust anchors are valid for at least 60 days";
const ISSUER_ALG = "issuer cert is using supported crypto algorithm";
const ISSUER_TIME = "issuer cert is within its validity period";
const ISSUER_SOON = "issuer cert is valid for at least 60 days";
const SIGNED = "issuer cert is issued by the trust anchor";

test("the healthy fixtures are healthy to openssl too (the baseline the broken states depart from)", async () => {
  assert.ok(opensslVerifies(certFixture("ca.crt"), certFixture("issuer.crt")));
  assert.equal(opensslPublicKey(certFixture("issuer.key"), "pkey"), opensslPublicKey(certFixture("issuer.crt"), "x509"));
  const { results } = await runAgainst({ objects: withIssuer("issuer.crt", "issuer.key") });
  assert.deepEqual(identityStatuses(results), {
    [CONFIG]: "ok", [ANCHOR_ALG]: "ok", [ANCHOR_TIME]: "ok", [ANCHOR_SOON]: "ok",
    [ISSUER_ALG]: "ok", [ISSUER_TIME]: "ok", [ISSUER_SOON]: "ok", [SIGNED]: "ok",
  });
});

test("an expired issuer certificate fails 'issuer cert is within its validity period' with its NotAfter, and nothing after it runs", async () => {
  const notAfter = opensslDate("issuer-expired.crt", "enddate");
  assert.ok(new Date(notAfter) < new Date("2026-01-01T00:00:00Z"), `openssl says it ends ${notAfter}`);
  const { results } = await runAgainst({ objects: withIssuer("issuer-expired.crt", "issuer-expired.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${ISSUER_TIME}: issuer certificate is not valid anymore. Expired on ${notAfter}`]);
  const s = identityStatuses(results);
  assert.equal(s[CONFIG], "ok");
  assert.equal(s[ISSUER_ALG], "ok");
  assert.equal(s[ISSUER_TIME], "error");
  // The check is fatal: Linkerd stops the run there.
  assert.equal(s[ISSUER_SOON], undefined);
  assert.equal(s[SIGNED], undefined);
});

test("an issuer certificate that is not valid yet fails the same check with its NotBefore", async () => {
  const notBefore = opensslDate("issuer-not-yet-valid.crt", "startdate");
  assert.ok(new Date(notBefore) > new Date("2026-01-01T00:00:00Z"));
  const { results } = await runAgainst({ objects: withIssuer("issuer-not-yet-valid.crt", "issuer-not-yet-valid.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${ISSUER_TIME}: issuer certificate is not valid before: ${notBefore}`]);
});

test("a trust anchor that did not sign the issuer (same name, other key) fails 'issued by the trust anchor' with Go's verification error", async () => {
  // openssl agrees the chain is broken, and that the names alone would have matched.
  assert.equal(opensslVerifies(certFixture("ca.crt"), certFixture("issuer-other-ca.crt")), false);
  assert.ok(opensslVerifies(certFixture("other-ca.crt"), certFixture("issuer-other-ca.crt")));
  const { results } = await runAgainst({ objects: withIssuer("issuer-other-ca.crt", "issuer-other-ca.key") });
  assert.deepEqual(problems(results), [
    `linkerd-identity ${SIGNED}: x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "identity.linkerd.cluster.local")`,
  ]);
  const s = identityStatuses(results);
  assert.equal(s[CONFIG], "ok");
  assert.equal(s[ISSUER_TIME], "ok");
  assert.equal(s[SIGNED], "error");
});

test("trust anchors that do not name the issuer's issuer at all: unknown authority without a candidate", async () => {
  assert.equal(opensslVerifies(certFixture("foreign-ca.crt"), certFixture("issuer.crt")), false);
  const { results } = await runAgainst({ objects: withIssuer("issuer.crt", "issuer.key", certFixture("foreign-ca.crt")) });
  assert.deepEqual(problems(results), [`linkerd-identity ${SIGNED}: x509: certificate signed by unknown authority`]);
});

test("a trust anchor that is not a CA cannot have signed the issuer, even though its signature verifies", async () => {
  // openssl refuses the chain too.
  const files = { "anchors.pem": certFixture("ca-not-ca.crt"), "leaf.pem": certFixture("issuer-under-non-ca.crt") };
  assert.notEqual(openssl(["verify", "-no-CApath", "-no-CAstore", "-CAfile", "anchors.pem", "leaf.pem"], files).status, 0);
  const { results } = await runAgainst({ objects: withIssuer("issuer-under-non-ca.crt", "issuer-under-non-ca.key", certFixture("ca-not-ca.crt")) });
  const p = problems(results);
  assert.equal(p.length, 1, p.join("\n"));
  assert.equal(
    p[0],
    `linkerd-identity ${SIGNED}: x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "not-a-ca.linkerd.cluster.local")`,
  );
});

test("an issuer key that does not match the certificate fails 'certificate config is valid', and the run stops there", async () => {
  assert.notEqual(opensslPublicKey(certFixture("mismatched.key"), "pkey"), opensslPublicKey(certFixture("issuer.crt"), "x509"));
  const { results } = await runAgainst({ objects: withIssuer("issuer.crt", "mismatched.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${CONFIG}: tls: Public and private key do not match`]);
  assert.deepEqual(identityStatuses(results), { [CONFIG]: "error" });
});

test("the key of another valid issuer does not match either (both keys are valid P-256 keys)", async () => {
  assert.match(openssl(["ec", "-check", "-noout", "-in", "k.pem"], { "k.pem": certFixture("issuer-expired.key") }).out, /EC Key valid/);
  const { results } = await runAgainst({ objects: withIssuer("issuer.crt", "issuer-expired.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${CONFIG}: tls: Public and private key do not match`]);
});

test("an issuer on P-384 fails 'issuer cert is using supported crypto algorithm' naming the curve", async () => {
  assert.match(openssl(["x509", "-noout", "-text", "-in", "c.pem"], { "c.pem": certFixture("issuer-p384.crt") }).out, /NIST CURVE: P-384/);
  const { results } = await runAgainst({ objects: withIssuer("issuer-p384.crt", "issuer-p384.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${ISSUER_ALG}: issuer certificate must use P-256 curve for public key, instead P-384 was used`]);
});

test("an RSA issuer fails the same check with Linkerd's doubled prefix", async () => {
  assert.match(openssl(["x509", "-noout", "-text", "-in", "c.pem"], { "c.pem": certFixture("issuer-rsa.crt") }).out, /Public Key Algorithm: rsaEncryption/);
  const { results } = await runAgainst({ objects: withIssuer("issuer-rsa.crt", "issuer-rsa.key") });
  assert.deepEqual(problems(results), [`linkerd-identity ${ISSUER_ALG}: issuer certificate issuer certificate must use ECDSA for public key algorithm, instead RSA was used`]);
});

test("an expired trust anchor next to a good one is listed by serial and CN", async () => {
  const notAfter = opensslDate("ca-expired.crt", "enddate");
  const serial = opensslSerial("ca-expired.crt");
  const { results } = await runAgainst({ objects: withIssuer("issuer.crt", "issuer.key", certFixture("ca.crt") + certFixture("ca-expired.crt")) });
  assert.deepEqual(problems(results), [`linkerd-identity ${ANCHOR_TIME}: Invalid anchors:\n\t* ${serial} identity.linkerd.cluster.local not valid anymore. Expired on ${notAfter}`]);
});

test("a webhook key that does not match its certificate fails that webhook's cert check", async () => {
  assert.notEqual(opensslPublicKey(certFixture("webhook-sp-validator.key"), "pkey"), opensslPublicKey(certFixture("webhook-proxy-injector.crt"), "x509"));
  const objects = healthyCluster().map((o) =>
    o.kind === "Secret" && o.metadata.name === "linkerd-proxy-injector-k8s-tls"
      ? ({ ...o, data: { "tls.crt": b64(certFixture("webhook-proxy-injector.crt")), "tls.key": b64(certFixture("webhook-sp-validator.key")) } } as KubeObject)
      : o,
  );
  const { results } = await runAgainst({ objects });
  assert.deepEqual(problems(results), ["linkerd-webhooks-and-apisvc-tls proxy-injector webhook has valid cert: tls: Public and private key do not match"]);
});
