import { spawn } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import * as yamlModule from "yaml";
import { MeshError } from "../errors.js";
import type { GlobalOptions } from "../deps.js";
import { sanitize } from "../output/sanitize.js";
import { namedExports, parseYamlSafe, YamlInputError } from "../yaml-lib.js";

/**
 * The common kubeconfig shapes (one file; a token, token file, basic auth, client certificate or
 * exec credential plugin; a CA or insecure-skip-tls-verify; an http(s) proxy-url; impersonation),
 * read without @kubernetes/client-node, whose bundle costs more start-up time than a whole
 * `mesh check` spends talking to the API server. The fast path is taken only when every key of
 * the selected context, cluster and user entries is one it implements (IMPLEMENTED_KEYS); anything
 * else (several KUBECONFIG files, auth-provider plugins, a socks5 proxy-url, keys mesh does not
 * know, in-cluster config) is left to client-node: `readSimpleKubeconfig` returns undefined for it.
 *
 * A kubeconfig holds credentials, so no message here quotes its contents: errors name the file,
 * the context, cluster or user entry and the field, and for YAML errors the line and column.
 */
export interface SimpleKubeconfig {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  serverName?: string;
  cert?: Buffer;
  key?: Buffer;
  headers: Record<string, string>;
  /** Where the entries came from, for messages. */
  origin: KubeconfigOrigin;
  /** The user's exec credential plugin, run when the first request needs credentials. */
  exec?: ExecPlugin;
  /** The user entry's `as`, `as-uid`, `as-groups` and `as-user-extra`. */
  impersonate: Impersonation;
  /** The cluster entry's `proxy-url` (http or https), which takes precedence over HTTPS_PROXY and friends. */
  proxyUrl?: string;
  /** The cluster entry's `disable-compression`: never ask for gzip. */
  disableCompression: boolean;
}

/** Whom to act as (kubeconfig `as`, `as-uid`, `as-groups`, `as-user-extra`; flags `--as`, `--as-group`). */
export interface Impersonation {
  user?: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/**
 * The keys of the selected context, cluster and user entries the fast path implements. An entry
 * with any other key goes to client-node, so that no setting is silently dropped.
 */
export const IMPLEMENTED_KEYS = {
  context: ["cluster", "user", "namespace", "extensions"],
  cluster: ["server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify", "tls-server-name", "proxy-url", "disable-compression", "extensions"],
  user: [
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "token",
    "tokenFile",
    "username",
    "password",
    "exec",
    "as",
    "as-uid",
    "as-groups",
    "as-user-extra",
    "extensions",
  ],
} as const;

const onlyImplemented = (entry: Tree, kind: keyof typeof IMPLEMENTED_KEYS) => Object.keys(entry).every((k) => (IMPLEMENTED_KEYS[kind] as readonly string[]).includes(k));

/** The file and entries a connection's settings came from, and which fields held the TLS material. */
export interface KubeconfigOrigin {
  file: string;
  cluster: string;
  user: string;
  fields: { ca?: string; cert?: string; key?: string };
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** A name from the file, for messages: one printable line, short. */
const shown = (s: unknown) => sanitize(String(s ?? ""), 80);

/**
 * The kubeconfig files to read, in order: `--kubeconfig`; else the files of KUBECONFIG's list that
 * exist (kubectl skips the missing ones); else ~/.kube/config when it exists.
 */
export function kubeconfigFiles(g: Pick<GlobalOptions, "kubeconfig">, env: NodeJS.ProcessEnv): string[] {
  if (g.kubeconfig) return [g.kubeconfig];
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (list.length) return list.filter((f) => existsSync(f));
  const def = defaultKubeconfig(env);
  return existsSync(def) ? [def] : [];
}

function defaultKubeconfig(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), ".kube", "config");
}

/** Where mesh looked for a kubeconfig, for the message that says none was found. */
export function kubeconfigSearched(env: NodeJS.ProcessEnv): string {
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  return list.length ? `KUBECONFIG=${shown(env.KUBECONFIG)} (no file of it exists)` : `${defaultKubeconfig(env)} (KUBECONFIG is not set)`;
}

