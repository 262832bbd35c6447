/**
 * SARIF output against the official SARIF 2.1.0 JSON schema (OASIS), as Microsoft's SARIF
 * multitool ships it in the npm package @microsoft/sarif-multitool-linux (a devDependency: the
 * only maintained npm package that carries the schema file), validated with ajv.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv2020 } from "ajv/dist/2020.js";
import { runMesh } from "../helpers/run.js";
import { casePath, markedLine } from "./cases.js";

const schemaPath = createRequire(import.meta.url).resolve("@microsoft/sarif-multitool-linux/sarif-2.1.0.json");

async function validator() {
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { $schema?: string; title?: string };
  assert.match(schema.title ?? "", /SARIF\) Version 2\.1\.0/);
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const addFormats = (await import("ajv-formats")).default as unknown as (a: Ajv2020) => void;
  addFormats(ajv);
  return ajv.compile(schema);
}

test("analyze -o sarif: a valid SARIF 2.1.0 log whose results point at the file and line", async () => {
  const validate = await validator();
  const file = casePath("server.yaml");
  const r = await runMesh(["analyze", file, "-o", "sarif"]);
  assert.ok(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors));
  type Result = { ruleId: string; ruleIndex: number; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } }; logicalLocations: { fullyQualifiedName: string }[] }[] };
  const run = (JSON.parse(r.stdout) as { runs: { tool: { driver: { rules: { id: string }[] } }; results: Result[] }[] }).runs[0];
  const result = run.results.find((x) => x.ruleId === "MESH203")!;
  assert.equal(result.level, "error");
  assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, "test/fixtures/analyze/cases/server.yaml");
  assert.equal(result.locations[0].physicalLocation.region.startLine, markedLine(file, "conflict"));
  assert.equal(result.locations[0].logicalLocations[0].fullyQualifiedName, "Server/shop/api-http-copy");
  assert.equal(run.tool.driver.rules[result.ruleIndex].id, "MESH203");
  assert.equal(r.code, 1);
});

test("analyze -o sarif: the schema check can fail (a log without a message is refused)", async () => {
  const validate = await validator();
  const r = await runMesh(["analyze", casePath("server.yaml"), "-o", "sarif"]);
  const log = JSON.parse(r.stdout) as { runs: { results: { message?: unknown }[] }[] };
  delete log.runs[0].results[0].message;
  assert.equal(validate(log), false);
  const noVersion = JSON.parse(r.stdout) as { version: string };
  noVersion.version = "2.0.0";
  assert.equal(validate(noVersion), false);
});

test("analyze -o sarif: file names with spaces are URI references", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "mesh-sarif-"));
  try {
    const p = join(dir, "my app.yaml");
    writeFileSync(p, "apiVersion: policy.linkerd.io/v1beta1\nkind: ServerAuthorization\nmetadata: {name: a, namespace: shop}\nspec:\n  server: {name: gone}\n");
    const log = JSON.parse((await runMesh(["analyze", p, "-o", "sarif"])).stdout) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    assert.ok((await validator())(log));
    assert.ok(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri.endsWith("/my%20app.yaml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
