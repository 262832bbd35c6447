import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";

/** An HTTP failure from the Kubernetes API, with the status and the server's message. */
export class KubeApiError extends MeshError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    hint?: string,
    /** The API server's own message (its Status `message`), when it sent one. */
    readonly serverMessage = "",
  ) {
    super(reason, hint);
    this.name = "KubeApiError";
  }
}

/** What an API request asks to do, in RBAC terms. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/**
 * The RBAC attributes of a request path, e.g. GET `/api/v1/namespaces/linkerd/pods` is
 * `list pods in namespace linkerd`. Undefined for non-resource paths such as `/version`.
 */
export function requestAttributes(method: string, path: string): RequestAttributes | undefined {
  const [pathname, query = ""] = path.split("?");
  const parts = pathname.split("/").filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1];
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const m = method.toUpperCase();
  const watch = /(^|&)watch=(1|true)/.test(query);
  const verb =
    m === "GET" ? (name ? "get" : watch ? "watch" : "list") : m === "POST" ? "create" : m === "PUT" ? "update" : m === "PATCH" ? "patch" : m === "DELETE" ? (name ? "delete" : "deletecollection") : m.toLowerCase();
  return { verb, group, resource, subresource: subresource?.split(":")[0], namespace, name: name?.split(":")[0] };
}

/** `list pods in namespace "linkerd"`, `get customresourcedefinitions.apiextensions.k8s.io "servers.policy.linkerd.io"`. */
export function describePermission(a: RequestAttributes): string {
  const res = `${a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.group ? `.${a.group}` : ""}`;
  const where = a.namespace ? ` in namespace "${a.namespace}"` : a.name || a.verb !== "list" ? "" : " (cluster-wide)";
  return `"${a.verb}" on ${res}${where}`;
}

/** Translates a failed request into a message a user can act on. */
export function apiError(status: number, method: string, path: string, body: string): KubeApiError {
  const serverMessage = serverMessageOf(body);
  const what = `${method} ${path.split("?")[0]}`;
  const attrs = requestAttributes(method, path);
  switch (status) {
    case 401:
      return new KubeApiError(status, method, path, `unauthorized: the API server rejected the credentials (${what})`, "your kubeconfig credentials are invalid or expired: log in again or check --kubeconfig/--context", serverMessage);
    case 403: {
      const permission = attrs ? describePermission(attrs) : `access to ${what}`;
      // The API server's own message already names user, verb, resource and namespace.
      const message = /forbidden/i.test(serverMessage) ? serverMessage : `forbidden: missing RBAC permission ${permission}${serverMessage ? ` (${serverMessage})` : ""}`;
      return new KubeApiError(status, method, path, message, `missing RBAC permission ${permission}: ask a cluster admin to grant it, or use a context with more rights (--context)`, serverMessage);
    }
    case 404:
      return new KubeApiError(status, method, path, `not found: ${serverMessage}`, "is the control plane installed? run `mesh check`", serverMessage);
    default:
      return new KubeApiError(
        status,
        method,
        path,
        `the API server answered ${status} to ${what}${serverMessage ? `: ${serverMessage}` : ""}`,
        status >= 500 ? "the API server is failing; try again, or check its health" : undefined,
        serverMessage,
      );
  }
}

/**
 * The server's explanation in an error body, safe to print: a Status object's `message`, the
 * title of an HTML page (a proxy or load balancer in front of the API server), else the text;
 * always one line, without escape sequences, at most 300 characters (see sanitize).
 */
export function serverMessageOf(body: string): string {
  const text = body.trim();
  if (!text) return "";
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string" && parsed.message) return sanitize(parsed.message, 300);
    } catch {
      // not JSON after all: treat as text
    }
  }
  if (/^(<!doctype html|<html)/i.test(text) || /<\/?(html|body|head)\b/i.test(text.slice(0, 1024))) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
    const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(text)?.[1];
    const what = sanitize((title ?? heading ?? "").replace(/<[^>]*>/g, ""), 120);
    return what ? `an HTML page titled "${what}"` : "an HTML page";
  }
  return sanitize(text, 300);
}

/** A request that never got an HTTP answer: refused, reset, DNS, TLS, timeout. */
export function transportError(err: unknown, server: string, timeoutMs?: number, what?: string): MeshError {
  const code = (err as { code?: string })?.code;
  const req = what ? ` (${what})` : "";
  if (code === "ECONNREFUSED")
    return new MeshError(`cannot connect to the Kubernetes API at ${server}: connection refused`, "is the cluster running? check your kubeconfig context (--context, --kubeconfig)", 1, err);
  if (code === "ETIMEDOUT" || code === "MESH_TIMEOUT")
    return new MeshError(
      `the Kubernetes API at ${server} did not answer within ${timeoutMs === undefined ? "the timeout" : formatMs(timeoutMs)}${req}`,
      "the API server is slow or unreachable; check the network or try again",
      1,
      err,
    );
  if (code === "MESH_IDLE")
    return new MeshError(
      `the Kubernetes API at ${server} sent nothing for ${timeoutMs === undefined ? "too long" : formatMs(timeoutMs)}${req}`,
      "the stream stalled; the API server, a proxy in between or the network may have dropped it",
      1,
      err,
    );
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET")
    return new MeshError(`the connection to the Kubernetes API at ${server} was reset${req}`, "the API server or a proxy in between closed the connection; try again", 1, err);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new MeshError(`cannot resolve the Kubernetes API host of ${server}`, "check the server address in your kubeconfig", 1, err);
  if (code === "MESH_ABORTED") return new MeshError(`the request to the Kubernetes API was cancelled${req}`, undefined, 1, err);
  if (typeof code === "string" && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return new MeshError(`cannot verify the TLS certificate of the Kubernetes API at ${server}: ${sanitize((err as Error).message)}`, "check certificate-authority-data in your kubeconfig", 1, err);
  const message = sanitize(err instanceof Error ? err.message : String(err));
  return new MeshError(`cannot reach the Kubernetes API at ${server}: ${message}`, "check your kubeconfig context (--context, --kubeconfig)", 1, err);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}
