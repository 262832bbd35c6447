// The streaming side of the transport against a real HTTP server on 127.0.0.1: lines arrive as the
// server writes them, silence ends a stream, an abort closes the socket, and sizes are capped.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { WatchEvent } from "../../src/kube/cluster.js";
import { KubeApiError } from "../../src/kube/errors.js";
import { MeshError } from "../../src/errors.js";
import { withLocalApi } from "../helpers/local-api.js";

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
process.on("unhandledRejection", onUnhandled);
after(() => {
  process.off("unhandledRejection", onUnhandled);
  assert.deepEqual(unhandled, [], "no unhandled rejections");
});

/** A promise with its resolver, for latching server and client steps (no sleeps). */
function latch<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Bounds a wait so a broken test fails instead of hanging; never an assertion on timing. */
function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

const withServer = (handler: Parameters<typeof withLocalApi>[0], body: Parameters<typeof withLocalApi>[1], maxBodyBytes?: number) => withLocalApi(handler, body, { maxBodyBytes });

const LOG = "/api/v1/namespaces/ns/pods/web-1/log?container=linkerd-proxy&follow=true";

test("streamLines yields lines while the response is still open", async () => {
  const release = latch();
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("first\nsecond\n");
      void release.promise.then(() => res.end("third"));
    },
    async (c) => {
      const seen: string[] = [];
      for await (const line of c.streamLines(LOG)) {
        seen.push(line);
        // The server only ends the response once both early lines got here.
        if (seen.length === 2) release.resolve();
      }
      assert.deepEqual(seen, ["first", "second", "third"]);
    },
  );
});

test("streamLines joins lines split across chunks, keeps UTF-8 intact and drops CR of CRLF", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      const euro = Buffer.from("€");
      res.write(Buffer.concat([Buffer.from("a-"), euro.subarray(0, 1)]));
      res.write(Buffer.concat([euro.subarray(1), Buffer.from("-b\r\nc")]));
      res.end("d\n\n");
    },
    async (c) => {
      const seen: string[] = [];
      for await (const line of c.streamLines(LOG)) seen.push(line);
      assert.deepEqual(seen, ["a-€-b", "cd", ""]);
    },
  );
});

test("a silent stream fails after the idle timeout with a clear error", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("only line\n");
    },
    async (c) => {
      const seen: string[] = [];
      await assert.rejects(
        within(
          (async () => {
            for await (const line of c.streamLines(LOG, { idleTimeoutMs: 150 })) seen.push(line);
          })(),
          "the idle timeout",
        ),
        (e: unknown) => e instanceof MeshError && /sent nothing for 150 ms \(GET \/api\/v1\/namespaces\/ns\/pods\/web-1\/log\)/.test(e.message),
      );
      assert.deepEqual(seen, ["only line"]);
    },
  );
});

test("aborting ends the iteration quietly and closes the connection", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("one\n");
    },
    async (c, state) => {
      const ac = new AbortController();
      const seen: string[] = [];
      for await (const line of c.streamLines(LOG, { signal: ac.signal, idleTimeoutMs: 0 })) {
        seen.push(line);
        ac.abort();
      }
      assert.deepEqual(seen, ["one"]);
      await within(state.closed, "the server to see the socket close");
    },
  );
});

test("aborting while waiting for the next line ends the iteration and closes the connection", async () => {
  const ac = new AbortController();
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("one\n");
    },
    async (c, state) => {
      const seen: string[] = [];
      for await (const line of c.streamLines(LOG, { signal: ac.signal, idleTimeoutMs: 0 })) {
        seen.push(line);
        setImmediate(() => ac.abort()); // fires while the loop waits for the next line
      }
      assert.deepEqual(seen, ["one"]);
      await within(state.closed, "the server to see the socket close");
    },
  );
});

test("aborting before the answer arrives ends quietly", async () => {
  const ac = new AbortController();
  await withServer(
    () => ac.abort(), // never answers
    async (c, state) => {
      const seen: string[] = [];
      for await (const line of c.streamLines(LOG, { signal: ac.signal })) seen.push(line);
      assert.deepEqual(seen, []);
      await within(state.closed, "the server to see the socket close");
    },
  );
});

test("leaving the loop early (break) closes the connection", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("one\ntwo\n");
    },
    async (c, state) => {
      for await (const line of c.streamLines(LOG)) if (line === "one") break;
      await within(state.closed, "the server to see the socket close");
    },
  );
});

