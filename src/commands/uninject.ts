import { Command, Option } from "commander";
import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import { fetchWithUndici, resolveInputs } from "../inject/io.js";
import { runHeld } from "../inject/pipeline.js";
import { formatUninjectReport } from "../inject/report.js";

export interface UninjectOptions {
  output: "yaml" | "json";
}

export const uninjectCommand = (deps: Deps) =>
  new Command("uninject")
    .usage("[options] CONFIG-FILE...")
    .argument("[inputs...]", "files, directories (searched for .yaml/.yml/.json), https:// URLs, or - for stdin")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .addHelpText(
      "after",
      `
Examples:
  # Uninject all the deployments in the default namespace.
  kubectl get deploy -o yaml | mesh uninject - | kubectl apply -f -

  # Uninject all the resources inside a folder and its sub-folders.
  mesh uninject <folder> | kubectl apply -f -

Removes linkerd-proxy, linkerd-init, and (unlike linkerd) linkerd-debug and
linkerd-network-validator, the proxy volumes and linkerd.io labels/annotations.`,
    )
    .action(async (inputs: string[], opts: UninjectOptions) => {
      if (!inputs.length) throw new UsageError("please specify a kubernetes resource file", "pass a file, a directory, an https:// URL, or - for stdin");
      const resolved = resolveInputs(inputs, { stdin: deps.io.stdin, fetchUrl: (url) => fetchWithUndici(url), warn: (m) => deps.io.stderr.write(`warning: ${m}\n`) });
      const { result, out } = await runHeld(resolved, "uninject", undefined, opts.output);
      await out.flush(deps.io.stdout, deps.io.stdoutFd);
      deps.io.stderr.write(formatUninjectReport(result.reports));
    });
