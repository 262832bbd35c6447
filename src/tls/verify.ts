/**
 * Certificate path validation with the rules of Go's `x509.Certificate.Verify`
 * (Go 1.19, which builds Linkerd stable-2.14.10), so mesh accepts exactly the
 * chains Linkerd accepts. Name constraints are not evaluated.
 */
import { bytesEqual, type Certificate } from "./certificate.js";
import { KeyUsage, Oid } from "./oids.js";
import { checkSignature } from "./signature.js";
import { formatTime } from "./validity.js";

export interface VerifyOptions {
  /** Trusted roots (the trust anchors or a webhook caBundle). */
  roots: readonly Certificate[];
  /** Untrusted certificates that may complete the chain. */
  intermediates?: readonly Certificate[];
  /** When set, the leaf must be valid for this DNS name. */
  dnsName?: string;
  now: Date;
}

/** Why verification failed, with the certificate concerned. */
export type VerifyFailure =
  | { kind: "unhandled-critical-extension"; cert: Certificate; oids: string[] }
  | { kind: "not-yet-valid" | "expired"; cert: Certificate }
  | { kind: "hostname"; cert: Certificate; host: string }
  /** No root or intermediate signed it; `hint` is the first candidate that was rejected, and why. */
  | { kind: "unknown-authority"; cert: Certificate; hint?: { cert: Certificate; error: string; cannotSign: boolean } }
  | { kind: "not-authorized-to-sign"; cert: Certificate }
  | { kind: "too-many-intermediates"; cert: Certificate }
  | { kind: "incompatible-usage"; cert: Certificate }
  | { kind: "too-many-signature-checks" };

export type VerifyResult =
  | { ok: true; chains: Certificate[][] }
  | { ok: false; failure: VerifyFailure; /** Go's error text. */ error: string };

const handledNothing = Symbol("no chain");
const CONSTRAINT_VIOLATION = "x509: invalid signature: parent certificate cannot sign this kind of certificate";
const MAX_SIGNATURE_CHECKS = 100;

/** Go's wording of a failure. */
export function goVerifyError(f: VerifyFailure, now: Date): string {
  switch (f.kind) {
    case "unhandled-critical-extension":
      return "x509: unhandled critical extension";
    case "not-yet-valid":
      return `x509: certificate has expired or is not yet valid: current time ${formatTime(now)} is before ${formatTime(f.cert.notBefore)}`;
    case "expired":
      return `x509: certificate has expired or is not yet valid: current time ${formatTime(now)} is after ${formatTime(f.cert.notAfter)}`;
    case "hostname":
      return hostnameError(f.cert, f.host);
    case "unknown-authority": {
      let s = "x509: certificate signed by unknown authority";
      if (f.hint) {
        const c = f.hint.cert;
        const name = c.commonName || c.organization[0] || `serial:${c.serialNumber.toString(10)}`;
        s += ` (possibly because of ${JSON.stringify(f.hint.error)} while trying to verify candidate authority certificate ${JSON.stringify(name)})`;
      }
      return s;
    }
    case "not-authorized-to-sign":
      return "x509: certificate is not authorized to sign other certificates";
    case "too-many-intermediates":
      return "x509: too many intermediates for path length constraint";
    case "incompatible-usage":
      return "x509: certificate specifies an incompatible key usage";
    case "too-many-signature-checks":
      return "x509: signature check attempts limit reached while verifying certificate chain";
  }
}

function fail(failure: VerifyFailure, now: Date): VerifyResult {
  return { ok: false, failure, error: goVerifyError(failure, now) };
}

/** Time window and critical-extension rules that apply to every certificate of a chain. */
function basicValidity(c: Certificate, now: Date): VerifyFailure | undefined {
  if (c.unhandledCriticalExtensions.length) {
    return { kind: "unhandled-critical-extension", cert: c, oids: c.unhandledCriticalExtensions };
  }
  if (now.getTime() < c.notBefore.getTime()) return { kind: "not-yet-valid", cert: c };
  if (now.getTime() > c.notAfter.getTime()) return { kind: "expired", cert: c };
  return undefined;
}

