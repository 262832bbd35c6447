import { test } from "node:test";
import assert from "node:assert/strict";
import { dns1123SubdomainError, isCidr, portRangeError, validateValues } from "../../src/install/validate.js";
import { defaultValues } from "../../src/install/values.js";

test("the defaults are valid, and validating them changes nothing", () => {
  const v = defaultValues();
  validateValues(v);
  assert.deepEqual(v, defaultValues());
});

for (const [cidr, ok] of [
  ["10.0.0.0/8", true],
  ["0.0.0.0/0", true],
  ["fd00::/8", true],
  ["10.0.0.0/33", false],
  ["10.0.0.0", false],
  ["banana/8", false],
  ["010.0.0.0/8", false],
] as const)
  test(`CIDR ${cidr} is ${ok ? "valid" : "invalid"}`, () => assert.equal(isCidr(cidr), ok));

for (const [entry, ok] of [
  ["80", true],
  ["0", true],
  ["65535", true],
  ["65536", false],
  ["8000-8100", true],
  ["8100-8000", false],
  ["1-2-3", false],
  ["http", false],
] as const)
  test(`port entry ${entry} is ${ok ? "valid" : "invalid"}`, () => assert.equal(portRangeError(entry) === undefined, ok));

for (const [domain, ok] of [
  ["cluster.local", true],
  ["a-b.c1", true],
  ["Upper.case", false],
  ["-lead.x", false],
  ["trail-.x", false],
  ["a..b", false],
] as const)
  test(`trust domain ${domain} is ${ok ? "valid" : "invalid"}`, () => assert.equal(dns1123SubdomainError(domain) === undefined, ok));

test("webhook TLS settings follow the chart's rules", () => {
  const v = defaultValues();
  v.proxyInjector.injectCaFrom = "linkerd/cert";
  assert.throws(() => validateValues(v), /proxyInjector: a CA bundle is configured but mesh generates the webhook's certificate/);
  v.proxyInjector.externalSecret = true;
  const before = structuredClone(v);
  validateValues(v);
  assert.deepEqual(v, before);
  v.proxyInjector.injectCaFromSecret = "linkerd/secret";
  assert.throws(() => validateValues(v), /injectCaFrom and injectCaFromSecret are both set/);
  const w = defaultValues();
  w.policyValidator.crtPEM = "x";
  assert.throws(() => validateValues(w), /policyValidator: crtPEM and keyPEM must be given together/);
});

test("numeric strings in integer fields become numbers", () => {
  const v = defaultValues() as unknown as Record<string, unknown> & ReturnType<typeof defaultValues>;
  (v as { controllerUID: unknown }).controllerUID = " 3000 ";
  validateValues(v);
  assert.equal(v.controllerUID, 3000);
});
