/**
 * The catalogue of `mesh analyze` findings: one stable code per mistake, its default severity and
 * a title (the README's table, SARIF's rules and the tests read it from here). Codes never change
 * meaning: 1xx routing, 2xx policy, 3xx injection and annotations, 4xx control plane.
 */
import type { Severity } from "./model.js";

export interface Message {
  code: string;
  severity: Severity;
  /** What is wrong, in general terms (SARIF's rule description). */
  title: string;
}

const m = (code: string, severity: Severity, title: string): Message => ({ code, severity, title });

export const MESSAGES = {
  spWrongNamespace: m("MESH101", "error", "ServiceProfile is not in the namespace of the service it names"),
  spNoService: m("MESH102", "error", "ServiceProfile names a service that does not exist"),
  spBadName: m("MESH103", "warning", "ServiceProfile name is not a service FQDN in the cluster domain"),
  spBadRegex: m("MESH104", "error", "ServiceProfile route pathRegex is not valid RE2"),
  spRetryNonIdempotent: m("MESH105", "warning", "ServiceProfile route retries a non-idempotent method"),
  spNoRetryBudget: m("MESH106", "info", "ServiceProfile has retryable routes but no retryBudget"),
  spDuplicateRoute: m("MESH107", "error", "ServiceProfile has two routes with the same name"),
  spTimeoutOverridden: m("MESH108", "warning", "ServiceProfile route timeout exceeds a timeout set on the same traffic elsewhere"),
  routeParentMissing: m("MESH111", "error", "HTTPRoute parent Service does not exist"),
  routeParentPort: m("MESH112", "error", "HTTPRoute parent port is not a port of the Service"),
  routeBackendMissing: m("MESH113", "error", "HTTPRoute backend Service does not exist"),
  routeBackendPort: m("MESH114", "error", "HTTPRoute backend port is not a port of the Service"),
  routeZeroWeights: m("MESH115", "error", "HTTPRoute rule has backends whose weights are all zero"),
  routeHostnames: m("MESH116", "warning", "HTTPRoute hostnames are ignored on a Service parent"),
  routeDuplicateMatch: m("MESH117", "warning", "two HTTPRoutes have identical matches on the same parent"),
  serverNoPods: m("MESH201", "warning", "Server podSelector selects no pod"),
  serverPortUnknown: m("MESH202", "error", "Server port is not declared by any selected container"),
  serverConflict: m("MESH203", "error", "two Servers select the same pod and port"),
  serverOpaqueNotMarked: m("MESH204", "warning", "Server says opaque for a port the workload does not mark opaque"),
  serverMarkedNotOpaque: m("MESH205", "warning", "workload marks a port opaque but its Server gives another protocol"),
  authzTargetMissing: m("MESH211", "error", "authorization or route targets a resource that does not exist"),
  authnMissing: m("MESH212", "error", "AuthorizationPolicy requires an authentication that does not exist"),
  authzUnknownAccount: m("MESH213", "warning", "service account referenced by a policy does not exist"),
  authzForeignIdentity: m("MESH214", "warning", "identity is outside the mesh's trust domain"),
  authzBadCidr: m("MESH215", "error", "network is not a valid CIDR"),
  authzOverlappingCidr: m("MESH216", "warning", "networks overlap"),
  serverDenyNoAuthz: m("MESH217", "warning", "Server under a deny default policy has no authorization"),
  annotationUnknown: m("MESH301", "warning", "unknown Linkerd annotation"),
  annotationInvalid: m("MESH302", "error", "Linkerd annotation has an invalid value"),
  injectRefused: m("MESH303", "error", "linkerd.io/inject: enabled on a pod that injection refuses"),
  injectUdpOnly: m("MESH304", "warning", "meshed pod serves only UDP, which the proxy does not handle"),
  injectUnsupportedKind: m("MESH305", "warning", "linkerd.io/inject on a kind that Linkerd does not inject"),
  opaqueServiceOnly: m("MESH306", "warning", "Service marks ports opaque that its pods do not"),
  jobNoShutdown: m("MESH307", "warning", "meshed Job never completes: its command does not stop the proxy"),
  trustAnchorExpiring: m("MESH401", "warning", "trust anchor expires within 60 days"),
  issuerExpiring: m("MESH402", "warning", "identity issuer certificate expires within 60 days"),
  staleProxies: m("MESH403", "warning", "proxies are older than the control plane"),
  controlPlaneUnreadable: m("MESH404", "warning", "the control plane's configuration could not be read"),
} as const satisfies Record<string, Message>;

export type MessageId = keyof typeof MESSAGES;

export const BY_CODE: ReadonlyMap<string, Message> = new Map(Object.values(MESSAGES).map((x) => [x.code, x]));
