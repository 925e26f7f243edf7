#!/usr/bin/env bash
# Compute-near-the-data benchmark: `hfs compute run` against what a user would otherwise do
# (`hfs get` the dataset, then imagehash/Pillow/OpenCV in a Python process pool), side by side in
# one run, on a local cluster (namenode + 3 datanodes on 127.0.0.1, replication 2).
#
#   scripts/bench/compute.sh          # prints Markdown for docs/BENCHMARKS.md
#
# Data: the 10,000 generated JPEGs of scripts/bench/ingest.sh (15-150 KB, 10 class folders),
# produced by that script's own generator (read from ingest.sh and run with the same arguments)
# and shared through its cache DATA_DIR, so that they are generated once for both benchmarks.
# They are ingested with `hfs ingest SRC /bench/jpeg --labels dirs` (untimed here).
# Each run, in alternating order:
#   - hfs:    `hfs compute run HOOK /bench/jpeg --json --tasks-per-node T` for phash,
#             thumbnail (--param size=128 --out /derived/...) and canny (--out /derived/...);
#   - client: `hfs get /bench/jpeg LOCAL/` (timed), then scripts/bench/compute_ref.py: a
#             multiprocessing pool of P processes computing str(imagehash.phash(Image.open(f))),
#             a 128 thumbnail (OpenCV: full decode + cv2.resize INTER_AREA; and Pillow:
#             Image.thumbnail, which decodes JPEGs at a reduced DCT scale as hfs does), and
#             cv2.Canny(gray, 100, 200), filters writing JPEG q90 files to the local disk.
#             Client images/s = files / (get seconds + pool seconds); bytes sent to the client =
#             the dataset's bytes.
# The hfs datanodes run up to T tasks each (3 × T in all; each task is one thread of the
# datanode's compute pool, sized to the cores); the client pools are P = each of POOLS (default:
# the number of cores, and 3 × T, the same number of workers as hfs). Every read starts from a
# warm page cache (the datanodes' block files are read once, untimed, before each job and get).
# Then, on a 1-datanode cluster (replication 1) holding the first SINGLE_FILES images, the
# per-image speed of the Swift code on one core: `hfs compute run --tasks-per-node 1` (wall
# images/s, and datanode CPU seconds per image: read, verify, decode, hook, encode, send) against
# compute_ref.py in one Python process (decode + hook + encode in memory; cv2.setNumThreads(1)).
#
# Environment:
#   RUNS=3                 repetitions; medians are reported
#   HFS=path/to/hfs        use this binary instead of building (`swift build -c release --product hfs`)
#   HFS_REF_PYTHON         Python with numpy, Pillow, imagehash, opencv
#                          (default: the output of scripts/reference/setup-venv.sh)
#   BENCH_DIR=/tmp         where the temp folder goes (~3 GB free with the defaults)
#   DATA_DIR=$BENCH_DIR/hfs-ingest-data   the image cache shared with ingest.sh
#   JPEG_FILES=10000 PPM_FILES=2000 SEED=1   the cached data set (as ingest.sh generates it)
#   IMAGES=$JPEG_FILES     how many of the JPEGs to use (the first ones; small values for smoke tests)
#   TASKS_PER_NODE=2       hfs compute run --tasks-per-node (hfs's default)
#   POOLS="NCPU 3*T"       client process pool sizes tried
#   SINGLE_FILES=1000      images of the one-core comparison (0 skips it)
#   STEP_TIMEOUT=900       seconds any one step may take
#   PERF_DIR=dir           also profile (untimed, after the runs) one datanode during one more
#                          job of each hook with `perf record -g`; dir gets HOOK.perf.data and
#                          HOOK.txt (perf report --no-children), and stderr the top entries
#
# MB means 10^6 bytes. Times are whole CLI / Python processes.
set -euo pipefail

