#!/usr/bin/env bash
# Throughput benchmark of hfs on a local 3-datanode cluster (127.0.0.1 only, replication 2,
# 64 MiB blocks), with physical references measured in the same run: loopback TCP (iperf3) and
# sequential disk writes (dd: through the page cache, and O_DIRECT).
#
#   scripts/bench/throughput.sh            # release build, 3 runs, prints Markdown for docs/BENCHMARKS.md
#
# Environment:
#   RUNS=3            repetitions; medians are reported
#   HFS=path/to/hfs   use this binary instead of building (`swift build -c release --product hfs`)
#   LARGE_MIB=1024    size of the large file
#   SMALL_FILES=10000 number of small files, SMALL_KB=100 their mean size (±10%)
#   BENCH_DIR=/tmp    where the temp folder goes (needs ~8 GiB free with the defaults)
#
# MB/s means 10^6 bytes per second. Peak RSS is each process's VmHWM during the large put
# (reset before it through /proc/PID/clear_refs when allowed), the client's from getrusage.
set -euo pipefail

RUNS=${RUNS:-3}
LARGE_MIB=${LARGE_MIB:-1024}
SMALL_FILES=${SMALL_FILES:-10000}
SMALL_KB=${SMALL_KB:-100}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}   # seconds any one step may take
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

if [[ -z ${HFS:-} ]]; then
  log "building: swift build -c release --product hfs"
  (cd "$ROOT" && swift build -c release --product hfs >&2)
  HFS="$(cd "$ROOT" && swift build -c release --show-bin-path)/hfs"
fi
[[ -x $HFS ]] || die "no hfs executable at $HFS"
HFS=$(realpath "$HFS")

D=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/hfs-bench.XXXXXX")
CFG=$D/cluster.yaml
CLUSTER_PID=""
IPERF_PID=""

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [[ -n $IPERF_PID ]]; then kill "$IPERF_PID" 2>/dev/null || true; fi
  if [[ -n $CLUSTER_PID ]] && kill -0 "$CLUSTER_PID" 2>/dev/null; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$CLUSTER_PID" 2>/dev/null || true
  fi
  # daemons that outlived their supervisor: only processes naming this run's own config file
  for pid in $(pgrep -f -- "$CFG" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 && -f $D/cluster.log ]]; then log "cluster.log (last lines):"; tail -n 20 "$D/cluster.log" >&2 || true; fi
  rm -rf "$D"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$ROOT/scripts/bench/lib.sh"

hfs() { timeout "$STEP_TIMEOUT" "$HFS" "$@" --config "$CFG"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$D/results.tsv"; }   # run metric value
div() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.3f}')" "$1" "$2"; }

# settle N: after an `hfs rm`, waits until the datanodes have deleted the block files (back to
# at most N, or no change for 3 s: packed blocks whose files are all gone stay for compaction),
# then syncs. The next step is not measured while the disk still frees (and, on a file system
# mounted with `discard`, trims) what the last one deleted: with ext4 `discard` here, a small put
# right after the 1 GiB file's removal took 2.38 s, 8 s later 1.99-2.06 s.
settle() {
  local last=-1 same=0 now end=$((SECONDS + 60))
  while [[ $SECONDS -lt $end ]]; do
    now=$(hfs_blocks "$CFG")
    [[ $now -le $1 ]] && break
    if [[ $now -eq $last ]]; then same=$((same + 1)); else same=0; last=$now; fi
    [[ $same -ge 6 ]] && break
    sleep 0.5
  done
  sync
}

# ---- cluster -------------------------------------------------------------------------------
mkdir -p "$D/in" "$D/out"
write_cluster_yaml "$CFG" 3 2
log "starting the cluster in $D"
(cd "$D" && exec "$HFS" cluster up --config "$CFG" >"$D/cluster.log" 2>&1) &
CLUSTER_PID=$!
wait_for 60 "the cluster (3 live datanodes)" hfs_live "$CFG" 3
kill -0 "$CLUSTER_PID" 2>/dev/null || die "hfs cluster up exited"

# role<TAB>pid of the cluster's processes: the supervisor's children and whatever names the config
daemon_pids() {
  local pid cmd role
  for pid in $( { pgrep -P "$CLUSTER_PID" || true; pgrep -f -- "$CFG" || true; } | sort -u); do
    [[ -r /proc/$pid/cmdline ]] || continue
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    case "$cmd" in
      *" cluster up "*) continue ;;
      *" namenode "*) role=namenode ;;
      *" datanode "*) role=$(sed -n 's/.*--id[ =]\([^ ]*\).*/\1/p' <<<"$cmd"); role=datanode-${role:-$pid} ;;
      *) continue ;;
    esac
    printf '%s\t%s\n' "$role" "$pid"
  done
}
daemon_pids >"$D/daemons.tsv"
if [[ ! -s $D/daemons.tsv ]]; then
  log "no separate namenode/datanode processes found: reporting the cluster process as a whole"
  printf 'cluster-up\t%s\n' "$CLUSTER_PID" >"$D/daemons.tsv"