/** Fields of kubeconfig entries that name files, which are relative to the file that defines them. */
const PATH_FIELDS: Record<"clusters" | "users", { entry: string; fields: string[] }> = {
  clusters: { entry: "cluster", fields: ["certificate-authority"] },
  users: { entry: "user", fields: ["client-certificate", "client-key", "tokenFile"] },
};

/**
 * Several kubeconfig files merged as kubectl merges them: the first file that sets
 * `current-context` wins, and for clusters, users and contexts the first definition of a name
 * wins. Relative file paths are made absolute against the file that holds them.
 */
export function mergeKubeconfigs(files: string[]): Tree {
  const merged: Tree = { apiVersion: "v1", kind: "Config", clusters: [], users: [], contexts: [] };
  for (const file of files) {
    const doc = readKubeconfigFile(file);
    const base = dirname(file);
    if (merged["current-context"] === undefined && typeof doc["current-context"] === "string" && doc["current-context"]) merged["current-context"] = doc["current-context"];
    for (const kind of ["clusters", "users", "contexts"] as const) {
      const into = merged[kind] as Tree[];
      for (const entry of Array.isArray(doc[kind]) ? doc[kind] : []) {
        if (!isTree(entry) || into.some((e) => e.name === entry.name)) continue;
        const paths = kind === "contexts" ? undefined : PATH_FIELDS[kind];
        const body = paths && isTree(entry[paths.entry]) ? { ...(entry[paths.entry] as Tree) } : undefined;
        if (paths && body) {
          for (const f of paths.fields) if (typeof body[f] === "string" && body[f] && !isAbsolute(body[f] as string)) body[f] = join(base, body[f] as string);
          const exec = body.exec;
          if (isTree(exec) && typeof exec.command === "string" && exec.command.includes("/") && !isAbsolute(exec.command)) body.exec = { ...exec, command: join(base, exec.command) };
        }
        into.push(paths && body ? { ...entry, [paths.entry]: body } : entry);
      }
    }
  }
  return merged;
}

/**
 * The namespace of the selected context, kubectl's default for `-n`, if the kubeconfig names one.
 * With several files, as kubectl merges them: the first `current-context` set, and the first
 * definition of that context. A file that cannot be read gives undefined here: connecting to the
 * cluster reports it properly.
 */
export function contextNamespace(g: Pick<GlobalOptions, "kubeconfig" | "context">, env: NodeJS.ProcessEnv): string | undefined {
  let name = g.context;
  try {
    const docs = kubeconfigFiles(g, env)
      .filter((f) => existsSync(f))
      .map(readKubeconfigFile);
    name ??= docs.map((d) => d["current-context"]).find((c): c is string => typeof c === "string" && c !== "");
    if (!name) return undefined;
    for (const d of docs) {
      const context = named(d.contexts, name, "context");
      if (context) return typeof context.namespace === "string" && context.namespace ? context.namespace : undefined;
    }
  } catch {
    // reported when connecting
  }
  return undefined;
}

const FIX_HINT = "fix the file, or pass another with --kubeconfig (mesh never prints a kubeconfig's contents: it holds credentials)";

/**
 * Reads and parses one kubeconfig file. Throws a MeshError naming the file (and for a syntax
 * error the line and column, never the text) when it cannot be read, is empty, is not YAML or
 * is not a map.
 */
export function readKubeconfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : sanitize((err as Error).message);
    throw new MeshError(`cannot load kubeconfig ${file}: ${why}`, "pass a valid file with --kubeconfig or set KUBECONFIG", 1, err);
  }
  let docs: unknown[];
  try {
    docs = parseYamlSafe(text, {}, namedExports(yamlModule));
  } catch (err) {
    if (err instanceof YamlInputError) throw new MeshError(`kubeconfig ${file} is not valid YAML: ${err.reason} at line ${err.line}, column ${err.col}`, FIX_HINT, 1, err);
    throw err;
  }
  const doc = docs.find((d) => d !== null && d !== undefined);
  if (doc === undefined) throw new MeshError(`kubeconfig ${file} is empty`, "pass a kubeconfig with a cluster, a user and a context (--kubeconfig or KUBECONFIG)");
  if (!isTree(doc)) throw new MeshError(`kubeconfig ${file} is not a kubeconfig: it holds ${Array.isArray(doc) ? "a list" : "a single value"}, not a map of clusters, users and contexts`, FIX_HINT);
  for (const key of ["clusters", "users", "contexts"]) {
    const v = doc[key];
    if (v !== undefined && v !== null && !Array.isArray(v)) throw new MeshError(`kubeconfig ${file} is not a kubeconfig: its "${key}" is not a list`, FIX_HINT);
  }
  return doc;
}

