#!/bin/bash
# Runs before kind's entrypoint in the locally built node image: adapts containerd to what this
# machine allows, then hands over. Where root's capability bounding set lacks CAP_SYS_RESOURCE (some
# VMs drop it), a privileged pod (kube-proxy) cannot get every capability and the kubelet cannot lower
# oom_score_adj: run containers through the same runc wrapper as the host's dockerd, and let
# containerd leave oom_score_adj alone.
set -euo pipefail
bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
if [ $(( (16#$bnd >> 24) & 1 )) -eq 0 ]; then
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
  if ! grep -q BinaryName /etc/containerd/config.toml; then
    sed -i 's#^\( *\)SystemdCgroup = true#\1SystemdCgroup = true\n\1BinaryName = "/usr/local/sbin/orderflow-runc"#' /etc/containerd/config.toml
  fi
fi
exec "$@"
