// mesh viz routes, edges, list, install/uninstall and check against the real API server and the
// proxy stand-ins (test/cluster/README.md): route_* series, outbound connections with dst_* and
// server_id, access-log configuration, RBAC through impersonation, and a proxy whose inbound
// policy refuses the API server's plaintext requests to its admin port.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "../../src/kube/cluster.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";
import { ensureServiceProfileCrd } from "./service-profile-crd.js";

const skip = testClusterSkipReason();
let c: TestCluster;
let ns: string;
let removeCrd: () => Promise<void> = async () => undefined;
const tag = randomBytes(3).toString("hex");
const group = `mesh-viz-test-${tag}`;
const roleName = `mesh-viz-test-${tag}`;


function deployment(name: string, annotations: Record<string, string>, env: Record<string, string> = {}): string {
  const envYaml = Object.entries({ LINKERD2_PROXY_IDENTITY_LOCAL_NAME: "$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.cluster.local", ...env })
    .map(([k, v]) => `        - {name: ${k}, value: '${v}'}`)
    .join("\n");
  const ann = Object.entries(annotations)
    .map(([k, v]) => `        ${k}: '${v}'`)
    .join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}, linkerd.io/control-plane-ns: linkerd, linkerd.io/proxy-deployment: ${name}}
      annotations:
${ann || "        mesh.test/none: ''"}
    spec:
      serviceAccountName: default
      containers:
      - {name: app, image: example/${name}:1}
      - name: linkerd-proxy
        image: cr.l5d.io/linkerd/proxy:stable-2.14.10
        ports: [{name: linkerd-admin, containerPort: 4191}]
        env:
${envYaml}
`;
}

const model = (flows: unknown[]) => JSON.stringify({ flows });

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("viz");
  removeCrd = await ensureServiceProfileCrd(c);
  const authority = `web-svc.${ns}.svc.cluster.local:80`;
  await c.apply(
    [
      deployment("emoji", { "config.linkerd.io/default-inbound-policy": "deny" }),
      `apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}`,
      `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: web-svc.${ns}.svc.cluster.local}
spec:
  routes:
  - {name: GET /api/list, condition: {method: GET, pathRegex: /api/list}}
  - {name: GET /api/vote, condition: {method: GET, pathRegex: /api/vote}}`,
    ].join("\n---\n"),
    ns,
  );
  await c.waitForPods(ns, "app=emoji", { count: 1 });
  await c.apply(
    deployment("web", {
      "config.linkerd.io/access-log": "json",
      "mesh.test/traffic": model([
        { direction: "inbound", rps: 20, successRate: 0.9, latencyMs: 3, authority, route: "GET /api/list", from: { selector: { app: "vote-bot" } } },
        { direction: "inbound", rps: 4, latencyMs: 1, authority },
        { direction: "outbound", rps: 5, to: { service: "emoji-svc", port: 8080, selector: { app: "emoji" } } },
      ]),
    }),
    ns,
  );
  await c.waitForPods(ns, "app=web", { count: 1 });
  await c.apply(deployment("vote-bot", { "mesh.test/traffic": model([{ direction: "outbound", rps: 10, route: "GET /api/list", retryRatio: 0.5, to: { service: "web-svc", port: 80, targetPort: 8080, selector: { app: "web" } } }]) }), ns);
  await c.waitForPods(ns, "app=vote-bot", { count: 1 });
});

after(async () => {
  if (skip || !c) return;
  await c.kubectl(["delete", "clusterrolebinding,clusterrole", roleName, "--ignore-not-found"], { allowFail: true });
  await c.deleteNamespace(ns);
  await removeCrd();
});

const mesh = (args: string[]) => runMesh(["--kubeconfig", c.kubeconfig, ...args], { cluster: (g) => connect(g), now: new Date() }).then((r) => r);
// runMesh's fixed clock would make every scrape look simultaneous: use the real one.
const meshNow = (args: string[]) => runMeshReal(["--kubeconfig", c.kubeconfig, ...args]);

async function runMeshReal(argv: string[]) {
  const [{ run }, { memoryIo }] = await Promise.all([import("../../src/cli.js"), import("../../src/io.js")]);
  const m = memoryIo();
  const code = await run(argv, { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) });
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

test("viz routes deploy/web: the profile's routes from the inbound route_* series; [DEFAULT] for the rest", { skip }, async () => {
  const r = await meshNow(["viz", "routes", "deploy/web", "-n", ns, "--interval", "2s", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout)["deployment/web"] as { route: string; authority: string; success: number; rps: number; latency_ms_p50: number }[];
  assert.deepEqual(rows.map((x) => x.route), ["GET /api/list", "GET /api/vote", "[DEFAULT]"]);
  assert.ok(rows.every((x) => x.authority === "web-svc"));
  const [list, vote, dflt] = rows;
  assert.ok(Math.abs(list.rps - 20) < 3, `list rps ${list.rps}`);
  assert.ok(Math.abs(list.success - 0.9) < 0.05, `list success ${list.success}`);
  assert.equal(list.latency_ms_p50, 3);
  assert.equal(vote.rps, 0);
  assert.ok(Math.abs(dflt.rps - 4) < 1.5, `default rps ${dflt.rps}`);
  const table = await meshNow(["viz", "routes", "svc/web-svc", "-n", ns, "--interval", "1s"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ROUTE +SERVICE +SUCCESS +RPS +LATENCY_P50 +LATENCY_P95 +LATENCY_P99\nGET \/api\/list +web-svc +\d+\.\d\d% +\d+\.\drps +3ms/);
  assert.match(table.stdout, /^GET \/api\/vote +web-svc( +-){5}$/m);
});

test("viz routes --to -o wide: effective vs actual (retries) from vote-bot's outbound series", { skip }, async () => {
  const r = await meshNow(["viz", "routes", "deploy/vote-bot", "--to", "svc/web-svc", "-n", ns, "--interval", "2s", "-o", "wide"]);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split("\n").find((l) => l.startsWith("GET /api/list"))!;
  const [, , eff, effRps, act, actRps] = line.split(/\s{2,}/);
  assert.equal(eff, "100.00%");
  assert.ok(Math.abs(parseFloat(effRps) - 10) < 2, line);
  assert.ok(parseFloat(act) < 100, line);
  assert.ok(Math.abs(parseFloat(actRps) - 15) < 3, line);
  const none = await meshNow(["viz", "routes", "deploy/web", "-n", `${ns}-nope`]);
  assert.equal(none.code, 1);
});

test("viz edges: vote-bot → web and web → emoji with identities; emoji's refused scrape is a warning", { skip }, async () => {
  const r = await meshNow(["viz", "edges", "deploy", "-n", ns, "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const edges = JSON.parse(r.stdout) as Record<string, string>[];
  const short = `default.${ns}`;
  assert.deepEqual(
    edges.map((e) => [e.src, e.dst, e.src_namespace, e.dst_namespace, e.client_id, e.server_id, e.no_tls_reason]),
    [
      ["vote-bot", "web", ns, ns, short, short, ""],
      ["web", "emoji", ns, ns, short, short, ""],
    ],
  );
  const wide = await meshNow(["viz", "edges", "deploy", "-n", ns, "-o", "wide"]);
  assert.match(wide.stdout, /^SRC +DST +SRC_NS +DST_NS +CLIENT_ID +SERVER_ID +SECURED\n/);
  assert.match(wide.stdout, new RegExp(`^vote-bot +web +${ns} +${ns} +${short.replace(".", "\\.")} +${short.replace(".", "\\.")} +√ +$`, "m"));
});

test("viz list: web writes an access log, emoji and vote-bot do not", { skip }, async () => {
  const r = await mesh(["viz", "list", "-n", ns]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Pods with tap enabled:\n\t\\* ${ns}/web-[^\n]+\nPods missing tap configuration \\(restart these pods to enable tap\\):\n\t\\* ${ns}/emoji-[^\n]+\n\t\\* ${ns}/vote-bot-[^\n]+\n$`));
});