/** The user entry `name` of a kubeconfig tree (or of several files merged), if there is one. */
export function kubeconfigUser(doc: Tree, name: string): Tree | undefined {
  return named(doc.users, name, "user");
}

/** The cluster entry `name` of a kubeconfig tree (or of several files merged), if there is one. */
export function kubeconfigCluster(doc: Tree, name: string): Tree | undefined {
  return named(doc.clusters, name, "cluster");
}

/** A string without control characters, which no HTTP header may carry. */
const headerSafe = (v: string) => !/[\u0000-\u001f\u007f]/.test(v);

/**
 * The impersonation settings of a kubeconfig user entry. A malformed one (a list where a string
 * belongs, a line break in a value) throws a MeshError naming the field, never its value.
 */
export function readImpersonation(user: Tree, where: (field: string) => string): Impersonation {
  const str = (field: string): string | undefined => {
    const v = user[field];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string" || !headerSafe(v)) throw new MeshError(`${where(field)} is not a single-line string`, FIX_HINT);
    return v;
  };
  const groups = user["as-groups"] ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === "string" && headerSafe(g))) throw new MeshError(`${where("as-groups")} is not a list of single-line strings`, FIX_HINT);
  const extraIn = user["as-user-extra"] ?? {};
  const badExtra = () => new MeshError(`${where("as-user-extra")} is not a map of names to lists of single-line strings`, FIX_HINT);
  if (!isTree(extraIn)) throw badExtra();
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(extraIn)) {
    if (!k || !Array.isArray(v) || !v.every((x) => typeof x === "string" && headerSafe(x))) throw badExtra();
    extra[k] = v as string[];
  }
  return { user: str("as"), uid: str("as-uid"), groups: groups as string[], extra };
}

/** An `as-user-extra` key as a header name: bytes outside HTTP's token characters, and `%`, become `%XX` (as client-go escapes them). */
export function headerKeyEscape(key: string): string {
  let out = "";
  for (const b of Buffer.from(key, "utf8")) {
    const c = String.fromCharCode(b);
    out += b < 0x7f && /[!#$&'*+\-.0-9A-Z^_`a-z|~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The Impersonate-* headers client-go sends. The flags (`--as`, `--as-group`) override the
 * kubeconfig's `as` and `as-groups` field by field, as kubectl merges them; a uid, groups or extra
 * without a user to impersonate is refused, as kubectl refuses it. `who` names the kubeconfig user
 * entry for that message.
 */
export function impersonationHeaders(k: Impersonation | undefined, g: Pick<GlobalOptions, "as" | "asGroup">, who: string): Record<string, string | string[]> {
  for (const v of [g.as ?? "", ...(g.asGroup ?? [])]) if (!headerSafe(v)) throw new MeshError("--as and --as-group take single-line names", undefined, 2);
  const user = g.as || k?.user;
  const groups = g.asGroup?.length ? g.asGroup : (k?.groups ?? []);
  const extra = Object.entries(k?.extra ?? {});
  const headers: Record<string, string | string[]> = {};
  if (!user) {
    if (k?.uid || groups.length || extra.length)
      throw new MeshError(
        g.asGroup?.length ? "--as-group is given without a user to impersonate" : `${who} sets as-uid, as-groups or as-user-extra but no \`as\` user to impersonate`,
        "name the user to act as: --as <user>, or `as: <user>` in the kubeconfig user entry",
      );
    return headers;
  }
  headers["Impersonate-User"] = user;
  if (k?.uid) headers["Impersonate-Uid"] = k.uid;
  if (groups.length) headers["Impersonate-Group"] = groups;
  for (const [key, values] of extra) if (values.length) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = values;
  return headers;
}

function named(list: unknown, name: string, field: string): Tree | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e) => isTree(e) && e.name === name) as Tree | undefined;
  return entry && isTree(entry[field]) ? (entry[field] as Tree) : undefined;
}

