import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { expectGolden } from "../helpers/golden.js";
import { CERT_FIXTURES_DIR } from "../fixtures/certs/fixtures.js";
import { certFixture, fakeCluster, fixtureCertificates, runInstall, type CertificateCalls } from "./run-install.js";
import { renderCrds } from "../../src/install/install.js";
import type { Tree } from "../../src/install/values.js";

const cert = (name: string) => join(CERT_FIXTURES_DIR, name);
const fixture = (name: string) => join("test", "fixtures", "install", name);
const userCerts = ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer.crt"), "--identity-issuer-key-file", cert("issuer.key")];

type Obj = Tree & { kind: string; metadata: Tree & { name: string } };
const docs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
const ids = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`);
const find = (objs: Obj[], id: string): Obj => {
  const o = objs.find((x) => `${x.kind}/${x.metadata.name}` === id);
  assert.ok(o, `${id} not rendered`);
  return o;
};
const at = (o: unknown, path: string): unknown => path.split(".").reduce<unknown>((cur, k) => (cur as Record<string, unknown>)?.[k], o);
const containers = (o: Obj) => at(o, "spec.template.spec.containers") as Tree[];
const container = (o: Obj, name: string) => containers(o).find((c) => c.name === name) as Tree;
const b64 = (s: unknown) => Buffer.from(String(s), "base64").toString("utf8");

/** Spec §2.5: the 42 default objects, in order. */
const DEFAULT_OBJECTS = [
  "Namespace/linkerd",
  "ClusterRole/linkerd-linkerd-identity",
  "ClusterRoleBinding/linkerd-linkerd-identity",
  "ServiceAccount/linkerd-identity",
  "ClusterRole/linkerd-linkerd-destination",
  "ClusterRoleBinding/linkerd-linkerd-destination",
  "ServiceAccount/linkerd-destination",
  "Secret/linkerd-sp-validator-k8s-tls",
  "ValidatingWebhookConfiguration/linkerd-sp-validator-webhook-config",
  "Secret/linkerd-policy-validator-k8s-tls",
  "ValidatingWebhookConfiguration/linkerd-policy-validator-webhook-config",
  "ClusterRole/linkerd-policy",
  "ClusterRoleBinding/linkerd-destination-policy",
  "Role/remote-discovery",
  "RoleBinding/linkerd-destination-remote-discovery",
  "Role/linkerd-heartbeat",
  "RoleBinding/linkerd-heartbeat",
  "ClusterRole/linkerd-heartbeat",
  "ClusterRoleBinding/linkerd-heartbeat",
  "ServiceAccount/linkerd-heartbeat",
  "ClusterRole/linkerd-linkerd-proxy-injector",
  "ClusterRoleBinding/linkerd-linkerd-proxy-injector",
  "ServiceAccount/linkerd-proxy-injector",
  "Secret/linkerd-proxy-injector-k8s-tls",
  "MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config",
  "ConfigMap/linkerd-config",
  "Role/ext-namespace-metadata-linkerd-config",
  "Secret/linkerd-identity-issuer",
  "ConfigMap/linkerd-identity-trust-roots",
  "Service/linkerd-identity",
  "Service/linkerd-identity-headless",
  "Deployment/linkerd-identity",
  "Service/linkerd-dst",
  "Service/linkerd-dst-headless",
  "Service/linkerd-sp-validator",
  "Service/linkerd-policy",
  "Service/linkerd-policy-validator",
  "Deployment/linkerd-destination",
  "CronJob/linkerd-heartbeat",
  "Deployment/linkerd-proxy-injector",
  "Service/linkerd-proxy-injector",
  "Secret/linkerd-config-overrides",
];

test("install renders the 42 default objects in Linkerd's order (golden default.yaml)", async () => {
  const calls: CertificateCalls = { identity: [], webhooks: [] };
  const r = await runInstall(["install", "--ignore-cluster"], { certificates: fixtureCertificates(calls) });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  expectGolden("install/default.yaml", r.stdout);
  assert.deepEqual(ids(docs(r.stdout)), DEFAULT_OBJECTS);
  // One CA generated, named from the raw (empty) trust domain; one certificate per webhook.
  assert.deepEqual(calls.identity.map((c) => [c.namespace, c.trustDomain]), [["linkerd", ""]]);
  assert.deepEqual(calls.webhooks.sort(), ["linkerd-policy-validator.linkerd.svc", "linkerd-proxy-injector.linkerd.svc", "linkerd-sp-validator.linkerd.svc"]);
});

test("install output is identical for the same inputs and certificates", async () => {
  const a = await runInstall(["install", "--ignore-cluster", "--ha"]);
  const b = await runInstall(["install", "--ignore-cluster", "--ha"]);
  assert.equal(a.stdout, b.stdout);
});

test("default install: images, identity, webhooks and linkerd-config as Linkerd renders them", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster"])).stdout);
  const ns = find(objs, "Namespace/linkerd");
  assert.deepEqual(ns.metadata.annotations, { "linkerd.io/inject": "disabled" });
  assert.equal((ns.metadata.labels as Tree)["pod-security.kubernetes.io/enforce"], "privileged");

  const identity = find(objs, "Deployment/linkerd-identity");
  assert.deepEqual(containers(identity).map((c) => c.name), ["identity", "linkerd-proxy"]);
  assert.equal(container(identity, "identity").image, "cr.l5d.io/linkerd/controller:stable-2.14.10");
  const proxy = container(identity, "linkerd-proxy");
  assert.equal(proxy.image, "cr.l5d.io/linkerd/proxy:stable-2.14.10");
  assert.equal(proxy.lifecycle, undefined, "no await in the identity pod");
  const env = Object.fromEntries((proxy.env as Tree[]).map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_TLS, "8080");
  assert.equal(env.LINKERD2_PROXY_IDENTITY_SVC_ADDR, "localhost.:8080");
  assert.deepEqual(env.LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS, { configMapKeyRef: { name: "linkerd-identity-trust-roots", key: "ca-bundle.crt" } });
  const init = (at(identity, "spec.template.spec.initContainers") as Tree[])[0];
  assert.equal(init.image, "cr.l5d.io/linkerd/proxy-init:v2.2.3");
  assert.deepEqual((init.args as string[]).slice(-2), ["--outbound-ports-to-ignore", "443,6443"]);

  const dst = find(objs, "Deployment/linkerd-destination");
  assert.deepEqual(containers(dst).map((c) => c.name), ["linkerd-proxy", "destination", "sp-validator", "policy"]);
  assert.equal(container(dst, "policy").image, "cr.l5d.io/linkerd/policy-controller:stable-2.14.10");
  assert.deepEqual(containers(find(objs, "Deployment/linkerd-proxy-injector")).map((c) => c.name), ["linkerd-proxy", "proxy-injector"]);

  // The generated CA is both anchor and issuer; the issuer Secret has no type and trimmed PEM.
  const issuer = find(objs, "Secret/linkerd-identity-issuer");
  assert.equal(issuer.type, undefined);
  assert.equal(b64((issuer.data as Tree)["crt.pem"]), certFixture("ca.crt").trim());
  assert.equal(b64((issuer.data as Tree)["key.pem"]), certFixture("ca.key").trim());
  assert.equal((find(objs, "ConfigMap/linkerd-identity-trust-roots").data as Tree)["ca-bundle.crt"], certFixture("ca.crt").trim());

  // Each webhook's caBundle is its own serving certificate.
  const injector = find(objs, "MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config");
  const hook = (injector.webhooks as Tree[])[0];
  assert.equal(b64(at(hook, "clientConfig.caBundle")), certFixture("webhook-ecdsa-proxy-injector.crt").trim());
  assert.equal(b64((find(objs, "Secret/linkerd-proxy-injector-k8s-tls").data as Tree)["tls.crt"]), certFixture("webhook-ecdsa-proxy-injector.crt").trim());
  assert.equal(hook.failurePolicy, "Ignore");
  assert.deepEqual(hook.objectSelector, {
    matchExpressions: [
      { key: "linkerd.io/control-plane-component", operator: "DoesNotExist" },
      { key: "linkerd.io/cni-resource", operator: "DoesNotExist" },
    ],
  });

  // linkerd-config: every value, no private key, trust domain filled in.
  const config = find(objs, "ConfigMap/linkerd-config").data as Tree;
  assert.equal(config["linkerd-crds-chart-version"], "linkerd-crds-1.0.0-edge");
  const values = parseAllDocuments(String(config.values))[0].toJS() as Tree;
  assert.equal(values.identityTrustDomain, "cluster.local");
  assert.equal(values.identityTrustAnchorsPEM, certFixture("ca.crt"));
  assert.equal(at(values, "identity.issuer.tls.keyPEM"), undefined);
  assert.equal(at(values, "identity.issuer.tls.crtPEM"), certFixture("ca.crt"));
  assert.doesNotMatch(String(config.values), /PRIVATE KEY/);
  assert.equal(values.linkerdVersion, "stable-2.14.10");
  assert.equal(values.cliVersion, "linkerd/cli stable-2.14.10");

  // linkerd-config-overrides: exactly the generated credentials (the key included, for upgrade).
  const overrides = parseAllDocuments(b64((find(objs, "Secret/linkerd-config-overrides").data as Tree)["linkerd-config-overrides"]))[0].toJS();
  assert.deepEqual(overrides, {
    identity: { issuer: { tls: { crtPEM: certFixture("ca.crt"), keyPEM: certFixture("ca.key") } } },
    identityTrustAnchorsPEM: certFixture("ca.crt"),
  });

  // The heartbeat runs daily ten minutes after the (fixed) install time.
  assert.equal(at(find(objs, "CronJob/linkerd-heartbeat"), "spec.schedule"), "10 00 * * *");
});

test("install --ha (golden ha.yaml): replicas, PDBs, anti-affinity, resources, failure policy", async () => {
  const r = await runInstall(["install", "--ignore-cluster", "--ha"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("install/ha.yaml", r.stdout);
  const objs = docs(r.stdout);
  assert.equal(objs.length, 45);
  assert.deepEqual(
    ids(objs).filter((id) => id.startsWith("PodDisruptionBudget/")),
    ["PodDisruptionBudget/linkerd-identity", "PodDisruptionBudget/linkerd-dst", "PodDisruptionBudget/linkerd-proxy-injector"],
  );
  assert.equal(ids(objs).indexOf("PodDisruptionBudget/linkerd-dst") + 1, ids(objs).indexOf("Deployment/linkerd-destination"));
  for (const name of ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"]) {
    const d = find(objs, `Deployment/${name}`);
    assert.equal(at(d, "spec.replicas"), 3);
    assert.deepEqual(at(d, "spec.strategy.rollingUpdate"), { maxSurge: "25%", maxUnavailable: 1 });
    assert.ok(at(d, "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
    assert.deepEqual(container(d, "linkerd-proxy").resources, { limits: { memory: "250Mi" }, requests: { cpu: "100m", memory: "20Mi" } });
  }
  const dst = find(objs, "Deployment/linkerd-destination");
  // Unlike `linkerd install --ha`, sp-validator and policy get the HA resources too.
  for (const c of ["destination", "sp-validator", "policy"])
    assert.deepEqual(container(dst, c).resources, { limits: { memory: "250Mi" }, requests: { cpu: "100m", memory: "50Mi" } }, c);
  assert.deepEqual(container(find(objs, "Deployment/linkerd-identity"), "identity").resources, { limits: { memory: "250Mi" }, requests: { cpu: "100m", memory: "10Mi" } });
  for (const id of ["MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config", "ValidatingWebhookConfiguration/linkerd-sp-validator-webhook-config"])
    assert.equal(((find(objs, id).webhooks as Tree[])[0]).failurePolicy, "Fail");
});

test("flags given with --ha override it, and --set overrides flags", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster", "--ha", "--controller-replicas", "2", "--controller-log-level", "debug", "--set", "controllerLogLevel=trace"])).stdout);
  const d = find(objs, "Deployment/linkerd-destination");
  assert.equal(at(d, "spec.replicas"), 2);
  assert.ok((container(d, "destination").args as string[]).includes("-log-level=trace"));
});

test("install with -f, --set, --set-string and --set-file follows Helm's precedence (golden custom-values.yaml)", async () => {
  const r = await runInstall([
    "install",
    "--ignore-cluster",
    "-f",
    fixture("values-a.yaml"),
    "--set-file",
    `podAnnotations.note=${fixture("note.txt")}`,
    "--set-string",
    "podLabels.tier=7,podAnnotations.build=0042",
    "--set",
    "controllerReplicas=4,priorityClassName=system-cluster-critical,enablePprof=true,imagePullSecrets[0].name=regcred",
    "--values",
    fixture("values-b.yaml"),
    "--set",
    "proxyInjector.objectSelector=null",
  ]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("install/custom-values.yaml", r.stdout);
  const objs = docs(r.stdout);
  const d = find(objs, "Deployment/linkerd-destination");
  assert.equal(at(d, "spec.replicas"), 4, "--set beats -f");
  assert.ok((container(d, "destination").args as string[]).includes("-log-level=warn"), "the later -f file wins");
  assert.ok((container(d, "destination").args as string[]).includes("-enable-pprof=true"));
  const meta = at(d, "spec.template.metadata") as Tree;
  assert.deepEqual(meta.labels, {
    "linkerd.io/control-plane-component": "destination",
    "linkerd.io/control-plane-ns": "linkerd",
    "linkerd.io/workload-ns": "linkerd",
    "linkerd.io/proxy-deployment": "linkerd-destination",
    env: "staging",
    tier: "7",
  });
  assert.equal((meta.annotations as Tree).build, "0042");
  assert.equal((meta.annotations as Tree).note, "owned by the platform team\nsee the runbook\n");
  assert.equal((d.metadata.labels as Tree).team, "mesh", "commonLabels on objects");
  assert.equal((meta.labels as Tree).team, undefined, "commonLabels not on pods");
  assert.equal(at(d, "spec.template.spec.priorityClassName"), "system-cluster-critical");
  assert.deepEqual(at(d, "spec.template.spec.tolerations"), [{ effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "linkerd" }]);
  assert.ok(at(d, "spec.template.spec.affinity.nodeAffinity"));
  assert.deepEqual(find(objs, "ServiceAccount/linkerd-destination").imagePullSecrets, [{ name: "regcred" }]);
  assert.deepEqual(ids(objs).filter((id) => id.startsWith("PodMonitor/")), ["PodMonitor/linkerd-controller", "PodMonitor/linkerd-service-mirror", "PodMonitor/linkerd-proxy"]);
  assert.deepEqual(at(find(objs, "PodMonitor/linkerd-controller"), "spec.namespaceSelector"), { matchNames: ["linkerd", "linkerd-viz", "linkerd-jaeger"] });
  const hook = (find(objs, "MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config").webhooks as Tree[])[0];
  assert.equal("objectSelector" in hook, false, "null deletes a value");
});

test("install with user certificates uses them as given (golden user-certificates.yaml)", async () => {
  const calls: CertificateCalls = { identity: [], webhooks: [] };
  const r = await runInstall(["install", "--ignore-cluster", ...userCerts], { certificates: fixtureCertificates(calls) });
  assert.equal(r.code, 0, r.stderr);
  expectGolden("install/user-certificates.yaml", r.stdout);
  assert.equal(calls.identity.length, 0, "nothing generated");
  const objs = docs(r.stdout);
  assert.equal(b64((find(objs, "Secret/linkerd-identity-issuer").data as Tree)["crt.pem"]), certFixture("issuer.crt").trim());
  assert.equal(b64((find(objs, "Secret/linkerd-identity-issuer").data as Tree)["key.pem"]), certFixture("issuer.key").trim());
  assert.equal((find(objs, "ConfigMap/linkerd-identity-trust-roots").data as Tree)["ca-bundle.crt"], certFixture("ca.crt").trim());
});

test("a PKCS#8 issuer key is stored as an EC PRIVATE KEY, like Linkerd does", async () => {
  const r = await runInstall(["install", "--ignore-cluster", ...userCerts.slice(0, 5), cert("issuer.pkcs8.key")]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(b64((find(docs(r.stdout), "Secret/linkerd-identity-issuer").data as Tree)["key.pem"]), certFixture("issuer.key").trim());
});

test("install --crds renders the CRDs and says what to do next (golden crds.yaml)", async () => {
  const r = await runInstall(["install", "--crds", "--ignore-cluster"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("install/crds.yaml", r.stdout);
  assert.deepEqual(ids(docs(r.stdout)), [
    "CustomResourceDefinition/authorizationpolicies.policy.linkerd.io",
    "CustomResourceDefinition/httproutes.policy.linkerd.io",
    "CustomResourceDefinition/meshtlsauthentications.policy.linkerd.io",
    "CustomResourceDefinition/networkauthentications.policy.linkerd.io",
    "CustomResourceDefinition/serverauthorizations.policy.linkerd.io",
    "CustomResourceDefinition/servers.policy.linkerd.io",
    "CustomResourceDefinition/serviceprofiles.linkerd.io",
    "CustomResourceDefinition/httproutes.gateway.networking.k8s.io",
  ]);
  assert.equal(r.stderr, "Rendering Linkerd CRDs...\nNext, run `mesh install | kubectl apply -f -` to install the control plane.\n\n");
  for (const crd of docs(r.stdout)) {
    assert.equal((crd.metadata.annotations as Tree)["linkerd.io/created-by"], "linkerd/cli stable-2.14.10");
    assert.equal((crd.metadata.labels as Tree)["linkerd.io/control-plane-ns"], "linkerd");
  }
});

test("install --crds --set enableHttpRoutes=false leaves out the Gateway API HTTPRoute", async () => {
  const r = await runInstall(["install", "--crds", "--ignore-cluster", "--set", "enableHttpRoutes=false", "-L", "mesh"]);
  const objs = docs(r.stdout);
  assert.equal(objs.length, 7);
  assert.ok(!ids(objs).includes("CustomResourceDefinition/httproutes.gateway.networking.k8s.io"));
  assert.equal((objs[0].metadata.labels as Tree)["linkerd.io/control-plane-ns"], "mesh");
});

test("-o json prints the same objects as one v1 List", async () => {
  const yaml = docs((await runInstall(["install", "--ignore-cluster"])).stdout);
  const r = await runInstall(["install", "--ignore-cluster", "-o", "json"]);
  const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: unknown[] };
  assert.equal(list.kind, "List");
  assert.deepEqual(list.items, yaml);
});

test("-L renders the control plane into another namespace", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster", "-L", "mesh-system"])).stdout);
  assert.ok(ids(objs).includes("Namespace/mesh-system"));
  assert.ok(ids(objs).includes("ClusterRole/linkerd-mesh-system-identity"));
  const env = container(find(objs, "Deployment/linkerd-proxy-injector"), "linkerd-proxy").env as Tree[];
  assert.ok(env.some((e) => e.value === "linkerd-identity-headless.mesh-system.svc.cluster.local.:8080"));
});

// --- identity credential failures: exit 1, a message naming the problem, nothing on stdout ---

const certFailures: { name: string; args: string[]; message: RegExp }[] = [
  {
    name: "unparsable PEM",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("garbage.pem"), "--identity-issuer-key-file", cert("issuer.key")],
    message: /garbage\.pem.*(no PEM|cannot be parsed)/,
  },
  {
    name: "certificate that is not DER",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("broken-der.pem"), "--identity-issuer-key-file", cert("issuer.key")],
    message: /broken-der\.pem.*not a valid X\.509 certificate/,
  },
  {
    name: "issuer with an RSA key",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-rsa.crt"), "--identity-issuer-key-file", cert("issuer-rsa.key")],
    message: /ECDSA P-256/,
  },
  {
    name: "issuer with a P-384 key",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-p384.crt"), "--identity-issuer-key-file", cert("issuer-p384.key")],
    message: /ECDSA P-256/,
  },
  {
    name: "issuer not signed by any anchor",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-other-ca.crt"), "--identity-issuer-key-file", cert("issuer-other-ca.key")],
    message: /issuer-other-ca\.crt.*not signed by/,
  },
  {
    name: "issuer not yet valid",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-not-yet-valid.crt"), "--identity-issuer-key-file", cert("issuer-not-yet-valid.key")],
    message: /not valid yet/,
  },
  {
    name: "issuer expired",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-expired.crt"), "--identity-issuer-key-file", cert("issuer-expired.key")],
    message: /expired/,
  },
  {
    name: "key that does not match the certificate",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer.crt"), "--identity-issuer-key-file", cert("mismatched.key")],
    message: /mismatched\.key.*does not match/,
  },
  {
    name: "trust anchor that is not a CA",
    args: ["--identity-trust-anchors-file", cert("ca-not-ca.crt"), "--identity-issuer-certificate-file", cert("issuer-under-non-ca.crt"), "--identity-issuer-key-file", cert("issuer-under-non-ca.key")],
    message: /not a CA/,
  },
  {
    name: "issuer that is not a CA",
    args: ["--identity-trust-anchors-file", cert("ca.crt"), "--identity-issuer-certificate-file", cert("issuer-not-ca.crt"), "--identity-issuer-key-file", cert("issuer-not-ca.key")],
    message: /not a CA/,
  },
  {
    name: "credentials given with --set-file are checked too",
    args: [
      "--set-file",
      `identityTrustAnchorsPEM=${cert("ca.crt")},identity.issuer.tls.crtPEM=${cert("issuer-expired.crt")},identity.issuer.tls.keyPEM=${cert("issuer-expired.key")}`,
    ],
    message: /expired/,
  },
];

for (const c of certFailures)
  test(`install refuses identity credentials: ${c.name}`, async () => {
    const r = await runInstall(["install", "--ignore-cluster", ...c.args]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: /);
    assert.match(r.stderr, c.message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

/** `--set-file` entries giving each webhook the RSA fixture pair (the shape a user supplies). */
const WEBHOOK_VALUES = { proxyInjector: "proxy-injector", profileValidator: "sp-validator", policyValidator: "policy-validator" } as const;
const webhookPairs = (pairs: Partial<Record<keyof typeof WEBHOOK_VALUES, [crt: string, key: string]>> = {}) =>
  (Object.keys(WEBHOOK_VALUES) as (keyof typeof WEBHOOK_VALUES)[])
    .map((k) => {
      const [crt, key] = pairs[k] ?? [`webhook-${WEBHOOK_VALUES[k]}.crt`, `webhook-${WEBHOOK_VALUES[k]}.key`];
      return `${k}.crtPEM=${cert(crt)},${k}.keyPEM=${cert(key)}`;
    })
    .join(",");

test("user-supplied RSA webhook pairs (crtPEM/keyPEM) are validated and used as given; nothing is generated for them", async () => {
  const calls: CertificateCalls = { identity: [], webhooks: [] };
  const r = await runInstall(["install", "--ignore-cluster", "--set-file", webhookPairs()], { certificates: fixtureCertificates(calls) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(calls.webhooks, []);
  const objs = docs(r.stdout);
  for (const [secret, config, name] of [
    ["linkerd-proxy-injector-k8s-tls", "MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config", "proxy-injector"],
    ["linkerd-sp-validator-k8s-tls", "ValidatingWebhookConfiguration/linkerd-sp-validator-webhook-config", "sp-validator"],
    ["linkerd-policy-validator-k8s-tls", "ValidatingWebhookConfiguration/linkerd-policy-validator-webhook-config", "policy-validator"],
  ]) {
    const data = find(objs, `Secret/${secret}`).data as Tree;
    assert.equal(b64(data["tls.crt"]), certFixture(`webhook-${name}.crt`).trim());
    assert.equal(b64(data["tls.key"]), certFixture(`webhook-${name}.key`).trim());
    assert.match(b64(data["tls.key"]), /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.equal(b64(at((find(objs, config).webhooks as Tree[])[0], "clientConfig.caBundle")), certFixture(`webhook-${name}.crt`).trim());
  }
  // linkerd-config keeps the certificates, never the keys.
  const values = String((find(objs, "ConfigMap/linkerd-config").data as Tree).values);
  assert.match(values, /proxyInjector:\n(?:  .*\n)*?  crtPEM: \|/);
  assert.doesNotMatch(values, /PRIVATE KEY/);
});

const webhookFailures: { name: string; args: string[]; message: RegExp; hint?: RegExp; now?: Date }[] = [
  {
    name: "a key that does not belong to the certificate",
    args: ["--set-file", webhookPairs({ profileValidator: ["webhook-sp-validator.crt", "webhook-policy-validator.key"] })],
    message: /^error: profileValidator\.keyPEM does not belong to the certificate in profileValidator\.crtPEM/,
  },
  {
    name: "a certificate for another webhook's host",
    args: ["--set-file", webhookPairs({ proxyInjector: ["webhook-sp-validator.crt", "webhook-sp-validator.key"] })],
    message: /^error: proxyInjector\.crtPEM: the certificate is not valid for linkerd-proxy-injector\.linkerd\.svc/,
  },
  {
    name: "certificates made for another namespace (-L)",
    args: ["-L", "mesh", "--set-file", webhookPairs()],
    message: /^error: proxyInjector\.crtPEM: the certificate is not valid for linkerd-proxy-injector\.mesh\.svc/,
  },
  {
    name: "an EC PRIVATE KEY for the policy validator (the policy controller reads PKCS#8 and PKCS#1 only)",
    args: ["--set-file", webhookPairs({ policyValidator: ["webhook-ecdsa-policy-validator.crt", "webhook-ecdsa-policy-validator.sec1.key"] })],
    message: /^error: policyValidator\.keyPEM is an EC PRIVATE KEY \(SEC 1\) block/,
    hint: /hint: convert it with `openssl pkcs8 -topk8 -nocrypt -in key\.pem`/,
  },
  {
    name: "an expired certificate",
    args: ["--set-file", webhookPairs()],
    now: new Date("2200-01-01T00:00:00Z"),
    message: /^error: proxyInjector\.crtPEM: the certificate expired on 2125-01-01T00:00:00Z/,
  },
  {
    name: "not a certificate",
    args: ["--set-file", webhookPairs({ policyValidator: ["garbage.pem", "webhook-policy-validator.key"] })],
    message: /^error: policyValidator\.crtPEM holds no PEM data/,
  },
];

for (const c of webhookFailures)
  test(`install refuses user-supplied webhook credentials: ${c.name}`, async (t) => {
    const r = await runInstall(["install", "--ignore-cluster", ...c.args], { now: c.now });
    t.diagnostic(r.stderr.trim());
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "", "nothing printed");
    assert.match(r.stderr, c.message);
    if (c.hint) assert.match(r.stderr, c.hint);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

test("a user-supplied webhook certificate expiring within 60 days is used, with a warning", async () => {
  const r = await runInstall(["install", "--ignore-cluster", "--set-file", webhookPairs({ proxyInjector: ["webhook-expiring-soon.crt", "webhook-expiring-soon.key"] })]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "warning: proxyInjector.crtPEM: the certificate expires on 2026-01-31T00:00:00Z, within 60 days (mesh check will warn)\n");
  assert.equal(b64((find(docs(r.stdout), "Secret/linkerd-proxy-injector-k8s-tls").data as Tree)["tls.crt"]), certFixture("webhook-expiring-soon.crt").trim());
});

test("install refuses an incomplete set of credential files (usage error)", async () => {
  const r = await runInstall(["install", "--ignore-cluster", "--identity-issuer-certificate-file", cert("issuer.crt"), "--identity-issuer-key-file", cert("issuer.key")]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: identity credentials are incomplete: the trust anchors file is missing\nhint: /);
});

test("install says which credential file it cannot read", async () => {
  const r = await runInstall(["install", "--ignore-cluster", ...userCerts.slice(0, 4), "--identity-issuer-key-file", "/nonexistent/issuer.key"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: cannot read --identity-issuer-key-file /nonexistent/issuer.key: no such file\n");
});

// --- the cluster ---

const CRD_OBJECTS = (await renderCrds("linkerd", {})).objects;

/** A healthy cluster with the CRDs installed and no control plane. */
function clusterObjects(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const objects: Record<string, unknown> = {
    "/api/v1/nodes": { items: [{ metadata: { name: "node-1" }, status: { nodeInfo: { containerRuntimeVersion: "containerd://1.7.0" } } }], metadata: {} },
    "/api/v1/namespaces/default/services/kubernetes": { spec: { ports: [{ name: "https", port: 443, targetPort: 6443 }] } },
    "/apis/discovery.k8s.io/v1": { resources: [{ kind: "EndpointSlice", name: "endpointslices" }] },
    "/apis/discovery.k8s.io/v1/endpointslices?limit=1": { items: [{}] },
  };
  for (const crd of CRD_OBJECTS) objects[`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${(crd.metadata as Tree).name}`] = crd;
  return { ...objects, ...extra };
}

test("install checks the cluster: same output as --ignore-cluster on a default cluster", async () => {
  const seen: string[] = [];
  const r = await runInstall(["install"], { cluster: fakeCluster(clusterObjects(), seen) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, (await runInstall(["install", "--ignore-cluster"])).stdout);
  assert.equal(seen[0], "/api/v1/namespaces/linkerd/configmaps/linkerd-config");
  assert.ok(seen.includes("/api/v1/nodes"));
});

test("install uses the API server ports of Service default/kubernetes for control-plane init containers", async () => {
  const svc = { spec: { ports: [{ name: "https", port: 443, targetPort: 8443 }, { name: "alt", port: 9443, targetPort: "web" }] } };
  const r = await runInstall(["install"], { cluster: fakeCluster(clusterObjects({ "/api/v1/namespaces/default/services/kubernetes": svc })) });
  assert.equal(r.code, 0, r.stderr);
  const init = (at(find(docs(r.stdout), "Deployment/linkerd-identity"), "spec.template.spec.initContainers") as Tree[])[0];
  assert.deepEqual((init.args as string[]).slice(-2), ["--outbound-ports-to-ignore", "443,8443,9443"]);
});

test("install refuses to run over an existing control plane", async () => {
  for (const args of [["install"], ["install", "--crds"]]) {
    const cm = { metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\n" } };
    const r = await runInstall(args, { cluster: fakeCluster(clusterObjects({ "/api/v1/namespaces/linkerd/configmaps/linkerd-config": cm })) });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: a control plane is already installed in namespace "linkerd": configmap\/linkerd-config exists\nhint: to change it, run `mesh upgrade \| kubectl apply -f -`/);
  }
});

test("install without a reachable cluster says so, and points to --ignore-cluster", async () => {
  for (const args of [["install"], ["install", "--crds"]]) {
    const r = await runInstall(args);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      "error: cannot connect to the Kubernetes cluster: cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused\nhint: to render the manifests without looking at a cluster, pass --ignore-cluster\n",
    );
  }
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
  const r = await runInstall(["install"], { cluster: fakeCluster({ "/api/v1/namespaces/linkerd/configmaps/linkerd-config": refused }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: cannot check the cluster for an existing control plane: .*ECONNREFUSED.*\nhint: .*--ignore-cluster/);
});

test("install asks for the CRDs first when they are missing", async () => {
  const objects = clusterObjects();
  delete objects["/apis/apiextensions.k8s.io/v1/customresourcedefinitions/servers.policy.linkerd.io"];
  const r = await runInstall(["install"], { cluster: fakeCluster(objects) });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: the Linkerd CRDs are not installed: servers\.policy\.linkerd\.io is missing\nhint: run `mesh install --crds/);
});

