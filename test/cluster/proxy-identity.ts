/**
 * The proxy stand-in's mTLS identity: when the pod's control plane (label
 * `linkerd.io/control-plane-ns`, default `linkerd`) has its identity issuer secret
 * `linkerd-identity-issuer` (`crt.pem`/`key.pem`, or `tls.crt`/`tls.key` for an external issuer),
 * the kubelet stand-in signs a leaf certificate for the pod's identity with it, as Linkerd's
 * identity controller does for a real proxy: ECDSA P-256, CN and DNS SAN
 * `<sa>.<ns>.serviceaccount.identity.<cp ns>.<trust domain>`, valid 24 h, serverAuth+clientAuth.
 * The stand-in server presents it with the issuer to TLS clients of the admin port, <pod IP>:4191.
 */
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import { buildCertificate } from "../../src/tls/build.js";
import { parseCertificate } from "../../src/tls/certificate.js";
import { KeyUsage, Oid } from "../../src/tls/oids.js";
import { decodePem, encodePem } from "../../src/tls/pem.js";
import type { KubeRest } from "./kube-rest.js";

const subtle = webcrypto.subtle;
const ISSUER_SECRET = "linkerd-identity-issuer";
const DAY_MS = 86_400_000;

export interface ProxyIdentity {
  /** The identity name (CN and SAN of the leaf). */
  name: string;
  /** Leaf, then issuer (PEM). */
  certChainPem: string;
  /** PKCS#8 PEM of the leaf's key. */
  keyPem: string;
}

interface PodLike {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { serviceAccountName?: string; containers: { name: string; env?: { name: string; value?: string }[] }[] };
}

/** The identity Linkerd gives the pod: from its proxy's `LINKERD2_PROXY_IDENTITY_LOCAL_NAME`, else from its service account and control plane. */
export function identityName(pod: PodLike): string {
  const sa = pod.spec.serviceAccountName ?? "default";
  const ns = pod.metadata.namespace;
  const env = pod.spec.containers.find((c) => c.name === "linkerd-proxy")?.env ?? [];
  const value = (n: string) => env.find((e) => e.name === n)?.value;
  const local = value("LINKERD2_PROXY_IDENTITY_LOCAL_NAME");
  const vars: Record<string, string | undefined> = { _pod_sa: sa, _pod_ns: ns, _l5d_ns: value("_l5d_ns"), _l5d_trustdomain: value("_l5d_trustdomain") };
  if (local) return local.replace(/\$\(([A-Za-z0-9_]+)\)/g, (m, v: string) => vars[v] ?? m);
  const cp = pod.metadata.labels?.["linkerd.io/control-plane-ns"] ?? "linkerd";
  return `${sa}.${ns}.serviceaccount.identity.${cp}.cluster.local`;
}

interface Issuer {
  crtPem: string;
  key: webcrypto.CryptoKey;
  subject: Uint8Array;
  subjectKeyId?: Uint8Array;
}

/** Issues leaf certificates; issuers are read from the API at most every few seconds per control plane. */
export class IdentityIssuer {
  private readonly issuers = new Map<string, { at: number; issuer: Promise<Issuer | undefined> }>();

  constructor(
    private readonly rest: KubeRest,
    private readonly log: (line: string) => void,
  ) {}

  /** A leaf for the pod, or undefined when its control plane has no issuer secret (yet). */
  async issue(pod: PodLike): Promise<ProxyIdentity | undefined> {
    const cp = pod.metadata.labels?.["linkerd.io/control-plane-ns"] ?? "linkerd";
    const issuer = await this.issuer(cp);
    if (!issuer) return undefined;
    const name = identityName(pod);
    const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const der = await buildCertificate({
      serialNumber: BigInt(`0x${randomBytes(8).toString("hex")}`) | 1n,
      subjectCommonName: name,
      issuerName: issuer.subject,
      notBefore: new Date(now - 10_000),
      notAfter: new Date(now + DAY_MS),
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      keyUsage: KeyUsage.digitalSignature | KeyUsage.keyEncipherment,
      extKeyUsage: [Oid.serverAuth, Oid.clientAuth],
      authorityKeyId: issuer.subjectKeyId,
      dnsNames: [name],
    });
    const keyPem = encodePem("PRIVATE KEY", new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey)));
    return { name, certChainPem: encodePem("CERTIFICATE", der) + issuer.crtPem, keyPem };
  }

  private issuer(cp: string): Promise<Issuer | undefined> {
    const cached = this.issuers.get(cp);
    if (cached && Date.now() - cached.at < 5_000) return cached.issuer;
    const issuer = this.load(cp).catch((e: Error) => {
      this.log(`identity issuer of ${cp}: ${e.message}`);
      return undefined;
    });
    this.issuers.set(cp, { at: Date.now(), issuer });
    return issuer;
  }

  private async load(cp: string): Promise<Issuer | undefined> {
    const secret = await this.rest.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(cp)}/secrets/${ISSUER_SECRET}`);
    const data = secret?.data ?? {};
    const b64 = (k: string) => (data[k] ? Buffer.from(data[k], "base64").toString("utf8") : undefined);
    const crt = b64("crt.pem") ?? b64("tls.crt");
    const keyText = b64("key.pem") ?? b64("tls.key");
    if (!crt || !keyText) return undefined;
    const block = decodePem(crt).block;
    if (!block) throw new Error("the issuer certificate is not PEM");
    const cert = parseCertificate(block.bytes);
    const pkcs8 = createPrivateKey(keyText).export({ type: "pkcs8", format: "der" });
    const key = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    return { crtPem: encodePem("CERTIFICATE", cert.raw), key, subject: cert.rawSubject, subjectKeyId: cert.subjectKeyId };
  }
}
