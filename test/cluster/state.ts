/** The state file `up`/`startSharedCluster` write and test processes read. */
import { readFileSync } from "node:fs";

export interface ClusterUser {
  /** The user name the API server sees (e.g. `mesh-viewer`). */
  name: string;
  token: string;
  kubeconfig: string;
}

export interface ClusterState {
  version: 1;
  /** The supervising process (kubelet stand-in, owner of every child). */
  pid: number;
  ready: boolean;
  runDir: string;
  server: string;
  /** PEM file of the CA that signed the API server's certificate. */
  caFile: string;
  /** The API server's serving certificate and key (valid for 127.0.0.1); the fault proxy reuses them. */
  certFile: string;
  keyFile: string;
  /** `admin` (system:masters), `nobody` (no RBAC), `viewer` (ClusterRole view). */
  users: Record<"admin" | "nobody" | "viewer", ClusterUser>;
  /** The Kubernetes version the cluster runs (and its kubectl is), e.g. `1.37.2`. */
  kubeVersion: string;
  kubectl: string;
  binDir: string;
  netns: string;
  /** Host side of the veth pair, e.g. 10.244.0.1; pods live in its /16. */
  hostIp: string;
  nodeName: string;
  nodeIp: string;
  kubeletPort: number;
  processes: { name: string; pid: number }[];
  startedAt: string;
}

export function readState(path: string): ClusterState {
  return JSON.parse(readFileSync(path, "utf8")) as ClusterState;
}

/** Is the process alive (signal 0)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
