// Strings from linkerd-config's values printed by commands: the control plane's version (`mesh
// version`, `version --proxy`) and the cluster domain (`diagnostics endpoints`). A hostile or
// broken API server chooses them; they must reach the terminal as one inert line.
// (Found by this suite: `mesh version` printed the raw linkerdVersion, and endpoints' usage error
// the raw clusterDomain.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { apiHandler, expectClean, fakeServer, json, kubeconfig, meshIn, type Timed } from "./harness.js";

const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/; // tabs are the tables' own
/** YAML escapes for: clear screen, a window title, BEL, an 8-bit CSI, and a fake error line. */
const YAML_ESC = "\\e[2J\\e]0;PWNED\\a\\x9b31m\\r\\nerror: fake";

async function withValues(values: string, argv: string[], extra?: (path: string, res: import("node:http").ServerResponse) => boolean): Promise<Timed> {
  const s = await fakeServer(
    apiHandler((p, _req, res) => {
      if (p.endsWith("/configmaps/linkerd-config")) return json(res, 200, { metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values } }), true;
      return extra?.(p.split("?")[0], res) ?? false;
    }),
  );
  try {
    return await meshIn(["--kubeconfig", kubeconfig(s.url), ...argv]);
  } finally {
    await s.close();
  }
}

for (const argv of [["version"], ["version", "--short"], ["version", "--proxy"]]) {
  test(`mesh ${argv.join(" ")}: a linkerdVersion with escape sequences and a fake line is printed inert`, async () => {
    const r = await withValues(`linkerdVersion: "stable-2.14.10${YAML_ESC}"\n`, argv);
    const ctx = JSON.stringify({ stdout: r.stdout, stderr: r.stderr });
    assert.equal(r.code, 0, ctx);
    assert.doesNotMatch(r.stdout + r.stderr, RAW, `raw control bytes: ${ctx}`);
    assert.doesNotMatch(r.stdout, /^error: fake/m, `a fake line: ${ctx}`);
    assert.match(r.stdout, /stable-2\.14\.10/);
  });
}

test("diagnostics endpoints: a clusterDomain with escape sequences is refused, named inert", async () => {
  const r = await withValues(`clusterDomain: "x${YAML_ESC}"\n`, ["diagnostics", "endpoints", "web.ns.svc.cluster.local:80"]);
  expectClean(r, { code: 1, message: /^linkerd-config's clusterDomain "x.*" is not a DNS name$/, maxMs: 15_000 });
});
