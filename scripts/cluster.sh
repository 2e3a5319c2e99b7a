#!/usr/bin/env bash
# The kind cluster from kind-config.yaml. Usage: cluster.sh up|down|status|kubeconfig
#   npm run cluster:up / cluster:down / cluster:status
# CLUSTER_FRESH=1 deletes an existing cluster first (the test suite's way); otherwise an existing one
# is reused if it is healthy.
# With ORDERFLOW_LOCAL_IMAGES=1 (machines that reach no container registry; .ci/run and the cluster tests
# set it) the node image and every image the cluster runs are built here (scripts/cluster/images.sh);
# otherwise kind uses its official node image. The kubeconfig goes where kind puts it ($KUBECONFIG or
# ~/.kube/config), context kind-orderflow.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/stack/common.sh"
source "$HERE/cluster/images.sh"

CLUSTER_NAME="$(sed -n -E 's/^name:[[:space:]]*([^[:space:]#]+).*/\1/p' "$ROOT_DIR/kind-config.yaml")"
CLUSTER_NAME="${CLUSTER_NAME:-orderflow}"
CLUSTER_DIR="$STACK_DIR/cluster"
CLUSTER_WAIT="${CLUSTER_WAIT:-180s}"
# Kernel settings the kubelet changes on the host: a kind node shares the host's kernel, and these
# are not namespaced. Saved at `up`, put back at `down`.
HOST_SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory)

kind_cmd() { PATH="$(dirname "$DOCKER"):$PATH" "$KIND" "$@"; }

cluster_exists() { kind_cmd get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; }

# An existing cluster is reused only if its API server answers and authorizes within a minute. A node
# container left by an interrupted run comes back when Docker's engine restarts, and until (or unless)
# its control plane recovers it answers Forbidden or nothing at all.
cluster_healthy() {
  local deadline=$((SECONDS + ${CLUSTER_HEALTH_WAIT:-60}))
  until "$KUBECTL" --context "kind-$CLUSTER_NAME" get nodes --request-timeout=5s >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 2
  done
}

save_sysctls() {
  [ -f "$CLUSTER_DIR/host-sysctls" ] && return 0
  local k; for k in "${HOST_SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done > "$CLUSTER_DIR/host-sysctls"
}

restore_sysctls() {
  [ -f "$CLUSTER_DIR/host-sysctls" ] || return 0
  local kv; while read -r kv; do sysctl -q -w "$kv" >/dev/null 2>&1 || log "could not restore $kv"; done < "$CLUSTER_DIR/host-sysctls"
  rm -f "$CLUSTER_DIR/host-sysctls"
}

# kind-config.yaml plus what this machine needs, as kubeadm patches kind merges in:
# - cgroup v1 hosts: kubelet 1.35 refuses cgroup v1 unless failCgroupV1 is false (the last release that allows it);
# - the local node image: the etcd and CoreDNS tags it carries instead of kubeadm's defaults.
effective_config() {
  local out="$CLUSTER_DIR/kind-config.yaml" patches=()
  if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    patches+=($'kind: KubeletConfiguration\nfailCgroupV1: false')
  fi
  if images_local; then
    patches+=("$(printf 'kind: ClusterConfiguration\netcd:\n  local:\n    imageTag: %s\ndns:\n  imageTag: %s' "${ETCD_IMAGE##*:}" "${COREDNS_IMAGE##*:}")")
  fi
  grep -q '^kubeadmConfigPatches:' "$ROOT_DIR/kind-config.yaml" && [ ${#patches[@]} -gt 0 ] \
    && die "kind-config.yaml has kubeadmConfigPatches of its own: merge this machine's patches into it by hand"
  cp "$ROOT_DIR/kind-config.yaml" "$out"
  if [ ${#patches[@]} -gt 0 ]; then
    echo 'kubeadmConfigPatches:' >> "$out"
    local p; for p in "${patches[@]}"; do printf '  - |\n%s\n' "$(sed 's/^/    /' <<<"$p")" >> "$out"; done
  fi
  echo "$out"
}

cluster_up() {
  mkdir -p "$CLUSTER_DIR"
  docker_up
  tools_ensure
  local args=(--name "$CLUSTER_NAME" --wait "$CLUSTER_WAIT") started=$SECONDS
  if images_local; then images_node; args+=(--image "$KIND_NODE_IMAGE"); fi
  if cluster_exists; then
    local stale=''
    if [ "${CLUSTER_FRESH:-0}" = 1 ]; then stale='CLUSTER_FRESH=1'
    elif ! cluster_healthy; then stale='its API server does not answer'; fi
    if [ -n "$stale" ]; then
      log "deleting the existing kind cluster $CLUSTER_NAME ($stale)"
      kind_cmd delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || die "could not delete kind cluster $CLUSTER_NAME"
    fi
  fi
  if cluster_exists; then log "kind cluster $CLUSTER_NAME exists"; else
    save_sysctls
    args+=(--config "$(effective_config)")
    log "creating kind cluster $CLUSTER_NAME${KUBECONFIG:+ (kubeconfig $KUBECONFIG)}"
    kind_cmd create cluster "${args[@]}" >"$CLUSTER_DIR/create.log" 2>&1 \
      || die "kind create cluster failed: $(tail -20 "$CLUSTER_DIR/create.log")"
    log "cluster created in $((SECONDS - started))s"
  fi
  if images_local; then load_dev_images; fi
  "$KUBECTL" --context "kind-$CLUSTER_NAME" wait --for=condition=Ready node --all --timeout=120s >/dev/null
  "$KUBECTL" --context "kind-$CLUSTER_NAME" -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
  cluster_status
}

# The chart's development services (charts/orderflow/ci/local-images-values.yaml names these images).
load_dev_images() {
  images_dev
  local name images=()
  for name in "${DEV_IMAGES[@]}"; do images+=("$(dev_image_name "$name")"); done
  log "loading ${images[*]} into the cluster"
  kind_cmd load docker-image --name "$CLUSTER_NAME" "${images[@]}" >"$CLUSTER_DIR/load.log" 2>&1 \
    || die "kind load docker-image failed: $(tail -5 "$CLUSTER_DIR/load.log")"
}

cluster_down() {
  [ -n "${KIND:-}" ] && [ -x "$KIND" ] && docker_usable && cluster_exists && {
    log "deleting kind cluster $CLUSTER_NAME"; kind_cmd delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true; }
  restore_sysctls
}

cluster_status() {
  if ! docker_usable || ! [ -x "$KIND" ] || ! cluster_exists; then printf '%-10s %-9s\n' kind absent; return 0; fi
  printf '%-10s %-9s %s\n' kind running "cluster $CLUSTER_NAME, context kind-$CLUSTER_NAME"
  "$KUBECTL" --context "kind-$CLUSTER_NAME" get nodes -o wide 2>/dev/null | cut -c1-120
  "$KUBECTL" --context "kind-$CLUSTER_NAME" get pods -A 2>/dev/null
}

cmd="${1:-status}"
mkdir -p "$STACK_DIR"
case "$cmd" in
  up) cluster_up ;;
  down) cluster_down ;;
  status) cluster_status ;;
  *) die "usage: cluster.sh up|down|status" ;;
esac
