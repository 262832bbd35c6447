import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTopDuration, goDuration, routeOf, TopTable, DEFAULT_ROUTE, type TopSample } from "../../src/viz/tap/top.js";
import type { ServiceProfile } from "../../src/kube/types.js";

const s = (source: string, path: string, latencyMs: number, success = true, method = "GET", route = DEFAULT_ROUTE): TopSample => ({ source, destination: "web-1", method, path, route, latencyNs: latencyMs * 1e6, success });

test("durations round like Linkerd's top: µs below 1 ms, ms below 1 s, else s", () => {
  assert.equal(formatTopDuration(812_345), "812µs");
  assert.equal(formatTopDuration(18_400_000), "18ms");
  assert.equal(formatTopDuration(999_600_000), "1s");
  assert.equal(formatTopDuration(2_400_000_000), "2s");
  assert.equal(formatTopDuration(0), "0s");
  assert.equal(goDuration(1_812_000), "1.812ms");
  assert.equal(goDuration(90e9), "1m30s");
});

test("rows merge on source, destination, method and path, and sort by count", () => {
  const t = new TopTable();
  for (const x of [s("bot-1", "/a", 3), s("bot-1", "/b", 1), s("bot-1", "/b", 5, false), s("bot-2", "/b", 2), s("bot-1", "/b", 4)]) t.insert(x);
  const rows = t.sortedRows();
  assert.deepEqual(
    rows.map((r) => [r.source, r.path, r.count, r.bestNs / 1e6, r.worstNs / 1e6, r.lastNs / 1e6, r.successes, r.failures]),
    [
      ["bot-1", "/b", 3, 1, 5, 4, 2, 1],
      ["bot-1", "/a", 1, 3, 3, 3, 1, 0],
      ["bot-2", "/b", 1, 2, 2, 2, 1, 0],
    ],
  );
  const { header, rows: lines } = t.render();
  assert.equal(header, "Source  Destination  Method      Path   Count    Best   Worst    Last  Success Rate");
  assert.equal(lines[0], "bot-1   web-1        GET         /b         3     1ms     5ms     4ms        66.67%");
  assert.equal(lines[2], "bot-2   web-1        GET         /b         1     2ms     2ms     2ms       100.00%");
});

test("--hide-sources drops the Source column and merges across sources", () => {
  const t = new TopTable({ hideSources: true });
  for (const x of [s("bot-1", "/b", 1), s("bot-2", "/b", 2)]) t.insert(x);
  assert.equal(t.size, 1);
  assert.equal(t.render().header, "Destination  Method      Path   Count    Best   Worst    Last  Success Rate");
  assert.equal(t.render().rows[0], "web-1        GET         /b         2     1ms     2ms     2ms       100.00%");
});

test("--routes keys rows by route instead of method and path", () => {
  const t = new TopTable({ routes: true });
  for (const x of [s("bot-1", "/a/1", 1, true, "GET", "GET /a/{id}"), s("bot-1", "/a/2", 1, true, "GET", "GET /a/{id}"), s("bot-1", "/z", 1)]) t.insert(x);
  assert.equal(t.render().header, "Source  Destination  Route         Count    Best   Worst    Last  Success Rate");
  assert.deepEqual(t.render().rows.map((r) => r.split(/\s{2,}/)[2]), ["GET /a/{id}", "[DEFAULT]"]);
});

test("scrolling cuts columns off the left", () => {
  const t = new TopTable();
  t.insert(s("bot-1", "/a", 1));
  assert.equal(t.render(5).header, t.render().header.slice(5));
  assert.equal(t.width(), t.render().header.length);
});

test("hostile paths cannot reach the table raw", () => {
  const t = new TopTable();
  t.insert(s("bot-1", "/x\x1b[2J\r\ny", 1));
  assert.ok(!/[\x00-\x1f]/.test(t.render().rows[0]));
});

const sp: ServiceProfile = {
  apiVersion: "linkerd.io/v1alpha2",
  kind: "ServiceProfile",
  metadata: { name: "web-svc.shop.svc.cluster.local", namespace: "shop" },
  spec: {
    routes: [
      { name: "GET /api/list", condition: { method: "GET", pathRegex: "/api/list" } },
      { name: "item", condition: { all: [{ pathRegex: "/api/item/[^/]+" }, { not: { method: "DELETE" } }] } },
      { name: "any-post", condition: { any: [{ method: "POST" }, { method: "PUT" }] } },
    ],
  },
};

const routeCases: [string, string, string, string][] = [
  ["web-svc.shop.svc.cluster.local:80", "GET", "/api/list", "GET /api/list"],
  ["web-svc.shop.svc.cluster.local:80", "GET", "/api/list?page=2", "GET /api/list"],
  ["web-svc.shop.svc.cluster.local:80", "GET", "/api/list/more", DEFAULT_ROUTE],
  ["web-svc:80", "GET", "/api/item/7", "item"],
  ["web-svc.shop", "DELETE", "/api/item/7", DEFAULT_ROUTE],
  ["web-svc.shop:80", "PUT", "/x", "any-post"],
  ["other.shop:80", "GET", "/api/list", DEFAULT_ROUTE],
  ["", "GET", "/api/list", DEFAULT_ROUTE],
];
for (const [authority, method, path, want] of routeCases)
  test(`route of ${method} ${authority}${path}`, () => assert.equal(routeOf([sp], authority, method, path, "shop"), want));
