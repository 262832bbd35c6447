// Listed objects reduced to the slice of them that types.ts declares: what mesh reads. A pod or a
// workload as the API server sends it is mostly what mesh never looks at (managedFields, volumes,
// pod templates, container statuses' IDs and resources...); reducing each page of a list as it is
// parsed lets the rest go while it is young, instead of holding every object of a big cluster whole.
import type {
  Container,
  ContainerStatus,
  CronJob,
  DaemonSet,
  Deployment,
  Job,
  KubeObject,
  ObjectMeta,
  Pod,
  PodCondition,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from "./types.js";

/** Carry the field over as the server sent it. */
export const KEEP = true;

/**
 * How each field of T is carried over: KEEP, or a function that reduces its value. Every field of
 * T must be named, and no other: a field added to types.ts and forgotten here fails to compile
 * instead of reading as absent.
 */
export type Fields<T> = { [K in keyof T]-?: typeof KEEP | ((value: NonNullable<T[K]>) => NonNullable<T[K]>) };

/** `o` with only the fields `fields` names: absent ones stay absent, null stays null. */
export function project<T extends object>(o: T, fields: Fields<T>): T {
  const out: Partial<T> = {};
  for (const k in fields) {
    const v = o[k];
    if (v === undefined) continue;
    const f = fields[k];
    out[k] = v === null || f === KEEP ? v : (f as (value: unknown) => T[typeof k])(v);
  }
  return out as T;
}

const each =
  <T extends object>(fields: Fields<T>) =>
  (list: T[]): T[] =>
    list.map((o) => project(o, fields));

const META: Fields<ObjectMeta> = {
  name: KEEP,
  namespace: KEEP,
  uid: KEEP,
  generateName: KEEP,
  labels: KEEP,
  annotations: KEEP,
  ownerReferences: KEEP,
  creationTimestamp: KEEP,
  deletionTimestamp: KEEP,
};
const OBJECT: Fields<KubeObject> = { apiVersion: KEEP, kind: KEEP, metadata: (m) => project(m, META) };
const CONTAINER: Fields<Container> = { name: KEEP, image: KEEP, env: KEEP, ports: KEEP };
const CONTAINER_STATUS: Fields<ContainerStatus> = { name: KEEP, ready: KEEP, started: KEEP, image: KEEP, restartCount: KEEP, state: KEEP };
const CONDITION: Fields<PodCondition> = { type: KEEP, status: KEEP, reason: KEEP, message: KEEP };
const POD: Fields<Pod> = {
  ...OBJECT,
  spec: (s) => project(s, { containers: each(CONTAINER), initContainers: each(CONTAINER), hostNetwork: KEEP, nodeName: KEEP, serviceAccountName: KEEP }),
  status: (s) =>
    project(s, {
      phase: KEEP,
      reason: KEEP,
      podIP: KEEP,
      conditions: each(CONDITION),
      containerStatuses: each(CONTAINER_STATUS),
      initContainerStatuses: each(CONTAINER_STATUS),
    }),
};

/** A listed pod reduced to the fields of the Pod type. */
export const projectPod = (pod: Pod): Pod => project(pod, POD);

/** Listed workloads reduced to the fields of their types (selectors, replica counts). */
export const projectDeployment = (d: Deployment): Deployment =>
  project(d, { ...OBJECT, spec: (s) => project(s, { replicas: KEEP, selector: KEEP }), status: (s) => project(s, { replicas: KEEP, availableReplicas: KEEP, readyReplicas: KEEP }) });
export const projectReplicaSet = (rs: ReplicaSet): ReplicaSet =>
  project(rs, { ...OBJECT, spec: (s) => project(s, { selector: KEEP }), status: (s) => project(s, { replicas: KEEP, readyReplicas: KEEP, conditions: KEEP }) });
export const projectDaemonSet = (ds: DaemonSet): DaemonSet =>
  project(ds, { ...OBJECT, spec: (s) => project(s, { selector: KEEP }), status: (s) => project(s, { desiredNumberScheduled: KEEP, numberReady: KEEP }) });
export const projectStatefulSet = (sts: StatefulSet): StatefulSet => project(sts, { ...OBJECT, spec: (s) => project(s, { selector: KEEP }) });
export const projectJob = (job: Job): Job => project(job, { ...OBJECT, spec: (s) => project(s, { selector: KEEP }) });
export const projectReplicationController = (rc: ReplicationController): ReplicationController => project(rc, { ...OBJECT, spec: (s) => project(s, { selector: KEEP }) });
export const projectCronJob = (cj: CronJob): CronJob => project(cj, OBJECT);