test("install refuses nodes with the docker runtime unless proxy-init runs as root", async () => {
  const nodes = { "/api/v1/nodes": { items: [{ metadata: { name: "old" }, status: { nodeInfo: { containerRuntimeVersion: "docker://20.10.7" } } }] } };
  const r = await runInstall(["install"], { cluster: fakeCluster(clusterObjects(nodes)) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: node\/old uses the docker container runtime.*\nhint: install with --set proxyInit.runAsRoot=true\n$/);
  const ok = await runInstall(["install", "--set", "proxyInit.runAsRoot=true"], { cluster: fakeCluster(clusterObjects(nodes)) });
  assert.equal(ok.code, 0, ok.stderr);
});

test("install with --identity-external-issuer reads the anchors from the cluster and renders no issuer secret (golden external-issuer.yaml)", async () => {
  const secret = {
    type: "kubernetes.io/tls",
    data: {
      "ca.crt": Buffer.from(certFixture("ca.crt")).toString("base64"),
      "tls.crt": Buffer.from(certFixture("issuer.crt")).toString("base64"),
      "tls.key": Buffer.from(certFixture("issuer.key")).toString("base64"),
    },
  };
  const cluster = fakeCluster(clusterObjects({ "/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer": secret }));
  const r = await runInstall(["install", "--identity-external-issuer"], { cluster });
  assert.equal(r.code, 0, r.stderr);
  expectGolden("install/external-issuer.yaml", r.stdout);
  const objs = docs(r.stdout);
  assert.ok(!ids(objs).includes("Secret/linkerd-identity-issuer"));
  assert.equal(objs.length, 41);
  assert.equal((find(objs, "ConfigMap/linkerd-identity-trust-roots").data as Tree)["ca-bundle.crt"], certFixture("ca.crt").trim());
  assert.ok((container(find(objs, "Deployment/linkerd-identity"), "identity").args as string[]).includes("-identity-scheme=kubernetes.io/tls"));
  const values = String((find(objs, "ConfigMap/linkerd-config").data as Tree).values);
  assert.match(values, /scheme: kubernetes.io\/tls/);
  assert.doesNotMatch(values, /crtPEM: \|/);
});

test("--identity-external-issuer needs the cluster and a complete issuer secret", async () => {
  const offline = await runInstall(["install", "--ignore-cluster", "--identity-external-issuer"]);
  assert.equal(offline.code, 2);
  assert.match(offline.stderr, /^error: --ignore-cluster cannot be used with --identity-external-issuer/);
  const withFile = await runInstall(["install", "--ignore-cluster", "--identity-external-issuer", "--identity-issuer-certificate-file", cert("issuer.crt")]);
  assert.equal(withFile.code, 2);
  assert.match(withFile.stderr, /an issuer certificate was given, but with --identity-external-issuer/);
  const missing = await runInstall(["install", "--identity-external-issuer"], { cluster: fakeCluster(clusterObjects()) });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: secret linkerd\/linkerd-identity-issuer not found\n/);
  const noKey = { data: { "ca.crt": "", "tls.crt": "" } };
  const partial = await runInstall(["install", "--identity-external-issuer"], {
    cluster: fakeCluster(clusterObjects({ "/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer": noKey })),
  });
  assert.match(partial.stderr, /^error: secret linkerd\/linkerd-identity-issuer has no tls.key/);
});

