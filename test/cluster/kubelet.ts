/**
 * Kubelet stand-in (as kwok does): registers one Ready Node and, for every pod
 * the scheduler binds to it, gives the pod an IP in the run's network namespace,
 * tells the stand-in server about it (proxy admin endpoint, logs) and writes a
 * Running pod status. Pods being deleted are finalised (deleted with grace 0).
 *
 * Per-pod behaviour is set with annotations on the pod (template):
 *
 *   mesh.test/ready: "false"                 no container is ready (pod not Ready; proxy /ready answers 503)
 *   mesh.test/unready-containers: "a,b"      only these containers are not ready
 *   mesh.test/crashloop: "true" | "a,b"      all (or these) containers are in CrashLoopBackOff (restartCount 3,
 *                                            lastState terminated with exit 1; `logs --previous` works)
 *   mesh.test/terminated: "app" | "all" | "a,b"
 *                                            app containers (all but linkerd-proxy) / all / these have exited 0
 *                                            (Completed); linkerd-proxy keeps running unless listed, so a Job
 *                                            with "app" never completes; "all" makes the pod Succeeded
 *   mesh.test/pending: "true"                the pod stays Pending (ContainerCreating), no IP
 *   mesh.test/proxy-image: "<image>"         image reported in containerStatuses for linkerd-proxy
 *   mesh.test/proxy-version: "2.203.1"       proxy_build_info version (default 2.210.4)
 *   mesh.test/proxy-cert-expiry: "<unix s>"  identity_cert_expiration_timestamp_seconds (default start + 24h;
 *                                            "0" means no certificate yet: /ready answers 503)
 *   mesh.test/traffic: '<json>'              the proxy's traffic model (see traffic-model.ts); invalid JSON puts
 *                                            linkerd-proxy in CreateContainerConfigError with the parse error
 *   mesh.test/proxy-restarts: "<n>"          set or change it on a running pod to restart its linkerd-proxy: the
 *                                            proxy's counters, process_start_time_seconds and log start over
 *                                            (from the current whole second), restartCount becomes n
 *
 * A running proxy whose control plane has an identity issuer secret gets a leaf certificate for its
 * identity signed by that issuer (proxy-identity.ts), presented to TLS clients of <pod IP>:4191.
 *
 * A pod is meshed if it has a container named `linkerd-proxy`. Its access log
 * format comes from that container's env LINKERD2_PROXY_ACCESS_LOG, else the
 * annotation config.linkerd.io/access-log.
 */
import { createHash } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { KubeRest, KubeRestError } from "./kube-rest.js";
import type { IpAllocator } from "./netns.js";
import type { StandinContainer, StandinPod, StandinMessage, StandinReply } from "./standin-protocol.js";
import { parseTrafficModel, type PodInfo } from "./traffic-model.js";
import { IdentityIssuer } from "./proxy-identity.js";

export const ANNOTATION_PREFIX = "mesh.test/";
const PROXY = "linkerd-proxy";

/** The bits of a Pod the stand-in reads (the API's JSON, loosely typed). */
export interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers: Container[];
    initContainers?: Container[];
  };
  status?: { podIP?: string; phase?: string };
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
}

