import type { ProfileRoute } from "../viz/profile.js";

/** Go's regexp.QuoteMeta. */
const quoteMeta = (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");

/**
 * The routes of a ServiceProfile generated from a protobuf definition, as Linkerd does it: one per
 * rpc of every service, named after the rpc, matching `POST /<package>.<Service>/<Method>`
 * exactly; retryable when the rpc's `idempotency_level` option is IDEMPOTENT or NO_SIDE_EFFECTS.
 * Parsed with protobufjs; throws its reason (with the line) when the text is not valid protobuf.
 */
export async function protoRoutes(text: string): Promise<ProfileRoute[]> {
  const { default: protobuf } = await import("protobufjs");
  const { root } = protobuf.parse(text, { keepCase: true, alternateCommentMode: true });
  const routes: ProfileRoute[] = [];
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) {
        for (const method of child.methodsArray) {
          const path = `/${child.fullName.replace(/^\./, "")}/${method.name}`;
          const route: ProfileRoute = { name: method.name, condition: { method: "POST", pathRegex: quoteMeta(path) } };
          if (retryable(method.options)) route.isRetryable = true;
          routes.push(route);
        }
      }
      if (child instanceof protobuf.Namespace) visit(child);
    }
  };
  visit(root);
  return routes;
}

function retryable(options: Record<string, unknown> | undefined): boolean {
  for (const [name, value] of Object.entries(options ?? {}))
    if (name.replace(/[()]/g, "") === "idempotency_level") return value === "IDEMPOTENT" || value === "NO_SIDE_EFFECTS";
  return false;
}