// --- flags and values ---

test("install flags change the rendered values like Linkerd's", async () => {
  const r = await runInstall([
    "install",
    "--ignore-cluster",
    "--identity-issuance-lifetime",
    "48h",
    "--identity-clock-skew-allowance=90s",
    "--enable-endpoint-slices=false",
    "--disable-h2-upgrade",
    "--cluster-domain",
    "example.org",
    "--identity-trust-domain",
    "mesh.example.org",
    "--proxy-cpu-limit",
    "1500m",
    "--controller-uid",
    "3000",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const objs = docs(r.stdout);
  const args = container(find(objs, "Deployment/linkerd-identity"), "identity").args as string[];
  assert.ok(args.includes("-identity-issuance-lifetime=48h0m0s"));
  assert.ok(args.includes("-identity-clock-skew-allowance=1m30s"));
  assert.ok(args.includes("-identity-trust-domain=mesh.example.org"));
  const dstArgs = container(find(objs, "Deployment/linkerd-destination"), "destination").args as string[];
  assert.ok(dstArgs.includes("-enable-endpoint-slices=false"));
  assert.ok(dstArgs.includes("-enable-h2-upgrade=false"));
  assert.ok(dstArgs.includes("-cluster-domain=example.org"));
  const rules = find(objs, "ClusterRole/linkerd-linkerd-destination").rules as Tree[];
  assert.ok(!rules.some((rule) => (rule.apiGroups as string[]).includes("discovery.k8s.io")));
  const proxy = container(find(objs, "Deployment/linkerd-destination"), "linkerd-proxy");
  assert.deepEqual((proxy.env as Tree[]).find((e) => e.name === "LINKERD2_PROXY_CORES"), { name: "LINKERD2_PROXY_CORES", value: "2" });
  assert.equal(at(container(find(objs, "Deployment/linkerd-destination"), "destination"), "securityContext.runAsUser"), 3000);
});

test("--disable-heartbeat leaves out the heartbeat CronJob and its RBAC", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster", "--disable-heartbeat"])).stdout);
  assert.equal(objs.length, 36);
  assert.ok(!ids(objs).some((id) => id.includes("heartbeat")));
});

test("--linkerd-cni-enabled uses the network validator and a restricted namespace", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster", "--linkerd-cni-enabled"])).stdout);
  assert.equal((find(objs, "Namespace/linkerd").metadata.labels as Tree)["pod-security.kubernetes.io/enforce"], "restricted");
  const d = find(objs, "Deployment/linkerd-identity");
  assert.deepEqual((at(d, "spec.template.spec.initContainers") as Tree[]).map((c) => c.name), ["linkerd-network-validator"]);
  assert.ok(!(at(d, "spec.template.spec.volumes") as Tree[]).some((v) => v.name === "linkerd-proxy-init-xtables-lock"));
});

