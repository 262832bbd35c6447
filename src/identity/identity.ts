/**
 * `mesh identity`: the certificate chain each proxy presents. As `linkerd identity` does, mesh
 * port-forwards to the proxy's admin port (the `linkerd-admin` port of the `linkerd-proxy`
 * container), which answers plain HTTP (/metrics, /ready) and TLS alike, and makes a TLS handshake
 * there with the pod's identity as server name. Like linkerd it accepts whatever chain the proxy
 * presents; unlike linkerd it then checks that chain against the trust anchors in the proxy's
 * environment and reports the result (with why it did not verify). Certificates are parsed with
 * Node's X509Certificate and mesh's DER reader.
 */
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { MeshError } from "../errors.js";
import type { ClusterApi } from "../kube/cluster.js";
import { openPortForward } from "../kube/portforward.js";
import type { Pod } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { parseCertificate } from "../tls/certificate.js";
import { decode, readBitString, sequence } from "../tls/der.js";

/** The proxy's container, and the name of its admin port (linkerd's k8s.ProxyContainerName and k8s.ProxyAdminPortName). */
export const PROXY_CONTAINER = "linkerd-proxy";
export const PROXY_ADMIN_PORT_NAME = "linkerd-admin";

export interface CertificateInfo {
  version: number;
  /** Decimal, as Go prints it. */
  serialNumber: string;
  signatureAlgorithm: string;
  publicKeyAlgorithm: string;
  /** RFC 2253 order (`CN=…,O=…`), as Go prints a pkix.Name. */
  subject: string;
  issuer: string;
  dnsNames: string[];
  /** RFC 3339, UTC. */
  notBefore: string;
  notAfter: string;
  /** Colon-separated hex. */
  signature: string;
  sha256Fingerprint: string;
  pem: string;
}

export interface PodIdentity {
  namespace: string;
  pod: string;
  container?: string;
  /** The identity the pod's proxy should present (its TLS server name). */
  identity?: string;
  /** The chain validated against the pod's trust anchors, for `identity`. */
  verified: boolean;
  /** Why it did not verify. */
  verifyError?: string;
  /** Leaf first, as the proxy presented it. */
  certificates: CertificateInfo[];
  error?: string;
}

const env = (pod: Pod, name: string) => pod.spec.containers.find((c) => c.name === PROXY_CONTAINER)?.env?.find((e) => e.name === name)?.value;

/** The proxy's admin port: the port named linkerd-admin on the linkerd-proxy container, found by name only (as linkerd does). */
export function proxyAdminPort(pod: Pod): { container: string; port: number } | undefined {
  const proxy = pod.spec.containers.find((c) => c.name === PROXY_CONTAINER);
  const port = proxy?.ports?.find((p) => p.name === PROXY_ADMIN_PORT_NAME);
  return port ? { container: PROXY_CONTAINER, port: port.containerPort } : undefined;
}

/** `<sa>.<ns>.serviceaccount.identity.<_l5d_ns>.<_l5d_trustdomain>`, from the proxy's environment as linkerd builds it. */
export function expectedIdentity(pod: Pod): string | undefined {
  const local = env(pod, "LINKERD2_PROXY_IDENTITY_LOCAL_NAME");
  const vars: Record<string, string | undefined> = {
    _pod_sa: pod.spec.serviceAccountName ?? "default",
    _pod_ns: pod.metadata.namespace ?? "",
    _l5d_ns: env(pod, "_l5d_ns"),
    _l5d_trustdomain: env(pod, "_l5d_trustdomain"),
  };
  if (local) return local.replace(/\$\(([A-Za-z0-9_]+)\)/g, (m, v: string) => vars[v] ?? m);
  if (vars._l5d_ns && vars._l5d_trustdomain) return `${vars._pod_sa}.${vars._pod_ns}.serviceaccount.identity.${vars._l5d_ns}.${vars._l5d_trustdomain}`;
  return undefined;
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const goName = (x509Name: string) => x509Name.split("\n").filter(Boolean).reverse().join(",");

/** What `identity` shows of one certificate (DER). */
export function describeCertificate(der: Uint8Array): CertificateInfo {
  const x = new X509Certificate(der);
  const c = parseCertificate(der);
  return {
    version: c.version,
    serialNumber: c.serialNumber.toString(10),
    signatureAlgorithm: c.signatureAlgorithm.name,
    publicKeyAlgorithm: c.publicKey.algorithm,
    subject: goName(x.subject),
    issuer: goName(x.issuer),
    dnsNames: c.dnsNames,
    notBefore: rfc3339(c.notBefore),
    notAfter: rfc3339(c.notAfter),
    signature: Buffer.from(readBitString(sequence(decode(der), "certificate")[2], "signature").bytes).toString("hex").replace(/(..)(?!$)/g, "$1:"),
    sha256Fingerprint: x.fingerprint256,
    pem: x.toString(),
  };
}

/** The chain of a handshake, leaf first, each certificate once. */
function peerChain(sock: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: PeerCertificate | undefined = sock.getPeerCertificate(true); c?.raw && !seen.has(c.fingerprint256); c = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
  }
  return out;
}

