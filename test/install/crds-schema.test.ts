// Pins the facts of the CRD templates (spec §1.2–§1.11, checklist §6 items 1–4)
// that Linkerd's controllers and `linkerd check` rely on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "yaml";

const CRD_DIR = new URL("../../templates/crds/", import.meta.url);

interface Schema {
  type?: string;
  format?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  [key: string]: unknown;
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  additionalPrinterColumns?: PrinterColumn[];
  subresources?: { status?: Record<string, never> };
  schema: { openAPIV3Schema: Schema };
}

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, string>; labels: Record<string, string> };
  spec: {
    group: string;
    scope: string;
    preserveUnknownFields?: boolean;
    names: {
      kind: string;
      listKind?: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: CrdVersion[];
  };
}

interface Template {
  file: string;
  text: string;
  crd: Crd;
}

function loadTemplates(): Template[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const text = readFileSync(new URL(file, CRD_DIR), "utf8");
      return { file, text, crd: parse(text) as Crd };
    });
}

const templates = loadTemplates();
const byName = new Map(templates.map((t) => [t.crd.metadata.name, t.crd]));

function crd(name: string): Crd {
  const c = byName.get(name);
  assert.ok(c, `no template for ${name}`);
  return c;
}

function version(c: Crd, name: string): CrdVersion {
  const v = c.spec.versions.find((x) => x.name === name);
  assert.ok(v, `${c.metadata.name} has no version ${name}`);
  return v;
}

/**
 * Walks a schema by a dotted path: `a.b` steps into `properties`, a trailing
 * `[]` steps into `items`. `at(root, "spec.rules[].matches[]")`.
 */
function at(root: Schema, path: string): Schema {
  let node = root;
  for (const part of path.split(".")) {
    const name = part.replace(/(\[\])+$/, "");
    const props = node.properties;
    assert.ok(props && name in props, `no property ${name} (path ${path})`);
    node = props[name];
    for (let i = 0; i < (part.length - name.length) / 2; i++) {
      assert.ok(node.items, `${name} has no items (path ${path})`);
      node = node.items;
    }
  }
  return node;
}

function schemaOf(crdName: string, versionName: string): Schema {
  return version(crd(crdName), versionName).schema.openAPIV3Schema;
}

