import type { Io } from "./io.js";
import type { Cluster } from "./kube/cluster.js";
import type { CertificateSource } from "./tls/index.js";

/** Global flags, kubectl style; every command sees them through `globals()`. */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  linkerdNamespace: string;
  as?: string;
  asGroup?: string[];
  verbose: boolean;
  color: boolean;
  /** `--api-addr`: talk to this API server (host:port or URL) instead of the kubeconfig cluster's. */
  apiAddr?: string;
  /** `--cni-namespace`: where the linkerd-cni plugin is installed (default linkerd-cni). */
  cniNamespace?: string;
}

/** What a command needs from the outside world. cli.ts builds the real ones; tests pass fakes. */
export interface Deps {
  io: Io;
  /** Wall clock; commands pass it into pure code instead of reading it there. */
  now: () => Date;
  env: Record<string, string | undefined>;
  /** Connects to the cluster named by the global flags (loaded lazily: most commands never call it). */
  cluster: (globals: GlobalOptions) => Promise<Cluster>;
  /**
   * Where `mesh install` gets certificates from; unset, it loads src/tls (keys generated fresh).
   * Tests set it to make generated certificates deterministic.
   */
  certificates?: CertificateSource;
}
