# Shared by the benchmark scripts (sourced; needs `die` and `log` from the caller). Loopback only.

# measure OUT CMD...: runs CMD (killed after $STEP_TIMEOUT seconds: exit 124), writes "SECONDS
# MAXRSS_KIB CPU_SECONDS" to OUT: wall time, the peak RSS of the largest process it waited for,
# and the user + system time of CMD and its children. The wait is a blocking waitpid:
# `subprocess.run(timeout=...)` polls with sleeps of up to 50 ms, which added 0-50 ms to every
# step (a 1 GiB get of 0.77 s came out in 50 ms steps; fixed in session 9).
measure() {
  local out=$1; shift
  python3 - "$out" "$STEP_TIMEOUT" "$@" <<'PY'
import resource, subprocess, sys, threading, time
out, limit, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
expired = threading.Event()
t = time.monotonic()
p = subprocess.Popen(cmd)
timer = threading.Timer(limit, lambda: (expired.set(), p.kill()))
timer.start()
rc = p.wait()
dt = time.monotonic() - t
timer.cancel()
if expired.is_set():
    print(f"[bench] timed out after {limit:.0f} s: {' '.join(cmd)}", file=sys.stderr); sys.exit(124)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    f.write(f"{dt:.6f} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime:.3f}\n")
sys.exit(rc)
PY
}
seconds_of() { cut -d' ' -f1 "$1"; }
rss_kib_of() { cut -d' ' -f2 "$1"; }
cpu_of() { cut -d' ' -f3 "$1"; }

# A TCP port of 127.0.0.1 that is free now.
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# write_cluster_yaml FILE DATANODES REPLICATION: a local cluster on free ports, 64 MiB blocks,
# codec auto, datanodes dn1..dnN on racks /r1 /r2 alternately, data under FILE's folder.
write_cluster_yaml() {
  local file=$1 n=$2 r=$3 i
  {
    echo "cluster:"
    echo "  replication: $r"
    echo "  block_size: 64MiB"
    echo "  codec: auto"
    echo "  heartbeat_interval: 1s"
    echo "  dead_node_timeout: 30s"
    echo "namenode:"
    echo "  address: 127.0.0.1:$(free_port)"
    echo "  metadata: nn/meta.sqlite"
    echo "datanodes:"
    for i in $(seq 1 "$n"); do
      echo "  - { id: dn$i, address: 127.0.0.1:$(free_port), data_dir: dn$i, rack: /r$(( (i - 1) % 2 + 1 )) }"
    done
  } >"$file"
}

# hfs_live CONFIG N: succeeds once the cluster of CONFIG reports at least N live datanodes.
hfs_live() {
  "$HFS" report --json --config "$1" 2>/dev/null | python3 -c '
import json, sys
n = sum(1 for d in json.load(sys.stdin)["datanodes"] if str(d.get("state", "")).lower() == "live")
sys.exit(0 if n >= int(sys.argv[1]) else 1)' "$2"
}

# wait_for SECONDS DESCRIPTION CMD...: until CMD succeeds, else die.
wait_for() {
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [[ $SECONDS -lt $end ]] || die "$what: not ready after $limit s"
    sleep 0.5
  done
}

# hfs_blocks CONFIG: the block files all datanodes hold, from their last heartbeats.
hfs_blocks() {
  "$HFS" report --json --config "$1" | python3 -c '
import json, sys
print(sum(int(d.get("blocks", 0)) for d in json.load(sys.stdin)["datanodes"]))'
}

