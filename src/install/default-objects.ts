/**
 * The control plane `mesh install --ignore-cluster` renders without flags, as objects: what
 * `mesh check --pre` dry-run creates to learn whether the install would be admitted.
 */
import { MeshError } from "../errors.js";
import type { KubeObject } from "../kube/types.js";
import type { CertificateSource } from "../tls/index.js";
import { renderControlPlane } from "./install.js";
import { defaultValues } from "./values.js";

/** Renders the default control plane into `namespace`; a failure is a MeshError saying rendering failed. */
export async function renderDefaultInstallObjects(namespace: string, now: Date, certificates: CertificateSource): Promise<KubeObject[]> {
  let objects: unknown[];
  try {
    objects = (await renderControlPlane({ namespace, now, values: defaultValues(), overrides: {}, files: {}, clusterChecked: false, certificates })).objects;
  } catch (e) {
    throw new MeshError(`Error rendering install manifest: ${(e as Error).message}`, e instanceof MeshError ? e.hint : undefined, 1, e);
  }
  return objects.filter((o): o is KubeObject => {
    const k = o as Partial<KubeObject> | undefined;
    return Boolean(k?.kind && k.metadata?.name);
  });
}
