import { test } from "node:test";
import assert from "node:assert/strict";
import { Memo, type Read } from "../../src/checks/memo.js";
import { runChecks, summarize, WAITING, type RunEnv } from "../../src/checks/runner.js";
import { fail, skip, type Category, type Check, type CheckResult } from "../../src/checks/types.js";
import { fakeClock } from "./fixtures.js";

/** A context whose only getter is a memoised, read-tracked `read(key)` served by `source`. */
interface Ctx {
  read(key: string): Promise<number>;
}

function env(source: (key: string) => Promise<number>) {
  const memo = new Memo();
  const e: RunEnv<Ctx> & { memo: Memo } = {
    memo,
    attempt() {
      const reads: Read[] = [];
      return { ctx: { read: (k) => memo.get(k, () => source(k), reads) }, reads };
    },
    isCurrent: (r) => memo.isCurrent(r),
    invalidate: (r) => memo.invalidate(r),
  };
  return e;
}

const check = (id: string, run: (ctx: Ctx) => Promise<void>, extra: Partial<Check<Ctx>> = {}): Check<Ctx> => ({ id, description: `${id} works`, hint: id, run, ...extra });
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect(categories: Category<Ctx>[], e: RunEnv<Ctx>, opts: { wait?: number; clock?: ReturnType<typeof fakeClock> } = {}) {
  const clock = opts.clock ?? fakeClock(0);
  const out: CheckResult[] = [];
  for await (const r of runChecks(categories, e, { deadline: clock.now() + (opts.wait ?? 0), clock, hintBase: "https://linkerd.io/2.14/checks/#" })) out.push(r);
  return out;
}

const line = (r: CheckResult) => `${r.category}/${r.checkId} ${r.retry ? "retry " : ""}${r.status}${r.error ? `: ${r.error}` : ""}`;

