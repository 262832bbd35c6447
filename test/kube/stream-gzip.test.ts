// getStream: a streamed GET that asks for gzip and decompresses chunk by chunk (proxy /metrics
// through the API server's pod proxy), against a real HTTP server on 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { clusterApi } from "../../src/kube/cluster.js";
import { KubeApiError } from "../../src/kube/errors.js";
import { MeshError } from "../../src/errors.js";
import { withLocalApi } from "../helpers/local-api.js";

const withServer = withLocalApi;

const TEXT = Array.from({ length: 2000 }, (_, i) => `request_total{direction="inbound",n="${i}"} ${i}\n`).join("");

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

test("getStream asks for gzip, decompresses in chunks and counts wire and decoded bytes", async () => {
  const gz = gzipSync(TEXT);
  let acceptEncoding: string | undefined;
  await withServer(
    (req, res) => {
      acceptEncoding = req.headers["accept-encoding"];
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      // in pieces, so that decompression really streams
      res.write(gz.subarray(0, 100));
      setTimeout(() => res.end(gz.subarray(100)), 20);
    },
    async (c) => {
      let wire = 0;
      const text = await collect(c.getStream("/api/v1/namespaces/ns/pods/p:4191/proxy/metrics", { onWireBytes: (n) => (wire += n) }));
      assert.equal(acceptEncoding, "gzip");
      assert.equal(text, TEXT);
      assert.equal(wire, gz.length);
      assert.deepEqual(c.bytesReceived?.(), { wire: gz.length, decoded: Buffer.byteLength(TEXT) });
      assert.equal(c.requestCount(), 1);
    },
  );
});

test("getStream: an uncompressed answer passes through; errors are typed", async () => {
  await withServer(
    (req, res) => {
      if (req.url!.includes("plain")) return res.end(TEXT);
      if (req.url!.includes("missing")) {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ kind: "Status", message: 'pods "x" not found', code: 404 }));
      }
      if (req.url!.includes("corrupt")) {
        res.writeHead(200, { "content-encoding": "gzip" });
        return res.end(Buffer.concat([gzipSync(TEXT).subarray(0, 50), Buffer.from("garbage that is not deflate")]));
      }
      res.end(TEXT); // "big"
    },
    async (c) => {
      assert.equal(await collect(c.getStream("/plain")), TEXT);
      await assert.rejects(collect(c.getStream("/missing")), (e: unknown) => e instanceof KubeApiError && e.status === 404);
      await assert.rejects(collect(c.getStream("/corrupt")), (e: unknown) => e instanceof MeshError && /not valid gzip/.test(e.message));
      await assert.rejects(collect(c.getStream("/big", { maxBytes: 1000 })), (e: unknown) => e instanceof MeshError && /larger than 1000 bytes/.test(e.message));
    },
  );
});

test("getStream without a streaming transport falls back to one buffered GET", async () => {
  const c = clusterApi({
    server: "https://fake",
    getJson: async () => undefined,
    getText: async (path: string) => `body of ${path}`,
    controlPlaneVersion: async () => undefined,
  });
  let wire = 0;
  assert.equal(await collect(c.getStream("/x", { onWireBytes: (n) => (wire += n) })), "body of /x");
  assert.equal(wire, "body of /x".length);
});
