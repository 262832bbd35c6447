import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import { deployment, fakeMesh, list, pod, replicaSet } from "../viz/fake-mesh.js";
import { computeAuthorizations, formatAuthorizations, serverIncludesPod, type FullSelector, type PolicyObjects } from "../../src/policy/authorizations.js";
import type { Pod } from "../../src/kube/types.js";

const NS = "shop";
const G = "policy.linkerd.io";
const web = pod(NS, "web-1", "web") as unknown as Pod;
const server = (name: string, podSelector: FullSelector | undefined, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: NS, labels }, spec: { podSelector, port: "http" } });

const OBJECTS: PolicyObjects = {
  servers: [
    server("web-http", { matchLabels: { app: "web" } }, { tier: "front" }),
    server("web-admin", { matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }),
    server("other", { matchLabels: { app: "other" } }, { tier: "front" }),
    server("no-selector", undefined),
  ],
  serverAuthorizations: [
    { metadata: { name: "saz-by-name" }, spec: { server: { name: "web-http" } } },
    { metadata: { name: "saz-by-label" }, spec: { server: { selector: { matchLabels: { tier: "front" } } } } },
    { metadata: { name: "saz-dangling" }, spec: { server: { name: "gone" } } },
  ],
  authorizationPolicies: [
    { metadata: { name: "ap-server" }, spec: { targetRef: { group: G, kind: "Server", name: "web-admin" } } },
    { metadata: { name: "ap-route" }, spec: { targetRef: { group: G, kind: "HTTPRoute", name: "vote" } } },
    { metadata: { name: "ap-ns" }, spec: { targetRef: { kind: "Namespace", name: NS } } },
    { metadata: { name: "ap-other" }, spec: { targetRef: { group: G, kind: "Server", name: "other" } } },
  ],
  httpRoutes: [{ metadata: { name: "vote" }, spec: { parentRefs: [{ group: G, kind: "Server", name: "web-http" }] } }],
};

test("authorizations: ServerAuthorizations (by name and by selector) then AuthorizationPolicies (Server, HTTPRoute, Namespace) of the Servers selecting the pods", () => {
  const warnings: string[] = [];
  const rows = computeAuthorizations([web], OBJECTS, (m) => warnings.push(m));
  assert.deepEqual(
    rows.map((r) => [r.route, r.server, r.authorizationPolicy, r.serverAuthorization].join("|")),
    ["|web-http||saz-by-name", "|web-http||saz-by-label", "|web-admin|ap-server|", "vote|web-http|ap-route|", "|web-http|ap-ns|", "|web-admin|ap-ns|"],
  );
  assert.deepEqual(warnings, ["ServerAuthorization/saz-dangling targets Server/gone, which does not exist"]);
  assert.equal(serverIncludesPod(OBJECTS.servers[3], [web]), false);
  assert.equal(
    formatAuthorizations(rows.slice(0, 4)),
    "ROUTE   SERVER     AUTHORIZATION_POLICY   SERVER_AUTHORIZATION   \n" +
      "*       web-http                          saz-by-name            \n" +
      "*       web-http                          saz-by-label           \n" +
      "*       web-admin  ap-server                                     \n" +
      "vote    web-http   ap-route                                      \n",
  );
});

function cluster(policies = true) {
  const P = `/apis/${G}`;
  return fakeMesh({
    objects: {
      [`/apis/apps/v1/namespaces/${NS}/deployments`]: list([deployment(NS, "web")]),
      [`/apis/apps/v1/namespaces/${NS}/replicasets`]: list([replicaSet(NS, "web")]),
      [`/api/v1/namespaces/${NS}/pods`]: list([web]),
      ...(policies
        ? {
            [`${P}/v1beta1/namespaces/${NS}/servers`]: list(OBJECTS.servers),
            [`${P}/v1beta1/namespaces/${NS}/serverauthorizations`]: list(OBJECTS.serverAuthorizations),
            [`${P}/v1alpha1/namespaces/${NS}/authorizationpolicies`]: list(OBJECTS.authorizationPolicies),
            [`${P}/v1alpha1/namespaces/${NS}/httproutes`]: list(OBJECTS.httpRoutes),
          }
        : {}),
    },
    metrics: {},
  });
}

test("mesh authz -n NS deploy/web: the table; `deploy web` is the same; -o json", async () => {
  const r = await runMesh(["authz", "-n", NS, "deploy/web"], { cluster: async () => cluster().cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ROUTE {3}SERVER {5}AUTHORIZATION_POLICY {3}SERVER_AUTHORIZATION {3}\n\* {7}web-http {26}saz-by-name/);
  assert.match(r.stderr, /^warning: ServerAuthorization\/saz-dangling targets Server\/gone/);
  const two = await runMesh(["authz", "-n", NS, "deploy", "web"], { cluster: async () => cluster().cluster });
  assert.equal(two.stdout, r.stdout);
  const j = await runMesh(["authz", "-n", NS, "deploy/web", "-o", "json"], { cluster: async () => cluster().cluster });
  assert.deepEqual((JSON.parse(j.stdout) as unknown[])[3], { route: "vote", server: "web-http", authorizationPolicy: "ap-route", serverAuthorization: "" });
});

test("mesh authz: usage errors exit 2; no policy CRDs or a missing workload exit 1", async () => {
  for (const args of [[], ["deploy/web", "x", "y"], ["srv/web"], ["bogus/web"], ["-o", "yaml", "deploy/web"]]) {
    const r = await runMesh(["authz", "-n", NS, ...args], { cluster: async () => cluster().cluster });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  }
  const none = await runMesh(["authz", "-n", NS, "deploy/web"], { cluster: async () => cluster(false).cluster });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^error: the Linkerd policy CRDs are not installed .*\nhint: install them: mesh install --crds \| kubectl apply -f -\n$/);
  const gone = await runMesh(["authz", "-n", NS, "deploy/nope"], { cluster: async () => cluster().cluster });
  assert.equal(gone.code, 1);
});
