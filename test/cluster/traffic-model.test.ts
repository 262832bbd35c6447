import { test } from "node:test";
import assert from "node:assert/strict";
import {
  destinationLabels,
  failureCount,
  isFailure,
  latencyCdf,
  latencyOf,
  ownerOf,
  parseTrafficModel,
  requestCount,
  resolveFlows,
  type PodInfo,
} from "./traffic-model.js";

const web: PodInfo = {
  namespace: "emojivoto",
  name: "web-5f86686c4d-58p7k",
  ip: "10.244.1.3",
  serviceAccount: "web",
  labels: { app: "web", "pod-template-hash": "5f86686c4d", "linkerd.io/control-plane-ns": "linkerd" },
  owner: { kind: "ReplicaSet", name: "web-5f86686c4d" },
  meshed: true,
};
const emoji = (i: number): PodInfo => ({
  namespace: "emojivoto",
  name: `emoji-699d77c79-${i}`,
  ip: `10.244.1.${10 + i}`,
  serviceAccount: "emoji",
  labels: { app: "emoji", "pod-template-hash": "699d77c79", "linkerd.io/control-plane-ns": "linkerd" },
  owner: { kind: "ReplicaSet", name: "emoji-699d77c79" },
  meshed: true,
});
const bot: PodInfo = { ...web, name: "vote-bot-1", ip: "10.244.1.20", serviceAccount: "default", labels: { app: "vote-bot" }, owner: undefined };

test("parseTrafficModel accepts a flows object or a bare array", () => {
  assert.equal(parseTrafficModel('{"flows":[{"direction":"inbound","rps":1}]}').flows.length, 1);
  assert.equal(parseTrafficModel('[{"direction":"outbound","rps":2}]').flows[0].rps, 2);
});

for (const [name, text, msg] of [
  ["not json", "{", /not JSON/],
  ["no flows", "{}", /flows/],
  ["bad direction", '[{"direction":"sideways","rps":1}]', /direction/],
  ["negative rps", '[{"direction":"inbound","rps":-1}]', /rps/],
  ["success rate above 1", '[{"direction":"inbound","rps":1,"successRate":2}]', /successRate/],
  ["route without authority", '[{"direction":"inbound","rps":1,"route":"GET /"}]', /authority/],
] as const) {
  test(`parseTrafficModel rejects ${name}`, () => assert.throws(() => parseTrafficModel(text), msg));
}

test("counts are whole requests and failures follow the success rate", () => {
  assert.equal(requestCount(10, 30), 300);
  assert.equal(requestCount(0.5, 3), 1);
  assert.equal(requestCount(3, -1), 0);
  assert.equal(failureCount(300, 0.9), 30);
  assert.equal(failureCount(300, 1), 0);
  let failures = 0;
  for (let i = 0; i < 300; i++) if (isFailure(i, 0.9)) failures++;
  assert.equal(failures, 30);
});

test("latency picks follow the weights", () => {
  const cdf = latencyCdf([{ ms: 30, weight: 1 }, { ms: 3, weight: 3 }]);
  assert.deepEqual(cdf.points, [{ ms: 3, cumulative: 0.75 }, { ms: 30, cumulative: 1 }]);
  let fast = 0;
  for (let i = 0; i < 1000; i++) if (latencyOf(cdf, i) === 3) fast++;
  assert.ok(Math.abs(fast - 750) <= 5, `fast=${fast}`);
});

test("ownerOf prefers injector labels, then derives a Deployment from its ReplicaSet", () => {
  assert.deepEqual(ownerOf(web), ["deployment", "web"]);
  assert.deepEqual(ownerOf({ ...web, labels: { "linkerd.io/proxy-job": "migrate" } }), ["k8s_job", "migrate"]);
  assert.deepEqual(ownerOf({ ...web, owner: { kind: "StatefulSet", name: "db" }, labels: {} }), ["statefulset", "db"]);
  assert.deepEqual(ownerOf(bot), ["pod", "vote-bot-1"]);
});

test("destinationLabels are the destination controller's labels", () => {
  assert.deepEqual(destinationLabels(emoji(1), "emoji-svc"), {
    namespace: "emojivoto",
    pod: "emoji-699d77c79-1",
    serviceaccount: "emoji",
    service: "emoji-svc",
    deployment: "emoji",
    control_plane_ns: "linkerd",
    pod_template_hash: "699d77c79",
  });
});

test("resolveFlows splits outbound rps across endpoints and takes identities from pods", () => {
  const flows = resolveFlows(
    parseTrafficModel(
      JSON.stringify([
        { direction: "inbound", rps: 4, from: { selector: { app: "vote-bot" } }, authority: "web-svc.emojivoto.svc.cluster.local:80" },
        { direction: "inbound", rps: 1, clientId: null },
        { direction: "outbound", rps: 6, to: { service: "emoji-svc", port: 8080, selector: { app: "emoji" } } },
      ]),
    ),
    { self: web, pods: [web, emoji(2), emoji(1), bot], defaultClientIp: "10.244.0.1" },
  );
  assert.equal(flows.length, 4);
  assert.equal(flows[0].peerId, "default.emojivoto.serviceaccount.identity.linkerd.cluster.local");
  assert.equal(flows[0].clientAddr, "10.244.1.20:40000");
  assert.equal(flows[0].targetIp, web.ip);
  assert.equal(flows[1].peerId, null);
  assert.equal(flows[1].clientAddr, "10.244.0.1:40001");
  const out = flows.slice(2);
  assert.deepEqual(out.map((f) => [f.targetIp, f.rps, f.authority, f.peerId]), [
    ["10.244.1.11", 3, "emoji-svc.emojivoto.svc.cluster.local:8080", "emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local"],
    ["10.244.1.12", 3, "emoji-svc.emojivoto.svc.cluster.local:8080", "emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local"],
  ]);
  assert.deepEqual(out[0].dst.map(([k]) => k), ["control_plane_ns", "deployment", "namespace", "pod", "pod_template_hash", "service", "serviceaccount"]);
});

test("resolveFlows without endpoint pods uses explicit dst labels and address", () => {
  const [f] = resolveFlows(
    { flows: [{ direction: "outbound", rps: 1, targetAddr: "10.244.9.9:9090", dst: { service: "x", namespace: "y" }, serverId: null }] },
    { self: web, pods: [], defaultClientIp: "10.244.0.1" },
  );
  assert.deepEqual([f.targetIp, f.targetPort, f.peerId, f.dst], ["10.244.9.9", 9090, null, [["namespace", "y"], ["service", "x"]]]);
});
