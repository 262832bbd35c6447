import { isIP } from "node:net";
import type { KubeObject } from "../kube/types.js";
import { CREATED_BY } from "../version.js";

/**
 * `viz allow-scrapes`: the policy objects that let the proxies' admin endpoint (port
 * `linkerd-admin`, 4191) be read in a namespace whose default inbound policy is `deny` or
 * authenticated-only (spec C1, D1). One Server covers the admin port of every meshed pod, with
 * routes for `/metrics` and for the kubelet's probe paths (a Server on the port replaces the
 * default policy's generated probe routes, so the probes need their own authorization).
 *
 * Who must be admitted to `/metrics` depends on the scraper:
 *  - mesh reads `/metrics` through the API server's pod proxy: those requests come from the API
 *    server's address, from outside the mesh and without mTLS, so only an unauthenticated
 *    NetworkAuthentication of the API server's source networks can admit them;
 *  - Linkerd-viz's Prometheus is meshed: it is admitted by its mTLS identity (its ServiceAccount),
 *    through a MeshTLSAuthentication.
 */

export type Scraper = "mesh" | "prometheus";

export interface AllowScrapesOptions {
  namespace: string;
  scrapers: Scraper[];
  /** Networks the API server's pod-proxy requests come from (mesh's scrapes). */
  apiServerCidrs: string[];
  /** The Prometheus service account, for `prometheus`. */
  prometheus: { namespace: string; name: string };
}

/** Every network: the default for the API server (its source addresses cannot be discovered portably) and for the kubelet. */
export const ALL_NETWORKS = ["0.0.0.0/0", "::/0"];

const LABELS = { "app.kubernetes.io/part-of": "mesh", "linkerd.io/extension": "viz" };
const POLICY = "policy.linkerd.io";

/** Whether `s` is an IPv4 or IPv6 CIDR (an address with a prefix length in range), or a bare address. */
export function isCidr(s: string): boolean {
  const [addr, bits, extra] = s.split("/");
  if (extra !== undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function meta(name: string, namespace: string) {
  return { name, namespace, labels: { ...LABELS }, annotations: { "linkerd.io/created-by": CREATED_BY } };
}

const route = (name: string, namespace: string, paths: string[]): KubeObject =>
  ({
    apiVersion: `${POLICY}/v1beta3`,
    kind: "HTTPRoute",
    metadata: meta(name, namespace),
    spec: {
      parentRefs: [{ group: POLICY, kind: "Server", name: "proxy-admin" }],
      rules: [{ matches: paths.map((value) => ({ path: { type: "Exact", value } })) }],
    },
  }) as KubeObject;

const policy = (name: string, namespace: string, routeName: string, authn: { kind: string; name: string }): KubeObject =>
  ({
    apiVersion: `${POLICY}/v1alpha1`,
    kind: "AuthorizationPolicy",
    metadata: meta(name, namespace),
    spec: {
      targetRef: { group: POLICY, kind: "HTTPRoute", name: routeName },
      requiredAuthenticationRefs: [{ group: POLICY, kind: authn.kind, name: authn.name }],
    },
  }) as KubeObject;

/** The objects, in apply order (a policy after what it refers to). */
export function renderAllowScrapes(o: AllowScrapesOptions): KubeObject[] {
  const ns = o.namespace;
  const out: KubeObject[] = [
    {
      apiVersion: `${POLICY}/v1beta1`,
      kind: "Server",
      metadata: meta("proxy-admin", ns),
      spec: {
        podSelector: { matchExpressions: [{ key: "linkerd.io/control-plane-ns", operator: "Exists" }] },
        port: "linkerd-admin",
        proxyProtocol: "HTTP/1",
      },
    } as KubeObject,
    route("proxy-metrics", ns, ["/metrics"]),
    route("proxy-probes", ns, ["/live", "/ready"]),
  ];
  if (o.scrapers.includes("mesh")) {
    out.push(
      { apiVersion: `${POLICY}/v1alpha1`, kind: "NetworkAuthentication", metadata: meta("kube-api-server", ns), spec: { networks: o.apiServerCidrs.map((cidr) => ({ cidr })) } } as KubeObject,
      policy("mesh-scrape", ns, "proxy-metrics", { kind: "NetworkAuthentication", name: "kube-api-server" }),
    );
  }
  if (o.scrapers.includes("prometheus")) {
    out.push(
      { apiVersion: `${POLICY}/v1alpha1`, kind: "MeshTLSAuthentication", metadata: meta("prometheus", ns), spec: { identityRefs: [{ kind: "ServiceAccount", name: o.prometheus.name, namespace: o.prometheus.namespace }] } } as KubeObject,
      policy("prometheus-scrape", ns, "proxy-metrics", { kind: "MeshTLSAuthentication", name: "prometheus" }),
    );
  }
  out.push(
    { apiVersion: `${POLICY}/v1alpha1`, kind: "NetworkAuthentication", metadata: meta("kubelet", ns), spec: { networks: ALL_NETWORKS.map((cidr) => ({ cidr })) } } as KubeObject,
    policy("proxy-probes", ns, "proxy-probes", { kind: "NetworkAuthentication", name: "kubelet" }),
  );
  return out;
}
