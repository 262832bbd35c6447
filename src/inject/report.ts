/**
 * Why a resource was or wasn't injected, and the report `inject`/`uninject` print on
 * stderr, in Linkerd's words and layout (spec §4.13, §5).
 */

export interface Report {
  /** Lower-cased kind (`deployment`); empty when the document has no kind. */
  kind: string;
  name: string;
  hostNetwork: boolean;
  sidecar: boolean;
  udp: boolean;
  unsupportedResource: boolean;
  injectDisabled: boolean;
  annotatable: boolean;
  annotated: boolean;
  /** False only when the pod disables automount and token projection is off. */
  automountServiceAccountToken: boolean;
  uninjected: boolean;
  /** A Job or CronJob whose pod will not complete while the proxy runs (mesh only). */
  jobWithoutShutdown: boolean;
}

export function newReport(kind: string, name: string): Report {
  return {
    kind,
    name,
    hostNetwork: false,
    sidecar: false,
    udp: false,
    unsupportedResource: false,
    injectDisabled: false,
    annotatable: false,
    annotated: false,
    automountServiceAccountToken: true,
    uninjected: false,
    jobWithoutShutdown: false,
  };
}

export const resName = (r: Report) => `${r.kind}/${r.name}`;

export function injectable(r: Report): boolean {
  return !r.hostNetwork && !r.sidecar && !r.unsupportedResource && !r.injectDisabled && r.automountServiceAccountToken;
}

/** The reasons that make `inject` fail for a resource that cannot be injected, in Linkerd's order. */
export function injectErrors(r: Report): string[] {
  const out: string[] = [];
  if (!r.automountServiceAccountToken) out.push('automountServiceAccountToken set to "false", with Values.identity.serviceAccountTokenProjection set to "false"');
  if (r.hostNetwork) out.push("hostNetwork is enabled");
  if (r.sidecar) out.push("pod has a sidecar injected already");
  if (r.udp) out.push("UDP port(s) configured on pod spec");
  return out;
}

export interface Glyphs {
  ok: string;
  warn: string;
}

export const PLAIN_GLYPHS: Glyphs = { ok: "\u221a", warn: "\u203c" };

/** Linkerd's inject report. `jobHint` adds mesh's warning about Jobs that would never finish. */
export function formatInjectReport(reports: Report[], opts: { verbose: boolean; glyphs?: Glyphs; adminPort?: number }): string {
  const g = opts.glyphs ?? PLAIN_GLYPHS;
  const v = opts.verbose;
  let out = "\n";
  const names = (f: (r: Report) => boolean) => reports.filter(f).map(resName);
  const hostNetwork = names((r) => r.hostNetwork);
  const sidecar = names((r) => r.sidecar);
  const disabled = names((r) => r.injectDisabled);
  const udp = names((r) => r.udp);
  const jobs = names((r) => r.jobWithoutShutdown);
  const anyInjected = reports.some(injectable);
  const annotatable = reports.some((r) => r.annotatable);
  const automountOff = reports.some((r) => !r.automountServiceAccountToken);
  let warned = v || hostNetwork.length > 0 || sidecar.length > 0 || disabled.length > 0 || udp.length > 0 || automountOff;
  if (hostNetwork.length) out += `${g.warn} "hostNetwork: true" detected in ${hostNetwork.join(", ")}\n`;
  else if (v) out += `${g.ok} pods do not use host networking\n`;
  if (sidecar.length) out += `${g.warn} known 3rd party sidecar detected in ${sidecar.join(", ")}\n`;
  else if (v) out += `${g.ok} pods do not have a 3rd party proxy or initContainer already injected\n`;
  if (disabled.length) out += `${g.warn} "linkerd.io/inject: disabled" annotation set on ${disabled.join(", ")}\n`;
  else if (v) out += `${g.ok} pods are not annotated to disable injection\n`;
  if (!anyInjected && !annotatable) {
    out += `${g.warn} no supported objects found\n`;
    warned = true;
  } else if (v) out += `${g.ok} at least one resource can be injected or annotated\n`;
  if (udp.length) out += `${g.warn} ${udp.join(", ")} ${udp.length > 1 ? "use" : "uses"} "protocol: UDP"\n`;
  else if (v) out += `${g.ok} pod specs do not include UDP ports\n`;
  if (!automountOff && v) out += `${g.ok} pods do not have automountServiceAccountToken set to "false" or service account token projection is enabled\n`;
  if (jobs.length) {
    const port = opts.adminPort ?? 4191;
    out += `${g.warn} ${jobs.join(", ")}: the proxy keeps running after the job's containers exit, so the pod never completes; ` +
      `end the job's command with \`curl -sf -XPOST http://localhost:${port}/shutdown\` or wrap it with \`linkerd-await --shutdown -- <command>\`\n`;
    warned = true;
  }
  if (warned) out += "\n";
  for (const r of reports) {
    const ok = injectable(r);
    if (ok) out += `${r.kind} "${r.name}" injected\n`;
    else if (r.annotated) out += `${r.kind} "${r.name}" annotated\n`;
    else if (r.kind !== "") out += `${r.kind} "${r.name}" skipped\n`;
    else out += `document missing "kind" field, skipped\n`;
  }
  return `${out}\n`;
}

export function formatUninjectReport(reports: Report[]): string {
  let out = "\n";
  for (const r of reports) {
    if (r.uninjected) out += `${r.kind} "${r.name}" uninjected\n`;
    else if (r.kind !== "") out += `${r.kind} "${r.name}" skipped\n`;
    else out += `document missing "kind" field, skipped\n`;
  }
  return `${out}\n`;
}
