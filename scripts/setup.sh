#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for mesh's test suite (run as root, or with sudo for apt):
#   1. Debian packages the real-cluster harness needs (Go, etcd, iproute2, the Kubernetes source),
#   2. npm dependencies (npm ci),
#   3. kube-apiserver, controller-manager, scheduler and kubectl 1.20.2 built from Debian's source
#      package, cached under ~/.cache/mesh (a second run reuses them and takes seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/cluster-deps.sh
npm ci --no-audit --no-fund
node --import tsx test/cluster/cli.ts build
