import { MeshError } from "../errors.js";

/** An HTTP failure from the Kubernetes API, with the status and the server's message. */
export class KubeApiError extends MeshError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(reason, hint);
    this.name = "KubeApiError";
  }
}

/** Translates a failed request into a message a user can act on. */
export function apiError(status: number, method: string, path: string, body: string): KubeApiError {
  let serverMessage = body.trim().slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { message?: string };
    if (parsed.message) serverMessage = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  const what = `${method} ${path}`;
  switch (status) {
    case 401:
      return new KubeApiError(status, method, path, `unauthorized: the API server rejected the credentials (${what})`, "your kubeconfig credentials are invalid or expired: log in again or check --kubeconfig/--context");
    case 403:
      return new KubeApiError(status, method, path, `forbidden: ${serverMessage}`, "ask a cluster admin for this permission, or use a context with more rights (--context)");
    case 404:
      return new KubeApiError(status, method, path, `not found: ${serverMessage}`, "is the control plane installed? run `mesh check`");
    default:
      return new KubeApiError(status, method, path, `the API server answered ${status} to ${what}: ${serverMessage}`, status >= 500 ? "the API server is failing; try again, or check its health" : undefined);
  }
}

/** A request that never got an HTTP answer: refused, reset, DNS, TLS, timeout. */
export function transportError(err: unknown, server: string, timeoutMs?: number): MeshError {
  const code = (err as { code?: string })?.code;
  if (code === "ECONNREFUSED")
    return new MeshError(`cannot connect to the Kubernetes API at ${server}: connection refused`, "is the cluster running? check your kubeconfig context (--context, --kubeconfig)", 1, err);
  if (code === "ETIMEDOUT" || code === "MESH_TIMEOUT")
    return new MeshError(`the Kubernetes API at ${server} did not answer within ${timeoutMs ?? "the"} ms`, "the API server is slow or unreachable; check the network or try again", 1, err);
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET")
    return new MeshError(`the connection to the Kubernetes API at ${server} was reset`, "the API server or a proxy in between closed the connection; try again", 1, err);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new MeshError(`cannot resolve the Kubernetes API host of ${server}`, "check the server address in your kubeconfig", 1, err);
  const message = err instanceof Error ? err.message : String(err);
  return new MeshError(`cannot reach the Kubernetes API at ${server}: ${message}`, "check your kubeconfig context (--context, --kubeconfig)", 1, err);
}
