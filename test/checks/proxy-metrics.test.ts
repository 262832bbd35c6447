import { test } from "node:test";
import assert from "node:assert/strict";
import { proxyIdentity, samples } from "../../src/metrics/proxy-metrics.js";

const text = `# HELP identity_cert_expiration_timestamp_seconds Time when the this proxy's current mTLS identity certificate will expire (in seconds since the UNIX epoch).
# TYPE identity_cert_expiration_timestamp_seconds gauge
identity_cert_expiration_timestamp_seconds 1767312000
# TYPE proxy_build_info gauge
proxy_build_info{version="2.210.4",git_sha="5a910be",profile="release",date="2023-11-22T17:21:08Z",vendor="linkerd"} 1
request_total{direction="inbound",authority="web:80",tls="true"} 12
request_total_other 3
`;

test("samples of one family, labels parsed, prefixes of other families ignored", () => {
  assert.deepEqual(samples(text, "request_total"), [{ labels: { direction: "inbound", authority: "web:80", tls: "true" }, value: 12 }]);
  assert.deepEqual(samples(text, "nope"), []);
});

test("a proxy's certificate expiry and build version", () => {
  assert.deepEqual(proxyIdentity(text), { certExpiry: new Date("2026-01-02T00:00:00Z"), buildVersion: "2.210.4" });
  assert.deepEqual(proxyIdentity("identity_cert_expiration_timestamp_seconds 0\n"), { certExpiry: undefined, buildVersion: undefined });
});