/** A promise with its resolve, to finish checks in an order the test chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

test("results come in declaration order although later checks finish first", async () => {
  const finished: string[] = [];
  const gates = { a: gate(), b: gate(), c: gate() };
  const started = new Set<string>();
  const gated = (id: "a" | "b" | "c") =>
    check(id, async () => {
      started.add(id);
      if (started.size === 3) gates.c.open();
      await gates[id].opened;
      finished.push(id);
      // c finishes first, then b, then a.
      if (id === "c") gates.b.open();
      if (id === "b") gates.a.open();
    });
  const cats: Category<Ctx>[] = [
    { id: "one", checks: [gated("a"), gated("b")] },
    { id: "two", checks: [gated("c")] },
  ];
  const out = await collect(cats, env(async () => 1));
  assert.deepEqual(out.map(line), ["one/a ok", "one/b ok", "two/c ok"]);
  assert.deepEqual(finished, ["c", "b", "a"]);
});

test("independent checks run concurrently: every check starts before any finishes", async () => {
  let running = 0;
  let peak = 0;
  const all = gate();
  const c = (id: string) =>
    check(id, async () => {
      running++;
      peak = Math.max(peak, running);
      // Run one after the other, and the first would wait here for good: the bounded wait fails it instead.
      if (running === 5) all.open();
      let timer: NodeJS.Timeout | undefined;
      const alone = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${id} waited alone`)), 20_000)));
      await Promise.race([all.opened, alone]).finally(() => clearTimeout(timer));
      running--;
    });
  const out = await collect([{ id: "x", checks: [c("a"), c("b"), c("c"), c("d"), c("e")] }], env(async () => 1));
  assert.equal(peak, 5);
  assert.deepEqual(out.map(line), ["x/a ok", "x/b ok", "x/c ok", "x/d ok", "x/e ok"]);
});

test("checks reading the same key share one load", async () => {
  let loads = 0;
  const e = env(async () => {
    loads++;
    await delay(5);
    return 42;
  });
  const reader = (id: string) => check(id, async (ctx) => assert.equal(await ctx.read("pods"), 42));
  await collect([{ id: "x", checks: [reader("a"), reader("b"), reader("c")] }], e);
  assert.equal(loads, 1);
});

test("a failed fatal check ends the run; later categories print nothing", async () => {
  const cats: Category<Ctx>[] = [
    { id: "one", checks: [check("a", async () => fail("boom"), { fatal: true }), check("b", async () => {})] },
    { id: "two", checks: [check("c", async () => {})] },
  ];
  const out = await collect(cats, env(async () => 1));
  assert.deepEqual(out.map(line), ["one/a error: boom"]);
  assert.equal(out[0].hintUrl, "https://linkerd.io/2.14/checks/#a");
});

test("a failed non-fatal check is reported and the run goes on", async () => {
  const out = await collect([{ id: "one", checks: [check("a", async () => fail("bad")), check("b", async () => {})] }], env(async () => 1));
  assert.deepEqual(out.map(line), ["one/a error: bad", "one/b ok"]);
  assert.deepEqual(summarize(out), { success: false, warning: false });
});

test("warnings are reported but do not fail the run", async () => {
  const out = await collect([{ id: "one", checks: [check("a", async () => fail("meh"), { severity: "warning", fatal: true }), check("b", async () => {})] }], env(async () => 1));
  // a fatal warning still stops the run, as in Linkerd
  assert.deepEqual(out.map(line), ["one/a warning: meh"]);
  assert.deepEqual(summarize(out), { success: true, warning: true });
});

test("skipped checks yield a skipped result carrying the reason", async () => {
  const out = await collect([{ id: "one", checks: [check("a", async () => skip("not HA"))] }], env(async () => 1));
  assert.deepEqual(out.map(line), ["one/a skipped: not HA"]);
});

test("thrown errors of any kind become the check's error text", async () => {
  const out = await collect(
    [
      {
        id: "one",
        checks: [
          check("a", async () => {
            throw new Error("plain");
          }),
          check("b", async () => {
            throw "a string";
          }),
        ],
      },
    ],
    env(async () => 1),
  );
  assert.deepEqual(out.map(line), ["one/a error: plain", "one/b error: a string"]);
});

test("retryable checks retry every 5 s until they pass, reloading what they read", async () => {
  let n = 0;
  const e = env(async (k) => (k === "ready" ? ++n : 0));
  const clock = fakeClock(0);
  const cats: Category<Ctx>[] = [
    {
      id: "one",
      checks: [
        check(
          "a",
          async (ctx) => {
            const v = await ctx.read("ready");
            if (v < 3) fail(`attempt ${v}`);
          },
          { retry: true, fatal: true },
        ),
      ],
    },
  ];
  const out = await collect(cats, e, { wait: 60_000, clock });
  assert.deepEqual(out.map(line), [`one/a retry error: ${WAITING}`, `one/a retry error: ${WAITING}`, "one/a ok"]);
  assert.deepEqual(clock.slept, [5000, 5000]);
});

test("surfaceErrorOnRetry shows the live error while retrying", async () => {
  let n = 0;
  const e = env(async () => ++n);
  const cats: Category<Ctx>[] = [
    {
      id: "one",
      checks: [
        check(
          "a",
          async (ctx) => {
            const v = await ctx.read("k");
            if (v < 2) fail(`pod ${v} not ready`);
          },
          { retry: true, surfaceErrorOnRetry: true },
        ),
      ],
    },
  ];
  const out = await collect(cats, e, { wait: 60_000 });
  assert.deepEqual(out.map(line), ["one/a retry error: pod 1 not ready", "one/a ok"]);
});

test("retries stop at the deadline and the last error is final", async () => {
  const clock = fakeClock(0);
  const out = await collect([{ id: "one", checks: [check("a", async () => fail("never"), { retry: true })] }], env(async () => 1), { wait: 12_000, clock });
  assert.deepEqual(out.map(line), [`one/a retry error: ${WAITING}`, `one/a retry error: ${WAITING}`, `one/a retry error: ${WAITING}`, "one/a error: never"]);
  assert.equal(clock.now(), 15_000);
});

test("--wait 0 disables retries; checks that do not retry never wait", async () => {
  const clock = fakeClock(0);
  const out = await collect(
    [{ id: "one", checks: [check("a", async () => fail("x"), { retry: true }), check("b", async () => fail("y"))] }],
    env(async () => 1),
    { wait: 0, clock },
  );
  assert.deepEqual(out.map(line), ["one/a error: x", "one/b error: y"]);
  assert.deepEqual(clock.slept, []);
});

test("a later check whose reads a retry reloaded runs again with fresh data", async () => {
  let version = 0;
  const e = env(async (k) => (k === "pods" ? ++version : 0));
  let bRuns = 0;
  const cats: Category<Ctx>[] = [
    {
      id: "one",
      checks: [
        check(
          "a",
          async (ctx) => {
            if ((await ctx.read("pods")) < 2) fail("not yet");
          },
          { retry: true },
        ),
        check("b", async (ctx) => {
          bRuns++;
          const v = await ctx.read("pods");
          if (v < 2) fail(`stale ${v}`);
        }),
        check("c", async (ctx) => {
          await ctx.read("other");
        }),
      ],
    },
  ];
  const out = await collect(cats, e, { wait: 60_000 });
  assert.deepEqual(out.map(line), [`one/a retry error: ${WAITING}`, "one/a ok", "one/b ok", "one/c ok"]);
  assert.equal(bRuns, 2);
});

test("an attempt that never finishes times out after 30 s", async () => {
  let now = 0;
  const clock = {
    slept: [] as number[],
    now: () => now,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        if (ms === 30_000) {
          const t = setTimeout(() => {
            now += ms;
            resolve();
          }, 5);
          signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
        } else resolve();
      }),
  };
  const out = await collect([{ id: "one", checks: [check("a", () => new Promise(() => {}))] }], env(async () => 1), { clock });
  assert.deepEqual(out.map(line), ["one/a error: check did not complete within 30s"]);
});
