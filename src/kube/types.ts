// The slices of Kubernetes objects that mesh reads, as the API server sends them (JSON:
// timestamps are RFC 3339 strings). Deliberately partial: add a field when a reader needs it.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind: string; name: string; uid?: string; controller?: boolean }[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface List<T> {
  items: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface ServerVersion {
  major?: string;
  minor?: string;
  gitVersion: string;
  platform?: string;
}

export interface Namespace extends KubeObject {
  status?: { phase?: string };
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** `data` values are base64, as on the wire. */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image?: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
}

export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode: number; signal?: number; reason?: string; message?: string; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  image?: string;
  restartCount?: number;
  state?: ContainerState;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Pod extends KubeObject {
  spec: {
    containers: Container[];
    initContainers?: Container[];
    hostNetwork?: boolean;
    nodeName?: string;
    serviceAccountName?: string;
  };
  status?: {
    phase?: string;
    reason?: string;
    podIP?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  /** int-or-string; absent means "same as port". */
  targetPort?: number | string;
  protocol?: string;
}

export interface Service extends KubeObject {
  spec?: { clusterIP?: string; ports?: ServicePort[]; selector?: Record<string, string>; type?: string };
}

export interface Endpoints extends KubeObject {
  subsets?: { addresses?: { ip: string; targetRef?: { kind?: string; name: string; namespace?: string } }[] }[];
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
}

export interface ReplicaSet extends KubeObject {
  spec?: { selector?: LabelSelector };
  status?: { replicas?: number; readyReplicas?: number; conditions?: Condition[] };
}

export interface Deployment extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number; availableReplicas?: number; readyReplicas?: number };
}

export interface DaemonSet extends KubeObject {
  spec?: { selector?: LabelSelector };
  status?: { desiredNumberScheduled?: number; numberReady?: number };
}

export interface Node extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { conditions?: Condition[]; nodeInfo?: { containerRuntimeVersion?: string; kubeletVersion?: string } };
}

export interface CustomResourceDefinition extends KubeObject {
  spec: { group: string; versions: { name: string; served?: boolean; storage?: boolean }[] };
}

export interface WebhookClientConfig {
  /** base64 PEM bundle, as on the wire. */
  caBundle?: string;
  service?: { name: string; namespace: string; path?: string; port?: number };
}

export interface Webhook {
  name: string;
  clientConfig: WebhookClientConfig;
  failurePolicy?: string;
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: Webhook[];
}

export interface APIService extends KubeObject {
  spec?: { caBundle?: string; service?: { name: string; namespace: string } };
  status?: { conditions?: Condition[] };
}

export interface ServiceProfile extends KubeObject {
  spec?: { routes?: unknown[]; dstOverrides?: { authority: string; weight: unknown }[] };
}

/** The attributes of a SelfSubjectAccessReview (`authorization.k8s.io/v1`). */
export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  group?: string;
  version?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export interface AccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** `spec.selector` of apps/v1 and batch/v1 workloads (mesh reads matchLabels only). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

export interface StatefulSet extends KubeObject {
  spec?: { selector?: LabelSelector };
}

export interface Job extends KubeObject {
  spec?: { selector?: LabelSelector };
}

export type CronJob = KubeObject;

/** A ReplicationController's selector is a plain map. */
export interface ReplicationController extends KubeObject {
  spec?: { selector?: Record<string, string> };
}