/**
 * Verifies `leaf` against `opts.roots`: validity windows, the DNS name if
 * asked, signatures along the chain, CA and path-length constraints of the
 * issuers, and that every extended key usage on the chain allows serverAuth
 * (Go's default). A leaf that is itself one of the roots verifies alone.
 */
export async function verifyCertificate(leaf: Certificate, opts: VerifyOptions): Promise<VerifyResult> {
  const { now } = opts;
  const leafProblem = basicValidity(leaf, now);
  if (leafProblem) return fail(leafProblem, now);
  if (opts.dnsName !== undefined && opts.dnsName !== "" && !matchesHostname(leaf, opts.dnsName)) {
    return fail({ kind: "hostname", cert: leaf, host: opts.dnsName }, now);
  }

  let candidates: Certificate[][];
  if (opts.roots.some((r) => bytesEqual(r.raw, leaf.raw))) {
    candidates = [[leaf]];
  } else {
    const state = { sigChecks: 0 };
    const built = await buildChains(leaf, [leaf], opts, state);
    if (!built.ok) return fail(built.failure, now);
    candidates = built.chains;
  }

  const chains = candidates.filter(chainAllowsServerAuth);
  if (chains.length === 0) return fail({ kind: "incompatible-usage", cert: leaf }, now);
  return { ok: true, chains };
}

type Built = { ok: true; chains: Certificate[][] } | { ok: false; failure: VerifyFailure };

/** Possible issuers of `cert` in `pool`: same name, ordered by how well the key identifiers agree. */
function potentialParents(cert: Certificate, pool: readonly Certificate[]): Certificate[] {
  const matching: Certificate[] = [];
  const oneId: Certificate[] = [];
  const mismatched: Certificate[] = [];
  for (const c of pool) {
    if (!bytesEqual(c.rawSubject, cert.rawIssuer)) continue;
    const ski = c.subjectKeyId ?? new Uint8Array();
    const aki = cert.authorityKeyId ?? new Uint8Array();
    if (bytesEqual(ski, aki)) matching.push(c);
    else if ((ski.length === 0) !== (aki.length === 0)) oneId.push(c);
    else mismatched.push(c);
  }
  return [...matching, ...oneId, ...mismatched];
}

function alreadyInChain(candidate: Certificate, chain: readonly Certificate[]): boolean {
  return chain.some(
    (c) =>
      bytesEqual(c.rawSubject, candidate.rawSubject) &&
      samePublicKey(c, candidate) &&
      (c.rawSan === undefined && candidate.rawSan === undefined
        ? true
        : c.rawSan !== undefined && candidate.rawSan !== undefined && bytesEqual(c.rawSan, candidate.rawSan)),
  );
}

function samePublicKey(a: Certificate, b: Certificate): boolean {
  const [x, y] = [a.publicKey.key, b.publicKey.key];
  return x && y ? x.equals(y) : x === y && a.publicKey.oid === b.publicKey.oid;
}

/** Go's CheckSignatureFrom: the parent must be allowed to sign certificates, then the signature must verify. */
export async function checkSignatureFrom(child: Certificate, parent: Certificate): Promise<string | undefined> {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
    return CONSTRAINT_VIOLATION;
  }
  if (parent.keyUsage !== 0 && (parent.keyUsage & KeyUsage.certSign) === 0) return CONSTRAINT_VIOLATION;
  if (parent.publicKey.algorithm === "unknown") return "x509: cannot verify signature: algorithm unimplemented";
  return checkSignature(child, parent);
}

