import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { applyInstallFlags, INSTALL_ONLY_FLAGS, INSTALL_UPGRADE_FLAGS, type CredentialFiles, type InstallFlag } from "../install/flags.js";
import type { CertificateSource, ExternalIssuer, GivenFile } from "../install/install.js";
import { formatObjects, type OutputFormat } from "../install/render.js";
import { mergeUserValues } from "../install/user-values.js";
import { defaultValues, type Tree } from "../install/values.js";
import type { Cluster } from "../kube/cluster.js";
import { LINKERD_VERSION } from "../version.js";
import { addFlags, applySetFlags, PROXY_FLAGS, type FlagValues } from "./proxy-flags.js";
import { collect, globals } from "./shared.js";

export interface InstallOptions {
  crds: boolean;
  ignoreCluster: boolean;
  output: OutputFormat;
  values: string[];
  set: string[];
  setString: string[];
  setFile: string[];
}

export const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Go's strconv.ParseBool, for `--flag=false`. */
function parseBool(flag: string) {
  return (s: string): boolean => {
    if (["1", "t", "T", "true", "TRUE", "True"].includes(s)) return true;
    if (["0", "f", "F", "false", "FALSE", "False"].includes(s)) return false;
    throw new InvalidArgumentError(`"${s}" is not a boolean (--${flag})`);
  };
}

function parseInteger(flag: string, unsigned: boolean) {
  return (s: string): number => {
    if (!(unsigned ? /^\+?\d+$/ : /^[+-]?\d+$/).test(s.trim()) || !Number.isSafeInteger(Number(s)))
      throw new InvalidArgumentError(`"${s}" is not ${unsigned ? "a non-negative integer" : "an integer"} (--${flag})`);
    return Number(s);
  };
}

export function addInstallFlags(cmd: Command, flags: InstallFlag[]): void {
  for (const f of flags) {
    const arg = f.kind === "bool" ? " [bool]" : f.kind === "file" ? " <path>" : f.kind === "uint" || f.kind === "int" ? " <n>" : " <value>";
    const opt = new Option(`--${f.name}${arg}`, f.defaultText ? `${f.description} (default ${f.defaultText})` : f.description);
    if (f.kind === "bool") opt.argParser(parseBool(f.name));
    if (f.kind === "uint" || f.kind === "int") opt.argParser(parseInteger(f.name, f.kind === "uint"));
    if (f.hidden) opt.hideHelp();
    cmd.addOption(opt);
  }
}

/** The certificate files named by --identity-* flags, read (for renderControlPlane). */
export function givenCredentials(files: CredentialFiles, read: (path: string, flag: string) => string): { trustAnchors?: GivenFile; issuerCrt?: GivenFile; issuerKey?: GivenFile } {
  const one = (path: string | undefined, flag: string): GivenFile | undefined => (path ? { path, text: read(path, flag) } : undefined);
  return {
    trustAnchors: one(files.trustAnchors, "--identity-trust-anchors-file"),
    issuerCrt: one(files.issuerCrt, "--identity-issuer-certificate-file"),
    issuerKey: one(files.issuerKey, "--identity-issuer-key-file"),
  };
}

/** `-o` and Helm's value flags (-f, --set, --set-string, --set-file), as install and upgrade take them. */
export function addValuesFlags(cmd: Command): void {
  cmd
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .option("-f, --values <file>", "YAML file of values (repeatable, later files win; - reads stdin)", collect)
    .option("--set <key=value>", "set values: key=value, with commas between pairs (repeatable)", collect)
    .option("--set-string <key=value>", "like --set, but every value is a string", collect)
    .option("--set-file <key=path>", "like --set, but each value is the contents of the file named (key=path)", collect);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export function readUserFile(path: string, flag: string, stdin: string | undefined): string {
  if (path.trim() === "-" && stdin !== undefined) return stdin;
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new UsageError(`cannot read ${flag} ${path}: ${why}`);
  }
}

/** Reads from the cluster what install needs; any failure to reach it says to use --ignore-cluster. */
export async function consultCluster(deps: Deps, cmd: Command) {
  const g = globals(cmd);
  let cluster: Cluster;
  try {
    cluster = await deps.cluster(g);
  } catch (err) {
    throw new MeshError(
      `cannot connect to the Kubernetes cluster: ${(err as Error).message}`,
      "to render the manifests without looking at a cluster, pass --ignore-cluster",
      1,
      err,
    );
  }
  return { cluster, namespace: g.linkerdNamespace, preflight: await import("../install/preflight.js") };
}