test("integer values given as strings are stored as numbers", async () => {
  const objs = docs((await runInstall(["install", "--ignore-cluster", "--set-string", "controllerReplicas=2,proxy.ports.admin=4192"])).stdout);
  assert.equal(at(find(objs, "Deployment/linkerd-identity"), "spec.replicas"), 2);
  const values = parseAllDocuments(String((find(objs, "ConfigMap/linkerd-config").data as Tree).values))[0].toJS() as Tree;
  assert.equal(at(values, "proxy.ports.admin"), 4192);
});

const valueFailures: { args: string[]; message: RegExp; code?: number }[] = [
  { args: ["--controller-log-level", "loud"], message: /^error: controller log level "loud" is not one of panic, fatal, error, warn, info, debug, trace\n/ },
  { args: ["--set", "clusterNetworks=10.0.0.0/8\\,banana"], message: /^error: clusterNetworks entry "banana" is not a CIDR\n/ },
  { args: ["--skip-inbound-ports", "80,9000-8000"], message: /^error: proxyInit.ignoreInboundPorts: range "9000-8000" ends before it starts\n/ },
  { args: ["--proxy-memory-request", "2Gi", "--proxy-memory-limit", "1Gi"], message: /^error: proxy memory limit 1Gi is lower than its request 2Gi\n/ },
  { args: ["--proxy-log-level", "warn,linkerd=loud"], message: /^error: proxy log level "warn,linkerd=loud" is not valid\n/ },
  { args: ["--default-inbound-policy", "allow"], message: /^error: default inbound policy "allow" is not one of / },
  { args: ["--identity-trust-domain", "Not_A_Domain"], message: /^error: trust domain "Not_A_Domain" is not a DNS subdomain/ },
  { args: ["--set", "proxyInjector.externalSecret=true"], message: /^error: proxyInjector: with externalSecret, the API server needs a CA bundle\n/ },
  { args: ["--set", "controllerReplicas=three"], message: /^error: controllerReplicas: "three" is not an integer\n/ },
  { args: ["--identity-issuance-lifetime", "1 day"], message: /^error: --identity-issuance-lifetime "1 day" is not a duration\n/, code: 2 },
  { args: ["--set", "a.b"], message: /^error: cannot parse --set "a.b": key "b" has no value\n/, code: 2 },
  { args: ["-f", "/nonexistent.yaml"], message: /^error: cannot read --values \/nonexistent.yaml: no such file\n/, code: 2 },
  { args: ["--ha=maybe"], message: /"maybe" is not a boolean \(--ha\)/, code: 2 },
];

