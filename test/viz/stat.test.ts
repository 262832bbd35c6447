import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { apiError } from "../../src/kube/errors.js";
import type { Cluster } from "../../src/kube/cluster.js";
import { expectGolden } from "../helpers/golden.js";
import { payload, type PodTraffic } from "./payload.js";

// A namespace with three Deployments, scraped twice 10 s apart (by the fake clock):
//   web:      web-1 (steady) and web-2 (started between the scrapes; its first scrape 404s)
//   vote-bot: no traffic but mesh's own scrapes (which are discounted)
//   emoji:    its proxy restarted 6 s before the second scrape
const T0 = 1_717_171_300_000;
const S0 = T0 / 1000;

const meta = (name: string, uid: string, labels: Record<string, string>, owner?: string) => ({
  name,
  namespace: "emojivoto",
  uid,
  labels,
  ...(owner ? { ownerReferences: [{ kind: "X", name: owner, uid: `uid-${owner}` }] } : {}),
});
const deployment = (app: string) => ({ metadata: meta(app, `uid-${app}`, { app }), spec: { selector: { matchLabels: { app } } } });
const replicaSet = (app: string) => ({ metadata: meta(`${app}-rs`, `uid-${app}-rs`, { app }, app), spec: { selector: { matchLabels: { app } } } });
const pod = (name: string, app: string, ip: string, extra: Record<string, string> = {}) => ({
  metadata: meta(name, `uid-${name}`, { app, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": app, ...extra }, `${app}-rs`),
  spec: { containers: [{ name: app }, { name: "linkerd-proxy", ports: [{ name: "linkerd-admin", containerPort: 4191 }] }] },
  status: { phase: "Running", podIP: ip, containerStatuses: [{ name: "linkerd-proxy", ready: true, state: { running: {} } }] },
});

function traffic(version = "2.210.4"): Record<string, [PodTraffic | null, PodTraffic]> {
  const web1A: PodTraffic = { ip: "10.42.0.21", success: 1000, failure: 50, latency: { "5": 500, "10": 900, "20": 1000, "30": 1050 }, admin: 20, readBytes: 10_000, adminReadBytes: 100, writeBytes: 50_000, adminWriteBytes: 0, start: S0 - 3600, out: { success: 2000, failure: 5, pod: "emoji-1", readBytes: 0, writeBytes: 0 } };
  const bodyA = Buffer.byteLength(payload(web1A));
  return {
    "web-1": [web1A, { ...web1A, success: 1160, failure: 60, latency: { "5": 585, "10": 1053, "20": 1168, "30": 1220 }, admin: 21, readBytes: 12_000, adminReadBytes: 600, writeBytes: 62_000, adminWriteBytes: bodyA + 300, conns: { src: 3, dst: 1, admin: 1, out: 1 }, out: { success: 2095, failure: 10, pod: "emoji-1", readBytes: 0, writeBytes: 0 } }],
    "web-2": [null, { ip: "10.42.0.22", success: 40, failure: 0, latency: { "5": 40 }, admin: 0, start: S0 + 2, conns: { src: 1, dst: 0, admin: 0, out: 0 } }],
    "vote-bot-1": [{ ip: "10.42.0.17", success: 0, failure: 0, admin: 5, start: S0 - 3600 }, { ip: "10.42.0.17", success: 0, failure: 0, admin: 6, start: S0 - 3600 }],
    "emoji-1": [{ ip: "10.42.0.19", success: 5000, failure: 0, admin: 40, start: S0 - 3600 }, { ip: "10.42.0.19", success: 30, failure: 0, latency: { "1": 30 }, admin: 0, start: S0 + 4, version }],
  };
}

interface Fake {
  cluster: Cluster;
  now: () => Date;
  paths: string[];
}

function fakeCluster(opts: { version?: string; fail?: (path: string) => { status: number; body: string } | undefined; body?: (path: string) => string | undefined } = {}): Fake {
  const t = traffic(opts.version);
  const fetches = new Map<string, number>();
  let phase = 0;
  const paths: string[] = [];
  const list = (items: unknown[]) => JSON.stringify({ items });
  const routes: Record<string, string> = {
    "/api/v1/namespaces/emojivoto/pods": list([pod("web-1", "web", "10.42.0.21"), pod("web-2", "web", "10.42.0.22"), pod("vote-bot-1", "vote-bot", "10.42.0.17"), pod("emoji-1", "emoji", "10.42.0.19")]),
    "/apis/apps/v1/namespaces/emojivoto/deployments": list(["emoji", "vote-bot", "web"].map(deployment)),
    "/apis/apps/v1/namespaces/emojivoto/replicasets": list(["emoji", "vote-bot", "web"].map(replicaSet)),
    "/api/v1/namespaces/linkerd/configmaps/linkerd-config": JSON.stringify({ metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\nclusterDomain: cluster.local\n" } }),
    "/api/v1/namespaces/linkerd/pods": list([]),
  };
  const cluster: Cluster = {
    server: "https://fake",
    async getJson() {
      throw new Error("unused");
    },
    async controlPlaneVersion() {
      return "stable-2.14.10";
    },
    async getText(path: string) {
      paths.push(path);
      const failure = opts.fail?.(path);
      if (failure) throw apiError(failure.status, "GET", path, failure.body);
      const override = opts.body?.(path);
      if (override !== undefined) return override;
      const m = /^\/api\/v1\/namespaces\/emojivoto\/pods\/([^/:]+):4191\/proxy\/metrics$/.exec(path);
      if (m) {
        const n = fetches.get(m[1]) ?? 0;
        fetches.set(m[1], n + 1);
        phase = Math.max(phase, Math.min(n, 1));
        const p = t[m[1]]?.[Math.min(n, 1)];
        if (!p) throw apiError(404, "GET", path, JSON.stringify({ message: `pods "${m[1]}" not found` }));
        return payload(p);
      }
      const body = routes[path.split("?")[0]];
      if (body === undefined) throw apiError(404, "GET", path, JSON.stringify({ message: "the server could not find the requested resource" }));
      return body;
    },
  };
  return { cluster, now: () => new Date(T0 + phase * 10_000), paths };
}

async function stat(args: string[], fake: Fake = fakeCluster()) {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: fake.now, env: {}, cluster: async () => fake.cluster };
  const code = await run(["viz", "stat", "--interval", "5ms", ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

test("stat deploy: numbers computed by hand from the two scrapes", async () => {
  const r = await stat(["deploy", "-n", "emojivoto", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, number | string | null>[];
  assert.deepEqual(rows.map((x) => x.name), ["emoji", "vote-bot", "web"]);
  const [emoji, voteBot, web] = rows;
  // web: web-1 +160 ok/+10 failed over 10 s, web-2 (new) 40 ok over 8 s → 200/(200+10), 17 + 5 rps
  assert.equal(web.success, 200 / 210);
  assert.equal(web.rps, 22);
  // merged latency Δ: le5 125, le10 193, le20 208, le30 210 → p50 4.84, p95 14.33, p99 19.93
  assert.deepEqual([web.latency_ms_p50, web.latency_ms_p95, web.latency_ms_p99], [5, 14, 20]);
  // TCP_CONN: web-1's src 3 + loopback 1 + admin 1, web-2's 1 (no peer filter)
  assert.equal(web.tcp_open_connections, 6);
  // bytes, peer="src" only: (2000 app + 500 admin)/10; writes 12000 + (admin Δ − mesh's own body) 300
  assert.equal(web.tcp_read_bytes_rate, 250);
  assert.equal(web.tcp_write_bytes_rate, 1230);
  // vote-bot: only mesh's own scrape reached it → no request data
  assert.equal(voteBot.success, null);
  assert.equal("tcp_open_connections" in voteBot, false);
  // emoji restarted 6 s before the second scrape: 30 requests since → 5 rps; all under 1 ms
  assert.equal(emoji.rps, 5);
  assert.equal(emoji.success, 1);
  assert.deepEqual([emoji.latency_ms_p50, emoji.latency_ms_p95, emoji.latency_ms_p99], [1, 1, 1]);
  // web-2's failed first scrape is reported once
  assert.match(r.stderr, /^warning: cannot scrape pod emojivoto\/web-2: pod not found \(deleted\?\); skipping it\n$/);
  for (const row of rows) for (const v of Object.values(row)) if (typeof v === "number") assert.ok(v >= 0);
});

test("stat deploy: table, wide and json goldens", async () => {
  const table = await stat(["deploy", "-n", "emojivoto"]);
  assert.equal(table.code, 0);
  expectGolden("viz/stat-deploy.txt", table.stdout);
  assert.match(table.stdout, /^web +2\/2 +95\.24% +22\.0rps +5ms +14ms +20ms +6$/m);
  assert.match(table.stdout, /^vote-bot +1\/1( +-){6}$/m);
  const wide = await stat(["deploy", "-n", "emojivoto", "-o", "wide"]);
  expectGolden("viz/stat-deploy-wide.txt", wide.stdout);
  assert.match(wide.stdout, /^web .* 250\.0B\/s +1230\.0B\/s +2\.210\.4$/m);
  const json = await stat(["deploy", "-n", "emojivoto", "-o", "json"]);
  expectGolden("viz/stat-deploy.json", json.stdout);
});

test("stat deploy/web --to deploy/emoji: outbound series only, only objects with metrics", async () => {
  const r = await stat(["deploy/web", "--to", "deploy/emoji", "-n", "emojivoto", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.equal(rows.length, 1);
  // +95 success, +5 failure over 10 s; one outbound connection to emoji
  assert.equal(rows[0].success, 0.95);
  assert.equal(rows[0].rps, 10);
  assert.equal(rows[0].tcp_open_connections, 1);
});

test("stat po: a STATUS column and one row per pod", async () => {
  const r = await stat(["po", "-n", "emojivoto"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/stat-po.txt", r.stdout);
  assert.match(r.stdout, /^NAME +STATUS +MESHED/);
  assert.match(r.stdout, /^web-1 +Running +1\/1 +94\.12% +17\.0rps/m);
});

test("stat au: rows from the inbound authority label", async () => {
  const r = await stat(["au", "-n", "emojivoto", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.deepEqual(rows.map((x: { name: string; kind: string }) => [x.kind, x.name]), [["authority", "web-svc.emojivoto.svc.cluster.local:80"]]);
  // emoji's 30 requests also came through web-svc's authority in this payload: 200+30 ok, 10 failed
  assert.equal(rows[0].success, 230 / 240);
});

test("--proxy-version-mismatch: only workloads on another proxy version, with their fix", async () => {
  const r = await stat(["deploy", "-n", "emojivoto", "--proxy-version-mismatch"], fakeCluster({ version: "2.203.1" }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^emoji .* 2\.203\.1$/m);
  assert.doesNotMatch(r.stdout, /^web /m);
  assert.match(r.stdout, /kubectl rollout restart deployment\/emoji -n emojivoto\n$/);
  const none = await stat(["deploy", "-n", "emojivoto", "--proxy-version-mismatch"]);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /No proxies differ from the control plane's version \(2\.210\.4\)/);
});

test("no rows: 'No traffic found.' on stderr, exit 0; JSON prints []", async () => {
  const empty = (p: string) => (p.includes("/deployments") ? JSON.stringify({ items: [] }) : undefined);
  const r = await stat(["deploy", "-n", "emojivoto"], fakeCluster({ body: empty }));
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", "No traffic found.\n"]);
  const j = await stat(["deploy", "-n", "emojivoto", "-o", "json"], fakeCluster({ body: empty }));
  assert.deepEqual([j.code, j.stdout, j.stderr], [0, "[]\n", ""]);
});

test("stat rs: Deployment-owned ReplicaSets have rows but no stats (the pods carry no replicaset label)", async () => {
  const r = await stat(["rs", "-n", "emojivoto", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.deepEqual(rows.map((x: { name: string }) => x.name), ["emoji-rs", "vote-bot-rs", "web-rs"]);
  assert.ok(rows.every((x: { success: unknown }) => x.success === null));
});

test("every flag conflict and bad value is a one-line usage error (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [[], /error: no resource given/],
    [["deploy", "-t", "10s"], /error: metrics time window needs to be at least 15s/],
    [["deploy", "-t", "soon"], /error: invalid --time-window "soon"/],
    [["deploy", "--to", "deploy/a", "--from", "deploy/b"], /--to and --from flags are mutually exclusive/],
    [["deploy", "--to-namespace", "a", "--from-namespace", "b"], /--to-namespace and --from-namespace flags are mutually exclusive/],
    [["deploy", "-A", "-n", "x"], /-A\/--all-namespaces and -n\/--namespace flags are mutually exclusive/],
    [["ns", "-n", "x"], /-n\/--namespace cannot be used with namespace resources/],
    [["ns", "--to-namespace", "x", "--to", "deploy/a"], /--to-namespace cannot be used with namespace resources/],
    [["ns", "--from-namespace", "x", "--from", "deploy/a"], /--from-namespace cannot be used with namespace resources/],
    [["deploy", "--from", "svc/web-svc"], /service is not supported as a target on 'from' queries, or as a target with 'to' queries/],
    [["deploy", "--from", "au/web:80"], /cannot query traffic --from an authority/],
    [["deploy", "--to", "all"], /'all' is not a valid --to resource/],
    [["deploy", "--to", "srv/web"], /--to is not supported with policy resources \(server\)/],
    [["deploy", "-o", "yaml"], /output format "yaml" is not supported/],
    [["widgets"], /unknown resource type "widgets"/],
    [["deploy/a", "deploy/a"], /duplicate resource deploy\/a/],
    [["all", "deploy"], /'all' can't be supplied alongside other resources/],
    [["srv"], /mesh viz stat does not support server resources yet/],
    [["deploy", "--interval", "0s"], /--interval must be greater than 0/],
  ];
  for (const [args, re] of cases) {
    const r = await stat(["-n", "emojivoto", ...args].filter((a, i, all) => !(args.includes("-A") && (a === "-n" || all[i - 1] === "-n") && i < 2)));
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    assert.equal(r.stdout, "");
  }
});

test("API errors exit 1: a missing named object, RBAC on pods, a forbidden scrape", async () => {
  const missing = await stat(["deploy/nope", "-n", "emojivoto"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: deployment "nope" not found in namespace "emojivoto"/);
  const rbac = await stat(["deploy", "-n", "emojivoto"], fakeCluster({ fail: (p) => (p.split("?")[0].endsWith("/pods") ? { status: 403, body: JSON.stringify({ message: 'pods is forbidden: User "viewer" cannot list resource "pods"' }) } : undefined) }));
  assert.equal(rbac.code, 1);
  assert.match(rbac.stderr, /error: pods is forbidden/);
  const policy = await stat(["deploy/web", "-n", "emojivoto", "-o", "json"], fakeCluster({ fail: (p) => (p.includes("web-1:4191") ? { status: 403, body: "" } : undefined) }));
  assert.equal(policy.code, 0);
  assert.match(policy.stderr, /cannot scrape pod emojivoto\/web-1: admin endpoint not authorized by policy/);
  assert.equal(policy.stderr.match(/web-1/g)!.length, 1); // once, though scraped twice
  const malformed = await stat(["deploy/web", "-n", "emojivoto", "-o", "json"], fakeCluster({ body: (p) => (p.includes("web-1:4191") ? "<html>oops</html>\n" : undefined) }));
  assert.equal(malformed.code, 0);
  assert.match(malformed.stderr, /cannot scrape pod emojivoto\/web-1: malformed metrics: line 1: expected a metric name/);
  // web-2 alone (new since the first scrape): 40 requests over 8 s
  assert.equal(JSON.parse(malformed.stdout)[0].rps, 5);
});
