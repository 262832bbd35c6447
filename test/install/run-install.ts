/**
 * Runs `mesh install` in-process like test/helpers/run.ts, with deterministic "generated"
 * certificates (fixtures from test/fixtures/certs) and an optional fake cluster answering GETs
 * from a map of API paths.
 */
import { run } from "../../src/cli.js";
import type { Deps, GlobalOptions } from "../../src/deps.js";
import { MeshError } from "../../src/errors.js";
import type { CertificateSource } from "../../src/install/install.js";
import { memoryIo } from "../../src/io.js";
import type { Cluster } from "../../src/kube/cluster.js";
import { checkWebhookCredentials, loadIssuerCredentials } from "../../src/tls/index.js";
import { certFixture, FIXTURE_NOW } from "../fixtures/certs/fixtures.js";

export { certFixture, FIXTURE_NOW };

/** What the fake certificate source was asked for. */
export interface CertificateCalls {
  identity: { namespace: string; trustDomain: string; now: Date }[];
  webhooks: string[];
}

/**
 * "Generates" the fixture CA (as anchor and issuer) and the fixture webhook certificates in the
 * shape mesh generates (webhook-ecdsa-*: ECDSA P-256, PKCS#8 keys). Validation is the real one.
 */
export function fixtureCertificates(calls: CertificateCalls = { identity: [], webhooks: [] }): CertificateSource {
  return {
    async generateIdentityCredentials(o) {
      calls.identity.push(o);
      return { trustAnchorsPem: certFixture("ca.crt"), issuerCrtPem: certFixture("ca.crt"), issuerKeyPem: certFixture("ca.key") };
    },
    async generateWebhookCertificate({ host }) {
      calls.webhooks.push(host);
      const name = host.split(".")[0].replace(/^linkerd-/, "");
      return { crtPem: certFixture(`webhook-ecdsa-${name}.crt`), keyPem: certFixture(`webhook-ecdsa-${name}.key`) };
    },
    loadIssuerCredentials,
    checkWebhookCredentials,
  };
}

/** A cluster whose GETs answer from `objects` (API path → JSON body); other paths are 404. */
export function fakeCluster(objects: Record<string, unknown>, seen: string[] = []): Cluster {
  const fake = {
    server: "https://fake.test:6443",
    async getJson(path: string) {
      seen.push(path);
      const v = objects[path];
      if (v instanceof Error) throw v;
      return v === undefined ? undefined : structuredClone(v);
    },
    async getText(path: string) {
      throw new MeshError(`unexpected GET ${path}`);
    },
    async controlPlaneVersion() {
      return undefined;
    },
  };
  return fake as unknown as Cluster;
}

export interface InstallRunOptions {
  stdin?: string;
  now?: Date;
  env?: Record<string, string | undefined>;
  cluster?: Cluster;
  certificates?: CertificateSource;
}

export async function runInstall(argv: string[], opts: InstallRunOptions = {}) {
  const m = memoryIo(opts.stdin ?? "");
  const deps: Deps = {
    io: m.io,
    now: () => opts.now ?? FIXTURE_NOW,
    env: opts.env ?? {},
    cluster: async (_g: GlobalOptions) => {
      if (opts.cluster) return opts.cluster;
      throw new MeshError("cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused", "is the cluster running?");
    },
    certificates: opts.certificates ?? fixtureCertificates(),
  };
  const code = await run(argv, deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}
