import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { LINKERD_CRDS } from "../../src/checks/categories/crds.js";
import { templatesDir } from "../../src/paths.js";

test("the CRDs mesh checks for are those mesh install --crds renders, with each one's last version", () => {
  const rendered = readdirSync(templatesDir("crds"))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(templatesDir("crds", f), "utf8")).map((d) => d.toJS() as { metadata: { name: string }; spec: { versions: { name: string }[] } }))
    .filter((c) => c?.metadata?.name)
    .map((c) => ({ name: c.metadata.name, version: c.spec.versions[c.spec.versions.length - 1].name }));
  assert.deepEqual(rendered, LINKERD_CRDS);
});
