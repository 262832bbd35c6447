import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { MeshError } from "../errors.js";
import type { GlobalOptions } from "../deps.js";

/**
 * The common kubeconfig shapes (one file; a token, token file, basic auth or client certificate;
 * a CA or insecure-skip-tls-verify), read without @kubernetes/client-node, whose bundle costs
 * more start-up time than a whole `mesh check` spends talking to the API server. Anything else
 * (several KUBECONFIG files, exec or auth-provider plugins, proxy-url, in-cluster config) is
 * left to client-node: `readSimpleKubeconfig` returns undefined for it.
 */
export interface SimpleKubeconfig {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  serverName?: string;
  cert?: Buffer;
  key?: Buffer;
  headers: Record<string, string>;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** The file client-node would read first, if exactly one is involved. */
function kubeconfigFile(g: Pick<GlobalOptions, "kubeconfig">, env: NodeJS.ProcessEnv): string | undefined {
  if (g.kubeconfig) return g.kubeconfig;
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (list.length > 1) return undefined;
  if (list.length === 1) return list[0];
  const home = env.HOME || homedir();
  const def = join(home, ".kube", "config");
  return existsSync(def) ? def : undefined;
}

function named(list: unknown, name: string, field: string): Tree | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e) => isTree(e) && e.name === name) as Tree | undefined;
  return entry && isTree(entry[field]) ? (entry[field] as Tree) : undefined;
}

export function readSimpleKubeconfig(g: Pick<GlobalOptions, "kubeconfig" | "context">, env: NodeJS.ProcessEnv = process.env): SimpleKubeconfig | undefined {
  const file = kubeconfigFile(g, env);
  if (!file) return undefined;
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new MeshError(`cannot load kubeconfig ${file}: ${(err as Error).message}`, "pass a valid file with --kubeconfig or set KUBECONFIG", 1, err);
  }
  if (!isTree(doc)) return undefined;
  const contextName = g.context ?? (typeof doc["current-context"] === "string" ? doc["current-context"] : "");
  const context = named(doc.contexts, contextName, "context");
  if (g.context && !context) {
    const names = Array.isArray(doc.contexts) ? doc.contexts.filter(isTree).map((c) => String(c.name)) : [];
    throw new MeshError(`context "${g.context}" not found in kubeconfig`, `available contexts: ${names.join(", ") || "none"}`);
  }
  if (!context) return undefined;
  const cluster = named(doc.clusters, String(context.cluster ?? ""), "cluster");
  const user = named(doc.users, String(context.user ?? ""), "user") ?? {};
  if (!cluster || typeof cluster.server !== "string") return undefined;
  if (cluster["proxy-url"] || user.exec || user["auth-provider"] || user.impersonate || user["impersonate-groups"]) return undefined;
  const base = dirname(file);
  const read = (data: unknown, path: unknown): Buffer | undefined => {
    if (typeof data === "string" && data) return Buffer.from(data, "base64");
    if (typeof path === "string" && path) return readFileSync(isAbsolute(path) ? path : join(base, path));
    return undefined;
  };
  try {
    const headers: Record<string, string> = {};
    const token = typeof user.token === "string" && user.token ? user.token : typeof user.tokenFile === "string" ? readFileSync(isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile), "utf8").trim() : "";
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (typeof user.username === "string" && user.username) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? "")}`).toString("base64")}`;
    return {
      server: cluster.server,
      ca: read(cluster["certificate-authority-data"], cluster["certificate-authority"]),
      insecure: cluster["insecure-skip-tls-verify"] === true,
      serverName: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined,
      cert: read(user["client-certificate-data"], user["client-certificate"]),
      key: read(user["client-key-data"], user["client-key"]),
      headers,
    };
  } catch (err) {
    throw new MeshError(`cannot load kubeconfig ${file}: ${(err as Error).message}`, "check the files your kubeconfig refers to", 1, err);
  }
}
