import { Command, Option } from "commander";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { applyInstallFlags, INSTALL_UPGRADE_FLAGS, type CredentialFiles } from "../install/flags.js";
import type { CertificateSource, ExternalIssuer } from "../install/install.js";
import { nameSome } from "../install/inventory.js";
import { formatObjects, type OutputFormat } from "../install/render.js";
import { mergeUserValues } from "../install/user-values.js";
import type { InstalledSource } from "../install/upgrade.js";
import type { Tree } from "../install/values.js";
import type { Cluster } from "../kube/cluster.js";
import { fetchLinkerdConfigMap } from "../kube/linkerd-config.js";
import type { ConfigMap, KubeObject, Pod, Secret } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { LINKERD_VERSION } from "../version.js";
import { addInstallFlags, addValuesFlags, camel, consultCluster, givenCredentials, readAll, readUserFile } from "./install.js";
import { addFlags, applySetFlags, PROXY_FLAGS, type FlagValues } from "./proxy-flags.js";
import { collect, globals } from "./shared.js";

export interface UpgradeOptions {
  crds: boolean;
  fromManifests?: string;
  force: boolean;
  output: OutputFormat;
  values: string[];
  set: string[];
  setString: string[];
  setFile: string[];
}

/** The objects of a manifest stream (YAML documents, or JSON; `kind: List` unwrapped). */
async function manifestObjects(text: string, what: string): Promise<KubeObject[]> {
  const { loadYaml, parseYamlSafe, YamlInputError } = await import("../yaml-lib.js");
  let docs: unknown[];
  try {
    docs = parseYamlSafe(text, {}, await loadYaml());
  } catch (err) {
    if (err instanceof YamlInputError) throw new MeshError(`${what} is not valid YAML: ${err.message}`);
    throw err;
  }
  const out: KubeObject[] = [];
  const add = (d: unknown) => {
    if (!d || typeof d !== "object" || Array.isArray(d)) return;
    const o = d as KubeObject & { items?: unknown[] };
    if (o.kind === "List" && Array.isArray(o.items)) o.items.forEach(add);
    else if (o.kind && o.metadata && typeof o.metadata === "object") out.push(o);
  };
  docs.forEach(add);
  return out;
}

