#!/bin/sh
# kubeadm runs /usr/local/bin/kube-proxy in the node's network namespace: use the iptables backend
# (legacy or nft) that holds more of that namespace's rules, as the node itself chose, then start the real binary.
legacy=$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -c '^-')
nft=$( (timeout 5 sh -c 'iptables-nft-save; ip6tables-nft-save') 2>/dev/null | grep -c '^-')
mode=nft
[ "${legacy:-0}" -ge "${nft:-0}" ] && mode=legacy
update-alternatives --set iptables "/usr/sbin/iptables-$mode" >/dev/null
update-alternatives --set ip6tables "/usr/sbin/ip6tables-$mode" >/dev/null
exec /usr/local/lib/kube-proxy "$@"