async function buildChains(
  cert: Certificate,
  chain: Certificate[],
  opts: VerifyOptions,
  state: { sigChecks: number },
): Promise<Built> {
  const chains: Certificate[][] = [];
  let failure: VerifyFailure | typeof handledNothing = handledNothing;
  let hint: { cert: Certificate; error: string; cannotSign: boolean } | undefined;

  const consider = async (type: "root" | "intermediate", candidate: Certificate): Promise<void> => {
    if (alreadyInChain(candidate, chain)) return;
    if (++state.sigChecks > MAX_SIGNATURE_CHECKS) {
      failure = { kind: "too-many-signature-checks" };
      return;
    }
    const sigError = await checkSignatureFrom(cert, candidate);
    if (sigError) {
      hint ??= { cert: candidate, error: sigError, cannotSign: sigError === CONSTRAINT_VIOLATION };
      return;
    }
    const problem = candidateProblem(type, candidate, chain, opts.now);
    if (problem) {
      failure = problem;
      return;
    }
    if (type === "root") {
      chains.push([...chain, candidate]);
    } else {
      const sub = await buildChains(candidate, [...chain, candidate], opts, state);
      if (sub.ok) chains.push(...sub.chains);
      else failure = sub.failure;
    }
  };

  for (const root of potentialParents(cert, opts.roots)) await consider("root", root);
  for (const mid of potentialParents(cert, opts.intermediates ?? [])) await consider("intermediate", mid);

  if (chains.length > 0) return { ok: true, chains };
  if (failure !== handledNothing) return { ok: false, failure };
  return { ok: false, failure: { kind: "unknown-authority", cert, hint } };
}

function candidateProblem(
  type: "root" | "intermediate",
  c: Certificate,
  chain: readonly Certificate[],
  now: Date,
): VerifyFailure | undefined {
  const basic = basicValidity(c, now);
  if (basic) return basic;
  if (type === "intermediate" && (!c.basicConstraintsValid || !c.isCA)) return { kind: "not-authorized-to-sign", cert: c };
  if (c.basicConstraintsValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen) {
    return { kind: "too-many-intermediates", cert: c };
  }
  return undefined;
}

/** Every certificate that lists extended key usages must allow serverAuth (or any usage). */
function chainAllowsServerAuth(chain: readonly Certificate[]): boolean {
  return chain.every(
    (c) =>
      c.extKeyUsage.length === 0 ||
      c.extKeyUsage.includes(Oid.anyExtendedKeyUsage) ||
      c.extKeyUsage.includes(Oid.serverAuth),
  );
}

// --- host names (Go's VerifyHostname for DNS names; certificates are matched on SANs only) ---

function validHostname(host: string, pattern: boolean): boolean {
  const h = pattern ? host : host.replace(/\.$/, "");
  if (h.length === 0) return false;
  return h.split(".").every((part, i) => {
    if (part === "") return false;
    if (pattern && i === 0 && part === "*") return true;
    return [...part].every((ch, j) => /[a-zA-Z0-9_]/.test(ch) || (ch === "-" && j !== 0));
  });
}

function matchHostnames(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, "");
  if (!p || !h) return false;
  const pp = p.split(".");
  const hp = h.split(".");
  if (pp.length !== hp.length) return false;
  return pp.every((part, i) => (i === 0 && part === "*") || part === hp[i]);
}

function matchExactly(a: string, b: string): boolean {
  if (!a || a === "." || !b || b === ".") return false;
  return a.toLowerCase().replace(/\.$/, "") === b.toLowerCase().replace(/\.$/, "");
}

/** Whether `cert` is valid for the DNS name `host`. */
export function matchesHostname(cert: Certificate, host: string): boolean {
  const candidate = host.toLowerCase();
  const validCandidate = validHostname(candidate, false);
  return cert.dnsNames.some((name) =>
    validCandidate && validHostname(name, true) ? matchHostnames(name, candidate) : matchExactly(name, candidate),
  );
}

function hostnameError(cert: Certificate, host: string): string {
  if (!cert.hasSanExtension && matchHostnames(cert.commonName, host)) {
    return "x509: certificate relies on legacy Common Name field, use SANs instead";
  }
  if (cert.dnsNames.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${cert.dnsNames.join(", ")}, not ${host}`;
}
