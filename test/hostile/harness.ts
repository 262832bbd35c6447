// The hostile-input suite's tools: a fake API server on loopback that can answer anything (any
// status, body, shape, size, delay or escape sequence), kubeconfigs and exec plugins written
// into a temp dir, mesh run in-process (runMesh with the real connect()) or as a process (the
// source through tsx, so that no shared dist/ is needed), and one assertion of what every
// hostile case must hold: exit code, one clear error line naming the input, nothing partial on
// stdout, no stack trace, no secret on either stream, and a bound on time.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../src/kube/cluster.js";
import { runMesh, type RunResult } from "../helpers/run.js";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, "..", "..");
export const fixture = (name: string) => join(here, "fixtures", name);
export const certFixture = (name: string) => readFileSync(join(ROOT, "test", "fixtures", "certs", name), "utf8");

/** The token every hostile kubeconfig carries: it must never appear on stdout or stderr. */
export const TOKEN = "s3cr3t-T0KEN-never-print-me";

export function tempDir(prefix = "mesh-hostile-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface FakeServer {
  url: string;
  port: number;
  /** Requests seen: method, path and Authorization header. */
  seen: { method: string; path: string; auth?: string }[];
  close(): Promise<void>;
}

/** A plain-HTTP server on 127.0.0.1 whose every answer `handler` chooses. */
export async function fakeServer(handler: Handler, tls?: { key: string; cert: string }): Promise<FakeServer> {
  const seen: FakeServer["seen"] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", auth: req.headers.authorization });
      void Promise.resolve(handler(req, res, body)).catch(() => res.destroy());
    });
  };
  const s = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    seen,
    close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))),
  };
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

/** A server that answers like an empty, healthy cluster unless `override` answers first. */
export function apiHandler(override?: (path: string, req: IncomingMessage, res: ServerResponse) => boolean | void): Handler {
  return (req, res) => {
    const path = req.url ?? "";
    if (override?.(path, req, res)) return;
    if (path === "/version") return json(res, 200, { major: "1", minor: "29", gitVersion: "v1.29.6" });
    if (req.method === "POST" && path.includes("selfsubjectaccessreviews")) return json(res, 201, { status: { allowed: true } });
    if (/\/[a-z]+$/.test(path.split("?")[0]) && !/\/namespaces\/[^/]+$/.test(path.split("?")[0])) return json(res, 200, { kind: "List", items: [] });
    json(res, 404, { kind: "Status", message: "not found", code: 404 });
  };
}

