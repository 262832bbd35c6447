import { test } from "node:test";
import assert from "node:assert/strict";
import { ExitCode, MeshError } from "../../src/errors.js";
import { canonicalType, parseResourceArgs, shortTypeName } from "../../src/viz/resources.js";

test("TYPE, TYPE/NAME, TYPE N1 N2, T1/N1 T2/N2 and all", () => {
  assert.deepEqual(parseResourceArgs(["deploy"], "app"), [{ type: "deployment", namespace: "app" }]);
  assert.deepEqual(parseResourceArgs(["po/web-1"], "app"), [{ type: "pod", name: "web-1", namespace: "app" }]);
  assert.deepEqual(parseResourceArgs(["deployments", "web", "emoji"], "app"), [
    { type: "deployment", name: "web", namespace: "app" },
    { type: "deployment", name: "emoji", namespace: "app" },
  ]);
  assert.deepEqual(parseResourceArgs(["sts/db", "svc/web-svc"], "x"), [
    { type: "statefulset", name: "db", namespace: "x" },
    { type: "service", name: "web-svc", namespace: "x" },
  ]);
  assert.deepEqual(parseResourceArgs(["all"], "x"), [{ type: "all", namespace: "x" }]);
  // namespaces are not inside one
  assert.deepEqual(parseResourceArgs(["ns/emojivoto"], "x"), [{ type: "namespace", name: "emojivoto", namespace: "" }]);
});

test("short, singular and plural forms", () => {
  const forms: [string, string][] = [
    ["au", "authority"], ["authorities", "authority"], ["cj", "cronjob"], ["ds", "daemonset"], ["job", "job"], ["jobs", "job"],
    ["rc", "replicationcontroller"], ["rs", "replicaset"], ["sp", "serviceprofile"], ["sts", "statefulset"], ["srv", "server"],
    ["saz", "serverauthorization"], ["serverauthz", "serverauthorization"], ["srvauthz", "serverauthorization"],
    ["ap", "authorizationpolicy"], ["authzpolicy", "authorizationpolicy"], ["httproute", "httproute"], ["svc", "service"],
  ];
  for (const [form, type] of forms) assert.equal(canonicalType(form), type, form);
  assert.equal(shortTypeName("deployment"), "deploy");
  assert.equal(shortTypeName("pod"), "po");
});

function usage(args: string[], re: RegExp) {
  assert.throws(() => parseResourceArgs(args, "ns"), (e: unknown) => e instanceof MeshError && e.exitCode === ExitCode.Usage && re.test(e.message), args.join(" "));
}

test("bad input is a usage error (exit 2) with a clear message", () => {
  usage([], /no resource arguments given/);
  usage(["deploy/web", "deploy/web"], /duplicate resource deploy\/web/);
  usage(["deploy", "web", "web"], /duplicate resource deploy\/web/);
  usage(["all", "deploy"], /'all' can't be supplied alongside other resources/);
  usage(["deploy/web", "all"], /'all' can't be supplied alongside other resources/);
  usage(["widgets"], /unknown resource type "widgets"/);
  usage(["deploy/a/b"], /expected TYPE or TYPE\/NAME/);
  usage(["deploy/"], /the name after "\/" is empty/);
  usage(["all/x"], /"all" takes no name/);
  usage(["deploy", "web/x"], /give plain names/);
});