/** Every schema node, with a readable path, including oneOf/anyOf branches. */
function* nodes(node: Schema, path: string): Generator<[string, Schema]> {
  yield [path, node];
  for (const [k, v] of Object.entries(node.properties ?? {})) yield* nodes(v, `${path}.${k}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  for (const key of ["oneOf", "anyOf"] as const) {
    for (const [i, branch] of (node[key] ?? []).entries()) yield* nodes(branch, `${path}.${key}[${i}]`);
  }
}

function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => !(k === "description" && typeof v === "string"))
        .map(([k, v]) => [k, withoutDescriptions(v)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------
// §1.1 / §1.2: one CRD per file, in Linkerd's emit order

const EMIT_ORDER = [
  "authorizationpolicies.policy.linkerd.io",
  "httproutes.policy.linkerd.io",
  "meshtlsauthentications.policy.linkerd.io",
  "networkauthentications.policy.linkerd.io",
  "serverauthorizations.policy.linkerd.io",
  "servers.policy.linkerd.io",
  "serviceprofiles.linkerd.io",
  "httproutes.gateway.networking.k8s.io",
];

test("templates sort in Linkerd's CRD emit order, one CRD per file", () => {
  assert.deepEqual(
    templates.map((t) => t.crd.metadata.name),
    EMIT_ORDER,
  );
  for (const t of templates) {
    assert.match(t.file, new RegExp(`^\\d\\d-${t.crd.metadata.name.replaceAll(".", "\\.")}\\.yaml$`));
  }
});

interface VersionFacts {
  name: string;
  served: boolean;
  storage: boolean;
  deprecationWarning?: string;
  columns?: Array<[name: string, type: string, jsonPath: string]>;
  statusSubresource?: boolean;
}

interface CrdFacts {
  name: string;
  group: string;
  kind: string;
  listKind?: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  rootRequired?: string[];
  versions: VersionFacts[];
}

const routeColumns: VersionFacts["columns"] = [
  ["Hostnames", "string", ".spec.hostnames"],
  ["Age", "date", ".metadata.creationTimestamp"],
];

const CRDS: CrdFacts[] = [
  {
    name: "authorizationpolicies.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "AuthorizationPolicy",
    plural: "authorizationpolicies",
    singular: "authorizationpolicy",
    shortNames: ["authzpolicy"],
    rootRequired: ["spec"],
    versions: [{ name: "v1alpha1", served: true, storage: true }],
  },
  {
    name: "httproutes.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "HTTPRoute",
    listKind: "HTTPRouteList",
    plural: "httproutes",
    singular: "httproute",
    rootRequired: ["spec"],
    versions: ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"].map((name) => ({
      name,
      served: true,
      storage: name === "v1beta3",
      columns: routeColumns,
      statusSubresource: true,
    })),
  },
  {
    name: "meshtlsauthentications.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "MeshTLSAuthentication",
    plural: "meshtlsauthentications",
    singular: "meshtlsauthentication",
    shortNames: ["meshtlsauthn"],
    rootRequired: ["spec"],
    versions: [{ name: "v1alpha1", served: true, storage: true }],
  },
  {
    name: "networkauthentications.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "NetworkAuthentication",
    plural: "networkauthentications",
    singular: "networkauthentication",
    shortNames: ["netauthn", "networkauthn"],
    rootRequired: ["spec"],
    versions: [{ name: "v1alpha1", served: true, storage: true }],
  },
  {
    name: "serverauthorizations.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "ServerAuthorization",
    plural: "serverauthorizations",
    singular: "serverauthorization",
    shortNames: ["saz", "serverauthz", "srvauthz"],
    rootRequired: ["spec"],
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: false,
        deprecationWarning:
          "policy.linkerd.io/v1alpha1 ServerAuthorization is deprecated; use policy.linkerd.io/v1beta1 ServerAuthorization",
      },
      { name: "v1beta1", served: true, storage: true, columns: [["Server", "string", ".spec.server.name"]] },
    ],
  },
  {
    name: "servers.policy.linkerd.io",
    group: "policy.linkerd.io",
    kind: "Server",
    plural: "servers",
    singular: "server",
    shortNames: ["srv"],
    rootRequired: ["spec"],
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: false,
        deprecationWarning: "policy.linkerd.io/v1alpha1 Server is deprecated; use policy.linkerd.io/v1beta1 Server",
      },
      {
        name: "v1beta1",
        served: true,
        storage: true,
        columns: [
          ["Port", "string", ".spec.port"],
          ["Protocol", "string", ".spec.proxyProtocol"],
        ],
      },
    ],
  },
  {
    name: "serviceprofiles.linkerd.io",
    group: "linkerd.io",
    kind: "ServiceProfile",
    plural: "serviceprofiles",
    singular: "serviceprofile",
    shortNames: ["sp"],
    versions: [
      { name: "v1alpha1", served: true, storage: false },
      { name: "v1alpha2", served: true, storage: true },
    ],
  },
  {
    name: "httproutes.gateway.networking.k8s.io",
    group: "gateway.networking.k8s.io",
    kind: "HTTPRoute",
    listKind: "HTTPRouteList",
    plural: "httproutes",
    singular: "httproute",
    categories: ["gateway-api"],
    rootRequired: ["spec"],
    versions: [
      {
        name: "v1alpha2",
        served: false,
        storage: false,
        // Upstream Gateway API text; v1alpha2 is not served, so it is never shown.
        deprecationWarning:
          "The v1alpha2 version of HTTPRoute has been deprecated and will be removed in a future release of the API. Please upgrade to v1beta1.",
        columns: routeColumns,
        statusSubresource: true,
      },
      { name: "v1beta1", served: true, storage: true, columns: routeColumns, statusSubresource: true },
    ],
  },
];

for (const facts of CRDS) {
  test(`${facts.name}: envelope, names and scope`, () => {
    const c = crd(facts.name);
    assert.equal(c.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(c.kind, "CustomResourceDefinition");
    assert.equal(c.metadata.name, `${facts.plural}.${facts.group}`);
    assert.equal(c.metadata.annotations["linkerd.io/created-by"], "${values.cliVersion}");
    assert.deepEqual(c.metadata.labels, {
      "helm.sh/chart": "linkerd-crds-1.8.0",
      "linkerd.io/control-plane-ns": "${release.namespace}",
    });
    assert.equal(c.spec.group, facts.group);
    assert.equal(c.spec.scope, "Namespaced");
    assert.deepEqual(c.spec.names, {
      kind: facts.kind,
      plural: facts.plural,
      singular: facts.singular,
      ...(facts.listKind ? { listKind: facts.listKind } : {}),
      ...(facts.shortNames ? { shortNames: facts.shortNames } : {}),
      ...(facts.categories ? { categories: facts.categories } : {}),
    });
  });

  test(`${facts.name}: versions, flags and printer columns`, () => {
    const c = crd(facts.name);
    assert.deepEqual(
      c.spec.versions.map((v) => v.name),
      facts.versions.map((v) => v.name),
      "same versions in the same order (linkerd check looks at the last one)",
    );
    assert.equal(c.spec.versions.filter((v) => v.storage).length, 1, "exactly one storage version");
    for (const want of facts.versions) {
      const v = version(c, want.name);
      assert.equal(v.served, want.served, `${want.name} served`);
      assert.equal(v.storage, want.storage, `${want.name} storage`);
      assert.equal(v.deprecated, want.deprecationWarning ? true : undefined, `${want.name} deprecated`);
      assert.equal(v.deprecationWarning, want.deprecationWarning, `${want.name} deprecationWarning`);
      assert.deepEqual(
        v.additionalPrinterColumns?.map((col) => [col.name, col.type, col.jsonPath]),
        want.columns,
        `${want.name} printer columns`,
      );
      assert.deepEqual(v.subresources, want.statusSubresource ? { status: {} } : undefined, `${want.name} subresources`);
      const root = v.schema.openAPIV3Schema;
      assert.equal(root.type, "object", `${want.name} root type`);
      assert.deepEqual(root.required, facts.rootRequired, `${want.name} root required`);
    }
  });

  test(`${facts.name}: every node with properties is an object`, () => {
    for (const v of crd(facts.name).spec.versions) {
      for (const [path, node] of nodes(v.schema.openAPIV3Schema, v.name)) {
        if (node.properties) assert.equal(node.type, "object", `${path} has properties but type ${String(node.type)}`);
      }
    }
  });

  test(`${facts.name}: every pattern compiles as a JavaScript regex`, () => {
    for (const v of crd(facts.name).spec.versions) {
      for (const [path, node] of nodes(v.schema.openAPIV3Schema, v.name)) {
        if (node.pattern === undefined) continue;
        assert.equal(typeof node.pattern, "string", path);
        assert.doesNotThrow(() => new RegExp(node.pattern as string), `${path}: ${node.pattern}`);
        assert.doesNotThrow(() => new RegExp(node.pattern as string, "u"), `${path} (u flag): ${node.pattern}`);
      }
    }
  });

  test(`${facts.name}: no CEL rules`, () => {
    const text = templates.find((t) => t.crd.metadata.name === facts.name)?.text ?? "";
    assert.doesNotMatch(text, /x-kubernetes-validations/);
  });
}

test("the only placeholders are created-by and the namespace label", () => {
  for (const t of templates) {
    const found = [...t.text.matchAll(/\$\{[^}]*\}/g)].map((m) => m[0]);
    assert.deepEqual(found, ["${values.cliVersion}", "${release.namespace}"], t.file);
    assert.equal(t.text.split("${").length - 1, 2, `${t.file}: stray "\${"`);
  }
});

test("CRD check versions: the last version listed per CRD", () => {
  assert.deepEqual(
    templates.map((t) => t.crd.spec.versions.at(-1)?.name),
    ["v1alpha1", "v1beta3", "v1alpha1", "v1alpha1", "v1beta1", "v1beta1", "v1alpha2", "v1beta1"],
  );
});

// ---------------------------------------------------------------------------
// Shared patterns behave as intended

test("shared patterns accept and reject the expected values", () => {
  const all = templates.flatMap((t) =>
    t.crd.spec.versions.flatMap((v) => [...nodes(v.schema.openAPIV3Schema, v.name)].map(([, n]) => n.pattern)),
  );
  const patterns = new Set(all.filter((p): p is string => typeof p === "string"));
  const find = (probe: string): RegExp => {
    const p = [...patterns].find((x) => x === probe);
    assert.ok(p, `pattern not used anywhere: ${probe}`);
    return new RegExp(p);
  };
  const dnsLabel = find("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  assert.ok(dnsLabel.test("web-1") && !dnsLabel.test("Web") && !dnsLabel.test("a.b"));
  const group = find("^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  assert.ok(group.test("") && group.test("policy.linkerd.io") && !group.test("Policy"));
  const identity = find("^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  assert.ok(identity.test("*.emojivoto.serviceaccount.identity.linkerd.cluster.local") && !identity.test("a..b"));
  const hostname = find("^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  assert.ok(hostname.test("*.example.com") && !hostname.test("example.*"));
  const header = find("^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$");
  assert.ok(header.test("x-request-id") && header.test("a`b") && !header.test("bad header") && !header.test("a:b"));
  const controller = find(
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$",
  );
  assert.ok(controller.test("linkerd.io/policy-controller") && !controller.test("policy-controller"));
  const quantity = find(
    "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
  );
  assert.ok(quantity.test("500m") && quantity.test("1") && quantity.test("1Ki") && !quantity.test("1x"));
});

