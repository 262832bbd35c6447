/**
 * The cluster supervisor: creates the pod network, starts the control plane,
 * the stand-in server (inside the network namespace) and the kubelet stand-in,
 * writes the state file, and tears everything down on SIGTERM/SIGINT/SIGHUP or,
 * with --watch-stdin, when its stdin closes (its parent went away).
 *
 * Usage: daemon.ts --state FILE --run-dir DIR [--watch-stdin] [--remove-run-dir]
 * Prints one JSON line on stdout: {"ready":true,"state":FILE} or {"ready":false,"error":...}.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBinaries } from "./build.js";
import { removeStaleEtcdDirs, startControlPlane, stopManaged, type ControlPlane } from "./control-plane.js";
import { KubeletStandin, StandinChannel } from "./kubelet.js";
import { createPodNetwork, destroyPodNetwork, IpAllocator, type PodNetwork } from "./netns.js";
import { binPath, kubeVersion } from "./paths.js";
import type { ClusterState } from "./state.js";

const { values: args } = parseArgs({
  options: {
    state: { type: "string" },
    "run-dir": { type: "string" },
    "watch-stdin": { type: "boolean", default: false },
    "remove-run-dir": { type: "boolean", default: false },
  },
});

const KUBELET_PORT = 10250;
const NODE_NAME = "mesh-node-0";
const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();

function log(msg: string): void {
  process.stderr.write(`[cluster ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
}

let net: PodNetwork | undefined;
let cp: ControlPlane | undefined;
let standinChild: ChildProcess | undefined;
let kubelet: KubeletStandin | undefined;
let stopping: Promise<void> | undefined;

async function startStandin(runDir: string, network: PodNetwork, cert: string, key: string): Promise<StandinChannel> {
  const logStream = createWriteStream(join(runDir, "logs", "standin.log"), { flags: "a" });
  const tsx = import.meta.resolve("tsx");
  const child = spawn(
    "/usr/bin/setpriv",
    [
      "--pdeathsig", "KILL", "--",
      "ip", "netns", "exec", network.netns,
      process.execPath, "--import", tsx, join(here, "standin-server.ts"),
      "--node-ip", network.nodeIp,
      "--kubelet-port", String(KUBELET_PORT),
      "--cert", cert,
      "--key", key,
      "--client-ip", network.hostIp,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  child.stderr!.pipe(logStream);
  standinChild = child;
  const channel = new StandinChannel(child);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`stand-in server exited with ${code}; see ${join(runDir, "logs", "standin.log")}`))),
  );
  exited.catch(() => {});
  await Promise.race([channel.ready, exited]);
  return channel;
}

async function main(): Promise<void> {
  const statePath = args.state!;
  const runDir = args["run-dir"]!;
  await mkdir(join(runDir, "logs"), { recursive: true });
  const binDir = await ensureBinaries();

  await removeStaleEtcdDirs();
  net = await createPodNetwork();
  log(`pod network ${net.prefix}.0.0/16 in netns ${net.netns}`);
  cp = await startControlPlane({
    runDir,
    binDir,
    log,
    etcdDir: `/dev/shm/mesh-etcd-${process.pid}`,
    advertiseAddress: net.hostIp,
  });
  const channel = await startStandin(runDir, net, cp.certFile, cp.keyFile);
  kubelet = new KubeletStandin({
    rest: cp.admin,
    nodeName: NODE_NAME,
    nodeIp: net.nodeIp,
    kubeletPort: KUBELET_PORT,
    podCidr: `${net.prefix}.0.0/16`,
    ips: new IpAllocator(net.prefix),
    standin: channel,
    log,
  });
  await kubelet.start();
  await waitForDefaultServiceAccount(cp);

  const state: ClusterState = {
    version: 1,
    pid: process.pid,
    ready: true,
    runDir,
    server: cp.server,
    caFile: cp.caFile,
    certFile: cp.certFile,
    keyFile: cp.keyFile,
    users: cp.users as ClusterState["users"],
    kubeVersion: kubeVersion(),
    kubectl: binPath("kubectl"),
    binDir,
    netns: net.netns,
    hostIp: net.hostIp,
    nodeName: NODE_NAME,
    nodeIp: net.nodeIp,
    kubeletPort: KUBELET_PORT,
    processes: [
      ...cp.processes.map((p) => ({ name: p.name, pid: p.pid })),
      ...(standinChild?.pid ? [{ name: "standin-server", pid: standinChild.pid }] : []),
    ],
    startedAt: new Date(started).toISOString(),
  };
  await mkdir(dirname(statePath), { recursive: true });
  await writeFile(`${statePath}.tmp`, JSON.stringify(state, null, 2) + "\n");
  await rename(`${statePath}.tmp`, statePath);
  log(`ready: ${cp.server}`);
  process.stdout.write(`${JSON.stringify({ ready: true, state: statePath })}\n`);

  // A control-plane process dying is fatal: tear down rather than leave a half cluster.
  for (const p of cp.processes)
    void p.exited.then((code) => {
      if (!stopping) {
        log(`${p.name} exited unexpectedly (${code}); see ${p.log}`);
        void shutdown(1);
      }
    });
}

/** The default namespace's ServiceAccount (made by the controller manager) gates pod creation there. */
async function waitForDefaultServiceAccount(plane: ControlPlane): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // Since 1.24 pods get projected tokens: the service account existing is enough to admit pods.
    const sa = await plane.admin.find("/api/v1/namespaces/default/serviceaccounts/default").catch(() => undefined);
    if (sa) return;
    // The controller-manager creates it: a component that died will not, so say which at once.
    const dead = plane.processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) during start-up; see ${dead.log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  log("warning: default service account not ready after 30s");
}

async function teardown(): Promise<void> {
  await kubelet?.stop().catch(() => {});
  if (standinChild && standinChild.exitCode === null) {
    standinChild.stdin?.end();
    const t = setTimeout(() => standinChild?.kill("SIGKILL"), 3000);
    await new Promise((r) => standinChild!.once("exit", r));
    clearTimeout(t);
  }
  if (cp) {
    cp.admin.close();
    for (const p of [...cp.processes].reverse()) await stopManaged(p).catch(() => {});
    await rm(cp.etcdDir, { recursive: true, force: true });
  }
  if (net) await destroyPodNetwork(net);
  if (args.state) await rm(args.state, { force: true });
  if (args["remove-run-dir"] && args["run-dir"]) await rm(args["run-dir"], { recursive: true, force: true });
}

function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    log("stopping");
    await teardown().catch((e: unknown) => log(`teardown: ${(e as Error).message}`));
    log("stopped");
    process.exit(code);
  })();
  return stopping;
}

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => void shutdown(0));
if (args["watch-stdin"]) {
  process.stdin.resume();
  process.stdin.on("end", () => void shutdown(0));
  process.stdin.on("error", () => void shutdown(0));
}

main().catch(async (e: unknown) => {
  const msg = (e as Error).message ?? String(e);
  log(`failed: ${msg}`);
  process.stdout.write(`${JSON.stringify({ ready: false, error: msg })}\n`);
  await shutdown(1);
});
