import { Command, CommanderError, Option } from "commander";
import { ExitCode, MeshError, ChecksFailed } from "./errors.js";
import { processIo, type Io } from "./io.js";
import type { Deps, GlobalOptions } from "./deps.js";
import { MESH_VERSION, LINKERD_VERSION } from "./version.js";
import { collect, parseNamespace } from "./commands/shared.js";

/** Builds a command; `rest` is the command line after the command's name (a group finds its subcommand there). */
type CommandFactory = (deps: Deps, rest: string[]) => Command | Promise<Command>;

/**
 * Top-level commands, loaded on demand so that `mesh version --client` or
 * `mesh install` never parse code they do not run (start-up time matters: see bench/startup).
 */
export const COMMANDS: Record<string, { description: string; load: () => Promise<CommandFactory> }> = {
  install: {
    description: "Render the manifests that install Linkerd's control plane (or its CRDs)",
    load: async () => (await import("./commands/install.js")).installCommand,
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
    load: async () => {
      const { vizCommand } = await import("./commands/viz/index.js");
      return (deps, rest) => vizCommand(deps, rest.find((a) => !a.startsWith("-")));
    },
  },
};

export function buildProgram(): Command {
  return new Command("mesh")
    .description(`A fast, friendly CLI for the Linkerd service mesh (targets Linkerd ${LINKERD_VERSION})`)
    .version(`mesh ${MESH_VERSION} (Linkerd ${LINKERD_VERSION})`, "--mesh-version", "print mesh's own version")
    .option("--kubeconfig <path>", "kubeconfig file to read (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to talk to (default: its current context)")
    .addOption(new Option("-L, --linkerd-namespace <ns>", "the control plane's namespace").env("LINKERD_NAMESPACE").default("linkerd").argParser(parseNamespace))
    .option("--as <user>", "act as this user towards the Kubernetes API (impersonation)")
    .option("--as-group <group>", "act as a member of this group (impersonation; repeatable)", collect)
    .option("--verbose", "more detail: debug output and full error traces", false)
    .option("--no-color", "disable colour output (also NO_COLOR, or when stdout is not a terminal)")
    .showHelpAfterError("(run with --help for usage)")
    .enablePositionalOptions(false);
}

/**
 * Where the subcommand is named in argv: the first word that is not an option or the value of one
 * of `program`'s own options (which of them take a value comes from their definitions).
 */
export function findCommand(program: Command, argv: string[]): { name: string | undefined; rest: string[] } {
  const valued = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long]).filter(Boolean));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (valued.has(a)) {
      i++;
      continue;
    }
    if (a === "help") return { name: argv[i + 1], rest: argv.slice(i + 2) };
    if (!a.startsWith("-")) return { name: a, rest: argv.slice(i + 1) };
  }
  return { name: undefined, rest: [] };
}

/** Commander must report errors through us, for every command, not only the root. */
function configure(cmd: Command, io: Io): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => write(s.startsWith("error:") ? s : `error: ${s}`),
  });
  for (const sub of cmd.commands) configure(sub, io);
}

/** Runs mesh with `argv` (without node and script) and returns the exit code. The ONLY error handler. */
export async function run(argv: string[], deps: Deps): Promise<number> {
  const program = buildProgram();
  const { name, rest } = findCommand(program, argv);
  for (const [cmdName, entry] of Object.entries(COMMANDS)) {
    // The description lives here only, so the listing and `mesh <command> --help` agree.
    if (cmdName === name) program.addCommand((await (await entry.load())(deps, rest)).description(entry.description));
    else program.command(cmdName).description(entry.description);
  }
  configure(program, deps.io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.Ok;
  } catch (err) {
    return report(err, deps.io, argv.includes("--verbose"));
  }
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
}
