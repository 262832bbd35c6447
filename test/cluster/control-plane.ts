/**
 * Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler on
 * free loopback ports with temporary data, and writes kubeconfigs for an admin
 * and for unprivileged token users.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes, webcrypto } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { buildCertificate } from "../../src/tls/build.js";
import { KeyUsage } from "../../src/tls/oids.js";
import { encodePem } from "../../src/tls/pem.js";
import { KubeRest } from "./kube-rest.js";
import { isAlive, type ClusterUser } from "./state.js";

export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

export interface ControlPlane {
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  users: Record<string, ClusterUser>;
  processes: ManagedProcess[];
  etcdDir: string;
  admin: KubeRest;
}

/** Token users: `admin` is in system:masters; `nobody` has no RBAC at all; `viewer` is bound to `view` cluster-wide. */
export const USER_NAMES = ["admin", "nobody", "viewer"] as const;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

let setprivChecked: boolean | undefined;

/**
 * Spawns a child that dies with us: `setpriv --pdeathsig KILL` makes the kernel
 * kill it if this process goes away without cleaning up.
 */
export function spawnManaged(name: string, cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  if (setprivChecked === undefined) setprivChecked = existsSync("/usr/bin/setpriv");
  const [file, argv] = setprivChecked ? ["/usr/bin/setpriv", ["--pdeathsig", "KILL", "--", cmd, ...args]] : [cmd, args];
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  child.on("error", (e) => out.write(`spawn error: ${e.message}\n`));
  return { name, pid: child.pid ?? -1, child, exited, log: logFile };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopManaged(p: ManagedProcess, graceMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export async function startControlPlane(opts: {
  runDir: string;
  binDir: string;
  log: (line: string) => void;
  /** Where etcd keeps its data; tmpfs is much faster. */
  etcdDir: string;
  /**
   * The address the API server publishes in the `kubernetes` Service's endpoints (and so in the
   * EndpointSlice every real cluster has): the pod network's host side. It serves on 127.0.0.1.
   */
  advertiseAddress: string;
}): Promise<ControlPlane> {
  const { runDir, binDir, log } = opts;
  const pki = join(runDir, "pki");
  const logs = join(runDir, "logs");
  await mkdir(pki, { recursive: true });
  await mkdir(logs, { recursive: true });
  await rm(opts.etcdDir, { recursive: true, force: true });
  await mkdir(opts.etcdDir, { recursive: true });

  const [etcdClient, etcdPeer, apiPort, cmPort, schedPort] = await uniquePorts(5);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(join(pki, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  await writeFile(join(pki, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
  // A client CA and a front-proxy (request header) CA, as every real cluster has (kubeadm's, a
  // cloud's): with them the API server publishes kube-system/extension-apiserver-authentication,
  // which extension API servers such as Linkerd's tap (and `check --pre`) read.
  await writeFile(join(pki, "client-ca.crt"), await selfSignedCa("mesh-test-client-ca"));
  await writeFile(join(pki, "front-proxy-ca.crt"), await selfSignedCa("mesh-test-front-proxy-ca"));

  const users: Record<string, ClusterUser> = {};
  const csv: string[] = [];
  for (const name of USER_NAMES) {
    const token = randomBytes(24).toString("hex");
    const user = `mesh-${name}`;
    users[name] = { name: user, token, kubeconfig: join(runDir, `${name}.kubeconfig`) };
    csv.push(`${token},${user},${user}-uid${name === "admin" ? ',"system:masters"' : ""}`);
  }
  await writeFile(join(pki, "tokens.csv"), csv.join("\n") + "\n", { mode: 0o600 });

  const server = `https://127.0.0.1:${apiPort}`;
  const processes: ManagedProcess[] = [];
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const peerUrl = `http://127.0.0.1:${etcdPeer}`;
  processes.push(
    spawnManaged(
      "etcd",
      join(binDir, "etcd"),
      [
        `--name=mesh`,
        `--data-dir=${opts.etcdDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=mesh=${peerUrl}`,
        "--log-level=warn",
      ],
      join(logs, "etcd.log"),
    ),
  );
  processes.push(
    spawnManaged(
      "kube-apiserver",
      join(binDir, "kube-apiserver"),
      [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        `--advertise-address=${opts.advertiseAddress}`,
        `--secure-port=${apiPort}`,
        `--cert-dir=${pki}`,
        `--token-auth-file=${join(pki, "tokens.csv")}`,
        `--client-ca-file=${join(pki, "client-ca.crt")}`,
        `--requestheader-client-ca-file=${join(pki, "front-proxy-ca.crt")}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        `--service-account-signing-key-file=${join(pki, "sa.key")}`,
        `--service-account-key-file=${join(pki, "sa.pub")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--allow-privileged=true",
        // The kubelet stand-in registers only an InternalIP that lives in the run's network namespace.
        "--kubelet-preferred-address-types=InternalIP",
        // Webhooks and aggregated APIs are reached at endpoint (pod) IPs, which live in the
        // run's network namespace, never at ClusterIPs, which nothing routes.
        "--enable-aggregator-routing=true",
        "--profiling=false",
      ],
      join(logs, "kube-apiserver.log"),
    ),
  );

  const certFile = join(pki, "apiserver.crt");
  const keyFile = join(pki, "apiserver.key");
  const started = Date.now();
  await waitFor("kube-apiserver serving certificate", 60_000, async () => existsSync(certFile) && existsSync(keyFile), processes);
  // apiserver.crt holds the serving certificate followed by the CA that signed it.
  const bundle = await readFile(certFile, "utf8");
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  const caPem = blocks.length > 1 ? blocks.slice(1).join("") : bundle;
  const caFile = join(pki, "ca.crt");
  await writeFile(caFile, caPem);
  for (const name of USER_NAMES) await writeFile(users[name].kubeconfig, kubeconfigYaml(server, caPem, users[name].name, users[name].token));

  const admin = new KubeRest(server, users.admin.token, caPem);
  await waitFor("kube-apiserver /readyz", 90_000, async () => (await admin.raw("GET", "/readyz").catch(() => ({ status: 0 }))).status === 200, processes);
  log(`kube-apiserver ready on ${server} after ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const adminKubeconfig = users.admin.kubeconfig;
  processes.push(
    spawnManaged(
      "kube-controller-manager",
      join(binDir, "kube-controller-manager"),
      [
        `--kubeconfig=${adminKubeconfig}`,
        "--leader-elect=false",
        `--service-account-private-key-file=${join(pki, "sa.key")}`,
        `--root-ca-file=${caFile}`,
        "--use-service-account-credentials=false",
        // No node IPAM or lifecycle: the kubelet stand-in owns the node (the controllers' names since
        // 1.28; without a cloud provider there are no cloud controllers to disable).
        "--controllers=*,-node-ipam-controller,-node-lifecycle-controller",
        "--bind-address=127.0.0.1",
        `--secure-port=${cmPort}`,
        "--concurrent-deployment-syncs=10",
        "--concurrent-replicaset-syncs=10",
        "--concurrent-namespace-syncs=10",
        "--profiling=false",
      ],
      join(logs, "kube-controller-manager.log"),
    ),
  );
  processes.push(
    spawnManaged(
      "kube-scheduler",
      join(binDir, "kube-scheduler"),
      [`--kubeconfig=${adminKubeconfig}`, "--leader-elect=false", "--bind-address=127.0.0.1", `--secure-port=${schedPort}`, "--profiling=false"],
      join(logs, "kube-scheduler.log"),
    ),
  );

  // The read-only user: `view` everywhere.
  await admin.ensure("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "mesh-test-viewer" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: users.viewer.name }],
  });
  return { server, caFile, certFile, keyFile, users, processes, etcdDir: opts.etcdDir, admin };
}

/** etcd data of runs whose supervisor died without cleaning up (`/dev/shm/mesh-etcd-<pid>`). */
export async function removeStaleEtcdDirs(root = "/dev/shm"): Promise<void> {
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = name.match(/^mesh-etcd-(\d+)$/);
    if (m && !isAlive(Number(m[1]))) await rm(join(root, name), { recursive: true, force: true });
  }
}

/** A PEM CA certificate (ECDSA P-256, ten years) whose key is thrown away: nothing is signed with it. */
async function selfSignedCa(commonName: string): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const der = await buildCertificate({
    serialNumber: 1n,
    subjectCommonName: commonName,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    basicConstraints: true,
    isCA: true,
    keyUsage: KeyUsage.certSign | KeyUsage.crlSign,
    subjectKeyId: true,
  });
  return encodePem("CERTIFICATE", der);
}

async function uniquePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>, procs: ManagedProcess[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return;
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) {
      const tail = (await readFile(dead.log, "utf8").catch(() => "")).trim().split("\n").slice(-15).join("\n");
      throw new Error(`${dead.name} exited while waiting for ${what}; log ${dead.log}:\n${tail}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A kubeconfig for one token user (what mesh, kubectl and client-node read). */
export function kubeconfigYaml(server: string, caPem: string, user: string, token: string, context = "mesh-test"): string {
  const ca = Buffer.from(caPem).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${context}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    `- name: ${context}`,
    "  context:",
    `    cluster: ${context}`,
    `    user: ${user}`,
    "    namespace: default",
    `current-context: ${context}`,
    "",
  ].join("\n");
}
