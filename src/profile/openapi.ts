import { posix } from "node:path";
import { sanitize } from "../output/sanitize.js";
import { pathToRegex, type ProfileRoute } from "../viz/profile.js";

/**
 * A document that parses but cannot be turned into routes: its message names what is wrong
 * (already printable), and is not a parser's reason.
 */
export class OpenApiInputError extends Error {}

/** C0/C1 controls (escape sequences start with one) and the invisible characters that reorder text. */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const kindOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "a map" : typeof v === "string" ? "a string" : `a ${typeof v}`);

/** The methods a ServiceProfile gets routes for, in Linkerd's order. */
const METHODS = ["delete", "get", "head", "options", "patch", "post", "put"] as const;

type Operation = { responses?: Record<string, unknown>; "x-linkerd-retryable"?: unknown; "x-linkerd-timeout"?: unknown };
type PathItem = Partial<Record<(typeof METHODS)[number], Operation>>;
type Document = { basePath?: string; servers?: { url?: string }[]; paths?: Record<string, PathItem> };

/** Go's `path.Join`: joined, cleaned, no trailing slash. */
function joinPath(base: string, rel: string): string {
  const joined = [base, rel].filter(Boolean).join("/");
  if (!joined) return "";
  const clean = posix.normalize(joined);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

/** The path prefix every route shares: Swagger 2's basePath, OpenAPI 3's first server URL's path. */
function basePathOf(doc: Document): string {
  if (typeof doc.basePath === "string") return doc.basePath;
  const url = doc.servers?.[0]?.url;
  if (typeof url !== "string") return "";
  if (url.startsWith("/")) return url;
  try {
    return decodeURI(new URL(url).pathname);
  } catch {
    return ""; // a URL with variables in its host: no path to take
  }
}

/** A class per documented status code, sorted; 5xx are failures (Linkerd's rule). */
function responseClasses(responses: Record<string, unknown> | undefined): ProfileRoute["responseClasses"] {
  const codes = Object.keys(responses ?? {})
    .filter((k) => /^\d+$/.test(k))
    .map(Number)
    .sort((a, b) => a - b);
  return codes.map((status) => ({ condition: { status: { min: status, max: status } }, isFailure: status >= 500 }));
}

/**
 * The routes of a ServiceProfile generated from an OpenAPI document (Swagger 2.0, as Linkerd reads
 * it, or OpenAPI 3.x): one per path and method, named `<METHOD> <path>`, matched by the method
 * and the path with `{parameters}` as `[^/]*`; `x-linkerd-retryable` and `x-linkerd-timeout`
 * on an operation set `isRetryable` and `timeout`. The document is checked by
 * @apidevtools/swagger-parser; throws its reason when it is not an OpenAPI document.
 */
export async function openApiRoutes(input: unknown): Promise<ProfileRoute[]> {
  // The parser takes a string as a path or URL to read: only a parsed document (a map) goes in.
  if (!isMap(input)) throw new OpenApiInputError(`the document is ${kindOf(input)}, not a map`);
  if (input.paths !== undefined && input.paths !== null && !isMap(input.paths)) throw new OpenApiInputError(`paths is ${kindOf(input.paths)}, not a map`);
  // CommonJS: bundled, a dynamic import gives `{ default: module.exports }`, the parser itself.
  const { default: SwaggerParser } = await import("@apidevtools/swagger-parser");
  // parse() checks the document's shape (swagger/openapi version, info, paths) without resolving
  // $refs over the network; a clone, because it annotates the object it is given.
  const doc = (await SwaggerParser.parse(structuredClone(input) as never)) as Document;
  const base = basePathOf(doc);
  const routes: ProfileRoute[] = [];
  const paths = Object.keys(doc.paths ?? {}).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const rel of paths) {
    const item = doc.paths![rel] ?? {};
    const path = joinPath(base, rel);
    // No request path holds a raw control character (it would be percent-encoded): such a key is
    // a mistake or an attack on whoever reads the profile in a terminal.
    if (CONTROLS.test(path)) throw new OpenApiInputError(`path "${sanitize(path, 200)}" holds control characters, which no request path can`);
    if (!isMap(item)) throw new OpenApiInputError(`path "${sanitize(path, 200)}" is ${kindOf(item)}, not a map`);
    for (const m of METHODS) {
      const op = item[m];
      if (op === undefined || op === null) continue;
      if (!isMap(op)) throw new OpenApiInputError(`${m} ${sanitize(path, 200)} is ${kindOf(op)}, not a map`);
      if (op.responses !== undefined && op.responses !== null && !isMap(op.responses)) throw new OpenApiInputError(`the responses of ${m} ${sanitize(path, 200)} are ${kindOf(op.responses)}, not a map`);
      const timeout = op["x-linkerd-timeout"];
      if (typeof timeout === "string" && CONTROLS.test(timeout)) throw new OpenApiInputError(`the x-linkerd-timeout of ${m} ${sanitize(path, 200)} holds control characters`);
      const method = m.toUpperCase();
      const route: ProfileRoute = { name: `${method} ${path}`, condition: { method, pathRegex: pathToRegex(path) }, responseClasses: responseClasses(op.responses) };
      if (op["x-linkerd-retryable"] === true) route.isRetryable = true;
      if (typeof op["x-linkerd-timeout"] === "string" && op["x-linkerd-timeout"]) route.timeout = op["x-linkerd-timeout"];
      routes.push(route);
    }
  }
  return routes;
}