// ---------------------------------------------------------------------------
// Server (§1.5)

test("Server: proxyProtocol defaults to unknown (no enum); port is int-or-string", () => {
  for (const v of ["v1alpha1", "v1beta1"]) {
    const root = schemaOf("servers.policy.linkerd.io", v);
    assert.deepEqual(at(root, "spec").required, ["podSelector", "port"]);
    const proto = at(root, "spec.proxyProtocol");
    assert.equal(proto.type, "string");
    assert.equal(proto.default, "unknown");
    assert.equal(proto.enum, undefined);
    assert.deepEqual(withoutDescriptions(at(root, "spec.port")), { "x-kubernetes-int-or-string": true });
    const expr = at(root, "spec.podSelector.matchExpressions[]");
    assert.deepEqual(expr.required, ["key", "operator"]);
    assert.deepEqual(at(root, "spec.podSelector.matchExpressions[].operator").enum, ["In", "NotIn", "Exists", "DoesNotExist"]);
    assert.equal(at(root, "spec.podSelector.matchLabels")["x-kubernetes-preserve-unknown-fields"], true);
  }
});

test("Server: only v1alpha1 forces a non-empty podSelector", () => {
  assert.deepEqual(at(schemaOf("servers.policy.linkerd.io", "v1alpha1"), "spec.podSelector").oneOf, [
    { required: ["matchExpressions"] },
    { required: ["matchLabels"] },
  ]);
  assert.equal(at(schemaOf("servers.policy.linkerd.io", "v1beta1"), "spec.podSelector").oneOf, undefined);
});

