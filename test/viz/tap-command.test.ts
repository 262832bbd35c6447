// `mesh viz tap` / `top` in-process against the fake API, with log streams and pod watches faked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import { FakeApi } from "../kube/fake-api.js";
import type { Pod } from "../../src/kube/types.js";
import type { StreamOptions, WatchEvent, WatchOptions } from "../../src/kube/cluster.js";

const pod = (name: string, ip: string, accessLog?: string, uid = `${name}-uid`): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop", uid, labels: { app: "web", "pod-template-hash": "5c9", "linkerd.io/control-plane-ns": "linkerd" }, ownerReferences: [{ kind: "ReplicaSet", name: "web-5c9", controller: true }] },
  spec: { serviceAccountName: "web", containers: [{ name: "app", ports: [{ containerPort: 8080 }] }, { name: "linkerd-proxy", env: accessLog ? [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: accessLog }] : [] }] },
  status: { phase: "Running", podIP: ip },
});
const bot: Pod = { ...pod("bot-1", "10.42.0.17"), metadata: { name: "bot-1", namespace: "shop", uid: "bot" } };

const line = (path: string, status = 200, ts = "2026-01-01T00:00:05.000000001Z") =>
  `${ts} {"client.addr":"10.42.0.17:4000","client.id":"-","host":"","method":"GET","processing_ns":"1","request_bytes":"","response_bytes":"12","status":${status},"timestamp":"x","total_ns":"2500000","trace_id":"","uri":"${path}","user_agent":"","version":"HTTP/1.1"}`;

/** Waits until `signal` aborts. */
const aborted = (signal?: AbortSignal) => new Promise<void>((r) => (signal?.aborted ? r() : signal?.addEventListener("abort", () => r(), { once: true })));

/** A FakeApi cluster whose pod logs are `logs(podName, n)` (n: how many times it was opened) and whose watch yields `events`. */
function cluster(api: FakeApi, logs: (pod: string, n: number) => AsyncGenerator<string>, events?: () => AsyncGenerator<WatchEvent<Pod>>) {
  const c = api.cluster();
  const opened = new Map<string, number>();
  c.streamLines = async function* (path: string, opts?: StreamOptions) {
    const name = /\/pods\/([^/]+)\/log/.exec(path)![1];
    assert.match(path, /\?container=linkerd-proxy&follow=true&timestamps=true&sinceTime=2026-01-01T00%3A00%3A0[05]Z$/);
    const n = (opened.get(name) ?? 0) + 1;
    opened.set(name, n);
    const it = logs(name, n);
    const stop = aborted(opts?.signal).then(() => ({ done: true as const, value: undefined }));
    for (;;) {
      const next = await Promise.race([it.next(), stop]);
      if (next.done) return;
      yield next.value;
    }
  } as typeof c.streamLines;
  c.watch = async function* (_path: string, opts?: WatchOptions) {
    const stop = aborted(opts?.signal).then(() => ({ done: true as const, value: undefined }));
    const it = events?.();
    for (;;) {
      const next = await Promise.race([it ? it.next() : new Promise<never>(() => {}), stop]);
      if (next.done) return;
      yield next.value;
    }
  } as unknown as typeof c.watch;
  return c;
}

const interrupt = () => setImmediate(() => process.emit("SIGINT"));
const now = new Date("2026-01-01T00:00:00.500Z");

test("tap prints Linkerd's lines for access-log requests and ends with exit 0 on Ctrl-C", async () => {
  const api = new FakeApi([pod("web-1", "10.42.0.21", "json"), bot]);
  const c = cluster(api, async function* () {
    yield "2026-01-01T00:00:01Z [     0.1s]  INFO ThreadId(01) linkerd2_proxy: starting";
    yield line("/api/list");
    yield line("/other", 503);
    interrupt();
  });
  const r = await runMesh(["viz", "tap", "po/web-1", "-n", "shop", "--path", "/api"], { cluster: async () => c, now });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    [
      "req id=0:0 proxy=in  src=10.42.0.17:4000 dst=10.42.0.21:8080 tls=no_tls_from_remote :method=GET :authority= :path=/api/list",
      "rsp id=0:0 proxy=in  src=10.42.0.17:4000 dst=10.42.0.21:8080 tls=no_tls_from_remote :status=200 latency=2500µs",
      "end id=0:0 proxy=in  src=10.42.0.17:4000 dst=10.42.0.21:8080 tls=no_tls_from_remote duration=0µs response-length=12B",
      "",
    ].join("\n"),
  );
});

