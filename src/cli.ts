import { Command, CommanderError, Option } from "commander";
import { ExitCode, MeshError, ChecksFailed } from "./errors.js";
import { processIo, type Io } from "./io.js";
import type { Deps, GlobalOptions } from "./deps.js";
import { MESH_VERSION, LINKERD_VERSION } from "./version.js";
import { collect, parseNamespace } from "./commands/shared.js";
import { sanitize } from "./output/sanitize.js";

/** Builds a command; `sub` is the rest of the command path (a group's subcommand, if named). */
type CommandFactory = (deps: Deps, sub: string[]) => Command | Promise<Command>;

/**
 * Top-level commands, loaded on demand so that `mesh version --client` or
 * `mesh install` never parse code they do not run (start-up time matters: see bench/startup).
 */
export const COMMANDS: Record<string, { description: string; group?: boolean; load: () => Promise<CommandFactory> }> = {
  install: {
    description: "Render the manifests that install Linkerd's control plane (or its CRDs)",
    load: async () => (await import("./commands/install.js")).installCommand,
  },
  upgrade: {
    description: "Render the manifests that upgrade an installed control plane, keeping its values and certificates",
    load: async () => (await import("./commands/upgrade.js")).upgradeCommand,
  },
  uninstall: {
    description: "Render every object of the control plane (CRDs last), for kubectl delete",
    load: async () => (await import("./commands/uninstall.js")).uninstallCommand,
  },
  prune: {
    description: "Render the control plane's objects that this release no longer has, for kubectl delete",
    load: async () => (await import("./commands/prune.js")).pruneCommand,
  },
  inject: {
    description: "Mesh workloads: add Linkerd's proxy to Kubernetes manifests",
    load: async () => (await import("./commands/inject.js")).injectCommand,
  },
  uninject: {
    description: "Take workloads out of the mesh: remove Linkerd's proxy from manifests",
    load: async () => (await import("./commands/uninject.js")).uninjectCommand,
  },
  check: {
    description: "Check a cluster, a Linkerd installation or its proxies for problems",
    load: async () => (await import("./commands/check.js")).checkCommand,
  },
  version: {
    description: "Show the Linkerd release mesh targets and the one installed",
    load: async () => (await import("./commands/version.js")).versionCommand,
  },
  viz: {
    description: "Observe the mesh: golden metrics, routes, edges and live requests, read straight from the proxies",
    group: true,
    load: async () => {
      const { vizCommand } = await import("./commands/viz/index.js");
      return (deps, sub) => vizCommand(deps, sub[0]);
    },
  },
  diagnostics: {
    description: "Diagnose Linkerd components: proxies' and controllers' raw metrics, what services resolve to, the policy of a pod's port",
    group: true,
    load: async () => {
      const { diagnosticsCommand } = await import("./commands/diagnostics.js");
      return (deps) => diagnosticsCommand(deps);
    },
  },
  dg: {
    description: "Alias of diagnostics",
    group: true,
    load: async () => {
      const { diagnosticsCommand } = await import("./commands/diagnostics.js");
      return (deps) => diagnosticsCommand(deps, "dg");
    },
  },
  analyze: {
    description: "Find Linkerd configuration mistakes in manifests or the cluster that the proxies would silently ignore",
    load: async () => (await import("./commands/analyze.js")).analyzeCommand,
  },
  identity: {
    description: "Display the certificate(s) of one or more selected pod(s)",
    load: async () => (await import("./commands/identity.js")).identityCommand,
  },
  authz: {
    description: "List the authorization policies that apply to a workload's pods",
    load: async () => (await import("./commands/authz.js")).authzCommand,
  },
  profile: {
    description: "Output a ServiceProfile for a service: a template, or the routes of an OpenAPI or protobuf definition",
    load: async () => (await import("./commands/profile.js")).profileCommand,
  },
  completion: {
    description: "Print the script that makes bash, zsh or fish complete mesh's commands, flags and cluster names",
    load: async () => (await import("./commands/completion.js")).completionCommand,
  },
};

export function buildProgram(): Command {
  return new Command("mesh")
    .description(`A fast, friendly CLI for the Linkerd service mesh (targets Linkerd ${LINKERD_VERSION})`)
    .version(`mesh ${MESH_VERSION} (Linkerd ${LINKERD_VERSION})`, "--mesh-version", "print mesh's own version")
    .option("--kubeconfig <path>", "kubeconfig file to read (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to talk to (default: its current context)")
    .addOption(new Option("-L, --linkerd-namespace <ns>", "the control plane's namespace").env("LINKERD_NAMESPACE").default("linkerd").argParser(parseNamespace))
    .addOption(new Option("--cni-namespace <ns>", "the namespace of the linkerd-cni plugin").default("linkerd-cni").argParser(parseNamespace))
    .option("--api-addr <host:port>", "talk to this Kubernetes API server instead of the kubeconfig cluster's (its credentials are kept)")
    .option("--as <user>", "act as this user towards the Kubernetes API (impersonation)")
    .option("--as-group <group>", "act as a member of this group (impersonation; repeatable)", collect)
    .option("--verbose", "more detail: debug output and full error traces", false)
    .option("--no-color", "disable colour output (also NO_COLOR, or when stdout is not a terminal)")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions(false);
}

