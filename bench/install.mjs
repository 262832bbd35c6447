// Wall time of `mesh install --ignore-cluster` (the built bin, certificates generated: one
// ECDSA P-256 CA and three ECDSA P-256 webhook certificates), median of N runs. Target: <= 400 ms.
// To show where the time goes, the same run also measures, interleaved:
//   node -e 0                          bare Node start-up
//   mesh version --client              mesh start-up
//   mesh install with given certs      no key generation: fixture identity certificates and the
//                                      user-supplied shape of webhook pairs (RSA 2048), validated
//   key generation alone               4 x P-256 with WebCrypto, concurrently, in-process
//   RSA key generation alone           3 x RSA-2048, what the webhook keys cost before (for the record)
//   node bench/install.mjs [runs]      (npm run bench builds first)
import { spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 15);
const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));
const certs = fileURLToPath(new URL("../test/fixtures/certs/", import.meta.url));
const TARGET_MS = 400;

const givenCerts = [
  "--identity-trust-anchors-file", `${certs}ca.crt`,
  "--identity-issuer-certificate-file", `${certs}issuer.crt`,
  "--identity-issuer-key-file", `${certs}issuer.key`,
  "--set-file",
  ["proxy-injector", "sp-validator", "policy-validator"]
    .map((w, i) => {
      const key = ["proxyInjector", "profileValidator", "policyValidator"][i];
      return `${key}.crtPEM=${certs}webhook-${w}.crt,${key}.keyPEM=${certs}webhook-${w}.key`;
    })
    .join(","),
];

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function keygen(params, n) {
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, () => webcrypto.subtle.generateKey(params, true, ["sign", "verify"])));
  return performance.now() - start;
}
const P256 = { name: "ECDSA", namedCurve: "P-256" };
const RSA2048 = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = loadavg()[0];
time([bin, "install", "--ignore-cluster"]); // warm the file cache
const series = { node: [], startup: [], install: [], installGivenCerts: [], keygen: [], rsaKeygen: [] };
for (let i = 0; i < runs; i++) {
  series.install.push(time([bin, "install", "--ignore-cluster"]));
  series.installGivenCerts.push(time([bin, "install", "--ignore-cluster", ...givenCerts]));
  series.startup.push(time([bin, "version", "--client"]));
  series.node.push(time(["-e", "0"]));
  series.keygen.push(await keygen(P256, 4));
  series.rsaKeygen.push(await keygen(RSA2048, 3));
}
const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, +median(v).toFixed(1)]));
console.log(
  JSON.stringify({
    bench: "install",
    runs,
    medianMs: m.install,
    target: TARGET_MS,
    ok: m.install <= TARGET_MS,
    breakdown: {
      nodeStartMs: m.node,
      meshStartMs: m.startup,
      installWithoutKeygenMs: m.installGivenCerts,
      keygenInProcessMs: m.keygen,
      rsaWebhookKeygenInProcessMs: m.rsaKeygen,
    },
    loadAverage1m: +load.toFixed(2),
  }),
);
