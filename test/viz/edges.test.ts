import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { computeEdges, podIdentity, shortIdentity } from "../../src/viz/edges.js";
import { expectGolden } from "../helpers/golden.js";
import { fakeMesh, list, pod, type Fake } from "./fake-mesh.js";

// One scrape of every meshed pod: vote-bot → web, web → emoji (emojivoto), prometheus (linkerd-viz)
// → web over plaintext, and an edge entirely inside another namespace.
const id = (sa: string, ns: string) => `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`;
const out = (dst: Record<string, string>, tls: string, n: number) =>
  `tcp_open_connections{direction="outbound",peer="dst",authority="x:80",target_addr="10.0.0.1:80",target_ip="10.0.0.1",target_port="80",${tls},${Object.entries(dst)
    .map(([k, v]) => `dst_${k}="${v}"`)
    .join(",")}} ${n}`;
const secured = (sa: string, ns: string) => `tls="true",server_id="${id(sa, ns)}"`;
const payload = (...lines: string[]) => ["# TYPE tcp_open_connections gauge", 'tcp_open_connections{direction="inbound",peer="src",target_addr="10.0.0.2:8080",target_ip="10.0.0.2",target_port="8080",tls="true",client_id="x",srv_group="",srv_kind="default",srv_name="all-unauthenticated"} 4', ...lines, ""].join("\n");

function fake(): Fake {
  const pods = [
    pod("emojivoto", "vote-bot-1", "vote-bot", { sa: "default" }),
    pod("emojivoto", "web-1", "web"),
    pod("emojivoto", "emoji-1", "emoji"),
    pod("linkerd-viz", "prometheus-1", "prometheus"),
    pod("other", "a-1", "a"),
    pod("other", "b-1", "b"),
    pod("other", "plain-1", "plain", { meshed: false }),
  ];
  return fakeMesh({
    objects: { "/api/v1/pods": list(pods) },
    metrics: {
      "emojivoto/vote-bot-1": [payload(out({ deployment: "web", namespace: "emojivoto", pod: "web-1" }, secured("web", "emojivoto"), 1))],
      "emojivoto/web-1": [
        payload(
          out({ deployment: "emoji", namespace: "emojivoto", pod: "emoji-1" }, secured("emoji", "emojivoto"), 2),
          // a closed connection: zero, dropped
          out({ deployment: "voting", namespace: "emojivoto", pod: "voting-1" }, secured("voting", "emojivoto"), 0),
        ),
      ],
      "emojivoto/emoji-1": [payload()],
      "linkerd-viz/prometheus-1": [payload(out({ deployment: "web", namespace: "emojivoto", pod: "web-1" }, 'tls="no_identity",no_tls_reason="not_provided_by_service_discovery"', 1))],
      "other/a-1": [payload(out({ deployment: "b", namespace: "other", pod: "b-1" }, 'tls="no_identity",no_tls_reason="ingress_without_override"', 1))],
      "other/b-1": [payload()],
    },
  });
}

async function edges(args: string[], f: Fake = fake()) {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: f.now, env: {}, cluster: async () => f.cluster };
  const code = await run(["viz", "edges", ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

test("edges deploy -n emojivoto: edges that start or end in the namespace, sorted by namespaces then names", async () => {
  const r = await edges(["deploy", "-n", "emojivoto"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/edges-deploy.txt", r.stdout);
  assert.equal(
    r.stdout,
    [
      "SRC          DST     SRC_NS        DST_NS      SECURED                          ",
      "vote-bot     web     emojivoto     emojivoto   √                                ",
      "web          emoji   emojivoto     emojivoto   √                                ",
      "prometheus   web     linkerd-viz   emojivoto   Not Provided By Service Discovery",
      "",
    ].join("\n"),
  );
});

test("edges -o wide: CLIENT_ID from the source pod's proxy env, SERVER_ID from the series, both shortened", async () => {
  const r = await edges(["deploy", "-n", "emojivoto", "-o", "wide"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/edges-deploy-wide.txt", r.stdout);
  assert.match(r.stdout, /^vote-bot +web +emojivoto +emojivoto +default\.emojivoto +web\.emojivoto +√ +$/m);
});

test("edges -A -o json: every namespace; an unmapped no-TLS reason counts as secured (Linkerd's quirk)", async () => {
  const r = await edges(["po", "-A", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/edges-po-all.json", r.stdout);
  const rows = JSON.parse(r.stdout) as Record<string, string>[];
  assert.deepEqual(rows.map((e) => `${e.src_namespace}/${e.src}>${e.dst}`), ["emojivoto/vote-bot-1>web-1", "emojivoto/web-1>emoji-1", "linkerd-viz/prometheus-1>web-1", "other/a-1>b-1"]);
  assert.deepEqual(Object.keys(rows[0]), ["src", "src_namespace", "dst", "dst_namespace", "client_id", "server_id", "no_tls_reason"]);
  assert.equal(rows[3].no_tls_reason, "");
  assert.equal(rows[0].client_id, "default.emojivoto");
});

test("no edges: 'No edges found.' on stderr, exit 0; JSON prints []", async () => {
  const r = await edges(["sts", "-n", "emojivoto"]);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", "No edges found.\n"]);
  const j = await edges(["sts", "-n", "emojivoto", "-o", "json"]);
  assert.deepEqual([j.code, j.stdout], [0, "[]\n"]);
});

test("edges: usage errors (exit 2) with Linkerd's words", async () => {
  const cases: [string[], RegExp][] = [
    [["deploy/web"], /Edges cannot be returned for a specific resource name; remove web from query/],
    [["svc"], /Resource type is not supported: service/],
    [["au"], /Resource type is not supported: authority/],
    [["all"], /Resource type is not supported: all/],
    [["deploy", "-o", "yaml"], /--output supports table, json and wide/],
    [["deploy", "po"], /exactly one resource type/],
    [["deploy", "-A", "-n", "x"], /mutually exclusive/],
    [["deploy", "--prometheus-url", "ftp://prometheus:9090"], /--prometheus-url must be an http:\/\/ or https:\/\/ URL/],
  ];
  for (const [args, re] of cases) {
    const r = await edges(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test("computeEdges: the first group decides; a source pod that is not running is skipped for that group only", () => {
  const c = (labels: Record<string, string>, v: number) => new Map([[Object.freeze({ direction: "outbound", ...labels }), v]]);
  const edges = computeEdges(
    [
      { attached: { namespace: "n", pod: "a-1", deployment: "a" }, connections: c({ dst_deployment: "b", dst_namespace: "n", server_id: "b.n.x" }, 1) },
      { attached: { namespace: "n", pod: "a-2", deployment: "a" }, connections: c({ dst_deployment: "b", dst_namespace: "n", server_id: "b.n.x" }, 1) },
    ],
    { type: "deployment", namespace: "n" },
    (pod) => (pod === "a-1" ? undefined : "a.n.x"),
  );
  assert.deepEqual(edges, [{ src: "a", srcNamespace: "n", dst: "b", dstNamespace: "n", clientId: "a.n.x", serverId: "b.n.x", msg: "" }]);
  assert.equal(shortIdentity("web.emojivoto.serviceaccount.identity.linkerd.cluster.local"), "web.emojivoto");
  assert.equal(podIdentity(pod("x", "p", "app", { phase: "Pending" }) as never), undefined);
  assert.equal(podIdentity(pod("x", "p", "app") as never), "app.x.serviceaccount.identity.linkerd.cluster.local");
});
