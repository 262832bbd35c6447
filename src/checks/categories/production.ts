import type { Pod } from "../../kube/types.js";
import { proxyIdentity } from "../../metrics/proxy-metrics.js";
import { inOrder, type CheckContext } from "../context.js";
import { CONTROL_PLANE_NS_LABEL, podWorkload, proxyContainer, proxyVersion, PROXY_CONTAINER } from "../pods.js";
import { fail, skip, type Category } from "../types.js";
import { compareVersions } from "../versions.js";
import { serverVersion } from "./versions.js";
import { mapLimit } from "../../concurrency.js";
import { KubeApiError } from "../../kube/errors.js";

/** Scrapes at most this many proxies at a time. */
const SCRAPE_CONCURRENCY = 16;

/** Meshed pods the extra data-plane checks look at: --proxy's selection, else every pod of this control plane. */
function meshedPods(ctx: CheckContext): Promise<Pod[]> {
  const ns = ctx.config.mode === "proxy" ? ctx.config.dataPlaneNamespace : "";
  return ctx.pods(ns, `${CONTROL_PLANE_NS_LABEL}=${ctx.cp}`);
}

const isRunning = (pod: Pod) => pod.status?.phase === "Running";
const proxyRunning = (pod: Pod) => Boolean(pod.status?.containerStatuses?.find((c) => c.name === PROXY_CONTAINER)?.state?.running);
const qualified = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** The expired-proxy-certificate check: scrapes each running proxy's `identity_cert_expiration_timestamp_seconds`. */
export async function checkProxyCertificates(ctx: CheckContext): Promise<void> {
  const pods = (ctx.config.mode === "proxy" ? await meshedPods(ctx) : await ctx.pods(ctx.cp, CONTROL_PLANE_NS_LABEL)).filter((p) => isRunning(p) && proxyContainer(p) && proxyRunning(p));
  if (pods.length === 0) skip("no running proxies");
  const now = ctx.now().getTime();
  const results = await mapLimit(pods, SCRAPE_CONCURRENCY, (pod) =>
    ctx.proxyMetrics(pod.metadata.namespace ?? "", pod.metadata.name).then(
      (text) => ({ pod, expiry: proxyIdentity(text).certExpiry }),
      (error: unknown) => ({ pod, error }),
    ),
  );
  const expired = results.flatMap((r) => ("expiry" in r && r.expiry && r.expiry.getTime() <= now ? [`\t* ${qualified(r.pod)} (expired on ${r.expiry.toISOString().replace(/\.000Z$/, "Z")})`] : []));
  const unreachable = results.filter((r): r is { pod: Pod; error: unknown } => "error" in r);
  if (expired.length)
    fail(
      `the mTLS certificate of these proxies has expired, so meshed connections to and from them fail:\n${expired.join("\n")}\n` +
        `    check that the identity issuer is valid (mesh check) and that linkerd-identity is running, then restart these pods so that their proxies get new certificates`,
    );
  // Every proxy unreadable: say why (often RBAC for pods/proxy) rather than pass without having looked.
  if (unreachable.length === results.length) fail(`cannot read the admin endpoint of any proxy: ${(unreachable[0].error as Error).message}`);
}

/**
 * The ServiceProfiles that concern namespace `ns` (every one when `ns` is ""): those in it, and those
 * elsewhere that name one of its services (the everyday mistake: a profile for `production`'s
 * service created in the client's namespace). One cluster-wide list; a user who may list only `ns`
 * gets the profiles in `ns`.
 */
async function profilesConcerning(ctx: CheckContext, ns: string) {
  if (!ns) return ctx.serviceProfiles("");
  const all = await ctx.serviceProfiles("").catch((e: unknown) => {
    if (e instanceof KubeApiError && e.status === 403) return ctx.serviceProfiles(ns);
    throw e;
  });
  const suffix = `.${ns}.svc.`;
  return all?.filter((sp) => sp.metadata.namespace === ns || sp.metadata.name.includes(suffix));
}

