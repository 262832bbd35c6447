import { existsSync } from "node:fs";
import { Argument, Command, type Option } from "commander";
import type { Deps, GlobalOptions } from "../deps.js";
import { COMMANDS, buildProgram, findCommand } from "../cli.js";
import { contextNamespace, kubeconfigFiles, readKubeconfigFile } from "../kube/kubeconfig.js";

/**
 * `mesh completion bash|zsh|fish` prints a script for the shell; the script calls the hidden
 * `mesh __complete <words before the cursor> <word at the cursor>` (as cobra's scripts call
 * `linkerd __complete`), which prints one candidate per line, `value<TAB>description`.
 *
 * Candidates come from the commands' own commander definitions (the command named on the line is
 * loaded as `mesh <command>` would load it): subcommands, flags, fixed flag values (an option's
 * `choices`, or the formats its `-o` help lists), and arguments with choices. Names from the
 * cluster (namespaces for namespace flags, `deploy/<name>` for resource arguments) are fetched
 * within CLUSTER_BUDGET_MS (and ANSWER_BUDGET_MS in all); a cluster that does not answer in time gives no candidates, silently.
 */
export const CLUSTER_BUDGET_MS = 250;
/**
 * The whole answer's budget from the moment `__complete` starts (process start-up comes before:
 * ~60-100 ms when the machine is quiet): loading the command's definition counts against it, so that a
 * cluster that does not answer still leaves the shell waiting under 300 ms in all.
 */
export const ANSWER_BUDGET_MS = 200;
let deadline = Number.POSITIVE_INFINITY;

export const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

export function completionCommand(deps: Deps): Command {
  return new Command("completion")
    .addArgument(new Argument("<shell>", "the shell to complete in").choices(SHELLS))
    .addHelpText(
      "after",
      [
        "",
        "Load completions in the current shell:",
        "  bash:  source <(mesh completion bash)",
        "  zsh:   source <(mesh completion zsh)     (after compinit)",
        "  fish:  mesh completion fish | source",
        "For every new shell, write the script where the shell looks for completions, e.g.",
        "  mesh completion bash > /etc/bash_completion.d/mesh",
        '  mesh completion zsh > "${fpath[1]}/_mesh"',
        "  mesh completion fish > ~/.config/fish/completions/mesh.fish",
      ].join("\n"),
    )
    .action((shell: Shell) => {
      deps.io.stdout.write(script(shell));
    });
}

export function script(shell: Shell): string {
  switch (shell) {
    case "bash":
      return `# bash completion for mesh (mesh completion bash)
_mesh_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" line out
  local IFS=$'\\n'
  COMPREPLY=()
  out=$(mesh __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return 0
  for line in $out; do
    COMPREPLY+=("\${line%%$'\\t'*}")
  done
  if [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -o default -F _mesh_complete mesh
`;
    case "zsh":
      return `#compdef mesh
# zsh completion for mesh (mesh completion zsh)
_mesh() {
  local -a out cands
  local l v d
  out=("\${(@f)$(mesh __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  for l in "\${out[@]}"; do
    [[ -z $l ]] && continue
    v=\${l%%$'\\t'*}
    d=""
    [[ $l == *$'\\t'* ]] && d=\${l#*$'\\t'}
    cands+=("\${v//:/\\\\:}\${d:+:$d}")
  done
  (( \${#cands} )) || { _files; return; }
  _describe -t mesh 'mesh' cands
}
if [[ "\${zsh_eval_context[-1]}" == loadautoload ]]; then
  _mesh "$@"
else
  compdef _mesh mesh
fi
`;
    case "fish":
      return `# fish completion for mesh (mesh completion fish)
function __mesh_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    mesh __complete $tokens (commandline -ct) 2>/dev/null
end
complete -c mesh -f -a '(__mesh_complete)'
`;
  }
}

interface Candidate {
  value: string;
  description?: string;
}

