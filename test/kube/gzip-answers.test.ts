// gzip between mesh and the API server, against a real HTTP server on 127.0.0.1: GETs (lists,
// pod-proxy text) ask for gzip and inflate the answer in one call within the size limit; a
// streamed body inflates a small answer in one call and a large one through a zlib stream, with
// the same bytes either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { gunzipChunks } from "../../src/kube/cluster.js";
import { MeshError } from "../../src/errors.js";
import { withLocalApi } from "../helpers/local-api.js";

const withServer = withLocalApi;

const podList = (n: number) => JSON.stringify({ kind: "PodList", items: Array.from({ length: n }, (_, i) => ({ metadata: { name: `web-${i}`, namespace: "emojivoto", labels: { app: "web" } }, spec: { containers: [{ name: "app" }] } })) });

test("a list asks for gzip and reads the compressed answer; bytesReceived counts both sizes", async () => {
  const text = podList(2000);
  const seen: (string | undefined)[] = [];
  await withServer(
    (req, res) => {
      seen.push(req.headers["accept-encoding"]);
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(text));
    },
    async (c) => {
      const pods = await c.listPods("emojivoto");
      assert.equal(pods.length, 2000);
      assert.equal(pods[1999].metadata.name, "web-1999");
      assert.deepEqual(seen, ["gzip"]);
      const b = c.bytesReceived!();
      assert.equal(b.decoded, Buffer.byteLength(text));
      assert.ok(b.wire < b.decoded / 5, `wire ${b.wire} vs decoded ${b.decoded}`);
    },
  );
});

test("an uncompressed answer to the same request still reads", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(podList(3));
    },
    async (c) => assert.deepEqual((await c.listPods("emojivoto")).map((p) => p.metadata.name), ["web-0", "web-1", "web-2"]),
  );
});

test("a corrupt gzip answer is one clear error naming the request", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(Buffer.from("this is not gzip at all"));
    },
    async (c) => {
      await assert.rejects(c.listPods("emojivoto"), (e: unknown) => e instanceof MeshError && /answer to GET \/api\/v1\/namespaces\/emojivoto\/pods is not valid gzip/.test(e.message));
    },
  );
});

test("gunzipChunks: small bodies in one call, large ones streamed, the same bytes; corrupt and oversized input", async () => {
  async function* chunked(buf: Buffer, size: number) {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const out: Buffer[] = [];
    for await (const c of it) out.push(Buffer.from(c));
    return out;
  };
  // Small (a proxy's /metrics): one output chunk.
  const metrics = Buffer.from(Array.from({ length: 3000 }, (_, i) => `response_total{n="${i}"} ${i}\n`).join(""));
  const small = await collect(gunzipChunks(chunked(gzipSync(metrics), 1000)));
  assert.equal(small.length, 1);
  assert.ok(small[0].equals(metrics));
  // Large (incompressible, > 256 KiB compressed): streamed in several chunks, same bytes.
  const noise = randomBytes(600 * 1024);
  const large = await collect(gunzipChunks(chunked(gzipSync(noise), 16 * 1024)));
  assert.ok(large.length > 1, `${large.length} chunks`);
  assert.ok(Buffer.concat(large).equals(noise));
  // Corrupt: a MeshError naming what was read.
  await assert.rejects(collect(gunzipChunks(chunked(Buffer.from("not gzip"), 4), "GET /metrics")), (e: unknown) => e instanceof MeshError && /GET \/metrics is not valid gzip/.test(e.message));
  // Inflating beyond the caller's limit: streamed instead, so the caller's own size check stops it.
  const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
  const out = await collect(gunzipChunks(chunked(bomb, 4096), "GET /metrics", 1024 * 1024));
  assert.ok(out.length > 1, "streamed");
  assert.equal(Buffer.concat(out).length, 4 * 1024 * 1024);
});
