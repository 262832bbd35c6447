/**
 * The analyze corpus: for each case file, the findings it must produce. A finding's line is the
 * line of the fixture marked `#! <tag>`, found in the fixture's text (not in mesh's output).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const casePath = (name: string) => join("test", "fixtures", "analyze", "cases", name);

export interface Expected {
  tag: string;
  code: string;
  object: string;
  /** A fragment the message must contain. */
  says: string;
}

export const CASES: Record<string, Expected[]> = {
  "service-profile.yaml": [
    { tag: "wrong-namespace", code: "MESH101", object: "ServiceProfile/frontend/books.shop.svc.cluster.local", says: 'is in namespace "frontend", so it applies only to clients in "frontend"' },
    { tag: "no-service", code: "MESH102", object: "ServiceProfile/shop/authors.shop.svc.cluster.local", says: "names service shop/authors, which does not exist" },
    { tag: "short-name", code: "MESH103", object: "ServiceProfile/shop/books", says: 'name "books" is not a fully qualified service name' },
    { tag: "other-domain", code: "MESH103", object: "ServiceProfile/shop/books.shop.svc.cluster.example", says: 'is not in the cluster domain "cluster.local"' },
    { tag: "bad-regex", code: "MESH104", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: "is not a valid RE2 expression (missing closing )" },
    { tag: "lookahead", code: "MESH104", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: "(?=lookahead)\" is not a valid RE2 expression" },
    { tag: "retry-post", code: "MESH105", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: 'route "POST /books" retries POST requests' },
    { tag: "no-budget", code: "MESH106", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: "sets no retryBudget" },
    { tag: "duplicate", code: "MESH107", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: 'route "GET /books/{id}" is defined twice (routes 1 and 3)' },
    { tag: "timeout", code: "MESH108", object: "ServiceProfile/shop/books.shop.svc.cluster.local", says: "has timeout 30s, but HTTPRoute shop/books-timeout on the same service times requests out after 10s" },
  ],
  "http-route.yaml": [
    { tag: "parent-missing", code: "MESH111", object: "HTTPRoute/shop/to-checkout", says: "parent Service shop/checkout does not exist" },
    { tag: "parent-port", code: "MESH112", object: "HTTPRoute/shop/cart-split", says: "parent Service shop/cart has no port 8080 (it has 80)" },
    { tag: "hostnames", code: "MESH116", object: "HTTPRoute/shop/cart-split", says: "hostnames are ignored when the parent is a Service" },
    { tag: "backend-missing", code: "MESH113", object: "HTTPRoute/shop/cart-split", says: "backend Service shop/cart-v3 does not exist" },
    { tag: "backend-port", code: "MESH114", object: "HTTPRoute/shop/cart-split", says: "backend Service shop/cart-v2 has no port 8080 (it has 80)" },
    { tag: "zero-weights", code: "MESH115", object: "HTTPRoute/shop/cart-split", says: "rule 2 has 2 backends, all with weight 0" },
    { tag: "duplicate-match", code: "MESH117", object: "HTTPRoute/shop/cart-b", says: "HTTPRoute shop/cart-a has an identical match on parent Service cart" },
  ],
  "server.yaml": [
    { tag: "no-pods", code: "MESH201", object: "Server/shop/orphan", says: "podSelector selects no pod template" },
    { tag: "named-port", code: "MESH202", object: "Server/shop/api-grpc", says: 'port "grpc" is not the name of a port of any selected container (deployment/api)' },
    { tag: "conflict", code: "MESH203", object: "Server/shop/api-http-copy", says: "selects port 8080 of deployment/api, which Server shop/api-http also selects" },
    { tag: "opaque-unmarked", code: "MESH204", object: "Server/shop/api-cache", says: "does not list port 6379 in config.linkerd.io/opaque-ports" },
    { tag: "marked-not-opaque", code: "MESH205", object: "Server/shop/api-db", says: 'marks port 5432 opaque, but this Server gives it protocol "HTTP/1"' },
    { tag: "no-authz", code: "MESH217", object: "Server/shop/api-db", says: "no ServerAuthorization or AuthorizationPolicy admits traffic to this Server" },
  ],
  "authorization.yaml": [
    { tag: "saz-target", code: "MESH211", object: "ServerAuthorization/shop/api-renamed", says: "Server shop/api-web does not exist" },
    { tag: "saz-account", code: "MESH213", object: "ServerAuthorization/shop/api-renamed", says: "service account shop/webb does not exist" },
    { tag: "foreign-identity", code: "MESH214", object: "ServerAuthorization/shop/api-renamed", says: 'is not in this mesh\'s trust domain "identity.linkerd.cluster.local"' },
    { tag: "bad-cidr", code: "MESH215", object: "ServerAuthorization/shop/api-renamed", says: '"10.0.0.0/33" is not a valid CIDR' },
    { tag: "overlap", code: "MESH216", object: "ServerAuthorization/shop/api-renamed", says: 'network "10.1.0.0/16" overlaps network "10.0.0.0/8"' },
    { tag: "ap-server", code: "MESH211", object: "AuthorizationPolicy/shop/to-old-server", says: "Server shop/api does not exist" },
    { tag: "authn-missing", code: "MESH212", object: "AuthorizationPolicy/shop/to-old-server", says: "MeshTLSAuthentication shop/web-identity does not exist" },
    { tag: "ap-route", code: "MESH211", object: "AuthorizationPolicy/shop/to-old-route", says: "HTTPRoute shop/api-admin (policy.linkerd.io) does not exist" },
    { tag: "ap-namespace", code: "MESH211", object: "AuthorizationPolicy/shop/other-namespace", says: 'targets namespace "billing", but a policy can target only its own namespace' },
    { tag: "mtls-account", code: "MESH213", object: "MeshTLSAuthentication/shop/web-mtls", says: "service account shop/wbe does not exist" },
    { tag: "except-outside", code: "MESH216", object: "NetworkAuthentication/shop/nets", says: 'except "10.0.0.0/24" is not inside "192.168.0.0/16"' },
    { tag: "net-overlap", code: "MESH216", object: "NetworkAuthentication/shop/nets", says: 'network "192.168.1.0/24" overlaps network "192.168.0.0/16"' },
    { tag: "net-bad", code: "MESH215", object: "NetworkAuthentication/shop/nets", says: '"not-a-network" is not a valid CIDR' },
  ],
  "annotations.yaml": [
    { tag: "inject-on-workload", code: "MESH305", object: "Deployment/shop/worker", says: "linkerd.io/inject on a Deployment's own metadata is ignored" },
    { tag: "typo", code: "MESH301", object: "Deployment/shop/worker", says: '"config.linkerd.io/proxy-cpu-limt" is not an annotation Linkerd reads' },
    { tag: "quantity", code: "MESH302", object: "Deployment/shop/worker", says: 'config.linkerd.io/proxy-memory-limit: value "1 GB" must be a Kubernetes quantity' },
    { tag: "log-level", code: "MESH302", object: "Deployment/shop/worker", says: 'config.linkerd.io/proxy-log-level: value "verbose" is invalid' },
    { tag: "port", code: "MESH302", object: "Deployment/shop/worker", says: 'config.linkerd.io/admin-port: value "70000" must be a port number' },
    { tag: "port-range", code: "MESH302", object: "Deployment/shop/worker", says: '("3306-3300" is not a port or port range' },
    { tag: "duration", code: "MESH302", object: "Deployment/shop/worker", says: 'value "5 seconds" must be a duration' },
    { tag: "policy", code: "MESH302", object: "Deployment/shop/worker", says: 'config.linkerd.io/default-inbound-policy: value "allow-all" must be one of all-unauthenticated' },
    { tag: "host-network", code: "MESH303", object: "DaemonSet/shop/node-agent", says: "the injector refuses this pod: hostNetwork is enabled" },
    { tag: "udp-only", code: "MESH304", object: "Deployment/shop/dns", says: "every port of the pod is UDP (53)" },
    { tag: "service-opaque", code: "MESH306", object: "Service/shop/db", says: "port 5432 is opaque on the Service, but deployment/db does not mark its target port 5432 opaque" },
    { tag: "job", code: "MESH307", object: "CronJob/shop/report", says: "does not stop the proxy, so the pod keeps running and the CronJob never completes" },
  ],
};

/** 1-based line of the line marked `#! tag` in a fixture. */
export function markedLine(file: string, tag: string): number {
  const lines = readFileSync(file, "utf8").split("\n");
  const i = lines.findIndex((l) => new RegExp(`#! ${tag}\\s*$`).test(l));
  if (i < 0) throw new Error(`${file} has no line marked #! ${tag}`);
  return i + 1;
}