/** A kubeconfig for `server` with `user` (YAML lines under `user:`, indented 4), written to a temp dir. */
export function kubeconfig(server: string, user = `    token: ${TOKEN}`, dir = tempDir()): string {
  const file = join(dir, "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: hostile
  cluster:
    server: ${server}
users:
- name: victim
  user:
${user}
contexts:
- name: ctx
  context: {cluster: hostile, user: victim}
current-context: ctx
`,
  );
  return file;
}

/** An executable shell script in `dir` (an exec credential plugin). */
export function script(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

export interface Timed extends RunResult {
  ms: number;
  /**
   * Peak resident memory in MiB: of the mesh process (meshProcess), or of this test process,
   * which ran mesh in-process (meshIn: getrusage's peak only grows, so it bounds that run too).
   */
  maxRssMb: number;
}

/** What a hostile case may cost in memory unless it says otherwise (a 520 MiB body once took 1.1 GB). */
export const DEFAULT_MAX_RSS_MB = 768;

/** mesh in-process, connecting for real (kubeconfig, exec plugins, HTTP) through connect(). */
export async function meshIn(argv: string[], opts: { stdin?: string; maxBodyBytes?: number } = {}): Promise<Timed> {
  const start = Date.now();
  const r = await runMesh(argv, { stdin: opts.stdin, cluster: (g) => connect(g, { maxBodyBytes: opts.maxBodyBytes }) });
  return { ...r, ms: Date.now() - start, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

/**
 * mesh as a process (the source through tsx, as bin/mesh.js runs dist/), for what only a process
 * shows: that it exits (no plugin, FIFO or socket keeps it alive), stdin from a file descriptor.
 * Killed after `killAfterMs` (then `code` is -1).
 */
export function meshProcess(argv: string[], opts: { env?: NodeJS.ProcessEnv; stdinFile?: string; killAfterMs?: number; cwd?: string } = {}): Promise<Timed> {
  const start = Date.now();
  return new Promise((resolve) => {
    const stdio: ("pipe" | "ignore" | number)[] = ["ignore", "pipe", "pipe"];
    let fd: number | undefined;
    if (opts.stdinFile) {
      // a file descriptor of the path (a directory opens read-only too)
      fd = (process.getBuiltinModule("node:fs") as typeof import("node:fs")).openSync(opts.stdinFile, "r");
      stdio[0] = fd;
    }
    const rssFile = join(tempDir("mesh-hostile-rss-"), "maxrss");
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "main.ts"), ...argv], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: "1", ...opts.env, MESH_HOSTILE_RSS_FILE: rssFile }, stdio });
    if (fd !== undefined) (process.getBuiltinModule("node:fs") as typeof import("node:fs")).closeSync(fd);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
      // a process killed by the timer wrote nothing: its peak is unknown, and the case fails on its code
      const kib = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, "utf8")) : 0;
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - start, maxRssMb: kib / 1024 });
    });
  });
}

export interface Expect {
  code: number;
  /** The error line (after `error: `) must match. */
  message: RegExp;
  /** Text that must appear on neither stream (the kubeconfig token is always checked). */
  secrets?: string[];
  /** Upper bound on the run's wall-clock time. */
  maxMs: number;
  /** Upper bound on peak memory (default DEFAULT_MAX_RSS_MB). */
  maxRssMb?: number;
  /** What stdout may hold: "" (the default: nothing, not even partial output) or a pattern. */
  stdout?: string | RegExp;
}

/** What every hostile case must hold. */
export function expectClean(r: Timed, e: Expect): void {
  const ctx = `\n--- stdout ---\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`;
  assert.equal(r.code, e.code, `exit code ${r.code}, expected ${e.code}${ctx}`);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
  assert.equal(errors.length, 1, `expected exactly one error line${ctx}`);
  assert.match(errors[0].slice("error: ".length), e.message, `error line${ctx}`);
  for (const line of r.stderr.split("\n")) assert.ok(line.length <= 500, `a stderr line of ${line.length} characters${ctx}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n|^\s+at /m, `a stack trace on stderr${ctx}`);
  assert.doesNotMatch(r.stderr, /\(node:\d+\) |Warning:/, `a Node warning on stderr${ctx}`);
  assert.doesNotMatch(r.stderr + r.stdout, /\x1b|\x07|\r/, `escape or control characters reached the terminal${ctx}`);
  for (const secret of [TOKEN, ...(e.secrets ?? [])]) {
    assert.ok(!r.stdout.includes(secret), `secret "${secret}" on stdout${ctx}`);
    assert.ok(!r.stderr.includes(secret), `secret "${secret}" on stderr${ctx}`);
  }
  const out = e.stdout ?? "";
  if (typeof out === "string") assert.equal(r.stdout, out, `stdout${ctx}`);
  else assert.match(r.stdout, out, `stdout${ctx}`);
  assert.ok(r.ms <= e.maxMs, `took ${r.ms} ms, bound ${e.maxMs} ms${ctx}`);
  assertMemory(r, e.maxRssMb);
}

function assertMemory(r: Timed, bound = DEFAULT_MAX_RSS_MB): void {
  assert.ok(r.maxRssMb <= bound, `peak memory ${r.maxRssMb.toFixed(0)} MiB, bound ${bound} MiB`);
}

/** A check run must end with its status line, whatever failed. */
export function expectCheckEnds(r: Timed, e: { failing: RegExp; maxMs: number; secrets?: string[]; maxRssMb?: number }): void {
  const ctx = `\n--- stdout ---\n${r.stdout.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`;
  assert.equal(r.code, 1, `exit code${ctx}`);
  assert.match(r.stdout, e.failing, `the failing check's message${ctx}`);
  assert.match(r.stdout.trimEnd().split("\n").pop() ?? "", /^Status check results are/, `the final status line${ctx}`);
  assert.doesNotMatch(r.stdout + r.stderr, /\x1b|is not a function|Cannot read properties|\n\s+at .+:\d+:\d+/, `a crash or escape sequence${ctx}`);
  for (const secret of [TOKEN, ...(e.secrets ?? [])]) assert.ok(!(r.stdout + r.stderr).includes(secret), `secret "${secret}"${ctx}`);
  assert.ok(r.ms <= e.maxMs, `took ${r.ms} ms, bound ${e.maxMs} ms${ctx}`);
  assertMemory(r, e.maxRssMb);
}

/** A minimal Deployment, to give inject something to do. */
export const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`;
