#!/usr/bin/env bash
# One hfs command timed against a fresh local cluster (namenode + 3 datanodes on 127.0.0.1, free
# ports, replication 2, codec auto), with the CPU time each daemon spent during it. For side-by-
# side comparisons of two binaries: alternate them, several tries each (docs/BENCHMARKS.md,
# session 6).
#
#   scripts/bench/oneshot.sh HFS_BINARY -- put --config CFG /tmp/small /s1
#   scripts/bench/oneshot.sh HFS_BINARY -- ingest --config CFG DATA/jpeg /bench/jpeg --labels dirs --workers 8
#
# CFG in the arguments stands for the cluster's config. PERF=1 records `perf record -a -g` of
# the command into $WORK/perf.data. WORK (default /tmp/hfs-oneshot) is emptied first.
# Prints the client's wall/user/system time (GNU time) and user/system seconds per daemon.
set -euo pipefail
[[ $# -ge 3 && $2 == -- ]] || { echo "usage: $0 HFS_BINARY -- ARGS... (CFG = the cluster's config)" >&2; exit 2; }
HFS=$(realpath "$1"); shift 2
W=${WORK:-/tmp/hfs-oneshot}
rm -rf "$W"; mkdir -p "$W"; cd "$W"
fp() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cat > cluster.yaml <<Y
cluster:
  replication: 2
  codec: auto
  heartbeat_interval: 1s
namenode:
  address: 127.0.0.1:$(fp)
  metadata: nn/meta.sqlite
datanodes:
  - { id: dn1, address: 127.0.0.1:$(fp), data_dir: dn1, rack: /r1 }
  - { id: dn2, address: 127.0.0.1:$(fp), data_dir: dn2, rack: /r2 }
  - { id: dn3, address: 127.0.0.1:$(fp), data_dir: dn3, rack: /r1 }
Y
"$HFS" cluster up --detach --config "$W/cluster.yaml" > cluster.log 2>&1
trap '"$HFS" cluster down --config "$W/cluster.yaml" >/dev/null 2>&1 || true' EXIT
pids=$(pgrep -f -- "(namenode|datanode) --config $W/cluster.yaml" | tr '\n' ' ')
cpu() { for p in $pids; do r=$(tr '\0' ' ' </proc/$p/cmdline | grep -o -- '--id [a-z0-9]*\|namenode' | head -1 | sed 's/--id //'); echo "$p ${r:-other} $(awk '{print $14, $15}' /proc/$p/stat)"; done; }
args=("${@//CFG/$W/cluster.yaml}")
cpu > cpu.before
sync
timed=(/usr/bin/time -f "client: %e s wall, %U user, %S sys, %R minor faults" "$HFS" "${args[@]}")
if [[ ${PERF:-0} == 1 ]]; then timed=(perf record -F 499 -g -a -o perf.data -- "${timed[@]}"); fi
"${timed[@]}" > out.txt 2> err.txt || { tail -3 err.txt >&2; exit 1; }
cpu > cpu.after
grep '^client:' err.txt
echo "daemon user_s sys_s"
join cpu.before cpu.after | awk -v hz="$(getconf CLK_TCK)" '{printf "%s %.2f %.2f\n", $2, ($6-$3)/hz, ($7-$4)/hz}'
