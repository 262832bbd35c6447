import { test } from "node:test";
import assert from "node:assert/strict";
import { describeValidity, expiresWithin, formatTime } from "../../src/tls/index.js";

const cert = { notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2026-01-01T00:00:00Z") };
const at = (iso: string) => describeValidity(cert, new Date(iso));
const DAY = 86_400_000;

test("formatTime prints RFC 3339 in UTC without fractions, as Go does", () => {
  assert.equal(formatTime(new Date("2025-06-01T12:34:56.789Z")), "2025-06-01T12:34:56Z");
});

const rows: Array<[string, string, string, string]> = [
  ["before NotBefore", "2024-12-31T23:59:59Z", "not-yet-valid", "not valid before: 2025-01-01T00:00:00Z"],
  ["at NotBefore", "2025-01-01T00:00:00Z", "valid", "valid until 2026-01-01T00:00:00Z"],
  ["exactly 60 days left", new Date(cert.notAfter.getTime() - 60 * DAY).toISOString(), "valid", "valid until 2026-01-01T00:00:00Z"],
  ["just under 60 days left", new Date(cert.notAfter.getTime() - 60 * DAY + 1).toISOString(), "expiring-soon", "will expire on 2026-01-01T00:00:00Z"],
  ["at NotAfter", "2026-01-01T00:00:00Z", "expiring-soon", "will expire on 2026-01-01T00:00:00Z"],
  ["after NotAfter", "2026-01-01T00:00:00.001Z", "expired", "not valid anymore. Expired on 2026-01-01T00:00:00Z"],
];
for (const [name, now, state, text] of rows) {
  test(`describeValidity: ${name}`, () => {
    const v = at(now);
    assert.equal(v.state, state);
    assert.equal(v.text, text);
  });
}

test("daysLeft counts whole days to NotAfter", () => {
  assert.equal(at("2025-12-01T00:00:00Z").daysLeft, 31);
  assert.equal(at("2026-01-03T00:00:00Z").daysLeft, -2);
});

test("expiresWithin also holds for expired certificates", () => {
  assert.ok(expiresWithin(cert, new Date("2027-01-01T00:00:00Z"), 60));
  assert.ok(!expiresWithin(cert, new Date("2025-01-01T00:00:00Z"), 60));
});
