/** `mesh analyze`'s core: files, the cluster's state, or both, to findings. Pure apart from the analyzers' inputs. */
import type { CheckContext } from "../checks/context.js";
import type { InjectConfig } from "../inject/transform.js";
import { setInjectConfig } from "./annotations.js";
import type { ClusterState } from "./cluster.js";
import { DEFAULT_SETTINGS, World } from "./context.js";
import { controlPlaneAnalyzer } from "./control-plane.js";
import type { Finding, Obj } from "./model.js";
import { OBJECT_ANALYZERS, runAnalyzers, type Suppression } from "./run.js";

export interface AnalyzeRequest {
  /** Objects read from files (laid over the cluster's when both are given). */
  files?: Obj[];
  cluster?: ClusterState;
  /** The namespaces the cluster was read in (undefined: all). */
  scope?: Set<string>;
  now: Date;
  suppress?: readonly Suppression[];
  /** For the control plane's analyzers (`mesh check`'s context, on the same cluster). */
  controlPlane?: CheckContext;
  /** Inject's configuration, to ask inject's report whether a pod can be injected. */
  inject: InjectConfig;
}

export async function analyze(req: AnalyzeRequest): Promise<{ findings: Finding[]; world: World }> {
  setInjectConfig(req.inject);
  const settings = { ...(req.cluster?.settings ?? DEFAULT_SETTINGS), now: req.now };
  const objects = [...(req.cluster?.objects ?? []), ...(req.files ?? [])];
  const overlay = Boolean(req.cluster && req.files?.length);
  const world = new World(objects, settings, req.cluster ? req.scope : undefined, req.cluster?.pods, overlay);
  const analyzers = [...OBJECT_ANALYZERS];
  if (req.controlPlane && req.cluster?.linkerdConfig) analyzers.push(controlPlaneAnalyzer(req.controlPlane));
  return { findings: await runAnalyzers(world, analyzers, req.suppress), world };
}