test("a line longer than the cap fails clearly", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("short\n");
      res.write("x".repeat(3000));
      res.write("y".repeat(3000));
    },
    async (c, state) => {
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const line of c.streamLines(LOG, { maxLineBytes: 4096 })) seen.push(line);
        })(),
        (e: unknown) => e instanceof MeshError && /a line of the stream GET \/api\/v1\/namespaces\/ns\/pods\/web-1\/log is longer than 4 KiB/.test(e.message),
      );
      assert.deepEqual(seen, ["short"]);
      await within(state.closed, "the server to see the socket close");
    },
  );
});

test("an HTTP error on a stream is a KubeApiError with the server's message", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 403, message: 'pods "web-1" is forbidden: User "bob" cannot get resource "pods/log"' }));
    },
    async (c) => {
      await assert.rejects(
        (async () => {
          for await (const _ of c.streamLines(LOG)) assert.fail("no lines expected");
        })(),
        (e: unknown) => e instanceof KubeApiError && e.status === 403 && /cannot get resource "pods\/log"/.test(e.message),
      );
    },
  );
});

test("hostile error bodies reach the message sanitised and capped", async () => {
  const evil = `\x1b]0;owned\x07\x1b[2J\x1b[31mboom\r\nsecond line${"z".repeat(200_000)}`;
  await withServer(
    (req, res) => {
      if (req.url?.includes("html")) {
        res.writeHead(502, { "Content-Type": "text/html" });
        return res.end(`<!DOCTYPE html>\n<html>\n<head><title>502 Bad\nGateway</title></head>\n<body>\n${"<p>x</p>\n".repeat(1000)}</body></html>\n`);
      }
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(evil);
    },
    async (c) => {
      const err = (await c.getText("/plain").catch((e: unknown) => e)) as KubeApiError;
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.status, 500);
      assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(err.message), JSON.stringify(err.message.slice(0, 80)));
      assert.match(err.message, /^the API server answered 500 to GET \/plain: boom second linez+… \(truncated\)$/);
      assert.ok(err.message.length < 400);
      const html = (await c.getText("/html").catch((e: unknown) => e)) as KubeApiError;
      assert.equal(html.message, 'the API server answered 502 to GET /html: an HTML page titled "502 Bad Gateway"');
      const streamed = await (async () => {
        for await (const _ of c.streamLines("/html-stream")) assert.fail("no lines expected");
      })().catch((e: unknown) => e);
      assert.ok(streamed instanceof KubeApiError && /an HTML page titled "502 Bad Gateway"/.test(streamed.message));
    },
  );
});

test("a successful answer larger than the cap fails clearly; one within it is read whole", async () => {
  await withServer(
    (req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      const n = req.url === "/big" ? 300_000 : 100_000;
      res.end(JSON.stringify({ items: [], pad: "p".repeat(n) }));
    },
    async (c) => {
      const ok = await c.getJson<{ pad: string }>("/small");
      assert.equal(ok?.pad.length, 100_000);
      await assert.rejects(c.getText("/big"), (e: unknown) => e instanceof MeshError && e.message === "the API server's answer to GET /big is larger than 200 KiB; mesh stops reading there" && /-n/.test(e.hint ?? ""));
    },
    200 * 1024,
  );
});

test("watch yields typed events, sends the resourceVersion and fails with 410 when it expired", async () => {
  const pod = (name: string, rv: string) => ({ kind: "Pod", apiVersion: "v1", metadata: { name, namespace: "ns", resourceVersion: rv } });
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      for (const e of [
        { type: "ADDED", object: pod("a", "11") },
        { type: "MODIFIED", object: pod("a", "12") },
        { type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "13" } } },
        { type: "DELETED", object: pod("a", "14") },
        { type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 10 (14)" } },
      ])
        res.write(`${JSON.stringify(e)}\n`);
      res.end();
    },
    async (c, state) => {
      const events: WatchEvent[] = [];
      const err = await (async () => {
        for await (const e of c.watch("/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb", { resourceVersion: "10", timeoutSeconds: 300 })) events.push(e);
      })().catch((e: unknown) => e);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name ?? ""} ${(e.object.metadata as { resourceVersion?: string }).resourceVersion}`),
        ["ADDED a 11", "MODIFIED a 12", "BOOKMARK  13", "DELETED a 14"],
      );
      assert.ok(err instanceof KubeApiError && err.status === 410 && /too old resource version/.test(err.message));
      assert.equal(state.requests[0], "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&watch=1&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=300");
    },
  );
});

test("closing the cluster cancels a stream in flight with an error, not a hang", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("one\n");
    },
    async (c) => {
      const err = await within(
        (async () => {
          for await (const _ of c.streamLines(LOG, { idleTimeoutMs: 0 })) c.close();
        })().catch((e: unknown) => e),
        "the stream to end",
      );
      assert.ok(err instanceof MeshError && /cancelled/.test(err.message));
    },
  );
});
