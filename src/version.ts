/** The Linkerd release mesh renders and checks against. */
export const LINKERD_VERSION = "stable-2.14.10";
/** mesh's own version, reported next to the Linkerd release it targets. */
export const MESH_VERSION = "0.1.0";
/** Value of the `linkerd.io/created-by` annotation, as written by Linkerd's CLI. */
export const CREATED_BY = `linkerd/cli ${LINKERD_VERSION}`;