fi

# ---- data ----------------------------------------------------------------------------------
log "generating ${LARGE_MIB} MiB of random data and $SMALL_FILES files of ~${SMALL_KB} KB"
head -c "$((LARGE_MIB << 20))" /dev/urandom >"$D/in/large.bin"
LARGE_BYTES=$(stat -c %s "$D/in/large.bin")
python3 - "$D/in/small" "$SMALL_FILES" "$SMALL_KB" <<'EOF'
import os, random, sys
root, n, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
for i in range(n):
    d = os.path.join(root, f"d{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    size = rng.randint(kb * 900, kb * 1100)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(size))
EOF
SMALL_BYTES=$(python3 -c "import os,sys; print(sum(os.path.getsize(os.path.join(r,f)) for r,_,fs in os.walk(sys.argv[1]) for f in fs))" "$D/in/small")

# ---- runs ----------------------------------------------------------------------------------
for k in $(seq 1 "$RUNS"); do
  log "run $k of $RUNS"

  # loopback TCP reference
  if command -v iperf3 >/dev/null; then
    bps=0
    for _ in $(seq 1 20); do
      # A one-off server per try: one that answered an aborted test has exited.
      if [[ -z $IPERF_PID ]] || ! kill -0 "$IPERF_PID" 2>/dev/null; then
        port=$(free_port)
        iperf3 -s -1 -p "$port" -B 127.0.0.1 >/dev/null 2>&1 &
        IPERF_PID=$!
        sleep 0.25
      fi
      # (an iperf3 run that reports an error instead of a result is tried again too)
      if json=$(timeout 30 iperf3 -c 127.0.0.1 -p "$port" -t 5 -J 2>/dev/null) &&
         bps=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])' <<<"$json" 2>/dev/null); then
        break
      fi
      bps=0
      sleep 0.25
    done
    for _ in $(seq 1 20); do kill -0 "$IPERF_PID" 2>/dev/null || break; sleep 0.25; done
    kill "$IPERF_PID" 2>/dev/null || true
    wait "$IPERF_PID" 2>/dev/null || true
    IPERF_PID=""
    [[ $bps != 0 ]] || die "iperf3 on 127.0.0.1:$port gave no result"
    record "$k" iperf3_MBps "$(div "$bps" 8e6)"
  else
    log "iperf3 not found (apt-get install iperf3): no loopback reference"
  fi

  # one large file: put (with peak RSS of every process), get
  blocks_before=$(hfs_blocks "$CFG")
  while IFS=$'\t' read -r _ pid; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done <"$D/daemons.tsv"
  measure "$D/m.put" "$HFS" put --config "$CFG" "$D/in/large.bin" /bench/large.bin
  record "$k" large_put_MBps "$(div "${LARGE_BYTES}e-6" "$(seconds_of "$D/m.put")")"
  record "$k" rss_MiB_client "$(div "$(rss_kib_of "$D/m.put")" 1024)"
  while IFS=$'\t' read -r role pid; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    record "$k" "rss_MiB_$role" "$(div "${hwm:-0}" 1024)"
  done <"$D/daemons.tsv"
  # Gets start with no dirty pages left by the puts (else the kernel throttles the get's own
  # writes while it flushes the datanodes' blocks): sync first, untimed. Datanodes write around
  # their page cache, so the cat reads every block from disk; each block has one replica that
  # readers try first (Placement.readOrder), so the get after it reads those from memory.
  sync
  measure "$D/m.cat" bash -c '"$0" cat --config "$1" /bench/large.bin >/dev/null' "$HFS" "$CFG"
  record "$k" large_cat_MBps "$(div "${LARGE_BYTES}e-6" "$(seconds_of "$D/m.cat")")"
  measure "$D/m.get" "$HFS" get --config "$CFG" /bench/large.bin "$D/out/large.bin"
  record "$k" large_get_MBps "$(div "${LARGE_BYTES}e-6" "$(seconds_of "$D/m.get")")"
  if [[ $k -eq 1 ]]; then cmp -s "$D/in/large.bin" "$D/out/large.bin" || die "the large file came back different"; fi
  rm -f "$D/out/large.bin"
  hfs rm /bench/large.bin
  settle "$blocks_before"

  # many small files: put dir /bench/runK/, get /bench/runK/small out/
  hfs mkdir -p "/bench/run$k"
  measure "$D/m.sput" "$HFS" put --config "$CFG" "$D/in/small" "/bench/run$k/"
  record "$k" small_put_files_per_s "$(div "$SMALL_FILES" "$(seconds_of "$D/m.sput")")"
  record "$k" small_put_MBps "$(div "${SMALL_BYTES}e-6" "$(seconds_of "$D/m.sput")")"
  sync
  measure "$D/m.sget" "$HFS" get --config "$CFG" "/bench/run$k/small" "$D/out/"
  record "$k" small_get_files_per_s "$(div "$SMALL_FILES" "$(seconds_of "$D/m.sget")")"
  record "$k" small_get_MBps "$(div "${SMALL_BYTES}e-6" "$(seconds_of "$D/m.sget")")"
  if [[ $k -eq 1 ]]; then diff -r -q "$D/in/small" "$D/out/small" >/dev/null || die "the small files came back different"; fi
  rm -rf "$D/out/small"
  hfs rm -r "/bench/run$k"
  settle "$blocks_before"

  # sequential disk write references, on the datanodes' disk, last in the run: 2 GiB written
  # and deleted just before the large put (where they used to be) could slow the put and get
  # after them (a 1 GiB O_DIRECT write right after took 0.95 and 1.21 s, 0.53-0.67 s at other
  # moments; docs/BENCHMARKS.md, session 9). Through the page cache with fdatasync (what `dd` users quote), and
  # around it (O_DIRECT, 4 MiB writes of the large file's random bytes: what datanodes and
  # `hfs get` do).
  measure "$D/m.dd" dd if=/dev/zero of="$D/dd.tmp" bs=1M count=2048 conv=fdatasync status=none
  rm -f "$D/dd.tmp"
  record "$k" disk_write_MBps "$(div "$((2048 << 20))e-6" "$(seconds_of "$D/m.dd")")"
  sync; sleep 2
  measure "$D/m.ddd" dd if="$D/in/large.bin" of="$D/dd.tmp" bs=4M oflag=direct status=none
  rm -f "$D/dd.tmp"
  record "$k" disk_direct_write_MBps "$(div "${LARGE_BYTES}e-6" "$(seconds_of "$D/m.ddd")")"
  sync; sleep 2
