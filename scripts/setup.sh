#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (with Go 1.26 or newer on PATH) for mesh's test suite (as root):
#   1. Debian packages the tests need (iproute2 for the pod network, prometheus for viz --prometheus-url,
#      zsh and fish for the completion scripts, chromium for the dashboard's browser tests),
#   2. npm dependencies (npm ci),
#   3. kube-apiserver, kube-controller-manager, kube-scheduler and kubectl of a current Kubernetes
#      release and the etcd it pins, built from Go modules, cached under
#      ~/.cache/mesh/kubernetes-<version>/ (about 7 minutes the first time; later runs take seconds).
#      MESH_KUBE_VERSION picks another release (e.g. 1.30).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/cluster-deps.sh
npm ci --no-audit --no-fund
node --import tsx test/cluster/cli.ts build