/** Sends requests to the stand-in server and matches replies. */
export class StandinChannel {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: StandinReply) => void>();
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    let resolveReady!: () => void;
    this.ready = new Promise((r) => (resolveReady = r));
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      const reply = JSON.parse(line) as StandinReply;
      if (reply.id === 0) return resolveReady();
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  async send(req: StandinMessage): Promise<void> {
    const id = this.nextId++;
    const reply = await new Promise<StandinReply>((resolve, reject) => {
      this.waiting.set(id, resolve);
      if (!this.child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`)) {
        /* backpressure is fine: the write is queued */
      }
      if (this.child.exitCode !== null) reject(new Error("stand-in server has exited"));
    });
    if (!reply.ok) throw new Error(`stand-in server: ${reply.error}`);
  }
}

interface Known {
  ip?: string;
  /** Hash of what the status was computed from; a change re-applies it. */
  hash: string;
  startedAt: string;
  /** `mesh.test/proxy-restarts` when the proxy last (re)started, and when that was. */
  proxyRestarts?: string;
  proxyStartedAt: string;
}

export interface KubeletOptions {
  rest: KubeRest;
  nodeName: string;
  nodeIp: string;
  kubeletPort: number;
  podCidr: string;
  ips: IpAllocator;
  standin: StandinChannel;
  log: (line: string) => void;
}

export class KubeletStandin {
  private readonly known = new Map<string, Known>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  /** Per-pod serialisation: events for one pod are handled in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private heartbeat?: NodeJS.Timeout;
  private registeredAt = "";
  private readonly identities: IdentityIssuer;

  constructor(private readonly o: KubeletOptions) {
    this.identities = new IdentityIssuer(o.rest, o.log);
  }

  async start(): Promise<void> {
    await this.registerNode();
    // A real kubelet posts node status every few seconds; `mesh check` looks at the Ready
    // condition's heartbeat for clock skew, so keep it fresh for clusters that run for long.
    this.heartbeat = setInterval(() => {
      this.postHeartbeat().catch((err: Error) => this.o.log(`node heartbeat failed: ${err.message}`));
    }, 60_000);
    this.heartbeat.unref();
    const list = await this.o.rest.get<{ metadata: { resourceVersion: string }; items: Pod[] }>(this.podsPath());
    for (const p of list.items) this.enqueue("ADDED", p);
    this.loop = this.watchLoop(list.metadata.resourceVersion);
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.abort.abort();
    await this.loop?.catch(() => {});
    await Promise.allSettled([...this.chains.values()]);
  }

  private podsPath(extra = ""): string {
    return `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.o.nodeName}`)}${extra}`;
  }

  private async registerNode(): Promise<void> {
    const { rest, nodeName, nodeIp, kubeletPort } = this.o;
    await rest.ensure("/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: nodeName,
        labels: {
          "kubernetes.io/hostname": nodeName,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "beta.kubernetes.io/os": "linux",
          "beta.kubernetes.io/arch": "amd64",
        },
      },
      spec: { podCIDR: this.o.podCidr, podCIDRs: [this.o.podCidr] },
    });
    this.registeredAt = nowSeconds();
    // The scheduler counts every pod against `pods`: room for bench/viz-stat.mjs's 500 beside the tests' own.
    const resources = { cpu: "16", memory: "64Gi", pods: "2000", "ephemeral-storage": "100Gi" };
    await rest.mergePatch(`/api/v1/nodes/${nodeName}/status`, {
      status: {
        capacity: resources,
        allocatable: resources,
        phase: "Running",
        conditions: this.nodeConditions(this.registeredAt),
        addresses: [
          { type: "InternalIP", address: nodeIp },
          { type: "Hostname", address: nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
        nodeInfo: {
          machineID: "mesh-test", systemUUID: "mesh-test", bootID: "mesh-test",
          kernelVersion: "5.10.0", osImage: "mesh test stand-in", containerRuntimeVersion: "containerd://1.4.12",
          kubeletVersion: "v1.20.2", kubeProxyVersion: "v1.20.2", operatingSystem: "linux", architecture: "amd64",
        },
      },
    });
    // Admission adds node.kubernetes.io/not-ready; the node lifecycle controller that would lift it is off.
    await rest.mergePatch(`/api/v1/nodes/${nodeName}`, { spec: { taints: null } });
  }

  private nodeConditions(heartbeat: string) {
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type, status, reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: this.registeredAt,
    });
    return [
      cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
      cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ];
  }

  private async postHeartbeat(): Promise<void> {
    await this.o.rest.mergePatch(`/api/v1/nodes/${this.o.nodeName}/status`, {
      status: { conditions: this.nodeConditions(nowSeconds()) },
    });
  }

  private async watchLoop(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    while (!this.abort.signal.aborted) {
      try {
        await this.o.rest.watch<Pod>(
          this.podsPath(`&watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`),
          (ev) => {
            if (ev.type === "ERROR") {
              const status = ev.object as unknown as { code?: number };
              if (status.code === 410) rv = "";
              return;
            }
            if (ev.object.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
            if (ev.type !== "BOOKMARK") this.enqueue(ev.type, ev.object);
          },
          this.abort.signal,
        );
        if (rv === "") {
          const list = await this.o.rest.get<{ metadata: { resourceVersion: string }; items: Pod[] }>(this.podsPath());
          rv = list.metadata.resourceVersion;
          const live = new Set(list.items.map((p) => p.metadata.uid));
          for (const uid of [...this.known.keys()]) if (!live.has(uid)) this.enqueueForget(uid);
          for (const p of list.items) this.enqueue("MODIFIED", p);
        }
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.o.log(`pod watch: ${(e as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private chain(uid: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn).catch((e: unknown) => this.o.log(`pod ${uid}: ${(e as Error).message}`));
    this.chains.set(uid, next);
    void next.then(() => {
      if (this.chains.get(uid) === next) this.chains.delete(uid);
    });
  }

  private enqueue(type: string, pod: Pod): void {
    const uid = pod.metadata.uid;
    if (type === "DELETED") return this.enqueueForget(uid);
    this.chain(uid, () => this.reconcile(pod));
  }

  private enqueueForget(uid: string): void {
    this.chain(uid, () => this.forget(uid));
  }

  private async forget(uid: string): Promise<void> {
    const k = this.known.get(uid);
    if (!k) return;
    this.known.delete(uid);
    await this.o.standin.send({ op: "remove", uid });
    if (k.ip && k.ip !== this.o.nodeIp) this.o.ips.release(k.ip);
  }

  private async reconcile(pod: Pod): Promise<void> {
    const { uid, name, namespace } = pod.metadata;
    if (this.abort.signal.aborted) return;
    if (pod.metadata.deletionTimestamp) {
      await this.forget(uid);
      try {
        await this.o.rest.json("DELETE", `/api/v1/namespaces/${namespace}/pods/${name}`, {
          apiVersion: "v1",
          kind: "DeleteOptions",
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
      } catch (e) {
        if (!(e instanceof KubeRestError && (e.status === 404 || e.status === 409))) throw e;
      }
      return;
    }
    const annotations = pod.metadata.annotations ?? {};
    const hash = createHash("sha1")
      .update(JSON.stringify([Object.entries(annotations).filter(([k]) => k.startsWith(ANNOTATION_PREFIX) || k === "config.linkerd.io/access-log"), pod.metadata.labels]))
      .digest("hex");
    const prev = this.known.get(uid);
    if (prev && prev.hash === hash) return;
    const pending = annotations[`${ANNOTATION_PREFIX}pending`] === "true";
    let ip = prev?.ip;
    if (!ip && !pending) ip = pod.spec.hostNetwork ? this.o.nodeIp : this.o.ips.allocate();
    const startedAt = prev?.startedAt ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
    // A changed `mesh.test/proxy-restarts` restarts the proxy: new start time, counters from zero.
    const proxyRestarts = annotations[`${ANNOTATION_PREFIX}proxy-restarts`];
    const proxyStartedAt = prev && prev.proxyRestarts !== proxyRestarts ? nowSeconds() : (prev?.proxyStartedAt ?? startedAt);
    this.known.set(uid, { ip, hash, startedAt, proxyRestarts, proxyStartedAt });

    const plan = planStatus(pod, startedAt, proxyStartedAt);
    if (ip) {
      const info = podInfo(pod, ip);
      const proxyState = plan.containers.find((c) => c.name === PROXY);
      const proxyContainer = pod.spec.containers.find((c) => c.name === PROXY);
      const env = Object.fromEntries((proxyContainer?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      const standin: StandinPod = {
        uid,
        info,
        startedAtMs: Date.parse(proxyStartedAt),
        proxy: !!proxyContainer && !pod.spec.hostNetwork && proxyState?.state === "running",
        proxyReady: !!plan.statuses.find((s) => s.name === PROXY)?.ready,
        traffic: plan.trafficError ? undefined : annotations[`${ANNOTATION_PREFIX}traffic`],
        certExpiry: plan.certExpiry,
        proxyVersion: annotations[`${ANNOTATION_PREFIX}proxy-version`],
        accessLog: env.LINKERD2_PROXY_ACCESS_LOG ?? annotations["config.linkerd.io/access-log"],
        defaultPolicy: env.LINKERD2_PROXY_INBOUND_DEFAULT_POLICY ?? annotations["config.linkerd.io/default-inbound-policy"],
        proxyEnv: env,
        containers: plan.containers,
        ownIp: !pod.spec.hostNetwork,
      };
      // A running proxy gets a certificate from its control plane's issuer, when there is one.
      if (standin.proxy) {
        const id = await this.identities.issue(pod).catch((e: Error) => this.o.log(`identity of ${namespace}/${name}: ${e.message}`));
        if (id) standin.identity = { certChainPem: id.certChainPem, keyPem: id.keyPem };
      }
      await this.o.standin.send({ op: "upsert", pod: standin });
    }
    try {
      await this.o.rest.mergePatch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, {
        status: {
          ...plan.status,
          hostIP: this.o.nodeIp,
          ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
        },
      });
    } catch (e) {
      // Deleted meanwhile: the DELETED event will clean up.
      if (!(e instanceof KubeRestError && e.status === 404)) throw e;
    }
  }
}

function list(v: string | undefined): string[] {
  return (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function podInfo(pod: Pod, ip: string): PodInfo {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  return {
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    ip,
    serviceAccount: pod.spec.serviceAccountName ?? "default",
    labels: pod.metadata.labels ?? {},
    owner: owner ? { kind: owner.kind, name: owner.name } : undefined,
    meshed: pod.spec.containers.some((c) => c.name === PROXY),
  };
}

function sha(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

export interface StatusPlan {
  status: Record<string, unknown>;
  statuses: { name: string; ready: boolean }[];
  containers: StandinContainer[];
  certExpiry: number;
  trafficError?: string;
}

/** The pod status the annotations ask for (pure apart from its inputs). */
export function planStatus(pod: Pod, startedAt: string, proxyStartedAt = startedAt): StatusPlan {
  const a = pod.metadata.annotations ?? {};
  const get = (k: string) => a[`${ANNOTATION_PREFIX}${k}`];
  const names = pod.spec.containers.map((c) => c.name);
  const pending = get("pending") === "true";
  const notReady = new Set(get("ready") === "false" ? names : list(get("unready-containers")));
  const crash = new Set(get("crashloop") === "true" ? names : list(get("crashloop")));
  const termSpec = get("terminated");
  const terminated = new Set(
    termSpec === "all" ? names : termSpec === "app" ? names.filter((n) => n !== PROXY) : list(termSpec),
  );
  let trafficError: string | undefined;
  if (get("traffic") !== undefined) {
    try {
      parseTrafficModel(get("traffic")!);
    } catch (e) {
      trafficError = (e as Error).message;
    }
  }
  const expiryRaw = get("proxy-cert-expiry");
  const certExpiry = expiryRaw !== undefined ? Number(expiryRaw) : Math.floor(Date.parse(startedAt) / 1000) + 86_400;

  const containers: StandinContainer[] = [];
  const statuses = pod.spec.containers.map((c) => {
    const image = c.name === PROXY && get("proxy-image") ? get("proxy-image")! : c.image;
    const base = {
      name: c.name,
      image,
      imageID: `${image.replace(/[:@].*$/, "")}@sha256:${sha(image)}`,
      containerID: `containerd://${sha(`${pod.metadata.uid}/${c.name}`)}`,
    };
    if (pending) {
      containers.push({ name: c.name, state: "waiting", crashLooping: false });
      return { ...base, ready: false, started: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } };
    }
    if (c.name === PROXY && trafficError) {
      containers.push({ name: c.name, state: "waiting", crashLooping: false });
      return {
        ...base,
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: "CreateContainerConfigError", message: `mesh.test/traffic: ${trafficError}` } },
      };
    }
    if (terminated.has(c.name)) {
      containers.push({ name: c.name, state: "terminated", crashLooping: false });
      return {
        ...base,
        ready: false,
        started: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: "Completed", startedAt, finishedAt: startedAt, containerID: base.containerID } },
      };
    }
    if (crash.has(c.name)) {
      containers.push({ name: c.name, state: "waiting", crashLooping: true });
      return {
        ...base,
        ready: false,
        started: false,
        restartCount: 3,
        state: {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off 40s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          },
        },
        lastState: { terminated: { exitCode: 1, reason: "Error", startedAt, finishedAt: startedAt, containerID: base.containerID } },
      };
    }
    containers.push({ name: c.name, state: "running", crashLooping: false });
    const restarts = c.name === PROXY ? Math.max(0, Math.floor(Number(get("proxy-restarts") ?? 0)) || 0) : 0;
    if (restarts > 0)
      return {
        ...base,
        ready: !notReady.has(c.name),
        started: true,
        restartCount: restarts,
        state: { running: { startedAt: proxyStartedAt } },
        lastState: { terminated: { exitCode: 137, reason: "Error", startedAt, finishedAt: proxyStartedAt, containerID: base.containerID } },
      };
    return { ...base, ready: !notReady.has(c.name), started: true, restartCount: 0, state: { running: { startedAt } } };
  });
  const initStatuses = (pod.spec.initContainers ?? []).map((c) => ({
    name: c.name,
    image: c.image,
    imageID: `${c.image.replace(/[:@].*$/, "")}@sha256:${sha(c.image)}`,
    containerID: `containerd://${sha(`${pod.metadata.uid}/init/${c.name}`)}`,
    ready: !pending,
    restartCount: 0,
    state: pending
      ? { waiting: { reason: "PodInitializing" } }
      : { terminated: { exitCode: 0, reason: "Completed", startedAt, finishedAt: startedAt } },
  }));

  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const allReady = unready.length === 0;
  const allTerminated = names.every((n) => terminated.has(n));
  const phase = pending ? "Pending" : allTerminated ? "Succeeded" : "Running";
  const cond = (type: string, ok: boolean, reason?: string, message?: string) => ({
    type,
    status: ok ? "True" : "False",
    lastTransitionTime: startedAt,
    ...(ok ? {} : { reason, message }),
  });
  const notReadyMsg = `containers with unready status: [${unready.join(" ")}]`;
  const readyReason = allTerminated ? "PodCompleted" : "ContainersNotReady";
  return {
    status: {
      phase,
      startTime: startedAt,
      conditions: [
        cond("Initialized", !pending, "ContainersNotInitialized", "containers with incomplete status: []"),
        cond("Ready", allReady, readyReason, notReadyMsg),
        cond("ContainersReady", allReady, readyReason, notReadyMsg),
        cond("PodScheduled", true),
      ],
      containerStatuses: statuses,
      ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    },
    statuses,
    containers,
    certExpiry,
    trafficError,
  };
}

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