test("pods without an access log are named with the command that turns it on", async () => {
  const api = new FakeApi([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } }, pod("web-1", "10.42.0.21", "json"), pod("web-2", "10.42.0.22"), bot]);
  const c = cluster(api, async function* () {
    interrupt();
  });
  const r = await runMesh(["viz", "tap", "ns", "shop"], { cluster: async () => c, now });
  assert.equal(r.code, 0);
  assert.equal(
    r.stderr,
    "not tapping pods whose proxy writes no access log: bot-1, web-2\n" +
      "  turn the proxy access log on and restart the pods: kubectl get pod/bot-1 -n shop -o yaml | mesh inject --access-log json - | kubectl replace --force -f -; kubectl get deploy/web -n shop -o yaml | mesh inject --access-log json - | kubectl apply -f -\n",
  );
});

test("exit 1 when no pod of the target has an access log", async () => {
  const api = new FakeApi([pod("web-2", "10.42.0.22"), bot]);
  const c = cluster(api, async function* () {});
  const r = await runMesh(["viz", "tap", "pod", "web-2", "-n", "shop"], { cluster: async () => c, now });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "error: no pods to tap for pod/web-2: the proxy access log is off in web-2\nhint: turn the proxy access log on and restart the pods: kubectl get deploy/web -n shop -o yaml | mesh inject --access-log json - | kubectl apply -f -\n",
  );
});

test("usage errors: unknown output format, wrong target type", async () => {
  const r = await runMesh(["viz", "tap", "po/web-1", "-o", "yaml"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /output format "yaml" not recognized/);
  const s = await runMesh(["viz", "tap", "svc/web"]);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /unsupported resource type for tap: service/);
});

test("a pod deleted and re-created while tapping is detached and re-attached", async () => {
  const api = new FakeApi([pod("web-1", "10.42.0.21", "json"), bot]);
  const queue: WatchEvent<Pod>[] = [];
  let wake: (() => void) | undefined;
  const push = (e: WatchEvent<Pod>) => {
    queue.push(e);
    wake?.();
  };
  const c = cluster(
    api,
    async function* (_name, n) {
      if (n === 1) {
        yield line("/first");
        // The pod goes away, then comes back under the same name with a new uid.
        api.remove("Pod", "web-1", "shop");
        push({ type: "DELETED", object: pod("web-1", "10.42.0.21", "json") });
        return;
      }
      yield line("/second", 200, "2026-01-01T00:00:09Z");
      interrupt();
    },
    async function* () {
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          yield e;
          if (e.type === "DELETED") {
            // Once the detach happened (the next sync ran), bring the pod back.
            setTimeout(() => {
              const again = pod("web-1", "10.42.0.23", "json", "web-1-uid-2");
              api.put(again);
              push({ type: "ADDED", object: again });
            }, 400);
          }
        }
        await new Promise<void>((r) => (wake = r));
      }
    },
  );
  const r = await runMesh(["viz", "tap", "po/web-1", "-n", "shop"], { cluster: async () => c, now });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "detached pod shop/web-1\nre-attached pod shop/web-1\n");
  assert.match(r.stdout, /^req id=0:0 .* :path=\/first$/m);
  assert.match(r.stdout, /^req id=0:0 proxy=in  src=10.42.0.17:4000 dst=10.42.0.23:8080 .* :path=\/second$/m);
});

test("top in a pipe prints a snapshot table at the end", async () => {
  const api = new FakeApi([pod("web-1", "10.42.0.21", "json"), bot]);
  const c = cluster(api, async function* () {
    yield line("/a");
    yield line("/a", 500);
    yield line("/b");
    interrupt();
  });
  const r = await runMesh(["viz", "top", "po/web-1", "-n", "shop"], { cluster: async () => c, now });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    [
      "Source  Destination  Method      Path   Count    Best   Worst    Last  Success Rate",
      "bot-1   web-1        GET         /a         2     3ms     3ms     3ms        50.00%",
      "bot-1   web-1        GET         /b         1     3ms     3ms     3ms       100.00%",
      "",
      "",
    ].join("\n"),
  );
});
