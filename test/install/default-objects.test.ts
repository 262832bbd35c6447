import { test } from "node:test";
import assert from "node:assert/strict";
import { renderDefaultInstallObjects } from "../../src/install/default-objects.js";
import { runMesh } from "../helpers/run.js";
import { fixtureCertificates } from "./run-install.js";

const NOW = new Date("2026-01-01T00:00:00Z");

test("check --pre's install objects are exactly what `mesh install --ignore-cluster` renders, in the -L namespace", async () => {
  const objects = await renderDefaultInstallObjects("l5d-test", NOW, fixtureCertificates());
  const printed = await runMesh(["install", "--ignore-cluster", "-L", "l5d-test", "-o", "json"], { now: NOW });
  assert.equal(printed.code, 0, printed.stderr);
  const items = (JSON.parse(printed.stdout) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] }).items;
  const ids = (xs: { kind?: string; metadata: { name?: string; namespace?: string } }[]) => xs.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
  assert.deepEqual(ids(objects), ids(items));
  assert.ok(objects.some((o) => o.kind === "Namespace" && o.metadata.name === "l5d-test"));
  assert.ok(objects.filter((o) => !o.metadata.namespace).some((o) => o.kind === "ClusterRole"));
  for (const o of objects) if (o.metadata.namespace) assert.equal(o.metadata.namespace, "l5d-test", `${o.kind}/${o.metadata.name}`);
});
