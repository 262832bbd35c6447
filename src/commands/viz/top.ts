import { Command } from "commander";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { fullScreen, liveWriter, onInterrupt, TERMINAL } from "../../io.js";
import { clusterApi } from "../../kube/cluster.js";
import type { ServiceProfile } from "../../kube/types.js";
import { globals } from "../shared.js";
import { routeOf, topSample, TopTable, TOP_HELP } from "../../viz/tap/top.js";
import { addTapOptions, sessionSelection, tapTargets, withNamespace, type TapCommonOptions } from "./tap.js";
import { runTapSession } from "./tap-session.js";

export interface TopOptions extends TapCommonOptions {
  hideSources: boolean;
  routes: boolean;
}

/** How often a pipe gets a new snapshot (only when the table changed). */
const SNAPSHOT_MS = 2000;
const REDRAW_MS = 100;
const SCROLL = 5;

/** The full-screen frame: help lines, a blank line, bold headers, rows, each line cut to `cols`. */
export function renderFrame(table: TopTable, scroll: number, cols: number, rows: number): string {
  const { header, rows: body } = table.render(scroll);
  const cut = (s: string) => Array.from(s).slice(0, cols).join("");
  const lines = [...TOP_HELP.map(cut), "", `\x1b[1m${cut(header)}\x1b[0m`, ...body.slice(0, Math.max(0, rows - 4)).map(cut)];
  return TERMINAL.home + lines.map((l) => l + TERMINAL.clearLine).join("\r\n") + TERMINAL.clearBelow;
}

/** A plain snapshot for pipes and files. */
export function renderSnapshot(table: TopTable): string {
  const { header, rows } = table.render();
  return `${[header, ...rows].join("\n")}\n\n`;
}

export const topCommand = (deps: Deps) =>
  addTapOptions(new Command("top").argument("<resource...>", "TYPE/NAME or TYPE NAME: the resource whose requests to show"))
    .option("--hide-sources", "hide the source column", false)
    .option("--routes", "display data per route instead of per path", false)
    .addHelpText(
      "after",
      `
Built from the proxies' HTTP access logs (see \`mesh viz tap --help\`): latency is the time to the
response headers and success means HTTP status < 500 (no gRPC status is logged). On a terminal the
table is redrawn in place (q or Ctrl-C quits, a/d or the arrow keys scroll); in a pipe a snapshot is
printed every ${SNAPSHOT_MS / 1000}s when it changed, and once more at the end.`,
    )
    .action(async (args: string[], opts: TopOptions, cmd: Command) => {
      if (args.length > 2) throw new UsageError(`accepts between 1 and 2 arg(s), received ${args.length}`);
      const { target, to } = tapTargets(args, await withNamespace(opts, cmd, deps.env));
      const cluster = clusterApi(await deps.cluster(globals(cmd)));
      const table = new TopTable({ hideSources: opts.hideSources, routes: opts.routes });
      let profiles: ServiceProfile[] = [];
      if (opts.routes) profiles = (await cluster.listServiceProfiles().catch(() => undefined)) ?? [];
      const stop = new AbortController();
      const { io } = deps;
      const writer = liveWriter(io);
      writer.signal.addEventListener("abort", () => stop.abort(), { once: true });
      const dispose = onInterrupt(() => stop.abort());
      const pendingWarnings: string[] = [];
      let changed = false;
      let scroll = 0;
      let restore: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      const size = () => {
        const out = process.stdout as { columns?: number; rows?: number };
        return { cols: out.columns || 80, rows: out.rows || 24 };
      };
      const draw = () => {
        const { cols, rows } = size();
        writer.write(renderFrame(table, scroll, cols, rows));
      };
      if (io.isTTY) {
        restore = fullScreen(io, (key) => {
          if (key === "q" || key === "\x03") stop.abort();
          else if (key === "a" || key === "\x1b[D") scroll = Math.max(0, scroll - SCROLL);
          else if (key === "d" || key === "\x1b[C") scroll = Math.max(0, Math.min(scroll + SCROLL, table.width() - size().cols));
        });
        timer = setInterval(draw, REDRAW_MS);
      } else
        timer = setInterval(() => {
          if (changed && table.size) writer.write(renderSnapshot(table));
          changed = false;
        }, SNAPSHOT_MS);
      try {
        await runTapSession({
          cluster,
          ...sessionSelection(target, to, opts),
          signal: stop.signal,
          now: deps.now,
          // On the full screen, warnings would be drawn over; they wait until it is restored.
          warn: (m) => (restore ? pendingWarnings.push(m) : io.stderr.write(`${m}\n`)),
          onRequest: (r) => {
            table.insert(topSample(r, opts.routes ? routeOf(profiles, r.authority, r.method, r.path, r.pod.namespace) : undefined));
            changed = true;
          },
        });
      } finally {
        clearInterval(timer);
        dispose();
        if (restore) {
          await writer.flush();
          restore();
        } else if (table.size && !writer.closed) writer.write(renderSnapshot(table));
        await writer.flush();
        for (const m of pendingWarnings) io.stderr.write(`${m}\n`);
        cluster.close();
      }
    });