/** The cluster as an InstalledSource. */
export function clusterSource(cluster: Cluster): InstalledSource {
  const path = (ns: string, kind: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/${kind}/${encodeURIComponent(name)}`;
  return {
    description: "the cluster",
    secret: (ns, name) => cluster.getJson<Secret>(path(ns, "secrets", name)),
    configMap: (ns, name) => (name === "linkerd-config" ? fetchLinkerdConfigMap(cluster, ns) : cluster.getJson<ConfigMap>(path(ns, "configmaps", name))),
  };
}

/** The pods meshed by the control plane in `namespace` (label linkerd.io/control-plane-ns), page by page. */
async function meshedPods(cluster: Cluster, namespace: string): Promise<Pod[]> {
  const pods: Pod[] = [];
  let token = "";
  do {
    const q = `labelSelector=${encodeURIComponent(`linkerd.io/control-plane-ns=${namespace}`)}&limit=500${token ? `&continue=${encodeURIComponent(token)}` : ""}`;
    const list = await cluster.getJson<{ items?: Pod[]; metadata?: { continue?: string } }>(`/api/v1/pods?${q}`);
    pods.push(...(list?.items ?? []));
    token = list?.metadata?.continue ?? "";
  } while (token);
  return pods;
}

/** The external issuer's secret (`ca.crt`, `tls.crt`, `tls.key`), for scheme kubernetes.io/tls. */
export async function externalIssuerOf(source: InstalledSource, namespace: string): Promise<ExternalIssuer> {
  const secret = await source.secret(namespace, "linkerd-identity-issuer");
  const data = secret?.data ?? {};
  const key = (k: string) => {
    if (typeof data[k] !== "string") throw new MeshError(`secret ${namespace}/linkerd-identity-issuer has no ${k} in ${source.description}`, "the external issuer (e.g. cert-manager) must keep ca.crt, tls.crt and tls.key in it");
    return Buffer.from(data[k], "base64").toString("utf8");
  };
  return { trustAnchorsPem: key("ca.crt"), issuerCrtPem: key("tls.crt"), issuerKeyPem: key("tls.key") };
}

const TRUST_ROTATION = "the trust anchors change: proxies injected before keep the old ones until they restart (https://linkerd.io/2.14/tasks/rotating_identity_certificates/)";

export const upgradeCommand = (deps: Deps) => {
  const cmd = new Command("upgrade")
    .usage("[flags]")
    .addHelpText(
      "after",
      `
Examples:
  # Upgrade the CRDs first.
  mesh upgrade --crds | kubectl apply -f -

  # Then the control plane: the values it was installed with are kept, flags change them.
  mesh upgrade | kubectl apply -f -
  mesh upgrade --set proxy.logLevel=debug | kubectl apply -f -

  # And lastly, remove what the new release no longer has.
  mesh prune | kubectl delete -f -

The defaults of the flags below are the installed values, not those shown. Targets Linkerd ${LINKERD_VERSION}.`,
    )
    .option("--crds", "render only the Linkerd CRDs (apply them before the control plane)")
    .option("--from-manifests <file>", "read the installed configuration from a saved `mesh install` output (- reads stdin) instead of the cluster")
    .option("--force", "upgrade even over a newer release, or when proxies' trust anchors do not accept the issuer");
  addValuesFlags(cmd);
  addInstallFlags(cmd, INSTALL_UPGRADE_FLAGS);
  addFlags(cmd, PROXY_FLAGS);
  cmd.allowExcessArguments(false).action(async (given: Partial<UpgradeOptions>) => {
    const opts: UpgradeOptions = {
      crds: Boolean(given.crds),
      fromManifests: given.fromManifests,
      force: Boolean(given.force),
      output: given.output ?? "yaml",
      values: given.values ?? [],
      set: given.set ?? [],
      setString: given.setString ?? [],
      setFile: given.setFile ?? [],
    };
    const stdinUsers = [opts.fromManifests, ...opts.values].filter((f) => f?.trim() === "-").length + (opts.setFile.some((e) => /(^|[=,])-($|,)/.test(e)) ? 1 : 0);
    if (stdinUsers > 1) throw new UsageError("only one of --from-manifests, -f and --set-file can read stdin (-)");
    if (opts.crds && opts.fromManifests) throw new UsageError("--crds renders the CRDs of this release: it reads nothing installed, so --from-manifests does not apply");
    const namespace = globals(cmd).linkerdNamespace;
    const now = deps.now();
    const stdin = stdinUsers ? await readAll(deps.io.stdin) : undefined;
    const read = (path: string, flag: string) => readUserFile(path, flag, stdin);
    const yamlRead = opts.values.length ? await import("../install/yaml-read.js") : undefined;
    await yamlRead?.loadYamlLibrary();
    const overrides = mergeUserValues(opts, read, (text) => yamlRead!.parseValuesYaml(text));
    const { renderCrds, renderControlPlane } = await import("../install/install.js");

    if (opts.crds) {
      const r = await renderCrds(namespace, overrides);
      for (const w of r.warnings) deps.io.stderr.write(`warning: ${w}\n`);
      deps.io.stdout.write(formatObjects(r.objects, opts.output));
      deps.io.stderr.write("Rendering Linkerd CRDs...\nNext, run `mesh upgrade | kubectl apply -f -` to upgrade the control plane.\n\n");
      return;
    }

    const upgrade = await import("../install/upgrade.js");
    // Where the installed configuration comes from: a saved manifest (offline), or the cluster.
    let cluster: Cluster | undefined;
    let source: InstalledSource;
    if (opts.fromManifests) {
      const what = opts.fromManifests.trim() === "-" ? "the manifests on stdin" : `manifests ${sanitize(opts.fromManifests, 200)}`;
      source = upgrade.manifestSource(await manifestObjects(read(opts.fromManifests, "--from-manifests"), what), what);
    } else {
      const c = await consultCluster(deps, cmd);
      cluster = c.cluster;
      await c.preflight.checkCrdsInstalled(cluster, (await renderCrds(namespace, overrides)).objects, "run `mesh upgrade --crds | kubectl apply -f -` first");
      source = clusterSource(cluster);
    }
    const installed = await upgrade.readInstalled(source, namespace);
    upgrade.checkUpgradeVersion(installed.version, LINKERD_VERSION, opts.force);
    const { values, notes } = upgrade.upgradedValues(installed, namespace);
    for (const n of notes) deps.io.stderr.write(`note: ${n}\n`);

    // The flags the user set now, over the installed values: install/upgrade flags, then proxy flags.
    const files: CredentialFiles = {};
    const flagValue = (name: string) => (cmd.getOptionValueSource(camel(name)) === "cli" ? cmd.getOptionValue(camel(name)) : undefined);
    applyInstallFlags({ values, files }, INSTALL_UPGRADE_FLAGS, flagValue);
    for (const w of applySetFlags(values as unknown as FlagValues, cmd, PROXY_FLAGS, deps.env)) deps.io.stderr.write(`${w}\n`);
    const scheme = ((((overrides.identity ?? {}) as Tree).issuer ?? {}) as Tree).scheme ?? values.identity.issuer.scheme;

    let externalIssuer: ExternalIssuer | undefined;
    if (scheme === "kubernetes.io/tls") {
      if (files.issuerCrt || files.issuerKey) throw new UsageError("the issuer comes from an external certificate manager (secret linkerd-identity-issuer): mesh cannot change it", "drop --identity-issuer-certificate-file and --identity-issuer-key-file");
      externalIssuer = await externalIssuerOf(source, namespace);
    }
    if (cluster) {
      const preflight = await import("../install/preflight.js");
      const runAsRoot = ((overrides.proxyInit ?? {}) as Tree).runAsRoot ?? values.proxyInit.runAsRoot;
      if (!(runAsRoot === true || runAsRoot === "true")) await preflight.checkNodeRuntimes(cluster);
    }

    const certificates: CertificateSource = deps.certificates ?? (await import("../tls/index.js"));
    const r = await renderControlPlane({
      namespace,
      now,
      values,
      overrides,
      files: givenCredentials(files, read),
      clusterChecked: true,
      externalIssuer,
      certificates,
    });

    // Proxies that would not accept the issuer after the upgrade (as linkerd checks; --force skips it).
    if (cluster && !opts.force && scheme === "linkerd.io/tls") {
      const issuerSecret = r.objects.find((o) => o.kind === "Secret" && (o.metadata as Tree).name === "linkerd-identity-issuer") as { data?: Record<string, string> } | undefined;
      const crt = Buffer.from(issuerSecret?.data?.["crt.pem"] ?? "", "base64").toString("utf8");
      const bad = await upgrade.podsRejectingIssuer(await meshedPods(cluster, namespace), crt, namespace, now);
      if (bad.length)
        throw new MeshError(
          `the issuer certificate does not validate against the trust anchors of ${bad.length} meshed pod${bad.length === 1 ? "" : "s"}: ${nameSome(bad)}`,
          "restart those pods so that they get the current trust anchors, or pass --force (they will likely not be able to send or receive traffic)",
        );
    }
    for (const w of r.warnings) deps.io.stderr.write(`warning: ${w}\n`);
    if (files.trustAnchors) deps.io.stderr.write(`warning: ${TRUST_ROTATION}\n`);
    deps.io.stdout.write(formatObjects(r.objects, opts.output));
  });
  return cmd;
};
