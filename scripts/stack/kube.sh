#!/usr/bin/env bash
# A real kube-apiserver and etcd for the operator's tests, built from Go modules once and cached outside the repo.
#   run:    scripts/stack/kube.sh ensure|bin-dir|version
#     ensure   build both binaries if the cache lacks them, then print their directory (logs go to stderr)
#     bin-dir  print that directory without building (tests/support/control-plane.ts asks this)
#     version  print the pinned k8s.io/kubernetes and etcd versions
#   source: kube_ensure, kube_bin_dir, kube_version
# Nothing runs here: tests/support/control-plane.ts starts a throwaway etcd + apiserver per test file.
# The versions live in scripts/stack/kube/go.mod alone; etcd is the release k8s.io/kubernetes itself
# requires (Debian's etcd-server is 3.4, older than what this apiserver is tested against).

# Standalone use: bring in the shared helpers (stack.sh has sourced them already).
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
fi

KUBE_MODULE_DIR="$ROOT_DIR/scripts/stack/kube"
# Kept at 2 because the machine has 2 cores and other suites run beside this build.
KUBE_BUILD_PARALLELISM="${KUBE_BUILD_PARALLELISM:-2}"

# The version a go.mod require line (block or single) names for module $1.
kube_mod_version() {
  sed -n -E "s#^(require[[:space:]]+)?[[:space:]]*$1[[:space:]]+(v[^[:space:]]+).*#\2#p" "$KUBE_MODULE_DIR/go.mod" | head -1
}

KUBE_VERSION="$(kube_mod_version 'k8s\.io/kubernetes')"
KUBE_ETCD_VERSION="$(kube_mod_version 'go\.etcd\.io/etcd/server/v3')"
KUBE_HOME="$CACHE_DIR/kube-${KUBE_VERSION#v}"
KUBE_BIN="$KUBE_HOME/bin"

kube_version() { echo "kubernetes $KUBE_VERSION etcd $KUBE_ETCD_VERSION"; }

kube_bin_dir() { echo "$KUBE_BIN"; }

# The marker records both versions, so a go.mod that moves etcd alone still triggers a rebuild.
kube_built() {
  [ -x "$KUBE_BIN/kube-apiserver" ] && [ -x "$KUBE_BIN/etcd" ] \
    && [ "$(cat "$KUBE_HOME/.complete" 2>/dev/null)" = "$(kube_version)" ]
}

kube_check_versions() {
  [ -n "$KUBE_VERSION" ] || die "no k8s.io/kubernetes version in $KUBE_MODULE_DIR/go.mod"
  [ -n "$KUBE_ETCD_VERSION" ] || die "no go.etcd.io/etcd/server/v3 version in $KUBE_MODULE_DIR/go.mod"
  # Staging modules are published as v0.<minor>.<patch> of the same release: a mismatch builds an apiserver
  # from mixed sources that may compile but misbehave.
  local want="v0.${KUBE_VERSION#v1.}" bad
  bad="$(grep -E '^[[:space:]]*k8s\.io/[^ ]+ => k8s\.io/' "$KUBE_MODULE_DIR/go.mod" | grep -v " $want\$" || true)"
  [ -z "$bad" ] || die "go.mod replaces staging modules at a version other than $want: $bad"
}

# What `kubectl version` and /version report; an unset gitVersion reads v0.0.0-master.
kube_version_ldflags() {
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  echo "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1" \
    "-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
}

kube_build() {
  command -v go >/dev/null || die "go not found: kube-apiserver and etcd are built from Go modules (Go 1.25+)"
  local tmp="$KUBE_HOME/bin.tmp" started=$SECONDS
  rm -rf "$tmp"; mkdir -p "$tmp"
  local x; x="$(kube_version_ldflags)"
  log "building kube-apiserver $KUBE_VERSION and etcd $KUBE_ETCD_VERSION into $KUBE_BIN (go, -p $KUBE_BUILD_PARALLELISM; ~10-20 min cold)"
  (
    cd "$KUBE_MODULE_DIR"
    export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod"
    go build -p "$KUBE_BUILD_PARALLELISM" -trimpath -ldflags="-s -w $x" -o "$tmp/kube-apiserver" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      && go build -p "$KUBE_BUILD_PARALLELISM" -trimpath -ldflags="-s -w" -o "$tmp/etcd" ./etcd
  ) >"$KUBE_HOME/build.log" 2>&1 || die "building kube-apiserver/etcd failed: $(tail -15 "$KUBE_HOME/build.log")"
  rm -rf "$KUBE_BIN"; mv "$tmp" "$KUBE_BIN"
  kube_version > "$KUBE_HOME/.complete"
  log "built in $((SECONDS - started))s: $(du -h "$KUBE_BIN/kube-apiserver" "$KUBE_BIN/etcd" | awk '{printf "%s %s  ", $2, $1}')"
}

kube_ensure() {
  kube_check_versions
  if ! kube_built; then
    mkdir -p "$KUBE_HOME"
    # Two suites starting at once would otherwise both spend ten minutes building the same thing.
    exec 8>"$KUBE_HOME/.lock"
    flock 8
    kube_built || kube_build
    flock -u 8; exec 8>&-
  fi
  kube_bin_dir
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd="${1:-ensure}"; shift || true
  case "$cmd" in
    ensure) kube_ensure ;;
    bin-dir) kube_check_versions; kube_bin_dir ;;
    version) kube_version ;;
    *) die "usage: kube.sh ensure|bin-dir|version" ;;
  esac
fi
