/**
 * The run's pod network: a network namespace with one end of a veth pair
 * (`eth0`, the node address 10.N.0.2) and the host end (10.N.0.1/16). Pod IPs
 * (10.N.x.y) are added inside it by the stand-in server. No default route: from
 * inside, only the host end is reachable. Requires root.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./proc.js";
import { isAlive } from "./state.js";

export interface PodNetwork {
  netns: string;
  hostIf: string;
  /** e.g. "10.244": the /16 the run owns. */
  prefix: string;
  hostIp: string;
  nodeIp: string;
}

const OWNERS = "/run/mesh-cluster";

async function ip(args: string[], allowFail = false): Promise<string> {
  return (await run("ip", args, { allowFail })).stdout;
}

/** Creates the namespace and veth pair in the first free 10.N.0.0/16 (N from 244). */
export async function createPodNetwork(): Promise<PodNetwork> {
  if (process.getuid && process.getuid() !== 0) throw new Error("the test cluster needs root (ip netns)");
  await removeStaleNetworks();
  const id = randomBytes(4).toString("hex");
  const netns = `mesh-${id}`;
  const hostIf = `mh-${id}`;
  const used = await ip(["-o", "-4", "addr", "show"]);
  let prefix = "";
  for (let n = 244; n <= 254 && !prefix; n++) if (!used.includes(` 10.${n}.`)) prefix = `10.${n}`;
  if (!prefix) throw new Error("no free 10.244-254.0.0/16 network for the pod namespace");
  const net: PodNetwork = { netns, hostIf, prefix, hostIp: `${prefix}.0.1`, nodeIp: `${prefix}.0.2` };
  await mkdir(OWNERS, { recursive: true });
  await writeFile(join(OWNERS, netns), JSON.stringify({ pid: process.pid, hostIf }));
  try {
    await ip(["netns", "add", netns]);
    await ip(["link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    await ip(["addr", "add", `${net.hostIp}/16`, "dev", hostIf]);
    await ip(["link", "set", hostIf, "up"]);
    await ip(["-n", netns, "addr", "add", `${net.nodeIp}/16`, "dev", "eth0"]);
    await ip(["-n", netns, "link", "set", "eth0", "up"]);
    await ip(["-n", netns, "link", "set", "lo", "up"]);
  } catch (e) {
    await destroyPodNetwork(net);
    throw e;
  }
  return net;
}

export async function destroyPodNetwork(net: Pick<PodNetwork, "netns" | "hostIf">): Promise<void> {
  await ip(["netns", "del", net.netns], true);
  await ip(["link", "del", net.hostIf], true);
  await rm(join(OWNERS, net.netns), { force: true });
}

/** Removes namespaces left by runs whose owner process is gone (e.g. killed with SIGKILL). */
export async function removeStaleNetworks(): Promise<void> {
  if (!existsSync(OWNERS)) return;
  for (const name of await readdir(OWNERS)) {
    try {
      const { pid, hostIf } = JSON.parse(await readFile(join(OWNERS, name), "utf8")) as { pid: number; hostIf: string };
      if (!isAlive(pid)) await destroyPodNetwork({ netns: name, hostIf });
    } catch {
      /* unreadable marker: leave it */
    }
  }
}

/** Pod IPs 10.N.1.1 upwards, skipping .0 and .255; released addresses are reused last. */
export class IpAllocator {
  private next = 256 + 1;
  private readonly inUse = new Set<string>();

  constructor(private readonly prefix: string) {}

  allocate(): string {
    for (let tries = 0; tries < 65_000; tries++) {
      const n = this.next;
      this.next = this.next >= 65_534 ? 257 : this.next + 1;
      if (n % 256 === 0 || n % 256 === 255) continue;
      const addr = `${this.prefix}.${Math.floor(n / 256)}.${n % 256}`;
      if (this.inUse.has(addr)) continue;
      this.inUse.add(addr);
      return addr;
    }
    throw new Error("pod network is full");
  }

  release(addr: string): void {
    this.inUse.delete(addr);
  }
}
