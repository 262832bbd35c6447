import { test } from "node:test";
import assert from "node:assert/strict";
import { hostAllowed, isLoopback, newToken, splitTokenPath, tokenMatches } from "../../src/dashboard/security.js";

test("tokens are long, URL-safe and different every run", () => {
  const a = newToken();
  const b = newToken();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a, b);
});

test("a token matches only itself (any length presented)", () => {
  const t = newToken();
  assert.equal(tokenMatches(t, t), true);
  assert.equal(tokenMatches(t.slice(0, -1), t), false);
  assert.equal(tokenMatches(`${t}x`, t), false);
  assert.equal(tokenMatches("", t), false);
});

for (const [address, loopback] of [
  ["127.0.0.1", true],
  ["127.1.2.3", true],
  ["::1", true],
  ["[::1]", true],
  ["localhost", true],
  ["::ffff:127.0.0.1", true],
  ["0.0.0.0", false],
  ["::", false],
  ["10.0.0.5", false],
  ["127.example.com", false],
] as const)
  test(`isLoopback(${address}) is ${loopback}`, () => assert.equal(isLoopback(address), loopback));

for (const [host, address, ok] of [
  ["127.0.0.1:50750", "127.0.0.1", true],
  ["localhost:50750", "127.0.0.1", true],
  ["[::1]:50750", "::1", true],
  ["localhost:50750", "::1", true],
  ["127.0.0.1:50751", "127.0.0.1", false], // another port
  ["127.0.0.1", "127.0.0.1", false], // no port
  ["evil.example.com:50750", "127.0.0.1", false], // DNS rebinding
  ["127.0.0.1.nip.io:50750", "127.0.0.1", false],
  ["10.0.0.5:50750", "10.0.0.5", true],
  ["localhost:50750", "10.0.0.5", false],
  ["192.168.1.4:50750", "0.0.0.0", true], // wildcard: IP literals only
  ["attacker.test:50750", "0.0.0.0", false],
  [undefined, "127.0.0.1", false],
] as const)
  test(`Host ${host} on ${address}:50750 is ${ok ? "allowed" : "refused"}`, () => assert.equal(hostAllowed(host, address, 50750), ok));

test("splitTokenPath separates the token, the rest and the query", () => {
  assert.deepEqual({ ...splitTokenPath("/abc_DEF-1/api/namespace?ns=web")!, query: undefined }, { token: "abc_DEF-1", rest: "/api/namespace", query: undefined });
  assert.equal(splitTokenPath("/abc/api/namespace?ns=web")!.query.get("ns"), "web");
  assert.equal(splitTokenPath("/abc")!.rest, "");
  assert.equal(splitTokenPath("/"), undefined);
  assert.equal(splitTokenPath("/a.b/x"), undefined);
});