export function readSimpleKubeconfig(g: Pick<GlobalOptions, "kubeconfig" | "context">, env: NodeJS.ProcessEnv = process.env): SimpleKubeconfig | undefined {
  const files = kubeconfigFiles(g, env);
  if (files.length !== 1) return undefined;
  const file = files[0];
  const doc = readKubeconfigFile(file);
  const contextName = g.context ?? (typeof doc["current-context"] === "string" ? doc["current-context"] : "");
  const context = named(doc.contexts, contextName, "context");
  if (g.context && !context) {
    const names = Array.isArray(doc.contexts) ? doc.contexts.filter(isTree).map((c) => shown(c.name)) : [];
    throw new MeshError(`context "${shown(g.context)}" not found in kubeconfig`, `available contexts: ${names.join(", ") || "none"}`);
  }
  if (!context) return undefined;
  const clusterName = String(context.cluster ?? "");
  const userName = String(context.user ?? "");
  const cluster = named(doc.clusters, clusterName, "cluster");
  const user = named(doc.users, userName, "user") ?? {};
  if (!cluster || typeof cluster.server !== "string") return undefined;
  // Only what the fast path implements: any other key (auth-provider, a newer field) is client-node's.
  if (!onlyImplemented(context, "context") || !onlyImplemented(cluster, "cluster") || !onlyImplemented(user, "user")) return undefined;
  const base = dirname(file);
  const origin: KubeconfigOrigin = { file, cluster: shown(clusterName), user: shown(userName), fields: {} };
  const where = (entry: "cluster" | "user", field: string) => `${field} of ${entry} "${entry === "cluster" ? origin.cluster : origin.user}" in kubeconfig ${file}`;
  const nonEmpty = (v: unknown) => typeof v === "string" && v !== "";
  refuseCaWithInsecure(nonEmpty(cluster["certificate-authority-data"]) || nonEmpty(cluster["certificate-authority"]), cluster["insecure-skip-tls-verify"] === true, where("cluster", "insecure-skip-tls-verify"));
  let proxyUrl: string | undefined;
  if (cluster["proxy-url"] !== undefined && cluster["proxy-url"] !== null && cluster["proxy-url"] !== "") {
    const scheme = proxyUrlScheme(cluster["proxy-url"], where("cluster", "proxy-url"));
    if (scheme === "socks5:" || scheme === "socks5h:") return undefined; // client-node tunnels through SOCKS
    proxyUrl = cluster["proxy-url"] as string;
  }
  const impersonate = readImpersonation(user, (field) => where("user", field));
  const read = (entry: "cluster" | "user", dataField: string, pathField: string, slot: keyof KubeconfigOrigin["fields"]): Buffer | undefined => {
    const data = (entry === "cluster" ? cluster : user)[dataField];
    const path = (entry === "cluster" ? cluster : user)[pathField];
    if (typeof data === "string" && data) {
      origin.fields[slot] = dataField;
      if (!/^[A-Za-z0-9+/=\s_-]*$/.test(data)) throw new MeshError(`${where(entry, dataField)} is not base64`, "it holds the PEM file base64-encoded: `base64 -w0 file.pem`");
      return Buffer.from(data, "base64");
    }
    if (typeof path === "string" && path) {
      origin.fields[slot] = pathField;
      const p = isAbsolute(path) ? path : join(base, path);
      try {
        return readFileSync(p);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new MeshError(`cannot read ${p}, the ${where(entry, pathField)}: ${code === "ENOENT" ? "no such file" : sanitize((err as Error).message)}`, "check the files your kubeconfig refers to", 1, err);
      }
    }
    return undefined;
  };
  const headers: Record<string, string> = {};
  let token = typeof user.token === "string" && user.token ? user.token : "";
  if (!token && typeof user.tokenFile === "string" && user.tokenFile) {
    const p = isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile);
    try {
      token = readFileSync(p, "utf8").trim();
    } catch (err) {
      throw new MeshError(`cannot read ${p}, the ${where("user", "tokenFile")}`, "check the files your kubeconfig refers to", 1, err);
    }
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (typeof user.username === "string" && user.username) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? "")}`).toString("base64")}`;
  const exec = user.exec === undefined || user.exec === null ? undefined : execPlugin(user.exec, origin, base);
  return {
    server: cluster.server,
    ca: read("cluster", "certificate-authority-data", "certificate-authority", "ca"),
    insecure: cluster["insecure-skip-tls-verify"] === true,
    serverName: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined,
    cert: read("user", "client-certificate-data", "client-certificate", "cert"),
    key: read("user", "client-key-data", "client-key", "key"),
    headers,
    origin,
    impersonate,
    proxyUrl,
    disableCompression: cluster["disable-compression"] === true,
    exec: exec && { ...exec, cluster: { server: cluster.server, caData: typeof cluster["certificate-authority-data"] === "string" ? cluster["certificate-authority-data"] : undefined, insecure: cluster["insecure-skip-tls-verify"] === true, serverName: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined } },
  };
}