// ---------------------------------------------------------------------------
// ServerAuthorization (§1.6)

test("ServerAuthorization: v1alpha1 and v1beta1 share one schema", () => {
  const name = "serverauthorizations.policy.linkerd.io";
  assert.deepEqual(
    withoutDescriptions(schemaOf(name, "v1alpha1")),
    withoutDescriptions(schemaOf(name, "v1beta1")),
  );
  const root = schemaOf(name, "v1beta1");
  assert.deepEqual(at(root, "spec").required, ["server", "client"]);
  assert.deepEqual(at(root, "spec.server").oneOf, [{ required: ["name"] }, { required: ["selector"] }]);
  assert.deepEqual(at(root, "spec.client.networks[]").required, ["cidr"]);
  assert.deepEqual(at(root, "spec.client.meshTLS.serviceAccounts[]").required, ["name"]);
  assert.equal(at(root, "spec.client.meshTLS.unauthenticatedTLS").type, "boolean");
  assert.equal(at(root, "spec.client.unauthenticated").type, "boolean");
});

// ---------------------------------------------------------------------------
// AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication (§1.7–§1.9)

test("AuthorizationPolicy: required refs and their bounds", () => {
  const root = schemaOf("authorizationpolicies.policy.linkerd.io", "v1alpha1");
  assert.deepEqual(at(root, "spec").required, ["targetRef", "requiredAuthenticationRefs"]);
  assert.deepEqual(at(root, "spec.targetRef").required, ["kind", "name"]);
  assert.deepEqual(at(root, "spec.requiredAuthenticationRefs[]").required, ["kind", "name"]);
  assert.equal(at(root, "spec.targetRef.group").maxLength, 253);
  assert.deepEqual([at(root, "spec.targetRef.kind").minLength, at(root, "spec.targetRef.kind").maxLength], [1, 63]);
  assert.deepEqual([at(root, "spec.targetRef.name").minLength, at(root, "spec.targetRef.name").maxLength], [1, 253]);
  assert.equal(at(root, "spec.requiredAuthenticationRefs[].namespace").maxLength, 253);
  assert.equal(at(root, "spec.targetRef").properties?.namespace, undefined);
});