for (const c of valueFailures)
  test(`install rejects bad values before printing anything: ${c.args.join(" ")}`, async () => {
    const r = await runInstall(["install", "--ignore-cluster", ...c.args]);
    assert.equal(r.code, c.code ?? 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, c.message);
  });

test("-f - reads values from stdin", async () => {
  const r = await runInstall(["install", "--ignore-cluster", "-f", "-"], { stdin: "controllerReplicas: 5\n" });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(at(find(docs(r.stdout), "Deployment/linkerd-identity"), "spec.replicas"), 5);
});

test("--registry (or LINKERD_DOCKER_REGISTRY) moves every image", async () => {
  for (const [args, env] of [[["--registry", "registry.example/l5d"], {}], [[], { LINKERD_DOCKER_REGISTRY: "registry.example/l5d" }]] as const) {
    const r = await runInstall(["install", "--ignore-cluster", ...args], { env });
    const images = [...r.stdout.matchAll(/image: (\S+)/g)].map((m) => m[1]);
    assert.ok(images.length > 0);
    for (const i of images) assert.match(i, /^registry\.example\/l5d\//);
  }
});

test("--identity-external-ca leaves out the trust-roots ConfigMap; enablePSP adds the PSP, its Role and RoleBinding after the podmonitors", async () => {
  const ca = docs((await runInstall(["install", "--ignore-cluster", "--identity-external-ca"])).stdout);
  assert.ok(!ids(ca).includes("ConfigMap/linkerd-identity-trust-roots"));
  assert.equal(ca.length, 41);
  const psp = ids(docs((await runInstall(["install", "--ignore-cluster", "--set", "enablePSP=true,podMonitor.enabled=true,podMonitor.proxy.enabled=false"])).stdout));
  const at = psp.indexOf("PodSecurityPolicy/linkerd-linkerd-control-plane");
  assert.deepEqual(psp.slice(at - 1, at + 4), [
    "MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config",
    "PodSecurityPolicy/linkerd-linkerd-control-plane",
    "Role/linkerd-psp",
    "RoleBinding/linkerd-psp",
    "ConfigMap/linkerd-config",
  ]);
  assert.deepEqual(psp.filter((id) => id.startsWith("PodMonitor/")), ["PodMonitor/linkerd-controller", "PodMonitor/linkerd-service-mirror"]);
  assert.ok(psp.indexOf("PodMonitor/linkerd-service-mirror") < psp.indexOf("ClusterRole/linkerd-linkerd-proxy-injector"));
});
