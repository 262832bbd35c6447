#!/bin/sh
# Installs the Debian packages the real-cluster test harness (test/cluster/) needs:
# Go and etcd to build and run Kubernetes 1.20.2 from Debian's source package
# (kubectl comes from the kubernetes-client package, unpacked by the build),
# iproute2 for the pod network namespace, and the newer reflect2/json-iterator
# sources that replace the vendored ones. Run as root on Debian 12. Idempotent.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "cluster-deps: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
sources=/etc/apt/sources.list.d/debian.sources
changed=0

# Debian's source index is off by default: `apt-get source kubernetes` needs deb-src.
if [ -f "$sources" ] && grep -q '^Types: deb$' "$sources"; then
  sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
  changed=1
elif [ ! -f "$sources" ] && ! grep -qs '^deb-src ' /etc/apt/sources.list; then
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >> /etc/apt/sources.list
  changed=1
fi

packages="golang-go etcd-server iproute2 golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

# The indexes must also list the source package (`apt-get source kubernetes`) and
# kubernetes-client, whose kubectl the build unpacks (`apt-get download`).
if [ "$changed" -eq 1 ] || [ -n "$missing" ] || ! apt-cache showsrc kubernetes >/dev/null 2>&1 \
  || ! apt-cache show kubernetes-client >/dev/null 2>&1; then
  apt-get update
fi
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing
fi

# etcd-server's postinst may start a system etcd on 127.0.0.1:2379; the harness
# picks free ports, so it does not conflict, but stop it to save memory.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl disable --now etcd || true
fi
echo "cluster-deps: ok" >&2
