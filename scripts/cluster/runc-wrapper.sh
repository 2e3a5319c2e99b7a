#!/bin/sh
# runc, minus the capabilities this machine's bounding set lacks (installed by scripts/cluster/docker.sh
# and into the locally built kind node image; @REAL_RUNC@ is replaced by the real binary's path).
# A privileged container asks for every capability, and runc fails when one of them cannot be had.
real=@REAL_RUNC@
bundle=
process=
prev=
for arg in "$@"; do
  case "$prev" in --bundle|-b) bundle=$arg ;; --process|-p) process=$arg ;; esac
  case "$arg" in --bundle=*) bundle=${arg#--bundle=} ;; --process=*) process=${arg#--process=} ;; esac
  prev=$arg
done
# create/run read the container's spec from the bundle; exec (docker exec --privileged) the process's.
spec=
case " $* " in
  *" create "*|*" run "*) spec="${bundle:-.}/config.json"; filter='.process.capabilities' ;;
  *" exec "*) spec="$process"; filter='.capabilities' ;;
esac
case "$spec" in
  ?*)
    if [ -f "$spec" ]; then
      bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
      # Capability names in bit order (capability.h); only those missing from the bounding set go.
      missing=$(awk -v bnd="$bnd" 'BEGIN {
        split("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE", n, " ")
        v = 0; for (i = 1; i <= length(bnd); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(bnd, i, 1))) - 1
        out = ""; for (i = 0; i < 41; i++) { if (int(v / 2 ^ i) % 2 == 0) out = out "\"CAP_" n[i + 1] "\"," }
        print "[" substr(out, 1, length(out) - 1) "]" }')
      if [ "$missing" != "[]" ]; then
        tmp="$spec.orderflow-tmp"
        jq --argjson drop "$missing" "if $filter then $filter |= with_entries(.value |= ((. // []) - \$drop)) else . end" \
          "$spec" > "$tmp" && mv "$tmp" "$spec"
      fi
    fi ;;
esac
exec "$real" "$@"