/** `mesh __complete WORD... CURRENT`: prints the candidates for CURRENT; always exits 0. */
export async function complete(words: string[], deps: Deps): Promise<number> {
  deadline = performance.now() + ANSWER_BUDGET_MS;
  try {
    const current = words.length ? words[words.length - 1] : "";
    const candidates = await candidatesFor(words.slice(0, -1), current, deps);
    const seen = new Set<string>();
    let out = "";
    for (const c of candidates) {
      if (!c.value.startsWith(current) || seen.has(c.value)) continue;
      seen.add(c.value);
      out += c.description ? `${c.value}\t${oneLine(c.description)}\n` : `${c.value}\n`;
    }
    deps.io.stdout.write(out);
  } catch {
    // completion never prints errors into the user's command line
  }
  return 0;
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").slice(0, 120);

/** Options that take a value, with both their spellings. */
function valued(options: readonly Option[]): Map<string, Option> {
  const m = new Map<string, Option>();
  for (const o of options) {
    if (!o.required && !o.optional) continue;
    if (o.long) m.set(o.long, o);
    if (o.short) m.set(o.short, o);
  }
  return m;
}

async function candidatesFor(before: string[], current: string, deps: Deps): Promise<Candidate[]> {
  const program = buildProgram();
  const words = before.filter((w) => w !== "");
  // the command path and the words after it, found as `mesh` finds them (flags may come first)
  const found = findCommand(program, words, (n) => Boolean(COMMANDS[n]?.group));
  const path = found.path;
  const rest = found.argv.slice(path.length);
  if (path[0] === "help") return path.length === 1 ? topLevel() : [];
  const name = path[0];
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (name !== undefined && !entry) return [];

  let cmd: Command | undefined;
  if (entry) {
    const loaded = await (await entry.load())(deps, path.slice(1));
    cmd = entry.group ? (path[1] === undefined ? undefined : loaded.commands.find((c) => c.name() === path[1])) : loaded;
    if (entry.group && path[1] === undefined) {
      if (!current.startsWith("-") && !previousTakesValue(words, program.options, loaded.options)) {
        return loaded.commands.map((c) => ({ value: c.name(), description: c.description() }));
      }
      cmd = loaded;
    }
    if (!cmd) return [];
  }

  const options = [...(cmd?.options ?? []), ...program.options];
  const g = globalsFrom(words, program.options);

  // a flag's value: `-o <TAB>` or `--output=<TAB>`
  const attached = /^(--[^=]+)=(.*)$/.exec(current);
  if (attached) {
    const o = valued(options).get(attached[1]);
    return o ? (await optionValues(o, g, deps)).map((c) => ({ ...c, value: `${attached[1]}=${c.value}` })) : [];
  }
  // bash splits `--output=js` into `--output`, `=`, `js` (COMP_WORDBREAKS): the value follows the `=`
  const prev = words[words.length - 1] === "=" ? words[words.length - 2] : words[words.length - 1];
  if (prev !== undefined && prev.startsWith("-") && !prev.includes("=")) {
    const o = valued(options).get(prev);
    if (o) return optionValues(o, g, deps);
  }
  if (current.startsWith("-")) {
    return options.filter((o) => !o.hidden).flatMap((o) => flagNames(o, current));
  }
  if (!cmd) return topLevel();

  // a positional argument
  const positionals = positionalWords(rest, options);
  const args = cmd.registeredArguments;
  if (args.length === 0) return [];
  const idx = positionals.length;
  const arg = args[Math.min(idx, args.length - 1)];
  if (idx >= args.length && !arg.variadic) return [];
  if (arg.argChoices) return arg.argChoices.map((value) => ({ value }));
  if (/^resource/.test(arg.name())) return resourceCandidates(positionals, current, words, g, deps);
  return [];
}

function topLevel(): Candidate[] {
  return Object.entries(COMMANDS).map(([value, e]) => ({ value, description: e.description }));
}

function previousTakesValue(words: string[], ...lists: (readonly Option[])[]): boolean {
  const prev = words[words.length - 1];
  return prev !== undefined && !prev.includes("=") && lists.some((l) => valued(l).has(prev));
}

function flagNames(o: Option, current: string): Candidate[] {
  const names = current.startsWith("--") || !o.short ? [o.long] : [o.short, o.long];
  return names.filter((n): n is string => Boolean(n)).map((value) => ({ value, description: o.description }));
}

/** The words after the command path that are arguments, not options or their values. */
function positionalWords(words: string[], options: readonly Option[]): string[] {
  const v = valued(options);
  const out: string[] = [];
  for (let j = 0; j < words.length; j++) {
    const w = words[j];
    if (w === "--") {
      out.push(...words.slice(j + 1));
      break;
    }
    if (w.startsWith("-") && w !== "-") {
      if (v.has(w) && !w.includes("=")) j++;
      continue;
    }
    out.push(w);
  }
  return out;
}

/** The value of the last occurrence of a valued option among `words`. */
function optionValue(words: string[], o: Option | undefined): string | undefined {
  if (!o) return undefined;
  let value: string | undefined;
  for (let j = 0; j < words.length; j++) {
    const w = words[j];
    if ((w === o.long || w === o.short) && j + 1 < words.length) value = words[++j];
    else if (o.long && w.startsWith(`${o.long}=`)) value = w.slice(o.long.length + 1);
  }
  return value;
}

function globalsFrom(words: string[], globalOptions: readonly Option[]): GlobalOptions {
  const find = (long: string) => globalOptions.find((o) => o.long === long);
  return {
    kubeconfig: optionValue(words, find("--kubeconfig")),
    context: optionValue(words, find("--context")),
    linkerdNamespace: optionValue(words, find("--linkerd-namespace")) ?? "linkerd",
    verbose: false,
    color: false,
  };
}

/** Values of a valued option: its choices, the formats an `--output`'s help lists, or names from the cluster. */
async function optionValues(o: Option, g: GlobalOptions, deps: Deps): Promise<Candidate[]> {
  if (o.argChoices) return o.argChoices.map((value) => ({ value }));
  if (o.long === "--output") return outputFormats(o.description).map((value) => ({ value }));
  if (o.long && /namespace$/.test(o.long)) return namespaces(g, deps);
  if (o.long === "--context") return contexts(g, deps);
  return [];
}

/** `output format: table, wide (with --to) or json` → table, wide, json. */
export function outputFormats(description: string): string[] {
  const list = description.includes(":") ? description.slice(description.lastIndexOf(":") + 1) : description;
  return list
    .replace(/\([^)]*\)/g, "")
    .replace(/["'`]/g, "")
    .split(/,|\bor\b|\band\b/)
    .map((s) => s.trim())
    .filter((s) => /^[a-z][a-z0-9-]*$/.test(s));
}

/** Resolves with undefined when `work` fails or takes longer than the budget. */
async function bounded<T>(work: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, Math.max(0, Math.min(CLUSTER_BUDGET_MS, deadline - performance.now())), undefined)));
  try {
    return await Promise.race([work().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface NamedList {
  items?: { metadata?: { name?: string } }[];
}

async function names(g: GlobalOptions, deps: Deps, path: string): Promise<string[]> {
  // Without a kubeconfig there is nothing to ask, and finding that out goes through client-node,
  // whose loading alone (synchronous, so no timer can cut it short) takes most of the budget.
  if (!kubeconfigFiles(g, deps.env).some((f) => existsSync(f)) && !deps.env.KUBERNETES_SERVICE_HOST) return [];
  const list = await bounded(async () => {
    const cluster = await deps.cluster(g);
    return cluster.getJson<NamedList>(path);
  });
  return (list?.items ?? []).map((i) => i.metadata?.name).filter((n): n is string => typeof n === "string" && n !== "");
}

async function namespaces(g: GlobalOptions, deps: Deps): Promise<Candidate[]> {
  return (await names(g, deps, "/api/v1/namespaces")).map((value) => ({ value }));
}

async function contexts(g: GlobalOptions, deps: Deps): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const file of kubeconfigFiles(g, deps.env)) {
    try {
      const doc = readKubeconfigFile(file) as { contexts?: { name?: unknown }[] };
      for (const c of Array.isArray(doc.contexts) ? doc.contexts : []) if (typeof c?.name === "string") out.push({ value: c.name });
    } catch {
      // unreadable files complete nothing
    }
  }
  return out;
}

/** Resource types as linkerd's commands accept them, with their API collection. */
const RESOURCES: { name: string; aliases: string[]; api: string; namespaced: boolean }[] = [
  { name: "deployment", aliases: ["deploy", "deployments"], api: "/apis/apps/v1", namespaced: true },
  { name: "daemonset", aliases: ["ds", "daemonsets"], api: "/apis/apps/v1", namespaced: true },
  { name: "statefulset", aliases: ["sts", "statefulsets"], api: "/apis/apps/v1", namespaced: true },
  { name: "replicaset", aliases: ["rs", "replicasets"], api: "/apis/apps/v1", namespaced: true },
  { name: "pod", aliases: ["po", "pods"], api: "/api/v1", namespaced: true },
  { name: "service", aliases: ["svc", "services"], api: "/api/v1", namespaced: true },
  { name: "replicationcontroller", aliases: ["rc", "replicationcontrollers"], api: "/api/v1", namespaced: true },
  { name: "job", aliases: ["jobs"], api: "/apis/batch/v1", namespaced: true },
  { name: "cronjob", aliases: ["cj", "cronjobs"], api: "/apis/batch/v1", namespaced: true },
  { name: "namespace", aliases: ["ns", "namespaces"], api: "/api/v1", namespaced: false },
];

const resourceType = (word: string) => RESOURCES.find((r) => r.name === word || r.aliases.includes(word));

/**
 * A resource argument: `TYPE/<name>` after a slash, names after a bare `TYPE` word (`deploy web`),
 * else the types.
 */
async function resourceCandidates(positionals: string[], current: string, words: string[], g: GlobalOptions, deps: Deps): Promise<Candidate[]> {
  const slash = current.indexOf("/");
  const namespace = () => {
    const ns = words.reduce<string | undefined>((v, w, j) => (w === "-n" || w === "--namespace" ? words[j + 1] : w.startsWith("--namespace=") ? w.slice(12) : v), undefined);
    return ns ?? contextNamespace(g, deps.env) ?? "default";
  };
  const list = async (r: (typeof RESOURCES)[number]) => {
    const plural = `${r.name}s`;
    return names(g, deps, r.namespaced ? `${r.api}/namespaces/${encodeURIComponent(namespace())}/${plural}` : `${r.api}/${plural}`);
  };
  if (slash > 0) {
    const r = resourceType(current.slice(0, slash));
    return r ? (await list(r)).map((n) => ({ value: `${current.slice(0, slash)}/${n}` })) : [];
  }
  const last = positionals[positionals.length - 1];
  const r = last === undefined || last.includes("/") ? undefined : resourceType(last);
  if (r) return (await list(r)).map((value) => ({ value }));
  return RESOURCES.map((t) => ({ value: t.name }));
}
