import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseYaml } from "../inject/yaml/parse.js";
import { templatesDir } from "../paths.js";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { formatGoDuration, parseGoDuration } from "../inject/go.js";
import { fetchWithUndici, resolveInputs } from "../inject/io.js";
import { overrideAnnotations, pickInjectValues, type InjectValues } from "../inject/overrides.js";
import { runHeld } from "../inject/pipeline.js";
import { formatInjectReport, PLAIN_GLYPHS } from "../inject/report.js";
import type { InjectConfig } from "../inject/transform.js";
import type { ProxyTemplateValues } from "../proxy/types.js";
import { CREATED_BY, LINKERD_VERSION } from "../version.js";
import { INJECT_FLAGS, PROXY_FLAGS, addFlags, applySetFlags, type FlagValues } from "./proxy-flags.js";
import { globals } from "./shared.js";

export interface InjectOptions {
  manual: boolean;
  ignoreCluster: boolean;
  enableDebugSidecar: boolean;
  closeWaitTimeout?: number;
  output: "yaml" | "json";
  identityTrustAnchorsFile?: string;
  values?: string;
}

function parseCloseWait(v: string): number {
  const ns = parseGoDuration(v);
  if (ns === undefined) throw new InvalidArgumentError(`"${v}" is not a duration (e.g. 30s, 1m0s)`);
  return ns;
}

/** Reads a values file: linkerd-config's `values` blob, or the linkerd-config ConfigMap itself. */
async function readValuesFile(path: string): Promise<ProxyTemplateValues> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new MeshError(`cannot read values file ${path}: ${(err as Error).message}`, undefined, 1, err);
  }
  // read like the cluster's linkerd-config, by the one reader of it
  const { readValuesText } = await import("../kube/linkerd-config.js");
  try {
    const v = await readValuesText(text, `the values in ${path}`);
    const data = v.kind === "ConfigMap" ? (v.data as { values?: unknown } | undefined) : undefined;
    return (typeof data?.values === "string" ? await readValuesText(data.values, `the values in ${path}`) : v) as ProxyTemplateValues;
  } catch (err) {
    throw new MeshError((err as Error).message, undefined, 1, err);
  }
}

/**
 * The built-in defaults, as install's defaultValues() (templates/values.yaml with the version
 * fields filled in; a test keeps the two equal), read with the fast scanner: the `yaml`
 * package costs inject a few hundred milliseconds of start-up.
 */
export async function injectDefaults(): Promise<ProxyTemplateValues> {
  const v = (await parseYaml(readFileSync(templatesDir("values.yaml"), "utf8"))) as ProxyTemplateValues & { cliVersion?: string };
  v.linkerdVersion = LINKERD_VERSION;
  v.cliVersion = CREATED_BY;
  if (v.debugContainer?.image) v.debugContainer.image.version = LINKERD_VERSION;
  return v;
}

/** The proxy config: the cluster's linkerd-config, a values file, or the built-in defaults. */
export async function loadBaseValues(deps: Deps, cmd: Command, opts: { ignoreCluster: boolean; values?: string }): Promise<ProxyTemplateValues> {
  if (opts.values) return readValuesFile(opts.values);
  if (opts.ignoreCluster) return injectDefaults();
  const g = globals(cmd);
  const cluster = await deps.cluster(g);
  const { fetchLinkerdConfigMap, readValuesText } = await import("../kube/linkerd-config.js");
  const cm = await fetchLinkerdConfigMap(cluster, g.linkerdNamespace);
  if (!cm) throw new MeshError(`configmap ${g.linkerdNamespace}/linkerd-config not found: is Linkerd installed?`, "install it (`mesh install`), pass -L for another namespace, or use --ignore-cluster (with --identity-trust-anchors-file or --values for --manual)");
  if (typeof cm.data?.values !== "string") throw new MeshError(`configmap ${g.linkerdNamespace}/linkerd-config has no values`, "the control plane install looks broken: run `mesh check`");
  try {
    return (await readValuesText(cm.data.values)) as ProxyTemplateValues;
  } catch (err) {
    throw new MeshError(`configmap ${g.linkerdNamespace}/linkerd-config holds invalid YAML values`, "run `mesh check`", 1, err);
  }
}

