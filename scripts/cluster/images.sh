#!/usr/bin/env bash
# Container images for the cluster, built by the local Docker engine; nothing is pulled.
#   run:    scripts/cluster/images.sh base|app|dev|node|all   (app takes an optional tag, default orderflow:dev)
#   source: images_* functions
# With ORDERFLOW_LOCAL_IMAGES=1 (set by .ci/run and the cluster tests, for machines that reach no container
# registry) every image, bases included, is built here: a Debian bookworm made by debootstrap, a
# node:20-bookworm-slim stand-in from it, the dev services, the control plane and the kind node.
# Without it the official images are used as the chart and kind name them. Each local image carries a
# label with the hash of what it was built from, and is rebuilt only when that changes.
if ! declare -F log >/dev/null || [ -z "${CACHE_DIR:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=../stack/common.sh
  source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../stack/common.sh"
fi
# shellcheck source-path=SCRIPTDIR source=docker.sh
source "$ROOT_DIR/scripts/cluster/docker.sh"
# shellcheck source-path=SCRIPTDIR source=../stack/kafka.sh
source "$ROOT_DIR/scripts/stack/kafka.sh"
# shellcheck source-path=SCRIPTDIR source=tools.sh
source "$ROOT_DIR/scripts/cluster/tools.sh"

IMAGES_HOME="$CACHE_DIR/images"
IMAGES_DIR="$ROOT_DIR/scripts/cluster/images"
DEBIAN_SUITE=bookworm
DEBIAN_IMAGE="orderflow.local/debian:$DEBIAN_SUITE"
NODE_BASE_IMAGE=node:20-bookworm-slim
HASH_LABEL=io.orderflow.source-hash

images_local() { [ "${ORDERFLOW_LOCAL_IMAGES:-0}" = 1 ]; }

# The label an image was built with ("" when it does not exist).
image_hash() { "$DOCKER" image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true; }

# A stable hash of files, directories and extra strings (versions) that an image is built from.
source_hash() {
  local item
  for item in "$@"; do
    if [ -d "$item" ]; then (cd "$item" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    elif [ -f "$item" ]; then sha256sum < "$item"
    else printf '%s\n' "$item"; fi
  done | sha256sum | cut -c1-16
}

# The Debian mirror the host's apt uses: containers install from the same one.
debian_mirror() {
  local uri
  uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

# The host's CA bundle, handed to builds as a BuildKit secret (never a layer): where outbound TLS is
# inspected, package registries are trusted only through it.
ca_bundle() {
  local f
  for f in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# docker build with BuildKit, the CA secret and the source-hash label; skipped when the image is current.
#   build_image NAME CONTEXT HASH [docker build args...]
build_image() {
  local name="$1" context="$2" hash="$3"; shift 3
  if [ "$(image_hash "$name")" = "$hash" ]; then return 0; fi
  local args=(--label "$HASH_LABEL=$hash" -t "$name") ca started=$SECONDS
  if ca="$(ca_bundle)"; then args+=(--secret "id=ca,src=$ca"); fi
  log "building image $name"
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain "${args[@]}" "$@" "$context" >"$IMAGES_HOME/build-${name//[\/:]/_}.log" 2>&1 \
    || die "docker build of $name failed: $(tail -15 "$IMAGES_HOME/build-${name//[\/:]/_}.log")"
  log "built $name in $((SECONDS - started))s ($("$DOCKER" image inspect --format '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

# Debian bookworm (minbase) made by debootstrap and imported: the root of every local image.
images_debian() {
  local hash; hash="$(source_hash "$DEBIAN_SUITE" minbase)"
  [ "$(image_hash "$DEBIAN_IMAGE")" = "$hash" ] && return 0
  apt_install debootstrap
  local root="$IMAGES_HOME/debian-$DEBIAN_SUITE.tmp" started=$SECONDS
  rm -rf "$root"; mkdir -p "$IMAGES_HOME"
  log "debootstrap $DEBIAN_SUITE (minbase) from the host's Debian mirror"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$(debian_mirror)" >"$IMAGES_HOME/debootstrap.log" 2>&1 \
    || die "debootstrap failed: $(tail -5 "$IMAGES_HOME/debootstrap.log")"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import -c "LABEL $HASH_LABEL=$hash" -c 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$root"
  log "imported $DEBIAN_IMAGE in $((SECONDS - started))s"
}

# A stand-in for the official node:20-bookworm-slim: the host's Node.js 20 and npm on that Debian,
# at the official image's paths, with its `node` user (uid 1000).
images_node_base() {
  local node npm_dir ctx="$IMAGES_HOME/node-base"
  node="$(command -v node)" || die "node not found"
  "$node" -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' \
    || die "the node:20-bookworm-slim stand-in needs Node.js 20 on the host"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  local hash; hash="$(source_hash "$IMAGES_DIR/node-base" "$("$node" --version)" "$(image_hash "$DEBIAN_IMAGE")")"
  [ "$(image_hash "$NODE_BASE_IMAGE")" = "$hash" ] && return 0
  rm -rf "$ctx"; mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules"
  cp "$IMAGES_DIR/node-base/Dockerfile" "$ctx/"
  cp "$(readlink -f "$node")" "$ctx/usr/local/bin/node"
  cp -r "$npm_dir" "$ctx/usr/local/lib/node_modules/npm"
  build_image "$NODE_BASE_IMAGE" "$ctx" "$hash" --build-arg "BASE=$DEBIAN_IMAGE"
  rm -rf "$ctx"
}

images_base() {
  images_local || return 0
  docker_up; mkdir -p "$IMAGES_HOME"
  images_debian
  images_node_base
}

# The application image, from the repository's Dockerfile (one image, every role).
images_app() {
  local tag="${1:-orderflow:dev}" started=$SECONDS
  images_base
  local hash; hash="$(cd "$ROOT_DIR" && source_hash Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json api cli lib operator workers "$(image_hash "$NODE_BASE_IMAGE")")"
  build_image "$tag" "$ROOT_DIR" "$hash" -f "$ROOT_DIR/Dockerfile"
  log "image $tag: $("$DOCKER" image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}'), $((SECONDS - started))s"
}

# Development services for the chart (postgresql, rabbitmq, kafka, prometheus), each from
# scripts/cluster/images/<name>/ on the local Debian; the tags name the Debian package's (or Kafka's) version.
DEV_IMAGES=(postgresql rabbitmq kafka prometheus)
dev_image_name() {
  case "$1" in
    postgresql) echo orderflow.local/postgresql:15 ;;
    rabbitmq) echo orderflow.local/rabbitmq:3.10 ;;
    kafka) echo "orderflow.local/kafka:$KAFKA_VERSION" ;;
    prometheus) echo orderflow.local/prometheus:2.42 ;;
  esac
}

images_dev_one() {
  local name="$1" ctx="$IMAGES_HOME/ctx-$1" extra=()
  rm -rf "$ctx"; cp -r "$IMAGES_DIR/$name" "$ctx"
  if [ "$name" = kafka ]; then
    # The broker is the same jars the local stack runs (Maven Central, cached by version).
    kafka_install
    cp -r "$KAFKA_LIBS" "$ctx/libs"
    cp "$KAFKA_CONF_DIR/log4j2.xml" "$ctx/log4j2.xml"
    extra+=("$KAFKA_VERSION")
  fi
  local hash; hash="$(source_hash "$IMAGES_DIR/$name" "$(image_hash "$DEBIAN_IMAGE")" "${extra[@]}")"
  build_image "$(dev_image_name "$name")" "$ctx" "$hash" --build-arg "BASE=$DEBIAN_IMAGE" --build-arg "KAFKA_VERSION=$KAFKA_VERSION"
  rm -rf "$ctx"
}

images_dev() {
  images_local || return 0
  images_base
  local name
  for name in "${@:-${DEV_IMAGES[@]}}"; do images_dev_one "$name"; done
}

# The images kubeadm and the node's storage run, under the names they are asked for. etcd and CoreDNS
# are the versions built here; scripts/cluster.sh tells kubeadm those tags.
KIND_NODE_IMAGE="orderflow.local/kind-node:$KUBE_VERSION"
ETCD_IMAGE="registry.k8s.io/etcd:${KUBE_ETCD_VERSION#v}-0"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_VERSION"
PROVISIONER_IMAGE="orderflow.local/local-path-provisioner:$LOCAL_PATH_VERSION"

# An image holding one static binary at /usr/local/bin (kubeadm's static pods name their command).
#   static_image NAME BINARY [ENTRYPOINT]
static_image() {
  local name="$1" bin="$2" entry="${3:-}" ctx="$IMAGES_HOME/ctx-static"
  local hash; hash="$(source_hash "$bin" "$entry")"
  [ "$(image_hash "$name")" = "$hash" ] && return 0
  rm -rf "$ctx"; mkdir -p "$ctx"; cp "$bin" "$ctx/"
  { echo 'FROM scratch'; echo "COPY $(basename "$bin") /usr/local/bin/"
    [ -n "$entry" ] && echo "ENTRYPOINT [\"/usr/local/bin/$(basename "$bin")\"]"; } > "$ctx/Dockerfile"
  build_image "$name" "$ctx" "$hash"
  rm -rf "$ctx"
}

images_control_plane() {
  tools_ensure
  local c ctx="$IMAGES_HOME/ctx-kube-proxy"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    static_image "registry.k8s.io/$c:$KUBE_VERSION" "$NODE_BIN/$c"
  done
  static_image "$ETCD_IMAGE" "$NODE_BIN/etcd"
  static_image "$COREDNS_IMAGE" "$TOOLS_HOME/coredns-$COREDNS_VERSION/coredns" entry
  static_image "$PAUSE_IMAGE" "$TOOLS_HOME/pause-$PAUSE_VERSION/pause" entry
  static_image "$PROVISIONER_IMAGE" "$TOOLS_HOME/local-path-provisioner-$LOCAL_PATH_VERSION/local-path-provisioner"
  rm -rf "$ctx"; cp -r "$IMAGES_DIR/kube-proxy" "$ctx"; cp "$NODE_BIN/kube-proxy" "$ctx/"
  build_image "registry.k8s.io/kube-proxy:$KUBE_VERSION" "$ctx" \
    "$(source_hash "$IMAGES_DIR/kube-proxy" "$NODE_BIN/kube-proxy" "$(image_hash "$DEBIAN_IMAGE")")" --build-arg "BASE=$DEBIAN_IMAGE"
  rm -rf "$ctx"
}

node_preloaded_images() {
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do echo "registry.k8s.io/$c:$KUBE_VERSION"; done
  printf '%s\n' "$ETCD_IMAGE" "$COREDNS_IMAGE" "$PAUSE_IMAGE" "$PROVISIONER_IMAGE" "$DEBIAN_IMAGE"
}

# The kind node: scripts/cluster/node plus kind's base files from its module, the node binaries and the
# preloaded image archives.
images_node() {
  images_base
  images_control_plane
  local kind_dir img hashes=()
  kind_dir="$(cd "$ROOT_DIR/scripts/cluster/coredns" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
  [ -f "$kind_dir/images/base/files/usr/local/bin/entrypoint" ] || die "kind $KIND_VERSION's base files not found in its module"
  while read -r img; do hashes+=("$img=$(image_hash "$img")"); done < <(node_preloaded_images)
  local hash; hash="$(source_hash "$ROOT_DIR/scripts/cluster/node" "$ROOT_DIR/scripts/cluster/runc-wrapper.sh" "$KIND_VERSION" "$(kube_version)" "$CRICTL_VERSION" "${hashes[@]}" "$(image_hash "$DEBIAN_IMAGE")")"
  [ "$(image_hash "$KIND_NODE_IMAGE")" = "$hash" ] && return 0
  local ctx="$IMAGES_HOME/ctx-node" c
  rm -rf "$ctx"; cp -r "$ROOT_DIR/scripts/cluster/node" "$ctx"; mkdir -p "$ctx/bin" "$ctx/images"
  cp -r "$kind_dir/images/base/files" "$ctx/kind-base"; chmod -R u+w "$ctx/kind-base"
  for c in kubelet kubeadm kubectl; do cp "$NODE_BIN/$c" "$ctx/bin/"; done
  cp "$TOOLS_HOME/crictl-$CRICTL_VERSION/crictl" "$ctx/bin/"
  sed "s#@REAL_RUNC@#/usr/sbin/runc#" "$ROOT_DIR/scripts/cluster/runc-wrapper.sh" > "$ctx/files/runc-wrapper.sh"
  sed -i "s#@PAUSE_VERSION@#$PAUSE_VERSION#" "$ctx/files/containerd-config.toml"
  sed -i "s#@PROVISIONER_IMAGE@#$PROVISIONER_IMAGE#; s#@HELPER_IMAGE@#$DEBIAN_IMAGE#g" "$ctx/files/default-storage.yaml"
  log "saving the node's preloaded images"
  while read -r img; do "$DOCKER" save "$img" > "$ctx/images/$(echo "$img" | tr '/:' '__').tar"; done < <(node_preloaded_images)
  build_image "$KIND_NODE_IMAGE" "$ctx" "$hash" --build-arg "BASE=$DEBIAN_IMAGE" --build-arg "KUBE_VERSION=$KUBE_VERSION"
  rm -rf "$ctx"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  mkdir -p "$IMAGES_HOME"
  case "${1:-}" in
    base) images_base ;;
    app) images_app "${2:-}" ;;
    dev) shift; images_dev "$@" ;;
    node) images_node ;;
    *) die "usage: images.sh base|app [TAG]|dev [NAME...]|node" ;;
  esac
fi
