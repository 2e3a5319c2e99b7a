#!/usr/bin/env bash
# The cluster's tools and node binaries, built from Go modules once and cached outside the repo by version.
#   run:    scripts/cluster/tools.sh ensure|ensure-skaffold|kind|kubectl|skaffold|versions
#     ensure builds what the cluster needs; ensure-skaffold builds skaffold (the cluster tests use it)
#   source: tools_ensure, node_bin_dir, KIND, KUBECTL, the *_VERSION variables
# kind, crictl and local-path-provisioner come from their own modules; kubelet, kubeadm, kubectl and
# the control plane from k8s.io/kubernetes at the version scripts/stack/kube/go.mod pins (the one the
# operator tests' kube-apiserver is built from), CoreDNS from scripts/cluster/coredns.
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=../stack/common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../stack/common.sh"
fi
# shellcheck source-path=SCRIPTDIR source=../stack/kube.sh
source "$ROOT_DIR/scripts/stack/kube.sh"

KIND_VERSION=v0.33.0
CRICTL_VERSION=v1.34.0
LOCAL_PATH_VERSION=v0.0.30
PAUSE_VERSION=3.10.1
# The newest skaffold v2 release the Go module proxy serves here (later tags answer "not available").
SKAFFOLD_VERSION=v2.24.0
COREDNS_VERSION="$(sed -n -E 's#^require github.com/coredns/coredns (v[^ ]+)#\1#p' "$ROOT_DIR/scripts/cluster/coredns/go.mod")"
TOOLS_HOME="$CACHE_DIR/cluster-tools"
NODE_BIN="$KUBE_HOME/node-bin"
KIND="$TOOLS_HOME/kind-$KIND_VERSION/kind"
KUBECTL="$NODE_BIN/kubectl"
SKAFFOLD="$TOOLS_HOME/skaffold-$SKAFFOLD_VERSION/skaffold"
# The binaries a kind node runs, besides kube-apiserver and etcd (scripts/stack/kube.sh builds those).
NODE_COMMANDS=(kubelet kubeadm kubectl kube-controller-manager kube-scheduler kube-proxy)

node_bin_dir() { echo "$NODE_BIN"; }

# go install MODULE/PKG@VERSION into $TOOLS_HOME/NAME-VERSION, once.
go_install_cached() {
  local name="$1" version="$2" pkg="$3" dir="$TOOLS_HOME/$1-$2"
  [ -x "$dir/$name" ] && [ -f "$dir/.complete" ] && return 0
  command -v go >/dev/null || die "go not found: $name is built from its Go module"
  mkdir -p "$dir"; local started=$SECONDS
  log "building $name $version from its Go module (once)"
  (cd "$dir" && GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off \
    go install -p 2 -trimpath -ldflags "-s -w" "$pkg@$version") >"$dir/build.log" 2>&1 \
    || die "building $name failed: $(tail -5 "$dir/build.log")"
  [ -x "$dir/$name" ] || mv "$dir/$(basename "$pkg")" "$dir/$name"
  touch "$dir/.complete"
  log "$name built in $((SECONDS - started))s"
}

coredns_ensure() {
  local dir="$TOOLS_HOME/coredns-$COREDNS_VERSION"
  [ -x "$dir/coredns" ] && [ -f "$dir/.complete" ] && return 0
  mkdir -p "$dir"; local started=$SECONDS
  log "building CoreDNS $COREDNS_VERSION (kubeadm's plugins only, once)"
  (cd "$ROOT_DIR/scripts/cluster/coredns" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off \
    go build -p 2 -trimpath -ldflags "-s -w" -o "$dir/coredns" .) >"$dir/build.log" 2>&1 \
    || die "building CoreDNS failed: $(tail -5 "$dir/build.log")"
  touch "$dir/.complete"
  log "CoreDNS built in $((SECONDS - started))s"
}