/**
 * client-go will not both verify the server against a CA and skip verification: a cluster entry
 * with a certificate authority and `insecure-skip-tls-verify: true` is refused, in one line.
 */
export function refuseCaWithInsecure(hasCa: boolean, insecure: boolean, where: string): void {
  if (hasCa && insecure)
    throw new MeshError(
      `${where} is true while the entry also names a certificate authority: a CA to verify the server with and no verification at all contradict each other (kubectl refuses this too)`,
      "remove insecure-skip-tls-verify to verify the server with that CA, or remove the certificate authority to skip verification",
    );
}

/** The scheme of a cluster's proxy-url (`http:`, `https:`, `socks5:`); anything else throws a MeshError naming the field. */
export function proxyUrlScheme(value: unknown, where: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !url.hostname) throw new MeshError(`${where} is not a URL`, "set it to the proxy's address, e.g. http://proxy.example:3128");
  if (!["http:", "https:", "socks5:", "socks5h:"].includes(url.protocol))
    throw new MeshError(`${where} has the scheme "${shown(url.protocol.slice(0, -1))}"; kubectl supports http, https and socks5`, "set it to the proxy's address, e.g. http://proxy.example:3128");
  return url.protocol;
}

// ---- TLS material ----------------------------------------------------------------------------

/**
 * The TLS context of a connection, built once. When OpenSSL rejects the material, the error says
 * which kubeconfig entry and field is wrong instead of OpenSSL's own words
 * (`error:1E08010C:DECODER routines::unsupported`, `key values mismatch`).
 */
export function kubeconfigSecureContext(m: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string }, origin: KubeconfigOrigin | undefined): SecureContext {
  // OpenSSL skips what is not PEM in a CA bundle without a word: then no server would verify.
  if (m.ca !== undefined && !certificateParses(m.ca)) throw tlsMaterialError(m, origin, undefined, true);
  try {
    return createSecureContext({ ca: m.ca, cert: m.cert, key: m.key });
  } catch (err) {
    throw tlsMaterialError(m, origin, err);
  }
}

