import { Command } from "commander";
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { stat } from "node:fs/promises";
import { Socket } from "node:net";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { renderProfile, renderProfileTemplate, type ProfileRoute } from "../viz/profile.js";
import { globals } from "./shared.js";
import { clusterDomainOf, contextNamespace } from "./viz/common.js";
import { validateProfile } from "./viz/profile.js";

export interface TopProfileOptions {
  namespace?: string;
  template: boolean;
  openApi?: string;
  proto?: string;
  ignoreCluster: boolean;
}


/** Specification files are read whole; this bounds what one may cost. */
const MAX_SPEC_BYTES = 32 << 20;

const tooLarge = (name: string) => new MeshError(`${sanitize(name, 200)}: larger than ${MAX_SPEC_BYTES >> 20} MiB`);

/** At most MAX_SPEC_BYTES of a stream (stdin, a pipe, a regular file), decoded as UTF-8. */
async function readBounded(stream: AsyncIterable<unknown>, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_SPEC_BYTES) throw tooLarge(name);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "too many levels of symbolic links";
  if (code === "ENXIO") return "not a regular file or a pipe";
  return sanitize((e as Error).message, 200);
}

/**
 * The text of `path` (or stdin for `-`), bounded: a regular file or a pipe (`<(…)`), at most
 * MAX_SPEC_BYTES. A directory, a device (/dev/zero would never end, a terminal never answer) or a
 * socket is refused before it is opened; a FIFO is opened without waiting for a writer, and one
 * that nothing writes to is an error instead of a wait that never ends.
 */
async function readSpec(path: string, deps: Deps): Promise<{ name: string; text: string }> {
  if (path === "-") {
    const fd = (deps.io.stdin as { fd?: unknown }).fd;
    if (typeof fd === "number") {
      let isDir = false;
      try {
        isDir = fstatSync(fd).isDirectory();
      } catch {
        // not a descriptor fstat understands: read it as usual
      }
      if (isDir) throw new MeshError("cannot read stdin: it is a directory", "pass the file's path instead");
    }
    try {
      return { name: "stdin", text: await readBounded(deps.io.stdin, "stdin") };
    } catch (e) {
      if (e instanceof MeshError) throw e;
      throw new MeshError(`cannot read stdin: ${readFailure(e)}`);
    }
  }
  const shown = sanitize(path, 200);
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new MeshError(`cannot read ${shown}: it is a directory`);
    if (st.isFile()) {
      if (st.size > MAX_SPEC_BYTES) throw tooLarge(path);
      // one byte past the bound, in case the file grew since stat
      return { name: path, text: await readBounded(createReadStream(path, { start: 0, end: MAX_SPEC_BYTES }), path) };
    }
    if (!st.isFIFO()) throw new MeshError(`cannot read ${shown}: ${st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "not a regular file"}, not a regular file or a pipe`);
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFIFO()) {
      closeSync(fd);
      throw new MeshError(`cannot read ${shown}: it changed while it was opened`);
    }
    // Without a writer, a non-blocking read says end of file at once (EAGAIN: a writer, no data yet).
    const first = Buffer.alloc(64 * 1024);
    let n = 0;
    try {
      n = readSync(fd, first);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") {
        closeSync(fd);
        throw e;
      }
      n = -1;
    }
    if (n === 0) {
      closeSync(fd);
      throw new MeshError(`cannot read ${shown}: a FIFO that nothing writes to`, "start the program that writes to it first, or pass a regular file");
    }
    // the rest through libuv's stream handle: non-blocking, so Ctrl-C and errors always end the process
    const pipe = new Socket({ fd, readable: true, writable: false });
    try {
      async function* all() {
        if (n > 0) yield first.subarray(0, n);
        yield* pipe;
      }
      return { name: path, text: await readBounded(all(), path) };
    } finally {
      pipe.destroy();
    }
  } catch (e) {
    if (e instanceof MeshError) throw e;
    throw new MeshError(`cannot read ${shown}: ${readFailure(e)}`);
  }
}