/** ServiceProfiles named `<svc>.<ns>.svc.<cluster domain>` must live in `<ns>`, and `<svc>` must exist there. */
export async function checkServiceProfiles(ctx: CheckContext): Promise<void> {
  const scope = ctx.config.mode === "proxy" ? ctx.config.dataPlaneNamespace : "";
  const [profiles, values, services] = await inOrder(profilesConcerning(ctx, scope), ctx.values().catch(() => undefined), ctx.services(""));
  if (!profiles) skip("the ServiceProfile CRD is not installed");
  const domain = values?.clusterDomain ?? "cluster.local";
  const existing = new Set(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  const problems: string[] = [];
  for (const sp of profiles) {
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.(.+)$/.exec(sp.metadata.name);
    if (!m || m[5] !== domain) continue; // an external authority, or another cluster's name
    const [svc, ns] = [m[1], m[3]];
    const where = `${sp.metadata.namespace}/${sp.metadata.name}`;
    if (ns !== sp.metadata.namespace)
      problems.push(`\t* ${where} names a service of namespace "${ns}": it applies only to clients in "${sp.metadata.namespace}", not to the service's other clients (create it in "${ns}")`);
    else if (!existing.has(`${ns}/${svc}`)) problems.push(`\t* ${where} names service "${svc}", which does not exist in namespace "${ns}" (delete it, or fix its name)`);
  }
  if (problems.length) fail(`some ServiceProfiles have no effect for the service they name:\n${problems.join("\n")}`);
}

/** Proxies whose version is older than the control plane's, grouped by workload, with the command that updates them. */
export async function checkStaleProxies(ctx: CheckContext): Promise<void> {
  const [cpVersion, meshed] = await inOrder(serverVersion(ctx), meshedPods(ctx));
  const pods = meshed.filter((p) => isRunning(p) && proxyContainer(p));
  const stale = new Map<string, { ns: string; kind: string; name: string; versions: Set<string>; pods: number }>();
  for (const pod of pods) {
    const v = proxyVersion(pod);
    if ((compareVersions(v, cpVersion) ?? 0) >= 0) continue;
    const w = podWorkload(pod) ?? { kind: "Pod", name: pod.metadata.name };
    const ns = pod.metadata.namespace ?? "";
    const key = `${ns}/${w.kind}/${w.name}`;
    const entry = stale.get(key) ?? { ns, kind: w.kind, name: w.name, versions: new Set<string>(), pods: 0 };
    entry.versions.add(v);
    entry.pods++;
    stale.set(key, entry);
  }
  if (stale.size === 0) return;
  const rows = [...stale.values()].sort((a, b) => a.ns.localeCompare(b.ns) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const restartable = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
  const lines = rows.map((r) => `\t* ${r.ns} ${r.kind.toLowerCase()}/${r.name} (${[...r.versions].sort().join(", ")}, ${r.pods} pod${r.pods === 1 ? "" : "s"})`);
  const commands = rows.filter((r) => restartable.has(r.kind)).map((r) => `\tkubectl rollout restart ${r.kind.toLowerCase()}/${r.name} -n ${r.ns}`);
  const others = rows.filter((r) => !restartable.has(r.kind));
  let text = `some proxies are older than the control plane (${cpVersion}):\n${lines.join("\n")}`;
  if (commands.length) text += `\n    restart them to get the current proxy:\n${commands.join("\n")}`;
  if (others.length) text += `\n    ${others.map((r) => `${r.kind.toLowerCase()}/${r.name}`).join(", ")}: delete the pods (or wait for the next run) so that they are recreated with the current proxy`;
  fail(text);
}

/** Job pods whose application containers finished while linkerd-proxy still runs: the Job never completes. */
export async function checkJobProxies(ctx: CheckContext): Promise<void> {
  const stuck = (await meshedPods(ctx)).filter((pod) => {
    if (!pod.metadata.ownerReferences?.some((o) => o.kind === "Job")) return false;
    const statuses = pod.status?.containerStatuses ?? [];
    const app = statuses.filter((c) => c.name !== PROXY_CONTAINER);
    return proxyRunning(pod) && app.length > 0 && app.every((c) => c.state?.terminated);
  });
  if (stuck.length === 0) return;
  const lines = stuck.map((p) => `\t* ${qualified(p)} (job/${p.metadata.ownerReferences!.find((o) => o.kind === "Job")!.name})`);
  const deletes = stuck.map((p) => `\tkubectl delete pod ${p.metadata.name} -n ${p.metadata.namespace}`);
  fail(
    `these Job pods finished their work but linkerd-proxy keeps running, so their Jobs never complete:\n${lines.join("\n")}\n` +
      `    make the job stop its proxy when done: run its command as \`linkerd-await --shutdown -- <command>\`, or end it with \`curl -X POST http://localhost:4191/shutdown\`` +
      ` (or annotate the pod template with linkerd.io/inject: disabled); to release the stuck pods now:\n${deletes.join("\n")}`,
  );
}

/** Checks mesh adds to Linkerd's: the failure modes that bite in production. Hints point at Linkerd's docs for the fix. */
export function meshProduction(docsBase: string): Category<CheckContext> {
  return {
    id: "mesh-production",
    checks: [
      {
        id: "mesh-proxy-certs-expired",
        description: "proxy identity certificates have not expired",
        hint: `${docsBase}tasks/replacing_expired_certificates/`,
        run: checkProxyCertificates,
      },
      {
        id: "mesh-service-profiles",
        description: "ServiceProfiles name a service in their own namespace",
        hint: `${docsBase}reference/service-profiles/`,
        severity: "warning",
        run: checkServiceProfiles,
      },
      {
        id: "mesh-stale-proxies",
        description: "data plane proxies are not older than the control plane",
        hint: `${docsBase}tasks/upgrade/#upgrade-the-data-plane`,
        severity: "warning",
        run: checkStaleProxies,
      },
      {
        id: "mesh-job-proxies",
        description: "no Job pod is kept running by its proxy",
        hint: `${docsBase}tasks/graceful-shutdown/`,
        severity: "warning",
        run: checkJobProxies,
      },
    ],
  };
}