function certificateParses(pem: Buffer | string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function tlsMaterialError(m: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string }, origin: KubeconfigOrigin | undefined, err: unknown, badCa = false): MeshError {
  const o = origin ?? { file: "", cluster: "", user: "", fields: {} };
  const inFile = o.file ? ` in kubeconfig ${o.file}` : "";
  const userField = (slot: "cert" | "key", fallback: string) => `${o.fields[slot] ?? fallback} of user${o.user ? ` "${o.user}"` : ""}${inFile}`;
  const hint = "fix the user entry of your kubeconfig context, or log in again to get new credentials";
  if (m.ca !== undefined) {
    try {
      if (badCa) throw new Error("not a certificate");
      createSecureContext({ ca: m.ca });
    } catch {
      return new MeshError(`${o.fields.ca ?? "certificate-authority-data"} of cluster${o.cluster ? ` "${o.cluster}"` : ""}${inFile} is not a PEM certificate`, "fix the cluster entry of your kubeconfig context", 1, err);
    }
  }
  if (m.cert !== undefined && m.key === undefined) return new MeshError(`user${o.user ? ` "${o.user}"` : ""}${inFile} has a client certificate but no client key`, hint, 1, err);
  if (m.key !== undefined && m.cert === undefined) return new MeshError(`user${o.user ? ` "${o.user}"` : ""}${inFile} has a client key but no client certificate`, hint, 1, err);
  if (m.key !== undefined) {
    try {
      createPrivateKey(m.key);
    } catch {
      return new MeshError(`${userField("key", "client-key-data")} is not a PEM private key (or it is encrypted)`, hint, 1, err);
    }
  }
  if (m.cert !== undefined) {
    try {
      new X509Certificate(m.cert);
    } catch {
      return new MeshError(`${userField("cert", "client-certificate-data")} is not a PEM certificate`, hint, 1, err);
    }
  }
  if (/mismatch/i.test((err as Error)?.message ?? ""))
    return new MeshError(`${userField("key", "client-key-data")} does not match its ${o.fields.cert ?? "client-certificate-data"}`, hint, 1, err);
  return new MeshError(`the TLS material of user${o.user ? ` "${o.user}"` : ""}${inFile} is not usable`, hint, 1, err);
}

// ---- exec credential plugins -----------------------------------------------------------------

/** A user's `exec` entry: the plugin kubectl runs to get credentials. */
export interface ExecPlugin {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo: boolean;
  /** The kubeconfig's directory: a relative command with a path separator is resolved from it. */
  dir: string;
  origin: KubeconfigOrigin;
  cluster?: { server: string; caData?: string; insecure: boolean; serverName?: string };
}

/** What a plugin answered. */
export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

/** Most bytes of a plugin's output read (an ExecCredential is a few KiB). */
const MAX_PLUGIN_OUTPUT = 1024 * 1024;

