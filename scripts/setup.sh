#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for mesh's test suite (run as root, or with sudo for apt):
#   1. Debian packages the real-cluster harness needs (Go, etcd, iproute2, the Kubernetes source),
#   2. npm dependencies (npm ci),
#   3. kube-apiserver, controller-manager and scheduler 1.20.2 built from Debian's source package,
#      and kubectl 1.20.2 from Debian's kubernetes-client package, cached under ~/.cache/mesh
#      (about 3.5 min the first time; a second run reuses them and takes seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/cluster-deps.sh
npm ci --no-audit --no-fund
node --import tsx test/cluster/cli.ts build