test("MeshTLSAuthentication: exactly one of identities / identityRefs", () => {
  const root = schemaOf("meshtlsauthentications.policy.linkerd.io", "v1alpha1");
  assert.deepEqual(at(root, "spec").oneOf, [{ required: ["identities"] }, { required: ["identityRefs"] }]);
  assert.equal(at(root, "spec").required, undefined);
  assert.equal(at(root, "spec.identities").minItems, 1);
  assert.equal(at(root, "spec.identityRefs").minItems, 1);
  assert.deepEqual(at(root, "spec.identityRefs[]").required, ["kind"]);
});

test("NetworkAuthentication: networks with required cidr", () => {
  const root = schemaOf("networkauthentications.policy.linkerd.io", "v1alpha1");
  assert.deepEqual(at(root, "spec").required, ["networks"]);
  assert.deepEqual(at(root, "spec.networks[]").required, ["cidr"]);
  assert.deepEqual(withoutDescriptions(at(root, "spec.networks[].except")), { type: "array", items: { type: "string" } });
});

// ---------------------------------------------------------------------------
// ServiceProfile (§1.4)

test("ServiceProfile: preserveUnknownFields false, no status, no root required", () => {
  const c = crd("serviceprofiles.linkerd.io");
  assert.equal(c.spec.preserveUnknownFields, false);
  for (const v of c.spec.versions) {
    assert.deepEqual(Object.keys(v.schema.openAPIV3Schema.properties ?? {}), ["spec"]);
  }
});

test("ServiceProfile: only v1alpha1 requires routes", () => {
  assert.deepEqual(at(schemaOf("serviceprofiles.linkerd.io", "v1alpha1"), "spec").required, ["routes"]);
  assert.equal(at(schemaOf("serviceprofiles.linkerd.io", "v1alpha2"), "spec").required, undefined);
  const a = withoutDescriptions(schemaOf("serviceprofiles.linkerd.io", "v1alpha1")) as Schema;
  const b = withoutDescriptions(schemaOf("serviceprofiles.linkerd.io", "v1alpha2")) as Schema;
  delete at(a, "spec").required;
  assert.deepEqual(a, b, "otherwise identical");
});