/** Parses a user's `exec` entry; throws a MeshError naming the user for a malformed one. */
export function execPlugin(exec: unknown, origin: KubeconfigOrigin, dir: string): ExecPlugin {
  const bad = (what: string) => new MeshError(`the exec entry of user "${origin.user}" in kubeconfig ${origin.file} ${what}`, FIX_HINT);
  if (!isTree(exec)) throw bad("is not a map");
  if (typeof exec.command !== "string" || !exec.command) throw bad("has no command");
  const args = exec.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string" || typeof a === "number" || typeof a === "boolean")) throw bad("has args that are not a list of strings");
  const env = exec.env ?? [];
  if (!Array.isArray(env) || !env.every((e) => isTree(e) && typeof e.name === "string")) throw bad("has env that is not a list of name/value pairs");
  return {
    command: exec.command,
    args: args.map(String),
    env: (env as Tree[]).map((e) => ({ name: String(e.name), value: e.value === undefined || e.value === null ? "" : String(e.value) })),
    apiVersion: typeof exec.apiVersion === "string" && exec.apiVersion ? exec.apiVersion : "client.authentication.k8s.io/v1beta1",
    installHint: typeof exec.installHint === "string" ? exec.installHint : undefined,
    provideClusterInfo: exec.provideClusterInfo === true,
    dir,
    origin,
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}

/**
 * Runs an exec credential plugin (kubectl's protocol: KUBERNETES_EXEC_INFO in, an ExecCredential
 * as JSON on stdout), bounded by `timeoutMs`: past it, or when `signal` aborts, the plugin is
 * killed. A plugin that is missing, fails, is killed, or prints anything but an ExecCredential
 * with credentials rejects with a MeshError naming the plugin and the kubeconfig user, with its
 * exit status and the first line of its stderr (sanitised). The plugin gets no terminal.
 */
export function runExecPlugin(p: ExecPlugin, opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<ExecCredential> {
  const who = `the exec credential plugin "${shown(p.command)}" of kubeconfig user "${p.origin.user}"`;
  const command = !isAbsolute(p.command) && /[\\/]/.test(p.command) ? join(p.dir, p.command) : p.command;
  const info: Tree = { apiVersion: p.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
  if (p.provideClusterInfo && p.cluster)
    (info.spec as Tree).cluster = {
      server: p.cluster.server,
      "certificate-authority-data": p.cluster.caData,
      "insecure-skip-tls-verify": p.cluster.insecure || undefined,
      "tls-server-name": p.cluster.serverName,
    };
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const e of p.env) env[e.name] = e.value;
  return new Promise<ExecCredential>((resolve, reject) => {
    let settled = false;
    let child: ReturnType<typeof spawn>;
    const stdout: Buffer[] = [];
    let outBytes = 0;
    let stderr = "";
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      f();
    };
    const fail = (message: string, hint?: string, cause?: unknown) => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      finish(() => reject(new MeshError(message, hint ?? `run the plugin yourself to see what it needs; it belongs to user "${p.origin.user}" in ${p.origin.file}`, 1, cause)));
    };
    const onAbort = () => fail(`${who} was stopped: the command was cancelled`);
    const timer = setTimeout(
      () => fail(`${who} did not finish within ${formatMs(opts.timeoutMs)}; mesh stopped it`, "mesh runs credential plugins without a terminal: run it yourself (it may wait for an interactive login), then try again"),
      opts.timeoutMs,
    );
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      child = spawn(command, p.args, { env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    } catch (err) {
      fail(`${who} cannot be started: ${sanitize((err as Error).message)}`, undefined, err);
      return;
    }
    child.stdout!.on("data", (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > MAX_PLUGIN_OUTPUT) return fail(`${who} printed more than ${MAX_PLUGIN_OUTPUT / 1024 / 1024} MiB; mesh stopped it`);
      stdout.push(c);
    });
    child.stderr!.on("data", (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString("utf8");
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") fail(`${who} was not found`, p.installHint ? sanitize(p.installHint, 300) : `install it, or fix the command of user "${p.origin.user}" in ${p.origin.file}`, err);
      else if (err.code === "EACCES") fail(`${who} cannot be run: permission denied`, undefined, err);
      else fail(`${who} cannot be started: ${sanitize(err.message)}`, undefined, err);
    });
    child.on("close", (code, sig) => {
      if (settled) return;
      const firstLine = sanitize(stderr.split("\n").find((l) => l.trim()) ?? "", 200);
      if (sig) return fail(`${who} was killed by ${sig}${firstLine ? `: ${firstLine}` : ""}`);
      if (code !== 0) return fail(`${who} failed (exit status ${code})${firstLine ? `: ${firstLine}` : ""}`);
      let cred: unknown;
      try {
        cred = JSON.parse(Buffer.concat(stdout).toString("utf8"));
      } catch {
        return fail(`${who} printed something other than an ExecCredential (not JSON)`);
      }
      const status = isTree(cred) ? cred.status : undefined;
      if (!isTree(cred) || cred.kind !== "ExecCredential" || !isTree(status)) return fail(`${who} printed JSON that is not an ExecCredential with a status`);
      const token = typeof status.token === "string" && status.token ? status.token : undefined;
      const certPem = typeof status.clientCertificateData === "string" && status.clientCertificateData ? status.clientCertificateData : undefined;
      const keyPem = typeof status.clientKeyData === "string" && status.clientKeyData ? status.clientKeyData : undefined;
      if (Boolean(certPem) !== Boolean(keyPem)) return fail(`${who} printed an ExecCredential with ${certPem ? "a client certificate but no key" : "a client key but no certificate"}`);
      if (!token && !certPem) return fail(`${who} printed an ExecCredential without a token or a client certificate`);
      if (token && /[\r\n\0]/.test(token)) return fail(`${who} printed a token with line breaks or NUL characters`);
      finish(() => resolve({ token, cert: certPem ? Buffer.from(certPem) : undefined, key: keyPem ? Buffer.from(keyPem) : undefined }));
    });
  });
}