export const installCommand = (deps: Deps) => {
  const cmd = new Command("install")
    .usage("[flags]")
    .addHelpText(
      "after",
      `
Examples:
  # Install CRDs first.
  mesh install --crds | kubectl apply -f -

  # Install the core control plane.
  mesh install | kubectl apply -f -

Values can be changed with --set, --set-string, --set-file and -f/--values, as with Helm;
templates/values.yaml lists and explains every value. Targets Linkerd ${LINKERD_VERSION}.`,
    )
    .option("--crds", "render only the Linkerd CRDs (apply them before the control plane)")
    .option("--ignore-cluster", "render without looking at a cluster (no checks for an existing installation, default API server ports)");
  addValuesFlags(cmd);
  addInstallFlags(cmd, INSTALL_ONLY_FLAGS);
  addInstallFlags(cmd, INSTALL_UPGRADE_FLAGS);
  addFlags(cmd, PROXY_FLAGS);
  cmd.allowExcessArguments(false).action(async (given: Partial<InstallOptions>) => {
    const opts: InstallOptions = {
      crds: Boolean(given.crds),
      ignoreCluster: Boolean(given.ignoreCluster),
      output: given.output ?? "yaml",
      values: given.values ?? [],
      set: given.set ?? [],
      setString: given.setString ?? [],
      setFile: given.setFile ?? [],
    };
    const namespace = globals(cmd).linkerdNamespace;
    const now = deps.now();
    const certificates: CertificateSource = deps.certificates ?? (await import("../tls/index.js"));
    const { renderCrds, renderControlPlane, prefetchWebhookCertificates } = await import("../install/install.js");
    // The common case needs three generated webhook certificates (ECDSA P-256, see src/tls): start
    // them now, unless the values may bring their own (then they start once the values are known).
    const ownCertificates = opts.values.length > 0 || [...opts.set, ...opts.setString, ...opts.setFile].some((e) => /crtPEM|externalSecret/.test(e));
    const prefetched = opts.crds || ownCertificates ? undefined : prefetchWebhookCertificates(certificates, namespace, now);
    const stdinNeeded = opts.values.some((f) => f.trim() === "-") || opts.setFile.some((e) => /(^|[=,])-($|,)/.test(e));
    const stdin = stdinNeeded ? await readAll(deps.io.stdin) : undefined;
    const read = (path: string, flag: string) => readUserFile(path, flag, stdin);
    // Values files are read like Helm reads them (YAML 1.1); the library is loaded only for them.
    const yamlRead = opts.values.length ? await import("../install/yaml-read.js") : undefined;
    await yamlRead?.loadYamlLibrary();
    const overrides = mergeUserValues(opts, read, (text) => yamlRead!.parseValuesYaml(text));

    if (opts.crds) {
      if (!opts.ignoreCluster) {
        const c = await consultCluster(deps, cmd);
        await c.preflight.checkNoControlPlane(c.cluster, namespace);
      }
      const r = await renderCrds(namespace, overrides);
      for (const w of r.warnings) deps.io.stderr.write(`warning: ${w}\n`);
      deps.io.stdout.write(formatObjects(r.objects, opts.output));
      deps.io.stderr.write("Rendering Linkerd CRDs...\nNext, run `mesh install | kubectl apply -f -` to install the control plane.\n\n");
      return;
    }

    // Defaults, then the flags the user set: install-only, install/upgrade, proxy.
    const values = defaultValues();
    const files: CredentialFiles = {};
    const flagValue = (name: string) => (cmd.getOptionValueSource(camel(name)) === "cli" ? cmd.getOptionValue(camel(name)) : undefined);
    applyInstallFlags({ values, files }, [...INSTALL_ONLY_FLAGS, ...INSTALL_UPGRADE_FLAGS], flagValue);
    for (const w of applySetFlags(values as unknown as FlagValues, cmd, PROXY_FLAGS, deps.env)) deps.io.stderr.write(`${w}\n`);

    let externalIssuer: ExternalIssuer | undefined;
    if (!opts.ignoreCluster) {
      const { cluster, preflight } = await consultCluster(deps, cmd);
      await preflight.checkNoControlPlane(cluster, namespace);
      await preflight.checkCrdsInstalled(cluster, (await renderCrds(namespace, overrides)).objects);
      const runAsRoot = ((overrides.proxyInit ?? {}) as Tree).runAsRoot;
      if (!(runAsRoot === true || runAsRoot === "true")) await preflight.checkNodeRuntimes(cluster);
      const ports = await preflight.readKubeApiServerPorts(cluster);
      if (ports) values.proxyInit.kubeAPIServerPorts = ports;
      const endpointSlices = "enableEndpointSlices" in overrides ? overrides.enableEndpointSlices : values.enableEndpointSlices;
      if (endpointSlices === true || endpointSlices === "true") await preflight.checkEndpointSlices(cluster);
      const scheme = ((((overrides.identity ?? {}) as Tree).issuer ?? {}) as Tree).scheme ?? values.identity.issuer.scheme;
      if (scheme === "kubernetes.io/tls") externalIssuer = await preflight.readExternalIssuer(cluster, namespace);
    }

    const r = await renderControlPlane({
      namespace,
      now,
      values,
      overrides,
      files: givenCredentials(files, read),
      clusterChecked: !opts.ignoreCluster,
      externalIssuer,
      certificates,
      prefetched,
    });
    for (const w of r.warnings) deps.io.stderr.write(`warning: ${w}\n`);
    deps.io.stdout.write(formatObjects(r.objects, opts.output));
  });
  return cmd;
};