test("viz install | kubectl apply: a member of --group can run viz stat and pass viz check; nobody cannot", { skip }, async () => {
  const rendered = await mesh(["viz", "install", "--group", group, "--name", roleName]);
  assert.equal(rendered.code, 0, rendered.stderr);
  await c.kubectl(["apply", "-f", "-"], { stdin: rendered.stdout });
  const member = ["--as", `jane-${tag}`, "--as-group", group];
  // RBAC takes effect at once, but give the authorizer's cache a moment.
  let stat = await meshNow([...member, "viz", "stat", "deploy", "-n", ns, "--interval", "1s", "-o", "json"]);
  for (let i = 0; i < 10 && stat.code !== 0; i++) {
    await new Promise((res) => setTimeout(res, 500));
    stat = await meshNow([...member, "viz", "stat", "deploy", "-n", ns, "--interval", "1s", "-o", "json"]);
  }
  assert.equal(stat.code, 0, stat.stderr);
  assert.deepEqual((JSON.parse(stat.stdout) as { name: string }[]).map((x) => x.name), ["emoji", "vote-bot", "web"]);
  const check = await mesh([...member, "viz", "check", "-n", ns]);
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /√ can read proxy metrics \(pods\/proxy\)/);

  const nobody = await meshNow(["--as", "mesh-nobody", "viz", "stat", "deploy", "-n", ns, "--interval", "1s"]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /^error: .*forbidden.*\n/i);
  const nobodyCheck = await mesh(["--as", "mesh-nobody", "viz", "check", "-n", ns, "-o", "json"]);
  assert.equal(nobodyCheck.code, 1);
  const failed = JSON.parse(nobodyCheck.stdout).categories[0].checks.filter((x: { result: string }) => x.result !== "success");
  assert.ok(failed.some((x: { description: string; error: string }) => x.description === "can read proxy metrics (pods/proxy)" && /get pods\/proxy/.test(x.error)), JSON.stringify(failed));

  const gone = await mesh(["viz", "uninstall", "--group", group, "--name", roleName]);
  assert.equal(gone.stdout, rendered.stdout);
  const del = await c.kubectl(["delete", "-f", "-"], { stdin: gone.stdout });
  assert.match(del.stdout, new RegExp(`clusterrole.rbac.authorization.k8s.io "${roleName}" deleted`));
});

test("viz check --proxy: emoji's admin port refused by its policy (403) is reported as such, with the fix", { skip }, async () => {
  const r = await mesh(["viz", "check", "--proxy", "-n", ns]);
  assert.equal(r.code, 0, r.stdout); // warnings only
  assert.match(r.stdout, /‼ data plane proxies' admin endpoints answer\n {4}admin endpoint not authorized by policy \(the proxy answered 403\):\n\t\* [^/]+\/emoji-[^\n]+\n {4}their inbound policy refuses plaintext requests/);
  assert.match(r.stdout, /‼ data plane proxies write the access log tap and top read\n {4}no access log[^\n]*\n\t\* [^/]+\/emoji-/);
  assert.match(r.stdout, /Status check results are √\n$/);
});
