/**
 * `mesh identity`: the certificate chain each proxy presents. As `linkerd identity` does, mesh
 * port-forwards to the proxy and makes a TLS handshake with the pod's identity as server name,
 * verifying against the trust anchors in the proxy's environment; the chain is reported either way
 * (with why it did not verify), parsed with Node's X509Certificate and mesh's DER reader.
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

/** The proxy's inbound port, where it terminates mTLS with its own identity. */
export const PROXY_INBOUND_PORT = 4143;
export const PROXY_PORT_NAME = "linkerd-proxy";

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

const env = (pod: Pod, name: string) => pod.spec.containers.find((c) => c.name === PROXY_PORT_NAME)?.env?.find((e) => e.name === name)?.value;

/** The container and port of the proxy's inbound listener (the port named linkerd-proxy; 4143 on a container named linkerd-proxy without one). */
export function proxyPort(pod: Pod): { container: string; port: number } | undefined {
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.name === PROXY_PORT_NAME) return { container: c.name, port: p.containerPort };
  return pod.spec.containers.some((c) => c.name === PROXY_PORT_NAME) ? { container: PROXY_PORT_NAME, port: PROXY_INBOUND_PORT } : undefined;
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

/** Port-forwards to the pod's proxy and reads the chain it presents for its identity. Failures go in `error`, never thrown. */
export async function readProxyIdentity(cluster: ClusterApi, pod: Pod, o: ReadOptions): Promise<PodIdentity> {
  const namespace = pod.metadata.namespace ?? "";
  const base: PodIdentity = { namespace, pod: pod.metadata.name, verified: false, certificates: [] };
  if (pod.status?.phase !== "Running") return { ...base, error: `pod not running: ${sanitize(pod.metadata.name, 253)}` };
  const target = proxyPort(pod);
  if (!target) return { ...base, error: `pod ${sanitize(pod.metadata.name, 253)} has no ${PROXY_PORT_NAME} container: is it meshed?` };
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
      const sock = tlsConnect({ socket: conn, servername: identity, ca: anchors, rejectUnauthorized: false });
      await new Promise<void>((resolve, reject) => {
        sock.once("secureConnect", resolve);
        sock.once("error", reject);
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
