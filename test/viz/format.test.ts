import { test } from "node:test";
import assert from "node:assert/strict";
import { formatStatJson, formatStatTable, goFixed, renderColumns } from "../../src/viz/format.js";
import type { StatRow } from "../../src/viz/stat.js";

test("Go's %.Nf: exact ties round to even", () => {
  assert.equal(goFixed(0.25, 1), "0.2");
  assert.equal(goFixed(0.75, 1), "0.8");
  assert.equal(goFixed(2.5, 0), "2");
  assert.equal(goFixed(94.11764705882354, 2), "94.12");
  assert.equal(goFixed(0.15, 1), "0.1"); // 0.15 is below the tie in binary
  assert.equal(goFixed(1.9, 1), "1.9");
  assert.equal(goFixed(100, 2), "100.00");
});

test("the column writer: widest cell + 3, right-aligned, first 3 characters dropped", () => {
  assert.equal(renderColumns([["NAME ", "A"], ["web  ", "100"], ["émoji", "-"]]), "NAME      A\nweb     100\némoji     -\n");
});

const row = (name: string, stats?: StatRow["stats"], extra: Partial<StatRow> = {}): StatRow => ({ kind: "deployment", namespace: "emojivoto", name, meshed: "1/1", stats, ...extra });
const S = { success: 0.9411764705882353, rps: 1.9, p50: 3, p95: 18, p99: 32, tcpConn: 3, readRate: 201.4, writeRate: 4810.9 };

test("B3.1's authored example, byte for byte", () => {
  const rows = [
    row("emoji", { ...S, success: 1, p95: 1, p99: 1, p50: 1 }),
    row("vote-bot"),
    row("voting", { ...S, success: 0.8621, rps: 0.9, p50: 1, p95: 1, p99: 2 }),
    row("web", S),
  ];
  assert.equal(
    formatStatTable(rows, { allNamespaces: false, wide: false }),
    `NAME       MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN
emoji         1/1   100.00%   1.9rps           1ms           1ms           1ms          3
vote-bot      1/1         -        -             -             -             -          -
voting        1/1    86.21%   0.9rps           1ms           1ms           2ms          3
web           1/1    94.12%   1.9rps           3ms          18ms          32ms          3
`,
  );
});

test("-A -o wide adds NAMESPACE first and the byte rates", () => {
  assert.equal(
    formatStatTable([row("emoji", { ...S, success: 1, p50: 1, p95: 1, p99: 1, readRate: 312.5, writeRate: 1187.3 }), row("web", S)], { allNamespaces: true, wide: true }),
    `NAMESPACE   NAME    MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN   READ_BYTES/SEC   WRITE_BYTES/SEC
emojivoto   emoji      1/1   100.00%   1.9rps           1ms           1ms           1ms          3         312.5B/s         1187.3B/s
emojivoto   web        1/1    94.12%   1.9rps           3ms          18ms          32ms          3         201.4B/s         4810.9B/s
`,
  );
});

test("several types: one table each in Linkerd's order, names prefixed, a blank line between", () => {
  const out = formatStatTable([row("web", S), { ...row("web-5f86686c4d-58p7k", S), kind: "pod", status: "Running" }, { kind: "authority", namespace: "emojivoto", name: "web-svc.emojivoto.svc.cluster.local:80", meshed: "-", stats: S }], { allNamespaces: false, wide: false });
  const tables = out.split("\n\n");
  assert.equal(tables.length, 3);
  assert.match(tables[0], /^NAME {40}MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99\nau\/web-svc/);
  assert.doesNotMatch(tables[0], /TCP_CONN/);
  assert.match(tables[1], /^NAME +MESHED .*\ndeploy\/web /);
  assert.match(tables[2], /^NAME +STATUS   MESHED .*\npo\/web-5f86686c4d-58p7k +Running      1\/1/);
});

test("server-supplied names are sanitised in tables", () => {
  const out = formatStatTable([row("evil\x1b[31mred\nx", S)], { allNamespaces: false, wide: false });
  assert.doesNotMatch(out, /\x1b/);
  assert.equal(out.split("\n").length, 3);
});

test("JSON: Linkerd's keys and order, null without data, TCP only with data", () => {
  const out = formatStatJson([row("emoji", { ...S, success: 1, rps: 1.9, p50: 1, p95: 1, p99: 1, readRate: 312.5, writeRate: 1187.3 }), row("vote-bot")]);
  assert.equal(
    out,
    `[
  {
    "namespace": "emojivoto",
    "kind": "deployment",
    "name": "emoji",
    "success": 1,
    "rps": 1.9,
    "latency_ms_p50": 1,
    "latency_ms_p95": 1,
    "latency_ms_p99": 1,
    "tcp_open_connections": 3,
    "tcp_read_bytes_rate": 312.5,
    "tcp_write_bytes_rate": 1187.3
  },
  {
    "namespace": "emojivoto",
    "kind": "deployment",
    "name": "vote-bot",
    "success": null,
    "rps": null,
    "latency_ms_p50": null,
    "latency_ms_p95": null,
    "latency_ms_p99": null
  }
]
`,
  );
  assert.equal(formatStatJson([]), "[]\n");
});
