/**
 * The control plane (with --cluster): trust anchor and issuer expiry, proxies older than the
 * control plane. These are `mesh check`'s own checks (src/checks, src/tls), run on the same reads.
 */
import { identityMaterial, ISSUER_SECRET } from "../checks/categories/identity.js";
import { checkStaleProxies } from "../checks/categories/production.js";
import type { CheckContext } from "../checks/context.js";
import { SkipCheck } from "../checks/types.js";
import { checkIssuerNotExpiringSoon, checkTrustAnchorsNotExpiringSoon } from "../tls/index.js";
import { sanitize } from "../output/sanitize.js";
import type { Analyzer } from "./analyzer.js";
import type { Obj } from "./model.js";

const stub = (kind: string, namespace: string, name: string): Obj => ({ kind, apiVersion: "v1", group: "", namespace, name, value: { metadata: { name, namespace } } });

/** A check's failure text on one line (its lists joined), safe to print. */
const oneLine = (e: unknown) => sanitize((e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim()).filter(Boolean).join(" "), 2000);

export function controlPlaneAnalyzer(ctx: CheckContext): Analyzer {
  return {
    id: "control-plane",
    kinds: ["Secret", "ConfigMap", "Pod"],
    codes: ["trustAnchorExpiring", "issuerExpiring", "staleProxies", "controlPlaneUnreadable"],
    async run(w, emit) {
      const cp = w.settings.controlPlaneNamespace;
      const config = stub("ConfigMap", cp, "linkerd-config");
      const issuer = stub("Secret", cp, ISSUER_SECRET);
      let material;
      try {
        material = await identityMaterial(ctx);
      } catch (e) {
        emit("controlPlaneUnreadable", issuer, [], `cannot read the identity issuer and trust anchors: ${oneLine(e)}`, "run `mesh check` for the control plane's state");
      }
      if (material) {
        try {
          checkTrustAnchorsNotExpiringSoon(material.anchors, w.settings.now);
        } catch (e) {
          emit("trustAnchorExpiring", config, [], `${oneLine(e)}; proxies stop trusting each other when it expires`, "rotate the trust anchor: https://linkerd.io/2.14/tasks/manually-rotating-control-plane-tls-credentials/");
        }
        try {
          checkIssuerNotExpiringSoon(material.issuer.certificate, w.settings.now);
        } catch (e) {
          emit("issuerExpiring", issuer, [], `${oneLine(e)}; proxies cannot renew their certificates after that`, "rotate the issuer certificate: https://linkerd.io/2.14/tasks/manually-rotating-control-plane-tls-credentials/");
        }
      }
      try {
        await checkStaleProxies(ctx);
      } catch (e) {
        if (e instanceof SkipCheck) return;
        emit("staleProxies", config, [], oneLine(e), "restart the workloads listed (kubectl rollout restart) so that they get the current proxy");
      }
    },
  };
}