# skaffold's go.mod has replace directives, which `go install pkg@version` refuses: build it inside
# its downloaded module instead (read-only, so nothing there changes).
skaffold_ensure() {
  local dir="$TOOLS_HOME/skaffold-$SKAFFOLD_VERSION" src started=$SECONDS
  [ -x "$dir/skaffold" ] && [ -f "$dir/.complete" ] && return 0
  mkdir -p "$dir"
  log "building skaffold $SKAFFOLD_VERSION from its Go module (once; several minutes)"
  src="$(cd "$dir" && GOFLAGS=-mod=mod GOWORK=off go mod download -json "github.com/GoogleContainerTools/skaffold/v2@$SKAFFOLD_VERSION" \
    | sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
  [ -d "$src" ] || die "could not download skaffold $SKAFFOLD_VERSION"
  (cd "$src" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly go build -p 2 -trimpath \
    -ldflags "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
    -o "$dir/skaffold" ./cmd/skaffold) >"$dir/build.log" 2>&1 || die "building skaffold failed: $(tail -5 "$dir/build.log")"
  touch "$dir/.complete"
  log "skaffold built in $((SECONDS - started))s"
}

# The sandbox ("pause") container: sleeps, reaps zombies, exits on SIGINT/SIGTERM. A static C binary,
# like the upstream one.
pause_ensure() {
  local dir="$TOOLS_HOME/pause-$PAUSE_VERSION"
  [ -x "$dir/pause" ] && return 0
  mkdir -p "$dir"
  gcc -Os -static -o "$dir/pause.tmp" "$ROOT_DIR/scripts/cluster/pause.c" || die "building pause failed"
  strip "$dir/pause.tmp"; mv "$dir/pause.tmp" "$dir/pause"
}

node_binaries_built() {
  local c; for c in "${NODE_COMMANDS[@]}"; do [ -x "$NODE_BIN/$c" ] || return 1; done
  [ "$(cat "$NODE_BIN/.complete" 2>/dev/null)" = "$(kube_version)" ]
}

node_binaries_ensure() {
  kube_ensure >/dev/null
  node_binaries_built && return 0
  local tmp="$NODE_BIN.tmp" started=$SECONDS pkgs=() c
  for c in "${NODE_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  rm -rf "$tmp"; mkdir -p "$tmp"
  local x; x="$(kube_version_ldflags)"
  log "building ${NODE_COMMANDS[*]} $KUBE_VERSION (once; shares the Go build cache with kube-apiserver)"
  # One go build for all six: their common packages compile once.
  (cd "$KUBE_MODULE_DIR" && CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -p "$KUBE_BUILD_PARALLELISM" -trimpath -ldflags="-s -w $x" -o "$tmp/" "${pkgs[@]}") \
    >"$KUBE_HOME/node-build.log" 2>&1 || die "building the node binaries failed: $(tail -15 "$KUBE_HOME/node-build.log")"
  rm -rf "$NODE_BIN"; mv "$tmp" "$NODE_BIN"
  cp "$KUBE_BIN/kube-apiserver" "$KUBE_BIN/etcd" "$NODE_BIN/"
  kube_version > "$NODE_BIN/.complete"
  log "node binaries built in $((SECONDS - started))s"
}

tools_ensure() {
  mkdir -p "$TOOLS_HOME"
  exec 7>"$TOOLS_HOME/.lock"; flock 7
  go_install_cached kind "$KIND_VERSION" sigs.k8s.io/kind
  go_install_cached crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  go_install_cached local-path-provisioner "$LOCAL_PATH_VERSION" github.com/rancher/local-path-provisioner
  pause_ensure
  coredns_ensure
  node_binaries_ensure
  flock -u 7; exec 7>&-
}

tools_versions() {
  echo "kind $KIND_VERSION, skaffold $SKAFFOLD_VERSION, $(kube_version), crictl $CRICTL_VERSION, coredns $COREDNS_VERSION, local-path-provisioner $LOCAL_PATH_VERSION, pause $PAUSE_VERSION"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-ensure}" in
    ensure) tools_ensure ;;
    kind) echo "$KIND" ;;
    kubectl) echo "$KUBECTL" ;;
    skaffold) echo "$SKAFFOLD" ;;
    ensure-skaffold) skaffold_ensure; echo "$SKAFFOLD" ;;
    versions) tools_versions ;;
    *) die "usage: tools.sh ensure|ensure-skaffold|kind|kubectl|skaffold|versions" ;;
  esac
fi
