import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { isCidr } from "../../src/viz/allow-scrapes.js";
import { expectGolden } from "../helpers/golden.js";

async function allow(args: string[]) {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: () => new Date(0), env: {}, cluster: async () => assert.fail("allow-scrapes renders without a cluster") };
  const code = await run(["viz", "allow-scrapes", ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, any> };
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJSON() as Obj);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

test("allow-scrapes -n NS: a Server on the admin port, /metrics for mesh through the API server, probes for the kubelet", async () => {
  const r = await allow(["-n", "emojivoto"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/allow-scrapes.yaml", r.stdout);
  const objs = docs(r.stdout);
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), [
    "Server/proxy-admin",
    "HTTPRoute/proxy-metrics",
    "HTTPRoute/proxy-probes",
    "NetworkAuthentication/kube-api-server",
    "AuthorizationPolicy/mesh-scrape",
    "NetworkAuthentication/kubelet",
    "AuthorizationPolicy/proxy-probes",
  ]);
  assert.ok(objs.every((o) => o.metadata.namespace === "emojivoto"));
  const server = find(objs, "Server", "proxy-admin")!;
  assert.equal(server.spec.port, "linkerd-admin");
  assert.deepEqual(server.spec.podSelector, { matchExpressions: [{ key: "linkerd.io/control-plane-ns", operator: "Exists" }] });
  assert.deepEqual(find(objs, "HTTPRoute", "proxy-metrics")!.spec.rules[0].matches, [{ path: { type: "Exact", value: "/metrics" } }]);
  // mesh's scrapes are unauthenticated (API server pod proxy): a NetworkAuthentication, all networks by default
  assert.deepEqual(find(objs, "NetworkAuthentication", "kube-api-server")!.spec.networks, [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }]);
  const p = find(objs, "AuthorizationPolicy", "mesh-scrape")!;
  assert.deepEqual(p.spec.targetRef, { group: "policy.linkerd.io", kind: "HTTPRoute", name: "proxy-metrics" });
  assert.deepEqual(p.spec.requiredAuthenticationRefs, [{ group: "policy.linkerd.io", kind: "NetworkAuthentication", name: "kube-api-server" }]);
  assert.ok(!r.stdout.includes("MeshTLSAuthentication"));
});

test("allow-scrapes --scrapers prometheus: Prometheus by its mesh identity, no network-wide /metrics", async () => {
  const r = await allow(["-n", "emojivoto", "--scrapers", "prometheus", "--prometheus-service-account", "monitoring/prom", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { kind: string; items: Obj[] };
  assert.equal(list.kind, "List");
  const objs = list.items;
  assert.equal(find(objs, "NetworkAuthentication", "kube-api-server"), undefined);
  assert.equal(find(objs, "AuthorizationPolicy", "mesh-scrape"), undefined);
  assert.deepEqual(find(objs, "MeshTLSAuthentication", "prometheus")!.spec.identityRefs, [{ kind: "ServiceAccount", name: "prom", namespace: "monitoring" }]);
  assert.deepEqual(find(objs, "AuthorizationPolicy", "prometheus-scrape")!.spec.requiredAuthenticationRefs, [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "prometheus" }]);
  assert.ok(find(objs, "AuthorizationPolicy", "proxy-probes"), "the probes stay authorized");
});

test("allow-scrapes --api-server-cidr narrows mesh's NetworkAuthentication; both scrapers", async () => {
  const r = await allow(["-n", "ns1", "--scrapers", "mesh,prometheus", "--api-server-cidr", "10.0.0.10/32", "--api-server-cidr", "fd00::1/128,192.168.1.0/24"]);
  assert.equal(r.code, 0, r.stderr);
  const objs = docs(r.stdout);
  assert.deepEqual(find(objs, "NetworkAuthentication", "kube-api-server")!.spec.networks, [{ cidr: "10.0.0.10/32" }, { cidr: "fd00::1/128" }, { cidr: "192.168.1.0/24" }]);
  assert.deepEqual(find(objs, "MeshTLSAuthentication", "prometheus")!.spec.identityRefs, [{ kind: "ServiceAccount", name: "prometheus", namespace: "linkerd-viz" }]);
  assert.deepEqual(find(objs, "NetworkAuthentication", "kubelet")!.spec.networks, [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }]);
});

test("allow-scrapes: help names the client each scraper needs admitted", async () => {
  const r = await allow(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /through the API server's pod proxy/);
  assert.match(r.stdout, /unauthenticated\s+NetworkAuthentication/);
  assert.match(r.stdout, /--api-server-cidr/);
  assert.match(r.stdout, /mesh\s+identity, the ServiceAccount --prometheus-service-account/);
});

test("allow-scrapes: usage errors exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /required flag\(s\) "namespace" not set/],
    [["-n", "Bad_NS"], /not a valid namespace name/],
    [["-n", "x", "extra"], /too many arguments|unknown command/],
    [["-n", "x", "--scrapers", "grafana"], /unknown scraper "grafana"/],
    [["-n", "x", "--api-server-cidr", "10.0.0.300/8"], /invalid --api-server-cidr "10.0.0.300\/8"/],
    [["-n", "x", "--api-server-cidr", "10.0.0.0/33"], /invalid --api-server-cidr/],
    [["-n", "x", "--scrapers", "prometheus", "--api-server-cidr", "10.0.0.0/8"], /only applies with --scrapers mesh/],
    [["-n", "x", "--prometheus-service-account", "prometheus"], /invalid --prometheus-service-account/],
    [["-n", "x", "-o", "table"], /output format "table" is not supported/],
  ];
  for (const [args, re] of cases) {
    const r = await allow(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, "");
  }
});

test("isCidr", () => {
  for (const ok of ["0.0.0.0/0", "::/0", "10.1.2.3", "10.0.0.0/8", "fd00::/8", "2001:db8::1/128"]) assert.ok(isCidr(ok), ok);
  for (const bad of ["", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "::/129", "1.2.3.4/8/8", "host/8"]) assert.ok(!isCidr(bad), bad);
});