test("ServiceProfile: dstOverrides keeps `required` on the array node (upstream quirk)", () => {
  for (const v of ["v1alpha1", "v1alpha2"]) {
    const root = schemaOf("serviceprofiles.linkerd.io", v);
    const overrides = at(root, "spec.dstOverrides");
    assert.equal(overrides.type, "array");
    assert.deepEqual(overrides.required, ["authority", "weight"]);
    assert.equal(overrides.items?.required, undefined);
    const weight = at(root, "spec.dstOverrides[].weight");
    assert.equal(weight["x-kubernetes-int-or-string"], true);
    assert.deepEqual(weight.anyOf, [{ type: "integer" }, { type: "string" }]);
    assert.equal(weight.type, undefined);
  }
});

test("ServiceProfile: retry budget, routes and response classes", () => {
  const root = schemaOf("serviceprofiles.linkerd.io", "v1alpha2");
  assert.deepEqual(at(root, "spec.retryBudget").required, ["minRetriesPerSecond", "retryRatio", "ttl"]);
  assert.deepEqual(withoutDescriptions(at(root, "spec.retryBudget.minRetriesPerSecond")), { type: "integer", format: "int32" });
  assert.deepEqual(withoutDescriptions(at(root, "spec.retryBudget.retryRatio")), { type: "number", format: "float" });
  assert.deepEqual(at(root, "spec.routes[]").required, ["condition", "name"]);
  assert.deepEqual(at(root, "spec.routes[].responseClasses[]").required, ["condition"]);
  for (const op of ["all", "any", "not"]) {
    assert.equal(at(root, `spec.routes[].condition.${op}[]`)["x-kubernetes-preserve-unknown-fields"], true);
    assert.equal(at(root, `spec.routes[].responseClasses[].condition.${op}[]`)["x-kubernetes-preserve-unknown-fields"], true);
  }
  assert.equal(at(root, "spec.routes[].responseClasses[].condition.status.min").format, "int32");
  assert.deepEqual(at(root, "spec.opaquePorts[]"), { type: "string" });
});

// ---------------------------------------------------------------------------
// HTTPRoute, policy.linkerd.io (§1.10)

const POLICY_ROUTE = "httproutes.policy.linkerd.io";
const GATEWAY_ROUTE = "httproutes.gateway.networking.k8s.io";
const DEFAULT_MATCH = { path: { type: "PathPrefix", value: "/" } };

function assertRouteDefaults(root: Schema, groupDefault: string): void {
  assert.deepEqual(Object.keys(root.properties ?? {}).sort(), ["apiVersion", "kind", "metadata", "spec", "status"]);
  assert.deepEqual(at(root, "spec.rules").default, [{ matches: [DEFAULT_MATCH] }]);
  assert.deepEqual(at(root, "spec.rules[].matches").default, [DEFAULT_MATCH]);
  assert.deepEqual(at(root, "spec.rules[].matches[].path").default, DEFAULT_MATCH.path);
  assert.equal(at(root, "spec.rules[].matches[].path.type").default, "PathPrefix");
  assert.deepEqual(at(root, "spec.rules[].matches[].path.type").enum, ["Exact", "PathPrefix", "RegularExpression"]);
  assert.equal(at(root, "spec.rules[].matches[].path.value").default, "/");
  assert.equal(at(root, "spec.rules[].matches[].headers[].type").default, "Exact");
  assert.equal(at(root, "spec.rules[].matches[].queryParams[].type").default, "Exact");
  assert.equal(at(root, "spec.rules[].filters[].requestRedirect.statusCode").default, 302);
  assert.deepEqual(at(root, "spec.rules[].filters[].requestRedirect.statusCode").enum, [301, 302]);
  assert.equal(at(root, "spec.parentRefs[].group").default, groupDefault);
  assert.equal(at(root, "spec.parentRefs[].kind").default, "Gateway");
  assert.equal(at(root, "status.parents[].parentRef.group").default, groupDefault);
  assert.deepEqual(at(root, "spec.parentRefs[]").required, ["name"]);
  assert.equal(at(root, "spec.parentRefs").maxItems, 32);
  assert.equal(at(root, "spec.hostnames").maxItems, 16);
  assert.equal(at(root, "spec.rules").maxItems, 16);
  assert.equal(at(root, "spec.rules[].matches").maxItems, 8);
  assert.deepEqual(at(root, "spec.rules[].matches[].method").enum, [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
  ]);
  const headers = at(root, "spec.rules[].matches[].headers");
  assert.equal(headers["x-kubernetes-list-type"], "map");
  assert.deepEqual(headers["x-kubernetes-list-map-keys"], ["name"]);
  assert.deepEqual(at(root, "status").required, ["parents"]);
  assert.deepEqual(at(root, "status.parents[]").required, ["controllerName", "parentRef"]);
  const conditions = at(root, "status.parents[].conditions");
  assert.deepEqual([conditions.minItems, conditions.maxItems], [1, 8]);
  assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
  assert.deepEqual(conditions.items?.required, ["lastTransitionTime", "message", "reason", "status", "type"]);
  assert.deepEqual(at(root, "status.parents[].conditions[].status").enum, ["True", "False", "Unknown"]);
}

