import { Command, InvalidArgumentError } from "commander";
import type { GlobalOptions } from "../deps.js";

const NAMESPACE_RE = /^[a-zA-Z0-9-]+$/;

/** The global options of `cmd` and its parents, typed. */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  return {
    kubeconfig: o.kubeconfig,
    context: o.context,
    linkerdNamespace: o.linkerdNamespace ?? "linkerd",
    as: o.as,
    asGroup: o.asGroup,
    verbose: Boolean(o.verbose),
    color: o.color !== false,
    apiAddr: o.apiAddr,
    cniNamespace: o.cniNamespace ?? "linkerd-cni",
  };
}

export function parseNamespace(value: string): string {
  if (!NAMESPACE_RE.test(value)) throw new InvalidArgumentError(`"${value}" is not a valid namespace name`);
  return value;
}

/** Repeatable string option collector: `--set a=1 --set b=2`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Go-style duration (`300ms`, `1m30s`, `24h`) to milliseconds. */
export function parseDuration(value: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  if (value === "0") return 0;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== value.length) throw new InvalidArgumentError(`"${value}" is not a duration (e.g. 30s, 5m, 1h30m)`);
  return total;
}
