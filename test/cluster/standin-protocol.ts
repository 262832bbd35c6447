/** Messages from the kubelet stand-in to the stand-in server (JSON lines on its stdin; replies on stdout). */
import type { PodInfo } from "./traffic-model.js";

export interface StandinContainer {
  name: string;
  state: "running" | "waiting" | "terminated";
  /** Crash-looping containers have a previous instance (`logs --previous`). */
  crashLooping: boolean;
}

export interface StandinPod {
  uid: string;
  info: PodInfo;
  /** Unix ms when the pod's containers started (traffic counts from here). */
  startedAtMs: number;
  /** Serve a proxy admin endpoint on ip:4191 (meshed, not host-network, proxy running). */
  proxy: boolean;
  proxyReady: boolean;
  /** Raw `mesh.test/traffic` annotation, already validated. */
  traffic?: string;
  certExpiry: number;
  proxyVersion?: string;
  /** `LINKERD2_PROXY_ACCESS_LOG` of the linkerd-proxy container. */
  accessLog?: string;
  defaultPolicy?: string;
  /** Plain env of the linkerd-proxy container, for /env.json. */
  proxyEnv: Record<string, string>;
  containers: StandinContainer[];
  /** Add the pod IP inside the namespace (false for host-network pods). */
  ownIp: boolean;
  /** The proxy's certificate (leaf then issuer) and key, presented to TLS clients of the admin port <pod IP>:4191; none without an issuer. */
  identity?: { certChainPem: string; keyPem: string };
}

export type StandinMessage = { op: "upsert"; pod: StandinPod } | { op: "remove"; uid: string } | { op: "ping" };
export type StandinRequest = StandinMessage & { id: number };

export interface StandinReply {
  id: number;
  ok: boolean;
  error?: string;
}