/** The routes of an OpenAPI document (YAML or JSON); errors name the file and, for YAML, the line. */
async function routesFromOpenApi(spec: { name: string; text: string }): Promise<ProfileRoute[]> {
  const { loadYaml, parseYamlSafe, YamlInputError } = await import("../yaml-lib.js");
  const lib = await loadYaml();
  let docs: unknown[];
  try {
    docs = parseYamlSafe(spec.text, {}, lib);
  } catch (e) {
    if (!(e instanceof YamlInputError)) throw e;
    throw new MeshError(`${sanitize(spec.name, 200)}:${e.line}: not valid YAML or JSON: ${e.reason}`);
  }
  if (docs.length !== 1) throw new MeshError(`${sanitize(spec.name, 200)}: ${docs.length} YAML documents, expected one OpenAPI document`);
  const { openApiRoutes, OpenApiInputError } = await import("../profile/openapi.js");
  try {
    return await openApiRoutes(docs[0]);
  } catch (e) {
    if (e instanceof OpenApiInputError) throw new MeshError(`${sanitize(spec.name, 200)}: ${e.message}`, "mesh profile --open-api reads Swagger 2.0 and OpenAPI 3.x documents (YAML or JSON)");
    throw new MeshError(`${sanitize(spec.name, 200)}: not an OpenAPI document: ${sanitize(String((e as Error).message).split("\n")[0], 300)}`, "mesh profile --open-api reads Swagger 2.0 and OpenAPI 3.x documents (YAML or JSON)");
  }
}

async function routesFromProto(spec: { name: string; text: string }): Promise<ProfileRoute[]> {
  const { protoRoutes } = await import("../profile/proto.js");
  try {
    return await protoRoutes(spec.text);
  } catch (e) {
    const m = /^(.*) \(line (\d+)\)$/.exec((e as Error).message);
    const where = m ? `${spec.name}:${m[2]}` : spec.name;
    throw new MeshError(`${sanitize(where, 200)}: not a valid protobuf definition: ${sanitize(m ? m[1] : (e as Error).message, 200)}`);
  }
}

export const profileCommand = (deps: Deps) =>
  new Command("profile")
    .description("Output a ServiceProfile for a service: a template, or the routes of an OpenAPI or protobuf definition")
    .usage("[flags] (--template | --open-api file | --proto file) (SERVICE)")
    .argument("[service...]")
    .addHelpText(
      "after",
      `
The profile is named <service>.<namespace>.svc.<cluster domain>, the cluster domain read from the
installed linkerd-config (--ignore-cluster: cluster.local, no cluster contacted).

--open-api reads a Swagger 2.0 document as Linkerd does, and OpenAPI 3.x too (its first server's
path is the base path): one route per path and method, \`{parameters}\` matching any one segment,
one response class per documented status code (5xx are failures), and an operation's
x-linkerd-retryable: true and x-linkerd-timeout: <duration> become isRetryable and timeout.
--proto reads a protobuf definition: one route per rpc, POST /<package>.<Service>/<Method>,
retryable when its idempotency_level is IDEMPOTENT or NO_SIDE_EFFECTS. "-" reads stdin.

Examples:
  mesh profile -n emojivoto web-svc --template > web-svc-profile.yaml
  mesh profile -n books books --open-api swagger.yaml | kubectl apply -f -
  mesh profile -n emojivoto emoji-svc --proto Emoji.proto | kubectl apply -f -`,
    )
    .option("--template", "output a ServiceProfile template to edit by hand", false)
    .option("--open-api <file>", "output a ServiceProfile with the routes of this OpenAPI (Swagger) document")
    .option("--proto <file>", "output a ServiceProfile with the routes of this protobuf service definition")
    .option("-n, --namespace <ns>", "namespace of the service (default: the kubeconfig context's, else default)")
    .option("--ignore-cluster", "do not read the cluster domain from the cluster (use cluster.local)", false)
    .action(async (args: string[], opts: TopProfileOptions, cmd: Command) => {
      const g = globals(cmd);
      const chosen = [opts.template, opts.openApi !== undefined, opts.proto !== undefined].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError("You must specify exactly one of --template or --open-api or --proto");
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const { service } = validateProfile(args, { template: true, tapDuration: 1, tapRouteLimit: 1 }, namespace);
      // Read the definition before contacting the cluster: a bad file fails fast and offline.
      const routes = opts.openApi !== undefined ? await routesFromOpenApi(await readSpec(opts.openApi, deps)) : opts.proto !== undefined ? await routesFromProto(await readSpec(opts.proto, deps)) : undefined;
      let clusterDomain = "cluster.local";
      if (!opts.ignoreCluster) {
        const { clusterApi } = await import("../kube/cluster.js");
        const cluster = clusterApi(await deps.cluster(g));
        try {
          await cluster.getConfigMap(g.linkerdNamespace, "linkerd-config").catch((e: unknown) => {
            throw new MeshError(`cannot read the cluster domain from linkerd-config: ${(e as Error).message}`, "pass --ignore-cluster to use cluster.local without contacting the cluster");
          });
          // A clusterDomain that is not a DNS name is refused there: it goes into the profile's name.
          clusterDomain = await clusterDomainOf(cluster, g.linkerdNamespace);
        } finally {
          cluster.close();
        }
      }
      deps.io.stdout.write(routes ? renderProfile(service, namespace, clusterDomain, routes) : renderProfileTemplate(service, namespace, clusterDomain));
    });