export interface ReadOptions {
  timeoutMs: number;
}

/** Port-forwards to the pod's proxy admin port and reads the chain it presents for its identity. Failures go in `error`, never thrown. */
export async function readProxyIdentity(cluster: ClusterApi, pod: Pod, o: ReadOptions): Promise<PodIdentity> {
  const namespace = pod.metadata.namespace ?? "";
  const base: PodIdentity = { namespace, pod: pod.metadata.name, verified: false, certificates: [] };
  if (pod.status?.phase !== "Running") return { ...base, error: `pod not running: ${sanitize(pod.metadata.name, 253)}` };
  const target = proxyAdminPort(pod);
  if (!target) return { ...base, error: `pod ${sanitize(pod.metadata.name, 253)} has no ${PROXY_ADMIN_PORT_NAME} port in a ${PROXY_CONTAINER} container: is it meshed?` };
  const identity = expectedIdentity(pod);
  const anchors = env(pod, "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS");
  const result: PodIdentity = { ...base, container: target.container, identity };
  let timer: NodeJS.Timeout | undefined;
  let close = () => undefined as void;
  try {
    const work = (async () => {
      const pf = await openPortForward(cluster, namespace, pod.metadata.name, { timeoutMs: o.timeoutMs });
      close = () => pf.close();
      const conn = await pf.dial(target.port);
      // As linkerd, any chain is accepted (this is a diagnostic, for proxies whose issuer may not
      // match their trust anchors); whether it verifies is reported below instead.
      const sock = tlsConnect({ socket: conn, servername: identity, ca: anchors, rejectUnauthorized: false });
      await new Promise<void>((resolve, reject) => {
        // When the kubelet could not connect, its own words (the TLS socket's error would only repeat them).
        conn.once("error", reject);
        sock.once("secureConnect", resolve);
        sock.once("error", (e: Error) => reject(conn.errored ?? new MeshError(`no TLS handshake on the proxy's admin port ${target.port}: ${e.message}`)));
      });
      const chain = peerChain(sock);
      const nameError = identity ? checkServerIdentity(identity, sock.getPeerCertificate()) : new Error("the pod's proxy environment names no identity");
      const verify = { authorized: sock.authorized, authorizationError: sock.authorizationError, nameError };
      sock.destroy();
      return { verify, chain };
    })();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MeshError(`no TLS handshake with the proxy within ${o.timeoutMs / 1000}s`)), o.timeoutMs);
    });
    work.catch(() => undefined);
    const { verify, chain } = await Promise.race([work, late]);
    result.certificates = chain.map(describeCertificate);
    if (!anchors) result.verifyError = "the proxy's environment has no LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS";
    else if (!verify.authorized) result.verifyError = `not issued by the pod's trust anchors (${sanitize(String(verify.authorizationError ?? "unknown"), 200)})`;
    else if (verify.nameError) result.verifyError = sanitize(verify.nameError.message, 300);
    result.verified = result.verifyError === undefined;
    return result;
  } catch (e) {
    return { ...result, error: sanitize(e instanceof Error ? e.message : String(e), 400) };
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** linkerd's text: one block per pod, its leaf's fields, then its PEM (or the error). */
export function formatIdentityText(results: PodIdentity[]): string {
  let out = "";
  results.forEach((r, i) => {
    out += `\n POD ${sanitize(r.pod, 253)} (${i + 1} of ${results.length})\n\n`;
    const c = r.certificates[0];
    if (r.error !== undefined || !c) {
      out += `\n${r.error ?? "the proxy presented no certificate"}\n`;
      return;
    }
    const s = (v: string) => sanitize(v, 1000);
    out += `Version:  ${c.version}\n`;
    out += `Serial Number:  ${c.serialNumber}\n`;
    out += `Signature Algorithm:  ${c.signatureAlgorithm}\n`;
    out += `Validity\n\t Not Before:  ${c.notBefore}\n\t Not After:  ${c.notAfter}\n`;
    out += `Subject:  ${s(c.subject)}\n`;
    out += `Issuer:   ${s(c.issuer)}\n`;
    out += `Subject Alternative Names:  ${c.dnsNames.map((n) => `DNS:${s(n)}`).join(", ")}\n`;
    out += `Subject Public Key Info:\n\tPublic Key Algorithm:  ${c.publicKeyAlgorithm}\n`;
    out += `Signature: \n ${c.signature}\n`;
    out += r.verified ? `Verified:  yes (issued by the pod's trust anchors, for ${s(r.identity ?? "")})\n` : `Verified:  no: ${r.verifyError ?? "unknown"}\n`;
    out += `\n${c.pem}`;
  });
  return out;
}

export function formatIdentityJson(results: PodIdentity[]): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

/** The chains, leaf first, one after the other. */
export function formatIdentityPem(results: PodIdentity[]): string {
  return results.flatMap((r) => r.certificates.map((c) => c.pem)).join("");
}