/**
 * The command path named in argv (`["check"]`, `["viz", "stat"]`) and argv reordered so that the
 * path comes first, as commander needs: like linkerd (cobra), a command's own flags may come
 * before its name (`mesh -n production check --proxy`). Which of the program's options take a
 * value comes from their definitions; an option the program does not know is, as cobra assumes,
 * followed by its value unless the next word is an option or the value is attached.
 */
export function findCommand(program: Command, argv: string[], isGroup: (name: string) => boolean): { path: string[]; argv: string[] } {
  const valued = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long]));
  const flags = new Set(program.options.filter((o) => !o.required && !o.optional).flatMap((o) => [o.short, o.long]));
  const path: string[] = [];
  const others: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      others.push(...argv.slice(i));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      others.push(a);
      const attached = a.includes("=") || /^-[^-]./.test(a);
      const takesValue = valued.has(a) || (!flags.has(a) && !attached && i + 1 < argv.length && !argv[i + 1].startsWith("-"));
      if (takesValue && !attached && i + 1 < argv.length) others.push(argv[++i]);
      continue;
    }
    path.push(a);
    if (path.length === 1 && (a === "help" || isGroup(a))) continue;
    others.push(...argv.slice(i + 1));
    break;
  }
  return { path, argv: [...path, ...others] };
}

/** The known name closest to `name` (edit distance at most 2), for "did you mean". */
export function closest(name: string, known: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length];
  };
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (d <= 2 && (!best || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

/** Commander must report errors through us, for every command, not only the root; `printed` hears when it does. */
function configure(cmd: Command, io: Io, printed: () => void): void {
  cmd.exitOverride();
  cmd.showHelpAfterError("(run with --help for usage)");
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => {
      printed();
      write(s.startsWith("error:") ? s : `error: ${s}`);
    },
  });
  for (const sub of cmd.commands) configure(sub, io, printed);
}

/** Runs mesh with `argv` (without node and script) and returns the exit code. The ONLY error handler. */
export async function run(argv: string[], deps: Deps): Promise<number> {
  // the hidden entry point the completion scripts call (see commands/completion.ts)
  if (argv[0] === "__complete") return (await import("./commands/completion.js")).complete(argv.slice(1), deps);
  const program = buildProgram();
  const found = findCommand(program, argv, (n) => Boolean(COMMANDS[n]?.group));
  const [name, ...sub] = found.path[0] === "help" ? found.path.slice(1) : found.path;
  if (found.path[0] === "help" && name && !COMMANDS[name]) return unknownCommand(name, deps.io);
  for (const [cmdName, entry] of Object.entries(COMMANDS)) {
    // The description lives here only, so the listing and `mesh <command> --help` agree.
    if (cmdName === name) program.addCommand((await (await entry.load())(deps, sub)).description(entry.description));
    else program.command(cmdName).description(entry.description);
  }
  let commanderPrinted = false;
  configure(program, deps.io, () => void (commanderPrinted = true));
  // `mesh` alone: the help is what was asked for, on stdout (as linkerd and kubectl print it).
  if (found.path.length === 0 && !argv.some((a) => ["-h", "--help", "--mesh-version"].includes(a))) {
    deps.io.stdout.write(program.helpInformation());
    return ExitCode.Ok;
  }
  try {
    await program.parseAsync(found.path[0] === "help" ? argv : found.argv, { from: "user" });
    return ExitCode.Ok;
  } catch (err) {
    // An argument parser's error thrown from a command's action (not while commander parsed) was
    // printed by nobody: say it, as commander would have.
    if (err instanceof CommanderError && err.exitCode !== 0 && !commanderPrinted && !err.code.startsWith("commander.help")) {
      deps.io.stderr.write(`error: ${sanitize(err.message.replace(/^error: /, ""), 500)}\n(run with --help for usage)\n`);
    }
    return report(err, deps.io, argv.includes("--verbose"));
  }
}

function unknownCommand(name: string, io: Io): number {
  const guess = closest(name, Object.keys(COMMANDS));
  io.stderr.write(`error: unknown command '${sanitize(name, 80)}'${guess ? `\n(Did you mean ${guess}?)` : ""}\n(run with --help for usage)\n`);
  return ExitCode.Usage;
}

export function report(err: unknown, io: Io, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return ExitCode.Ok;
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage; // commander already printed the message
  }
  if (err instanceof ChecksFailed) return err.exitCode;
  if (err instanceof MeshError) {
    io.stderr.write(`error: ${err.message}\n`);
    if (err.hint) io.stderr.write(`hint: ${err.hint}\n`);
    if (verbose && err.cause) io.stderr.write(`${describeCause(err.cause)}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`error: ${message}\n`);
  if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else io.stderr.write("hint: run again with --verbose for details\n");
  return ExitCode.Failure;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}

/** Real dependencies: the process's streams, clock and kubeconfig. */
export function processDeps(argv: string[]): Deps {
  return {
    io: processIo(argv.includes("--no-color")),
    now: () => new Date(),
    env: process.env,
    cluster: async (g: GlobalOptions) => (await import("./kube/cluster.js")).connect(g),
  };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  process.exitCode = await run(argv, processDeps(argv));
  // a completion that gave up on a slow cluster must not wait for its sockets: the shell is waiting
  if (argv[0] === "__complete") process.exit();
}