done

# ---- report --------------------------------------------------------------------------------
python3 - "$D/results.tsv" "$RUNS" "$LARGE_BYTES" "$SMALL_FILES" "$SMALL_BYTES" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import collections, os, platform, statistics, sys, time
path, runs, large, nsmall, small_bytes, commit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
vals = collections.OrderedDict()
for line in open(path):
    k, metric, v = line.rstrip("\n").split("\t")
    vals.setdefault(metric, []).append(float(v))
med = {m: statistics.median(v) for m, v in vals.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"## hfs throughput, {time.strftime('%Y-%m-%d')} (commit {commit})\n")
print(f"`scripts/bench/throughput.sh` with RUNS={runs}: one local cluster (namenode + 3 datanodes on 127.0.0.1, "
      f"replication 2, 64 MiB blocks), {os.cpu_count()} cores ({cpu}), Linux {platform.release()}. "
      f"Large file: {large / 2**20:.0f} MiB of random bytes; small files: {nsmall} files, {small_bytes / 1e6:.0f} MB in all. "
      "MB = 10^6 bytes; times include the whole CLI process.\n")
rows = [
    ("large file put", "large_put_MBps", "MB/s"),
    ("large file get (to a local file)", "large_get_MBps", "MB/s"),
    ("large file read (hfs cat > /dev/null)", "large_cat_MBps", "MB/s"),
    ("small files put", "small_put_files_per_s", "files/s"),
    ("small files put", "small_put_MBps", "MB/s"),
    ("small files get", "small_get_files_per_s", "files/s"),
    ("small files get", "small_get_MBps", "MB/s"),
    ("loopback TCP (iperf3)", "iperf3_MBps", "MB/s"),
    ("sequential disk write (dd, fdatasync)", "disk_write_MBps", "MB/s"),
    ("sequential disk write (dd, O_DIRECT)", "disk_direct_write_MBps", "MB/s"),
]
fmt = lambda x: f"{x:,.0f}" if x >= 100 else f"{x:.1f}"
print(f"| measure | median of {runs} | unit | runs |")
print("|---|---:|---|---|")
for label, m, unit in rows:
    if m in vals:
        print(f"| {label} | {fmt(med[m])} | {unit} | {', '.join(fmt(x) for x in vals[m])} |")
if "large_get_MBps" in med and med.get("iperf3_MBps"):
    print(f"| large get / loopback TCP | {med['large_get_MBps'] / med['iperf3_MBps']:.2f} | ratio | |")
    if "large_cat_MBps" in med:
        print(f"| large cat / loopback TCP | {med['large_cat_MBps'] / med['iperf3_MBps']:.2f} | ratio | |")
if "large_get_MBps" in med and med.get("disk_direct_write_MBps"):
    print(f"| large get / disk write (O_DIRECT) | {med['large_get_MBps'] / med['disk_direct_write_MBps']:.2f} | ratio | |")
print()
print("Peak RSS during the large put (VmHWM; client from getrusage):\n")
print("| process | max over runs (MiB) | runs |")
print("|---|---:|---|")
for m in vals:
    if m.startswith("rss_MiB_"):
        print(f"| {m[len('rss_MiB_'):]} | {max(vals[m]):.0f} | {', '.join(f'{x:.0f}' for x in vals[m])} |")
print("\nRaw runs (run, metric, value):\n")
print("```")
for line in open(path):
    print(line.rstrip("\n").replace("\t", "  "))
print("```")
EOF
