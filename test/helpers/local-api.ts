// A local HTTP server on 127.0.0.1 standing in for the API server, and mesh's own cluster client
// connected to it through a kubeconfig written for the purpose: for the transport's tests.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ClusterApi } from "../../src/kube/cluster.js";

export interface LocalApiState {
  /** Resolves when the first request's connection closes. */
  closed: Promise<void>;
  /** The URL of every request, in order. */
  requests: string[];
}

/** Runs `body` with a client of a server that answers with `handler`; both are closed afterwards. */
export async function withLocalApi(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (c: ClusterApi, state: LocalApiState) => Promise<void>,
  opts: { maxBodyBytes?: number } = {},
): Promise<void> {
  let closedNow: () => void = () => undefined;
  const closed = new Promise<void>((r) => (closedNow = r));
  const requests: string[] = [];
  const s = createServer((req, res) => {
    requests.push(req.url ?? "");
    req.socket.once("close", () => closedNow());
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const file = join(mkdtempSync(join(tmpdir(), "mesh-local-api-")), "config");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${(s.address() as AddressInfo).port}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: ctx\n  context: { cluster: c, user: u }\ncurrent-context: ctx\n`,
  );
  const c = await connect({ kubeconfig: file, linkerdNamespace: "linkerd", verbose: false, color: false }, { maxBodyBytes: opts.maxBodyBytes });
  try {
    await body(c, { closed, requests });
  } finally {
    c.close();
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
