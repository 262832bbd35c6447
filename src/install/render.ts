/**
 * What `mesh install` renders, in which order, and when: typed lists of template files (under
 * templates/) with predicates, resolved by the engine in template.ts. Templates hold no logic;
 * every condition lives here or in context.ts.
 */
import { MeshError } from "../errors.js";
import { documentId, loadTemplate, resolveDocument } from "./template.js";
import { sha256, truthy } from "./context.js";
import { toYaml } from "./emit.js";
import type { Tree, Values } from "./values.js";

/** The context every template sees: `values`, `release`, and computed entries. */
export type RenderContext = Tree & { values: Values; release: { namespace: string }; checksums?: Tree };

type When = (ctx: RenderContext) => boolean;

export interface RenderItem {
  /** Path under templates/. */
  file: string;
  /** Renders the whole file only when true. */
  when?: When;
  /** Per-document conditions, by the document's `Kind/metadata.name` as written in the template. */
  documents?: Record<string, When>;
  /** Stores the SHA-256 of the file's rendered documents at `checksums.<name>` for later files. */
  checksum?: string;
}

const v = (ctx: RenderContext) => ctx.values;

/** The CRDs of `install --crds`, in Linkerd's order. */
export const CRDS: RenderItem[] = [
  { file: "crds/01-authorizationpolicies.policy.linkerd.io.yaml" },
  { file: "crds/02-httproutes.policy.linkerd.io.yaml" },
  { file: "crds/03-meshtlsauthentications.policy.linkerd.io.yaml" },
  { file: "crds/04-networkauthentications.policy.linkerd.io.yaml" },
  { file: "crds/05-serverauthorizations.policy.linkerd.io.yaml" },
  { file: "crds/06-servers.policy.linkerd.io.yaml" },
  { file: "crds/07-serviceprofiles.linkerd.io.yaml" },
  { file: "crds/08-httproutes.gateway.networking.k8s.io.yaml", when: (c) => truthy(v(c).enableHttpRoutes) },
];

const webhookSecret = (key: "proxyInjector" | "profileValidator" | "policyValidator"): When => (c) => !truthy(v(c)[key].externalSecret);
const pdb: When = (c) => truthy(v(c).enablePodDisruptionBudget);
const podMonitor = (key: "controller" | "serviceMirror" | "proxy"): When => (c) => truthy(v(c).podMonitor?.enabled) && truthy(v(c).podMonitor?.[key]?.enabled);

/** The control plane of `install`, in Linkerd's order (spec §2.5). */
export const CONTROL_PLANE: RenderItem[] = [
  { file: "control-plane/namespace.yaml" },
  { file: "control-plane/identity-rbac.yaml" },
  {
    file: "control-plane/destination-rbac.yaml",
    checksum: "destinationRbac",
    documents: {
      "Secret/linkerd-sp-validator-k8s-tls": webhookSecret("profileValidator"),
      "Secret/linkerd-policy-validator-k8s-tls": webhookSecret("policyValidator"),
    },
  },
  { file: "control-plane/heartbeat-rbac.yaml", when: (c) => !truthy(v(c).disableHeartBeat) },
  {
    file: "control-plane/podmonitor.yaml",
    documents: {
      "PodMonitor/linkerd-controller": podMonitor("controller"),
      "PodMonitor/linkerd-service-mirror": podMonitor("serviceMirror"),
      "PodMonitor/linkerd-proxy": podMonitor("proxy"),
    },
  },
  {
    file: "control-plane/proxy-injector-rbac.yaml",
    checksum: "proxyInjectorRbac",
    documents: { "Secret/linkerd-proxy-injector-k8s-tls": webhookSecret("proxyInjector") },
  },
  { file: "control-plane/psp.yaml", when: (c) => truthy(v(c).enablePSP) },
  { file: "control-plane/config.yaml" },
  { file: "control-plane/config-rbac.yaml" },
  {
    file: "control-plane/identity.yaml",
    documents: {
      "Secret/linkerd-identity-issuer": (c) => v(c).identity?.issuer?.scheme === "linkerd.io/tls",
      "ConfigMap/linkerd-identity-trust-roots": (c) => !truthy(v(c).identity?.externalCA),
      "PodDisruptionBudget/linkerd-identity": pdb,
    },
  },
  { file: "control-plane/destination.yaml", documents: { "PodDisruptionBudget/linkerd-dst": pdb } },
  { file: "control-plane/heartbeat.yaml", when: (c) => !truthy(v(c).disableHeartBeat) },
  { file: "control-plane/proxy-injector.yaml", documents: { "PodDisruptionBudget/linkerd-proxy-injector": pdb } },
];

/** Renders a list of templates into Kubernetes objects, in order. */
export function renderItems(items: RenderItem[], ctx: RenderContext): Tree[] {
  const out: Tree[] = [];
  for (const item of items) {
    if (item.when && !item.when(ctx)) continue;
    const t = loadTemplate(item.file);
    const ids = t.docs.map((_, i) => documentId(t, i));
    for (const id of Object.keys(item.documents ?? {}))
      if (ids.filter((x) => x === id).length !== 1) throw new MeshError(`render list: ${item.file} has no single document ${id}`);
    const rendered: Tree[] = [];
    t.docs.forEach((_, i) => {
      const when = item.documents?.[ids[i]];
      if (when && !when(ctx)) return;
      rendered.push(resolveDocument(t, i, ctx));
    });
    if (item.checksum) (ctx.checksums ??= {})[item.checksum] = sha256(JSON.stringify(rendered));
    out.push(...rendered);
  }
  return out;
}

export type OutputFormat = "yaml" | "json";

/**
 * Serialises objects: YAML documents each preceded by `---` (strings that YAML 1.1 readers such
 * as kubectl would mistype are quoted), or one JSON `v1/List`.
 */
export function formatObjects(objects: Tree[], format: OutputFormat): string {
  if (format === "json") return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
  return objects.map((o) => `---\n${toYaml(o)}`).join("");
}