export const injectCommand = (deps: Deps) => {
  const cmd = new Command("inject")
    .usage("[options] CONFIG-FILE...")
    .argument("[inputs...]", "files, directories (searched for .yaml/.yml/.json), https:// URLs, or - for stdin")
    .option("--manual", "write the proxy, init container and volumes into the output instead of only the inject annotation", false)
    .option("--ignore-cluster", "do not read linkerd-config from the cluster: use defaults and flags", false)
    .option("--enable-debug-sidecar", "add the linkerd-debug container", false)
    .addOption(new Option("--close-wait-timeout <duration>", "conntrack close-wait timeout that linkerd-init sets (a duration)").argParser(parseCloseWait))
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .option("--identity-trust-anchors-file <path>", "trust anchors PEM for --manual without a cluster (overrides the config's)")
    .option("--values <path>", "linkerd-config values to use instead of the cluster's (the `values` key of linkerd-config, or the ConfigMap itself)");
  addFlags(cmd, PROXY_FLAGS);
  addFlags(cmd, INJECT_FLAGS);
  cmd.addHelpText(
    "after",
    `
Examples:
  # Inject all the deployments in the default namespace.
  kubectl get deploy -o yaml | mesh inject - | kubectl apply -f -

  # Inject a file from a remote URL (https only).
  mesh inject https://url.to/yml | kubectl apply -f -

  # Inject all the resources inside a folder and its sub-folders, with the sidecar spelled out,
  # without a cluster.
  mesh inject --manual --ignore-cluster --identity-trust-anchors-file ca.crt <folder>

Only what injection needs changes: comments, key order, quoting and indentation of the
rest of each document are kept. The report goes to stderr after the output.`,
  );
  return cmd.action(async (inputs: string[], opts: InjectOptions, c: Command) => {
    if (!inputs.length) throw new UsageError("please specify a kubernetes resource file", "pass a file, a directory, an https:// URL, or - for stdin");
    const raw = await loadBaseValues(deps, c, opts);
    if (opts.identityTrustAnchorsFile) {
      const file = opts.identityTrustAnchorsFile;
      try {
        raw.identityTrustAnchorsPEM = readFileSync(file, "utf8");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new MeshError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message}`, undefined, 1, err);
      }
      // The anchors go into every injected pod: PEM certificates only (never a key), parsable.
      const { checkTrustAnchorsPem } = await import("../tls/issuer.js");
      checkTrustAnchorsPem(raw.identityTrustAnchorsPEM, `trust anchors file "${file}"`);
    } else if (opts.manual && raw.identityTrustAnchorsPEM) {
      const { otherBlockError } = await import("../tls/issuer.js");
      const problem = otherBlockError(opts.values ? `the trust anchors of values file ${opts.values}` : "the trust anchors of linkerd-config", raw.identityTrustAnchorsPEM);
      if (problem) throw problem;
    }
    const base: InjectValues = pickInjectValues(raw);
    const flagged = structuredClone(base) as FlagValues;
    const warnings = [...applySetFlags(flagged, c, PROXY_FLAGS, deps.env), ...applySetFlags(flagged, c, INJECT_FLAGS, deps.env)];
    for (const w of warnings) deps.io.stderr.write(`${w}\n`);
    const values = pickInjectValues(flagged);
    if (opts.manual && !(values.identityTrustAnchorsPEM ?? "").trim())
      throw new MeshError(
        "please provide the identity trust anchors: --manual renders the proxy, which needs them",
        opts.ignoreCluster ? "pass --identity-trust-anchors-file <ca.crt> or --values <linkerd-config values>" : "the cluster's linkerd-config has none: pass --identity-trust-anchors-file",
      );
    const cfg: InjectConfig = {
      values,
      overrides: overrideAnnotations(values, base),
      manual: opts.manual,
      enableDebugSidecar: opts.enableDebugSidecar,
      closeWaitTimeout: opts.closeWaitTimeout ? formatGoDuration(opts.closeWaitTimeout) : undefined,
      namespace: globals(c).linkerdNamespace,
      createdBy: CREATED_BY,
    };
    const resolved = resolveInputs(inputs, { stdin: deps.io.stdin, fetchUrl: (url) => fetchWithUndici(url), warn: (m) => deps.io.stderr.write(`warning: ${m}\n`) });
    const { result, out } = await runHeld(resolved, "inject", cfg, opts.output);
    if (result.failures.length) {
      out.discard();
      // control-plane components are injected with --manual, not kept out of the mesh
      const controlPlane = result.failures.some((f) => f.includes("--manual must be set"));
      const hint = controlPlane ? "inject control-plane components with `mesh inject --manual`" : "these resources cannot be meshed as they are: fix them, or annotate their pod template with linkerd.io/inject: disabled";
      throw new MeshError(result.failures.join("\n"), hint);
    }
    await out.flush(deps.io.stdout, deps.io.stdoutFd);
    const g = globals(c);
    const glyphs = deps.io.color ? { ok: `\x1b[32m${PLAIN_GLYPHS.ok}\x1b[0m`, warn: `\x1b[33;1m${PLAIN_GLYPHS.warn}\x1b[0m` } : PLAIN_GLYPHS;
    deps.io.stderr.write(formatInjectReport(result.reports, { verbose: g.verbose, glyphs, adminPort: values.proxy?.ports?.admin }));
    if (g.verbose) for (const w of result.warnings) deps.io.stderr.write(`warning: ${w}\n`);
  });
};
