import { Command } from "commander";
import type { Deps } from "../../deps.js";

type SubcommandFactory = (deps: Deps) => Command;

/**
 * `mesh viz <sub>`: agentless observability. Like the top-level commands, each subcommand's module
 * is loaded only when it is the one being run; the others are registered by name for `--help`.
 * Descriptions live here only, so the listing and `mesh viz <sub> --help` agree.
 */
export const VIZ_COMMANDS: Record<string, { description: string; load: () => Promise<SubcommandFactory> }> = {
  stat: {
    description: "Golden metrics of workloads, pods, namespaces, services and authorities, from two scrapes of their proxies",
    load: async () => (await import("./stat.js")).statCommand,
  },
  routes: {
    description: "Per-route metrics of the ServiceProfiles of a destination, from two scrapes of the proxies",
    load: async () => (await import("./routes.js")).routesCommand,
  },
  edges: {
    description: "Connections between resources, with the proxies' mTLS identities",
    load: async () => (await import("./edges.js")).edgesCommand,
  },
  authz: {
    description: "Traffic of a resource by the server, route and authorization policy that admitted it, with the rate of denied requests",
    load: async () => (await import("./authz.js")).authzCommand,
  },
  "allow-scrapes": {
    description: "Render the Server and policies that let mesh (through the API server) and Prometheus read the proxies' metrics under a deny or authenticated default policy",
    load: async () => (await import("./allow-scrapes.js")).allowScrapesCommand,
  },
  profile: {
    description: "Render a ServiceProfile from the requests a workload receives (--tap), or a template",
    load: async () => (await import("./profile.js")).profileCommand,
  },
  list: {
    description: "List meshed pods and whether their proxies write the access log that tap and top read",
    load: async () => (await import("./list.js")).listCommand,
  },
  check: {
    description: "Check that this user can run the viz commands and that the proxies answer them",
    load: async () => (await import("./check.js")).checkCommand,
  },
  install: {
    description: "Render the RBAC that agentless viz needs (for kubectl apply -f -)",
    load: async () => (await import("./install.js")).installCommand,
  },
  uninstall: {
    description: "Render the objects of viz install (for kubectl delete -f -)",
    load: async () => (await import("./install.js")).uninstallCommand,
  },
  tap: {
    description: "Listen to a traffic stream: the requests a resource's pods receive, from their proxies' access logs",
    load: async () => (await import("./tap.js")).tapCommand,
  },
  top: {
    description: "Display sorted information about live traffic, from the proxies' access logs",
    load: async () => (await import("./top.js")).topCommand,
  },
  dashboard: {
    description: "Serve a live web dashboard from mesh itself: namespaces, workloads, routes, edges, tap and checks",
    load: async () => (await import("./dashboard.js")).dashboardCommand,
  },
};

/** The viz group, with `sub` (the subcommand named on the command line, if any) loaded for real. */
export async function vizCommand(deps: Deps, sub: string | undefined): Promise<Command> {
  const viz = new Command("viz").description("Observe the mesh: golden metrics, routes, edges and live requests, read straight from the proxies");
  for (const [name, entry] of Object.entries(VIZ_COMMANDS)) {
    if (name === sub) viz.addCommand((await entry.load())(deps).description(entry.description));
    else viz.command(name).description(entry.description);
  }
  return viz;
}
