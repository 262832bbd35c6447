// Goldens of `mesh check` output (table, short, json) for a healthy and a broken cluster, run
// in-process against the fake API: fixed clock (2026-01-01), fixture certificates, no network.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../src/kube/types.js";
import { expectGolden } from "../helpers/golden.js";
import { runMesh } from "../helpers/run.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
import { FakeApi } from "../kube/fake-api.js";
import { healthyCluster, healthyMetrics, pod, proxyMetricsText } from "./fixtures.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function brokenCluster(): { objects: KubeObject[]; metrics: Record<string, string> } {
  const objects = healthyCluster().map((o) => {
    const c = structuredClone(o) as any;
    if (o.kind === "Secret" && o.metadata.name === "linkerd-identity-issuer") c.data = { "crt.pem": b64(certFixture("issuer-expiring-soon.crt")), "key.pem": b64(certFixture("issuer-expiring-soon.key")) };
    if (o.kind === "Pod" && o.metadata.name.startsWith("web-")) c.spec.containers.find((x: { name: string }) => x.name === "linkerd-proxy").image = "cr.l5d.io/linkerd/proxy:stable-2.14.9";
    return c as KubeObject;
  });
  const stray = pod({ name: "legacy-db-0", namespace: "default", ip: "203.0.113.7" });
  stray.metadata.labels = {};
  objects.push(
    stray,
    pod({ name: "migrate-x7k2p", namespace: "emojivoto", owner: { kind: "Job", name: "migrate" }, terminated: ["app"], ip: "10.244.0.30" }),
    { apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name: "web-svc.emojivoto.svc.cluster.local", namespace: "default" }, spec: { routes: [] } } as KubeObject,
  );
  const metrics = healthyMetrics(objects);
  metrics["linkerd/linkerd-identity-5d8c7b9f4-q9w8e"] = proxyMetricsText(new Date("2025-12-31T12:00:00Z"));
  return { objects, metrics };
}

const cases = {
  healthy: () => ({ objects: healthyCluster(), metrics: healthyMetrics(healthyCluster()) }),
  broken: brokenCluster,
};

for (const [name, make] of Object.entries(cases)) {
  for (const [suffix, args] of [
    ["txt", []],
    ["short.txt", ["-o", "short"]],
    ["json", ["-o", "json"]],
  ] as const) {
    test(`check golden: ${name}.${suffix}`, async () => {
      const { objects, metrics } = make();
      const api = new FakeApi(objects, { gitVersion: name === "broken" ? "v1.20.2" : "v1.28.3", metrics });
      const expected = name === "broken" ? "stable-2.14.11" : "stable-2.14.10";
      const r = await runMesh(["check", "--expected-version", expected, ...args], { cluster: async () => api.cluster() });
      assert.equal(r.stderr, "");
      assert.equal(r.code, name === "broken" ? 1 : 0);
      if (suffix === "json") JSON.parse(r.stdout);
      expectGolden(`check/${name}.${suffix}`, r.stdout);
    });
  }
}

test("check golden: --proxy on the broken cluster", async () => {
  const { objects, metrics } = brokenCluster();
  const api = new FakeApi(objects, { gitVersion: "v1.20.2", metrics });
  const r = await runMesh(["check", "--proxy", "--expected-version", "stable-2.14.10"], { cluster: async () => api.cluster() });
  assert.equal(r.code, 1);
  expectGolden("check/broken-proxy.txt", r.stdout);
});

test("check golden: --pre on an empty cluster", async () => {
  const api = new FakeApi(healthyCluster().filter((o) => o.kind === "Node" || (o.kind === "Namespace" && o.metadata.name !== "linkerd") || o.metadata.name === "extension-apiserver-authentication"));
  const r = await runMesh(["check", "--pre", "--expected-version", "stable-2.14.10"], { cluster: async () => api.cluster() });
  assert.equal(r.code, 0, r.stdout);
  expectGolden("check/pre-ok.txt", r.stdout);
  const j = await runMesh(["check", "--pre", "--expected-version", "stable-2.14.10", "-o", "json"], { cluster: async () => api.cluster() });
  expectGolden("check/pre-ok.json", j.stdout);
});

// Independent of the goldens (which mesh wrote): the broken cluster's issuer expires within 60 days, by
// openssl's reading of the fixture, so the JSON must hold exactly that warning, with Linkerd's wording and hint.
test("check golden: the broken cluster's issuer warning agrees with openssl's NotAfter", async () => {
  const { spawnSync } = await import("node:child_process");
  const out = spawnSync("openssl", ["x509", "-noout", "-enddate"], { input: certFixture("issuer-expiring-soon.crt"), encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  const notAfter = new Date(out.stdout.trim().replace(/^notAfter=/, ""));
  const days = (notAfter.getTime() - Date.parse("2026-01-01T00:00:00Z")) / 86_400_000;
  assert.ok(days > 0 && days < 60, `openssl: ${out.stdout}`);
  const { objects, metrics } = brokenCluster();
  const api = new FakeApi(objects, { gitVersion: "v1.20.2", metrics });
  const r = await runMesh(["check", "--expected-version", "stable-2.14.11", "-o", "json"], { cluster: async () => api.cluster() });
  const identity = (JSON.parse(r.stdout) as { categories: Array<{ categoryName: string; checks: Array<{ description: string; result: string; error?: string; hint?: string }> }> }).categories.find((c) => c.categoryName === "linkerd-identity")!;
  const bad = identity.checks.filter((c) => c.result !== "success");
  assert.deepEqual(bad, [
    {
      description: "issuer cert is valid for at least 60 days",
      result: "warning",
      error: `issuer certificate will expire on ${notAfter.toISOString().replace(".000Z", "Z")}`,
      hint: "https://linkerd.io/2.14/checks/#l5d-identity-issuer-cert-not-expiring-soon",
    },
  ]);
});