RUNS=${RUNS:-3}
JPEG_FILES=${JPEG_FILES:-10000}
PPM_FILES=${PPM_FILES:-2000}
SEED=${SEED:-1}
IMAGES=${IMAGES:-$JPEG_FILES}
TASKS_PER_NODE=${TASKS_PER_NODE:-2}
NCPU=$(nproc)
POOLS=${POOLS:-$(printf '%s\n' "$NCPU" "$((3 * TASKS_PER_NODE))" | sort -n -u | tr '\n' ' ')}
SINGLE_FILES=${SINGLE_FILES:-1000}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
DATA_DIR=${DATA_DIR:-$BENCH_DIR/hfs-ingest-data}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REF=$ROOT/scripts/bench/compute_ref.py

log() { echo "[bench] $(date +%H:%M:%S) $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
for v in RUNS IMAGES TASKS_PER_NODE; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"; done
[[ $SINGLE_FILES =~ ^[0-9]+$ ]] || die "SINGLE_FILES must be a number"
(( IMAGES <= JPEG_FILES )) || die "IMAGES ($IMAGES) is more than JPEG_FILES ($JPEG_FILES)"
(( SINGLE_FILES <= IMAGES )) || SINGLE_FILES=$IMAGES

if [[ -z ${HFS:-} ]]; then
  log "building: swift build -c release --product hfs"
  (cd "$ROOT" && swift build -c release --product hfs >&2)
  HFS="$(cd "$ROOT" && swift build -c release --show-bin-path)/hfs"
fi
[[ -x $HFS ]] || die "no hfs executable at $HFS"
HFS=$(realpath "$HFS")
"$HFS" compute hooks --help >/dev/null 2>&1 || die "$HFS has no 'compute' command (an older build?)"

PY=${HFS_REF_PYTHON:-}
if [[ -z $PY ]]; then
  eval "$("$ROOT/scripts/reference/setup-venv.sh")"
  PY=$HFS_REF_PYTHON
fi
"$PY" -c 'import numpy, PIL, imagehash, cv2' 2>/dev/null || die "$PY lacks numpy, Pillow, imagehash or cv2 (set HFS_REF_PYTHON)"
PY_VERSIONS=$("$PY" -c 'import cv2, imagehash, PIL, numpy; print(f"OpenCV {cv2.__version__}, imagehash {imagehash.__version__}, Pillow {PIL.__version__}, numpy {numpy.__version__}")')

# ---- data: ingest.sh's generator and cache -------------------------------------------------
INGEST_SH=$ROOT/scripts/bench/ingest.sh
GEN_VERSION=$(sed -n 's/^GEN_VERSION=//p' "$INGEST_SH" 2>/dev/null | head -n 1)
stamp="gen=$GEN_VERSION seed=$SEED jpeg=$JPEG_FILES ppm=$PPM_FILES"
if [[ "$(cat "$DATA_DIR/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  [[ -n $GEN_VERSION ]] || die "cannot read GEN_VERSION from $INGEST_SH"
  # The Python heredoc ingest.sh runs as: "$PY" - OUT JPEG_FILES PPM_FILES SEED <<'EOF' ... EOF
  gen=$(awk '/"\$PY" - "\$DATA_DIR\.tmp"/ {on = 1; next} on && /^EOF$/ {exit} on {print}' "$INGEST_SH")
  [[ $gen == *"def jpeg("* ]] || die "cannot find the image generator in $INGEST_SH"
  log "generating $JPEG_FILES JPEGs and $PPM_FILES PPMs into $DATA_DIR with ingest.sh's generator (seed $SEED; once)"
  rm -rf "$DATA_DIR.tmp"
  mkdir -p "$DATA_DIR.tmp"
  timeout "$((STEP_TIMEOUT * 2))" "$PY" - "$DATA_DIR.tmp" "$JPEG_FILES" "$PPM_FILES" "$SEED" <<<"$gen"
  rm -rf "$DATA_DIR"
  mv "$DATA_DIR.tmp" "$DATA_DIR"
  echo "$stamp" >"$DATA_DIR/.stamp"
fi
[[ $(find "$DATA_DIR/jpeg" -type f ! -name '.*' | wc -l) -eq $JPEG_FILES ]] || die "$DATA_DIR does not hold the expected files: remove it"

D=$(mktemp -d "$BENCH_DIR/hfs-compute-bench.XXXXXX")
CLUSTER_PIDS=()
PERF_PID=""

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [[ -n $PERF_PID ]]; then kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; fi
  for pid in "${CLUSTER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # whatever outlived its parent: only processes naming this run's own folder
  for pid in $(pgrep -f -- "$D/" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for f in "$D"/*/cluster.log; do
      [[ -f $f ]] || continue
      log "$f (last lines):"; tail -n 15 "$f" >&2 || true
    done
  fi
  rm -rf "$D"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The images used: the first IMAGES of the set (by index, hence every class), hard links.
if (( IMAGES == JPEG_FILES )); then
  SRC=$DATA_DIR/jpeg
else
  SRC=$D/src/jpeg
  "$PY" - "$DATA_DIR/jpeg" "$SRC" "$IMAGES" <<'EOF'
import os, shutil, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    rel = os.path.join(f"class{i % 10:02d}", f"img{i:05d}.jpg")
    os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
    try:
        os.link(os.path.join(src, rel), os.path.join(dst, rel))
    except OSError:
        shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))
EOF
fi
bytes_under() { python3 -c "import os,sys; print(sum(os.path.getsize(os.path.join(r,f)) for r,_,fs in os.walk(sys.argv[1]) for f in fs if not f.startswith('.')))" "$1"; }
files_under() { find "$1" -type f ! -name '.*' | wc -l; }
N=$(files_under "$SRC"); BYTES=$(bytes_under "$SRC")
[[ $N -eq $IMAGES ]] || die "$SRC holds $N files, not $IMAGES"
PIXELS=$("$PY" -c '
import os, sys
from PIL import Image
t = 0
for r, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        with Image.open(os.path.join(r, f)) as im: t += im.width * im.height
print(t)' "$SRC")

. "$ROOT/scripts/bench/lib.sh"

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$D/results.tsv"; }   # run metric value
div() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.4f}')" "$1" "$2"; }

# start_cluster NAME DATANODES REPLICATION: a cluster in $D/NAME (config $D/NAME/cluster.yaml)
start_cluster() {
  local name=$1 n=$2 r=$3 dir=$D/$1
  mkdir -p "$dir"
  write_cluster_yaml "$dir/cluster.yaml" "$n" "$r"
  log "starting the $name cluster ($n datanodes, replication $r) in $dir"
  (cd "$dir" && exec "$HFS" cluster up --config "$dir/cluster.yaml" >"$dir/cluster.log" 2>&1) &
  CLUSTER_PIDS+=($!)
  wait_for 60 "the $name cluster ($n live datanodes)" hfs_live "$dir/cluster.yaml" "$n"
  # Everything listens on 127.0.0.1 only (checked, not assumed).
  if command -v ss >/dev/null; then
    local re
    re=$(pgrep -f -- "$dir/cluster.yaml" | paste -sd'|')
    if ss -ltnpH 2>/dev/null | grep -E "pid=($re)," | awk '{print $4}' | grep -v '^127\.0\.0\.1:' >&2; then
      die "a server listens beyond 127.0.0.1 (above)"
    fi
  fi
}
datanode_pids() { pgrep -f -- "datanode --config $D/$1/cluster.yaml" | paste -sd' '; }
cpu_ticks() {   # utime + stime of the given pids, in clock ticks
  local pid t=0 s
  for pid in "$@"; do
    s=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    t=$((t + s))
  done
  echo "$t"
}
TICKS=$(getconf CLK_TCK)
warm() { find "$D/$1"/dn* -type f -print0 | xargs -0 -r cat >/dev/null; }   # the datanodes' files into the page cache

# hfs_job CLUSTER TAG RUN HOOK TASKS ARGS...: one timed `hfs compute run`, recorded as HOOK_* under TAG
hfs_job() {
  local cl=$1 tag=$2 k=$3 hook=$4 tasks=$5; shift 5
  local cfg=$D/$cl/cluster.yaml dns c0 c1
  read -r -a dns <<<"$(datanode_pids "$cl")"
  sync; warm "$cl"
  c0=$(cpu_ticks "${dns[@]}")
  measure "$D/m.job" "$HFS" compute run --config "$cfg" "$hook" /bench/jpeg --json --tasks-per-node "$tasks" "$@" \
    >"$D/job.jsonl" 2>"$D/job.err" || { tail -n 5 "$D/job.err" >&2; die "hfs compute run $hook failed"; }
  c1=$(cpu_ticks "${dns[@]}")
  grep -v '^{"summary"' "$D/job.jsonl" >"$D/$tag-$hook-$k.rows" || true
  tail -n 1 "$D/job.jsonl" | python3 -c '
import json, sys
s = json.loads(sys.stdin.readline())["summary"]
n = int(sys.argv[1])
if s["files"] != n or s["failures"]:
    sys.exit(f"[bench] error: {s}: expected {n} files and no failure")
print(s["bytes_sent_to_client"], s["bytes_read_on_datanodes"], s["node_local_fraction"], s["retries"])' "$N_JOB" >"$D/summary.txt" ||
    die "hfs compute run $hook: unexpected summary"
  local sent readb local retries secs
  read -r sent readb local retries <"$D/summary.txt"
  secs=$(seconds_of "$D/m.job")
  record "$k" "${tag}_${hook}_images_per_s" "$(div "$N_JOB" "$secs")"
  record "$k" "${tag}_${hook}_seconds" "$secs"
  record "$k" "${tag}_${hook}_bytes_sent" "$sent"
  record "$k" "${tag}_${hook}_bytes_read" "$readb"
  record "$k" "${tag}_${hook}_node_local" "$local"
  record "$k" "${tag}_${hook}_retries" "$retries"
  record "$k" "${tag}_${hook}_dn_cpu_ms_per_image" "$(div "$(( (c1 - c0) * 1000 ))" "$(( TICKS * N_JOB ))")"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# ---- main cluster, ingest --------------------------------------------------------------------
start_cluster main 3 2
CFG=$D/main/cluster.yaml
hfs() { timeout "$STEP_TIMEOUT" "$HFS" "$@" --config "$CFG"; }
log "ingesting $N JPEGs ($(( BYTES / 1000000 )) MB) from $SRC"
hfs mkdir -p /bench
measure "$D/m.ingest" "$HFS" ingest --config "$CFG" "$SRC" /bench/jpeg --labels dirs --json >"$D/ingest.json"
python3 - "$D/ingest.json" "$N" <<'EOF' || die "hfs ingest did not store every file (see $D/ingest.json)"
import json, sys
s = json.load(open(sys.argv[1])); sys.exit(0 if s["ingested"] == int(sys.argv[2]) and not s["failed"] else 1)
EOF
INGEST_SECONDS=$(seconds_of "$D/m.ingest")
hfs mkdir -p /derived

# ---- runs ------------------------------------------------------------------------------------
LOCAL=$D/local
touch "$D/results.tsv"
N_JOB=$N
for k in $(seq 1 "$RUNS"); do
  log "run $k of $RUNS"
  if (( k % 2 )); then order="hfs client"; else order="client hfs"; fi
  for side in $order; do
    if [[ $side == hfs ]]; then
      log "hfs compute run phash, thumbnail, canny (--tasks-per-node $TASKS_PER_NODE)"
      hfs_job main hfs "$k" phash "$TASKS_PER_NODE"
      hfs_job main hfs "$k" thumbnail "$TASKS_PER_NODE" --param size=128 --out "/derived/thumbnail-$k"
      hfs_job main hfs "$k" canny "$TASKS_PER_NODE" --out "/derived/canny-$k"
      # the outputs are there, one per input (untimed; a shortfall is reported, not fatal)
      for h in thumbnail canny; do
        hfs ls -R "/derived/$h-$k" --json >"$D/outputs.jsonl"
        got=$(python3 - "$D/outputs.jsonl" "$SRC" "/derived/$h-$k/jpeg/" <<'EOF2'
import json, os, sys
have = {json.loads(l)["path"] for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("type") == "file"}
want = {sys.argv[3] + os.path.relpath(os.path.join(r, f), sys.argv[2]) for r, _, fs in os.walk(sys.argv[2]) for f in fs if not f.startswith(".")}
for p in sorted(want - have)[:10]: print(f"[bench] warning: no output {p}", file=sys.stderr)
for p in sorted(have - want)[:10]: print(f"[bench] warning: unexpected output {p}", file=sys.stderr)
print(len(have & want))
EOF2
)
        record "$k" "hfs_${h}_outputs_stored" "$got"
        [[ $got -eq $N ]] || log "warning: hfs compute run $h reported no failure but $got of $N outputs are in /derived/$h-$k"
        hfs rm -r "/derived/$h-$k"
      done
    else
      log "client: hfs get, then Python pools of $POOLS"
      rm -rf "$LOCAL"; mkdir -p "$LOCAL"
      sync; warm main
      measure "$D/m.get" "$HFS" get --config "$CFG" /bench/jpeg "$LOCAL/"
      GET_SECONDS=$(seconds_of "$D/m.get")
      record "$k" client_get_seconds "$GET_SECONDS"
      [[ $(files_under "$LOCAL/jpeg") -eq $N ]] || die "hfs get did not write $N files"
      for p in $POOLS; do
        for task in phash thumbnail-cv2 thumbnail-pil canny; do
          rm -rf "$D/ref-out"
          measure "$D/m.pool" "$PY" "$REF" pool "$task" "$p" "$LOCAL/jpeg" "$D/ref-out" "$D/pool.json" ||
            die "compute_ref.py $task (pool $p) failed"
          secs=$(seconds_of "$D/m.pool")
          record "$k" "client_p${p}_${task}_pool_seconds" "$secs"
          record "$k" "client_p${p}_${task}_images_per_s" "$(python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[2]) + float(sys.argv[3])):.4f}')" "$N" "$GET_SECONDS" "$secs")"
          if [[ $task == phash ]]; then cp "$D/ref-out/phash.jsonl" "$D/client-phash-$k.jsonl"; fi
          if [[ $task != phash && $k -eq 1 ]]; then
            [[ $(files_under "$D/ref-out") -eq $N ]] || die "compute_ref.py $task wrote too few outputs"
          fi
        done
      done
      rm -rf "$D/ref-out" "$LOCAL"
    fi
  done
done
# phash agreement, hfs against imagehash on the same files (run 1)
python3 - "$D/hfs-phash-1.rows" "$D/client-phash-1.jsonl" >"$D/agreement.txt" <<'EOF'
import collections, json, sys
h = {}
for l in open(sys.argv[1]):
    r = json.loads(l); h[r["path"].split("/bench/jpeg/", 1)[1]] = r["result"]
c = {json.loads(l)["path"]: json.loads(l)["result"] for l in open(sys.argv[2])}
d = collections.Counter(bin(int(h[p], 16) ^ int(c[p], 16)).count("1") for p in c if p in h)
print(len(c), sum(1 for p in c if p in h), " ".join(f"{k}:{v}" for k, v in sorted(d.items())))
EOF

# ---- optional profile of one datanode (untimed) ------------------------------------------------
if [[ -n ${PERF_DIR:-} ]]; then
  command -v perf >/dev/null || die "PERF_DIR is set but perf is not installed"
  mkdir -p "$PERF_DIR"
  read -r -a dns <<<"$(datanode_pids main)"
  for h in phash thumbnail canny; do
    log "profiling datanode pid ${dns[0]} during hfs compute run $h"
    perf record -g -q -o "$PERF_DIR/$h.perf.data" -p "${dns[0]}" >/dev/null 2>"$PERF_DIR/$h.perf.err" &
    PERF_PID=$!
    sleep 1
    args=(); [[ $h == phash ]] || args=(--out "/derived/perf-$h"); [[ $h == thumbnail ]] && args+=(--param size=128)
    hfs compute run "$h" /bench/jpeg --tasks-per-node "$TASKS_PER_NODE" "${args[@]}" >/dev/null 2>&1 || die "profiled job $h failed"
    kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""
    [[ $h == phash ]] || hfs rm -r "/derived/perf-$h"
    timeout "$STEP_TIMEOUT" perf report -i "$PERF_DIR/$h.perf.data" --no-children --sort dso,sym --percent-limit 0.5 --stdio -g none \
      2>/dev/null | { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else cat; fi; } >"$PERF_DIR/$h.txt" || true
    timeout "$STEP_TIMEOUT" perf report -i "$PERF_DIR/$h.perf.data" --no-children --sort dso --percent-limit 1 --stdio -g none \
      2>/dev/null >"$PERF_DIR/$h.dso.txt" || true
    log "perf, $h, by library: $(grep -E '^ +[0-9.]+%' "$PERF_DIR/$h.dso.txt" | awk '{printf "%s %s; ", $2, $1}')"
    log "perf, $h (self time, top entries; $PERF_DIR/$h.txt):"
    grep -E '^ +[0-9.]+%' "$PERF_DIR/$h.txt" | head -n 12 >&2 || true
  done
fi

# ---- one core: 1 datanode, 1 task, against one Python process -------------------------------
kill -TERM "${CLUSTER_PIDS[0]}" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "${CLUSTER_PIDS[0]}" 2>/dev/null || break; sleep 0.25; done
if (( SINGLE_FILES > 0 )); then
  "$PY" - "$SRC" "$D/single-src/jpeg" "$SINGLE_FILES" <<'EOF'
import os, shutil, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.relpath(os.path.join(r, f), src) for r, _, fs in os.walk(src) for f in fs if not f.startswith("."))
files = sorted(files, key=lambda p: os.path.basename(p))[:n]   # img00000, img00001, ...: every class
for rel in files:
    os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
    try:
        os.link(os.path.join(src, rel), os.path.join(dst, rel))
    except OSError:
        shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))
EOF
  SINGLE_BYTES=$(bytes_under "$D/single-src/jpeg")
  start_cluster single 1 1
  CFG=$D/single/cluster.yaml
  hfs mkdir -p /bench /derived
  hfs ingest "$D/single-src/jpeg" /bench/jpeg --labels dirs --json >/dev/null
  N_JOB=$SINGLE_FILES
  for k in $(seq 1 "$RUNS"); do
    log "one core, run $k of $RUNS ($SINGLE_FILES images)"
    hfs_job single single "$k" phash 1
    hfs_job single single "$k" thumbnail 1 --param size=128 --out "/derived/thumbnail-$k"
    hfs_job single single "$k" canny 1 --out "/derived/canny-$k"
    hfs rm -r "/derived/thumbnail-$k"; hfs rm -r "/derived/canny-$k"
    for task in phash thumbnail-cv2 thumbnail-pil canny; do
      timeout "$STEP_TIMEOUT" "$PY" "$REF" single "$task" "$D/single-src/jpeg" "$D/single.json" || die "compute_ref.py single $task failed"
      python3 - "$D/single.json" <<'EOF' | while read -r m v; do record "$k" "py1_${task}_$m" "$v"; done
import json, sys
r = json.load(open(sys.argv[1]))
print("images_per_s", f"{r['files'] / r['seconds']:.4f}")
print("cpu_ms_per_image", f"{1000 * r['cpu_seconds'] / r['files']:.4f}")
EOF
    done
  done
fi

# ---- report ----------------------------------------------------------------------------------
python3 - "$D/results.tsv" "$RUNS" "$N" "$BYTES" "$PIXELS" "$TASKS_PER_NODE" "$POOLS" "$SINGLE_FILES" "${SINGLE_BYTES:-0}" \
  "$INGEST_SECONDS" "$(cat "$D/agreement.txt")" "$PY_VERSIONS" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import collections, os, platform, statistics, sys, time
(path, runs, n, nbytes, pixels, tpn, pools, nsingle, sbytes, ingest_s, agree, pyv, commit, load0, load1) = sys.argv[1:]
runs, n, nbytes, pixels, tpn, nsingle, sbytes = int(runs), int(n), int(nbytes), int(pixels), int(tpn), int(nsingle), int(sbytes)
pools = [int(p) for p in pools.split()]
vals = collections.OrderedDict()
for line in open(path):
    k, metric, v = line.rstrip("\n").split("\t")
    vals.setdefault(metric, []).append(float(v))
med = {m: statistics.median(v) for m, v in vals.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
fmt = lambda x: f"{x:,.0f}" if abs(x) >= 100 else (f"{x:.1f}" if abs(x) >= 1 else f"{x:.3f}")
mb = lambda b: f"{b / 1e6:,.1f} MB" if b >= 1e5 else f"{b / 1e3:,.1f} kB"
runs_of = lambda m: ", ".join(fmt(x) for x in vals.get(m, []))
ncpu = os.cpu_count()
print(f"## hfs compute near the data vs hfs get + Python, {time.strftime('%Y-%m-%d')} (commit {commit})\n")
print(f"`scripts/bench/compute.sh` with RUNS={runs}, {ncpu} cores ({cpu}), Linux {platform.release()}; {pyv}. "
      f"Cluster: namenode + 3 datanodes on 127.0.0.1, replication 2. Data: the {n:,} generated JPEGs of `ingest.sh` "
      f"({nbytes / 1e6:,.0f} MB, mean {nbytes / n / 1e3:.0f} kB and {pixels / n / 1e6:.2f} Mpixel per image, 10 class folders), "
      f"ingested with `hfs ingest SRC /bench/jpeg --labels dirs` ({float(ingest_s):.0f} s, untimed below). "
      f"**hfs**: `hfs compute run HOOK /bench/jpeg --json --tasks-per-node {tpn}` ({3 * tpn} tasks in flight: 3 datanodes × {tpn}; "
      f"each datanode's compute pool has one thread per core, and all three share these {ncpu} cores); thumbnail and canny write "
      f"their JPEG outputs back into hfs (`--out`, replicated, as any write). **Client**: `hfs get /bench/jpeg LOCAL/`, then a Python "
      f"`multiprocessing.Pool` of P processes (P = {' and '.join(map(str, pools))}: the cores, and the same number of workers as hfs) "
      "running imagehash.phash(Image.open(f)); a 128 thumbnail with OpenCV (full decode, `cv2.resize` INTER_AREA) or with Pillow "
      "(`Image.thumbnail`, which decodes JPEGs at a reduced DCT scale, as hfs's fast path does); "
      "`cv2.Canny(cvtColor(img, BGR2GRAY), 100, 200)`; filter outputs written as JPEG q90 (hfs's default) to the local disk. "
      "Client images/s = files / (get time + pool time, start-up included); its bytes sent to the client are the dataset's. "
      "Every job and get starts with the datanodes' block files in the page cache. Medians of the runs; "
      f"images/s = files / wall seconds of the whole command. Load average (1, 5, 15 min) at the start: {load0}; at the end: {load1}.\n")

def best_client(tasks):
    c = [(med[f"client_p{p}_{t}_images_per_s"], p, t) for p in pools for t in tasks if f"client_p{p}_{t}_images_per_s" in med]
    return max(c) if c else (0, None, None)

print("| hook | hfs compute images/s | " + " | ".join(f"client images/s, pool {p}" for p in pools)
      + " | hfs / best client | target | bytes sent to the client: hfs | client | hfs / dataset bytes | target | read on datanodes (hfs) |")
print("|---|---:|" + "---:|" * len(pools) + "---:|---|---:|---:|---:|---|---:|")
rows = [("phash", "phash", ["phash"], True, True), ("thumbnail 128 (client: OpenCV)", "thumbnail", ["thumbnail-cv2"], True, False),
        ("thumbnail 128 (client: Pillow)", "thumbnail", ["thumbnail-pil"], True, False), ("canny 100/200", "canny", ["canny"], False, False)]
for label, hook, tasks, speed_target, feature in rows:
    h = med.get(f"hfs_{hook}_images_per_s")
    if h is None: continue
    b, _, _ = best_client(tasks)
    cols = [fmt(med.get(f"client_p{p}_{tasks[0]}_images_per_s", 0)) for p in pools]
    ratio = h / b if b else 0
    t = f">= 2 ({'met' if ratio >= 2 else 'not met'})" if speed_target else ""
    sent = med[f"hfs_{hook}_bytes_sent"]
    share = sent / nbytes
    t2 = f"<= 1% ({'met' if share <= 0.01 else 'not met'})" if feature else ""
    print(f"| {label} | {fmt(h)} | " + " | ".join(cols) + f" | {ratio:.2f} | {t} | {mb(sent)} | {mb(nbytes)} | {100 * share:.2f}% | {t2} | {mb(med[f'hfs_{hook}_bytes_read'])} |")
b, p, t = best_client(["thumbnail-cv2", "thumbnail-pil"])
if b and "hfs_thumbnail_images_per_s" in med:
    print(f"\nThumbnail against the faster client (pool {p}, {t.split('-')[1]}): "
          f"{med['hfs_thumbnail_images_per_s'] / b:.2f}× (target >= 2: {'met' if med['hfs_thumbnail_images_per_s'] / b >= 2 else 'not met'}).")
print(f"\nWhere the time goes (medians, seconds): `hfs get` of the dataset {fmt(med['client_get_seconds'])} s "
      f"({nbytes / 1e6 / med['client_get_seconds']:,.0f} MB/s, {n / med['client_get_seconds']:,.0f} files/s).\n")
print("| hook | hfs job (s) | hfs datanode CPU ms/image | node-local | " + " | ".join(f"client pool {p} (s, after the get)" for p in pools) + " |")
print("|---|---:|---:|---:|" + "---:|" * len(pools))
for hook, task in [("phash", "phash"), ("thumbnail", "thumbnail-cv2"), ("thumbnail", "thumbnail-pil"), ("canny", "canny")]:
    if f"hfs_{hook}_seconds" not in med: continue
    name = hook if hook == task else f"{hook} ({task.split('-')[1]})"
    print(f"| {name} | {fmt(med[f'hfs_{hook}_seconds'])} | {med[f'hfs_{hook}_dn_cpu_ms_per_image']:.2f} | {med[f'hfs_{hook}_node_local']:.2f} | "
          + " | ".join(fmt(med.get(f"client_p{p}_{task}_pool_seconds", 0)) for p in pools) + " |")
for hook in ("thumbnail", "canny"):
    m = f"hfs_{hook}_outputs_stored"
    if m in vals and min(vals[m]) < n:
        print(f"\n**{hook}: outputs found under --out after the job: {', '.join(str(int(x)) for x in vals[m])} of {n:,} per run** "
              "(the job reported every file done and no failure).")
if agree.strip():
    total, matched, dist = agree.split(" ", 2)
    print(f"\nphash agreement, run 1 (hfs against imagehash on the same {int(total):,} files; Hamming distance: files): {dist}.")
if nsingle and "single_phash_images_per_s" in med:
    print(f"\n### One core: decode + hook per image\n")
    print(f"The first {nsingle:,} images ({sbytes / 1e6:,.0f} MB) on a 1-datanode cluster (replication 1): "
          "`hfs compute run HOOK --tasks-per-node 1` (one task, so one hook thread at a time; wall time of the whole job, "
          "and the datanode's CPU time per image: local read, checksum, decode, hook, output encode, HTTP), against "
          "`compute_ref.py single` in one Python process (files read from the page cache, decode, hook, output encoded "
          "in memory, cv2.setNumThreads(1); the loop timed). This is not `swift test --filter BenchmarkTests`, "
          "which measures one fixed 1024×768 photo and takes no image folder.\n")
    print("| hook | hfs, 1 task: images/s | hfs datanode CPU ms/image | Python, 1 process: images/s | Python CPU ms/image | hfs / Python (images/s) | runs (hfs; Python) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, hook, task in [("phash", "phash", "phash"), ("thumbnail 128 vs OpenCV", "thumbnail", "thumbnail-cv2"),
                              ("thumbnail 128 vs Pillow", "thumbnail", "thumbnail-pil"), ("canny 100/200", "canny", "canny")]:
        h, py = med.get(f"single_{hook}_images_per_s"), med.get(f"py1_{task}_images_per_s")
        if h is None or py is None: continue
        print(f"| {label} | {fmt(h)} | {med[f'single_{hook}_dn_cpu_ms_per_image']:.2f} | {fmt(py)} | {med[f'py1_{task}_cpu_ms_per_image']:.2f} | "
              f"{h / py:.2f} | {runs_of(f'single_{hook}_images_per_s')}; {runs_of(f'py1_{task}_images_per_s')} |")
print("\nRaw runs (run, metric, value):\n")
print("```")
for line in open(path):
    print(line.rstrip("\n").replace("\t", "  "))
print("```")
EOF
