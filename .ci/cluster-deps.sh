#!/bin/sh
# Installs what the real-cluster test harness (test/cluster/) needs beyond the machine's own Go:
# iproute2, for the pods' network namespace, and prometheus, which the `viz stat --prometheus-url`
# tests start on a free port of their own (test/cluster/prometheus.ts). Kubernetes, kubectl and etcd are built from Go
# modules by `node --import tsx test/cluster/cli.ts build` with the Go already on the machine
# (1.26 or newer; no second Go is installed). Run as root on Debian 12. Idempotent.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "cluster-deps: must run as root" >&2
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  echo "cluster-deps: no go on PATH: the machine's Go (1.26 or newer) builds the test cluster" >&2
  exit 1
fi
# Debian's golang-go (1.19) on the PATH beside the machine's Go is a trap: say so if it is there.
if dpkg-query -W -f='${Status}' golang-go 2>/dev/null | grep -q 'install ok installed'; then
  echo "cluster-deps: warning: Debian's golang-go is installed; the build uses $(command -v go) ($(go env GOVERSION))" >&2
fi

export DEBIAN_FRONTEND=noninteractive
# zsh and fish: the completion tests check the scripts `mesh completion zsh|fish` prints.
# chromium: the dashboard tests drive it headless through playwright-core.
packages="iproute2 prometheus zsh fish chromium"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing
fi
# prometheus' postinst enables (and, where an init system runs, starts) a system service on :9090
# scraping localhost; the tests never use it, so stop and disable it to save memory and the port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl disable --now prometheus || true
elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
  /etc/init.d/prometheus stop || true
fi
if command -v update-rc.d >/dev/null 2>&1 && [ -x /etc/init.d/prometheus ]; then
  update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
echo "cluster-deps: ok ($(go env GOVERSION))" >&2