test("policy HTTPRoute: defaults and bounds in every version", () => {
  for (const v of ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"]) assertRouteDefaults(schemaOf(POLICY_ROUTE, v), "policy.linkerd.io");
});

test("policy HTTPRoute: v1alpha1 and v1beta1 share one schema", () => {
  assert.deepEqual(withoutDescriptions(schemaOf(POLICY_ROUTE, "v1alpha1")), withoutDescriptions(schemaOf(POLICY_ROUTE, "v1beta1")));
});

test("policy HTTPRoute: filter types per level", () => {
  for (const v of ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"]) {
    const root = schemaOf(POLICY_ROUTE, v);
    assert.deepEqual(at(root, "spec.rules[].filters[].type").enum, ["RequestHeaderModifier", "RequestRedirect"]);
    assert.deepEqual(Object.keys(at(root, "spec.rules[].filters[]").properties ?? {}).sort(), [
      "requestHeaderModifier", "requestRedirect", "type",
    ]);
    assert.deepEqual(at(root, "spec.rules[].backendRefs[].filters[].type").enum, [
      "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect",
    ]);
  }
});

test("policy HTTPRoute: v1alpha1/v1beta1 legacy backendRefs and plain parentRef port", () => {
  for (const v of ["v1alpha1", "v1beta1"]) {
    const root = schemaOf(POLICY_ROUTE, v);
    assert.deepEqual(at(root, "spec.parentRefs[].port"), { type: "integer" });
    const backends = at(root, "spec.rules[].backendRefs");
    assert.equal(backends.maxItems, undefined);
    assert.equal(backends.items?.required, undefined);
    assert.deepEqual(Object.keys(backends.items?.properties ?? {}).sort(), ["filters", "name", "namespace", "port"]);
    assert.equal(at(root, "spec.rules[].backendRefs[].namespace").default, "default");
    assert.deepEqual(at(root, "spec.rules[].backendRefs[].port"), { type: "integer" });
    assert.equal(at(root, "spec.rules[]").properties?.timeouts, undefined);
  }
});

function assertModernBackendRefs(root: Schema): void {
  const backends = at(root, "spec.rules[].backendRefs");
  assert.equal(backends.maxItems, 16);
  assert.deepEqual(backends.items?.required, ["name"]);
  assert.equal(at(root, "spec.rules[].backendRefs[].group").default, "");
  assert.equal(at(root, "spec.rules[].backendRefs[].kind").default, "Service");
  assert.equal(at(root, "spec.rules[].backendRefs[].namespace").default, undefined);
  const weight = at(root, "spec.rules[].backendRefs[].weight");
  assert.deepEqual([weight.format, weight.minimum, weight.maximum, weight.default], ["int32", 0, 1000000, 1]);
  const port = at(root, "spec.rules[].backendRefs[].port");
  assert.deepEqual([port.format, port.minimum, port.maximum], ["int32", 1, 65535]);
  const parentPort = at(root, "spec.parentRefs[].port");
  assert.deepEqual([parentPort.format, parentPort.minimum, parentPort.maximum], ["int32", 1, 65535]);
}

test("policy HTTPRoute: v1beta2+ ranged ports and weighted backendRefs", () => {
  for (const v of ["v1beta2", "v1beta3"]) assertModernBackendRefs(schemaOf(POLICY_ROUTE, v));
});

test("policy HTTPRoute: only v1beta3 has timeouts (duration strings)", () => {
  for (const v of ["v1alpha1", "v1beta1", "v1beta2"]) {
    assert.equal(at(schemaOf(POLICY_ROUTE, v), "spec.rules[]").properties?.timeouts, undefined);
  }
  const root = schemaOf(POLICY_ROUTE, "v1beta3");
  assert.deepEqual(withoutDescriptions(at(root, "spec.rules[].timeouts")), {
    type: "object",
    properties: {
      request: { type: "string", format: "duration" },
      backendRequest: { type: "string", format: "duration" },
    },
  });
});

test("policy HTTPRoute: status parentRef never has a port", () => {
  for (const v of ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"]) {
    assert.equal(at(schemaOf(POLICY_ROUTE, v), "status.parents[].parentRef").properties?.port, undefined);
  }
});

test("policy HTTPRoute: queryParams names have no pattern", () => {
  assert.equal(at(schemaOf(POLICY_ROUTE, "v1beta3"), "spec.rules[].matches[].queryParams[].name").pattern, undefined);
});

// ---------------------------------------------------------------------------
// HTTPRoute, gateway.networking.k8s.io (§1.11)

test("gateway HTTPRoute: bundle annotations", () => {
  const c = crd(GATEWAY_ROUTE);
  assert.deepEqual(c.metadata.annotations, {
    "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1923",
    "gateway.networking.k8s.io/bundle-version": "v0.7.1-dev",
    "gateway.networking.k8s.io/channel": "experimental",
    "linkerd.io/created-by": "${values.cliVersion}",
  });
});

test("gateway HTTPRoute: v1alpha2 and v1beta1 share one schema", () => {
  assert.deepEqual(withoutDescriptions(schemaOf(GATEWAY_ROUTE, "v1alpha2")), withoutDescriptions(schemaOf(GATEWAY_ROUTE, "v1beta1")));
});

test("gateway HTTPRoute: defaults, backendRefs and the full filter set", () => {
  const root = schemaOf(GATEWAY_ROUTE, "v1beta1");
  assertRouteDefaults(root, "gateway.networking.k8s.io");
  assertModernBackendRefs(root);
  const all = ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect", "URLRewrite", "ExtensionRef"];
  for (const path of ["spec.rules[].filters[]", "spec.rules[].backendRefs[].filters[]"]) {
    assert.deepEqual(at(root, `${path}.type`).enum, all);
    assert.deepEqual(Object.keys(at(root, path).properties ?? {}).sort(), [
      "extensionRef", "requestHeaderModifier", "requestMirror", "requestRedirect",
      "responseHeaderModifier", "type", "urlRewrite",
    ]);
    assert.deepEqual(at(root, `${path}.requestMirror`).required, ["backendRef"]);
    assert.deepEqual(at(root, `${path}.requestMirror.backendRef`).required, ["name"]);
    assert.equal(at(root, `${path}.requestMirror.backendRef.group`).default, "");
    assert.equal(at(root, `${path}.requestMirror.backendRef.kind`).default, "Service");
    assert.deepEqual(at(root, `${path}.extensionRef`).required, ["group", "kind", "name"]);
    assert.deepEqual(at(root, `${path}.urlRewrite.path`).required, ["type"]);
  }
  const statusPort = at(root, "status.parents[].parentRef.port");
  assert.deepEqual([statusPort.format, statusPort.minimum, statusPort.maximum], ["int32", 1, 65535]);
  assert.equal(at(root, "spec.rules[]").properties?.timeouts, undefined);
  assert.equal(typeof at(root, "spec.rules[].matches[].queryParams[].name").pattern, "string");
});
