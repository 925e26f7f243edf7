#!/usr/bin/env bash
# Chaos run of hfs on a local cluster (127.0.0.1 only): while a put/ingest/rm workload runs, a
# fault schedule drawn from the seed kills and restarts datanodes (and, in some rounds, the
# namenode), flips bytes in replica files and fills a datanode's capacity. At the end it waits for
# `hfs fsck /` to be healthy and verifies every acknowledged file byte for byte (SHA-256).
#
#   scripts/chaos.sh [--rounds N] [--seed S] [--hfs PATH]
#
# Prints Markdown for docs/RELIABILITY.md on stdout (progress on stderr), then one line
# `CHAOS_SUMMARY {json}`. Exit status 0 only when no acknowledged file was lost, unreadable or
# corrupted, no visible file came back torn or resurrected after its rm, no daemon crashed and the
# final fsck was healthy.
#
# Cluster: `hfs namenode` and 4 × `hfs datanode` started directly (not `hfs cluster up`), so one
# process can be kill -9'ed and restarted: dn1..dn4 on racks /r1 /r2, replication 2, 4 MiB blocks
# (large files span blocks), heartbeat 1 s, dead_node_timeout 6 s, block scanner at 64 MiB/s
# every 5 s, full block report every 30 s; with a binary that has compaction, compaction_interval
# 20 s (mostly-deleted packed blocks are rewritten, unreferenced ones removed, under the faults too).
#
# Workload (one background loop, deterministic from the seed, unique contents): directory puts
# of 3-25 files of 1-200 KB (a third compressible text), large files of 4.5-10 MiB, `hfs ingest`
# of small folders of PNGs, `hfs rm` of an acknowledged file and `hfs rm -r` of an acknowledged
# directory. A file counts as acknowledged only when its CLI exited 0; a failed put is "failed
# (not acknowledged)" and is not expected to exist, but if it is visible at the end its bytes must
# be the ones sent. A file leaves the acknowledged list only when its rm exited 0 (a failed rm
# leaves it "uncertain": it may be gone, but if present it must be intact).
#
# Faults per round, drawn from random.Random(seed), one after the other while the workload runs:
#   dn_restart  kill -9 a datanode, restart it 1-8 s later (before or after it is declared dead)
#   dn_death    kill -9 a datanode and keep it down until `hfs fsck /` exits 0 with it dead: the
#               heal time (kill -> healthy) and repair throughput (its used bytes / heal time)
#   nn_restart  (some rounds) kill -9 the namenode, restart it 0.5-4 s later; time until it is out
#               of safe mode
#   bitflip     XOR one byte (at offset >= 4096 when the file is larger than 8 KiB, so in frame
#               data) of a random blk_ file of a random datanode; watches the namenode log and
#               fsck until the replica has been reported corrupt and replaced (a block no file uses
#               any more is reported but left alone: outcome unused_block_kept)
#   fill        (some rounds; first, and held for the rest of the round) stop a datanode, set its
#               `capacity:` to its used bytes + 256 KiB (below the reserve: no new blocks) or
#               + 4.5 MiB (block_size + 512 KiB: it takes a block, then refuses appends), restart it; restored
#               (stop, capacity removed, restart) at the end of the round
#
# Environment:
#   HFS=path/to/hfs     use this binary instead of building (`swift build -c release --product hfs`)
#   MAX_SECONDS=900     bound on the whole run; no round starts after MAX_SECONDS - END_RESERVE
#   END_RESERVE=330     seconds kept for the end (final fsck wait up to FSCK_TIMEOUT, verification)
#   FSCK_TIMEOUT=300    final wait for a healthy fsck
#   HEAL_TIMEOUT=150    wait for fsck healthy after a dn_death
#   CLI_TIMEOUT=120     bound on any one hfs CLI call of the workload
#   WL_PAUSE=0.3        seconds between two workload operations
#   FLIP_WATCH=60       seconds a byte flip is watched for its report and repair
#   CHAOS_DIR=/tmp      where the temp folder goes
#   CHAOS_SELFTEST=1    before verifying, alter one recorded digest and add a path never written:
#                       the run must then report 1 corrupted and 1 lost and exit 1
#   CHAOS_LOGS=DIR      copy the logs (daemons, workload, faults) to DIR at exit; on a failed run
#                       they are kept in $CHAOS_DIR/hfs-chaos-logs.XXXXXX anyway
set -uo pipefail

ROUNDS=8
SEED=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
    --seed=*) SEED=${1#*=}; shift ;;
    --hfs) HFS=${2:?--hfs needs a path}; shift 2 ;;
    --hfs=*) HFS=${1#*=}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--rounds N] [--seed S] [--hfs PATH]" >&2; exit 2 ;;
  esac
done
MAX_SECONDS=${MAX_SECONDS:-900}
END_RESERVE=${END_RESERVE:-330}
FSCK_TIMEOUT=${FSCK_TIMEOUT:-300}
HEAL_TIMEOUT=${HEAL_TIMEOUT:-150}
CLI_TIMEOUT=${CLI_TIMEOUT:-120}
WL_PAUSE=${WL_PAUSE:-0.3}
FLIP_WATCH=${FLIP_WATCH:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODES=(dn1 dn2 dn3 dn4)

log() { echo "[chaos $(date +%T)] $*" >&2; }
die() { echo "[chaos] error: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
for v in MAX_SECONDS END_RESERVE FSCK_TIMEOUT HEAL_TIMEOUT CLI_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done

if [[ -z ${HFS:-} ]]; then
  log "building: swift build -c release --product hfs"
  (cd "$ROOT" && swift build -c release --product hfs >&2) || die "build failed"
  HFS="$(cd "$ROOT" && swift build -c release --show-bin-path)/hfs"
fi
[[ -x $HFS ]] || die "no hfs executable at $HFS"
HFS=$(realpath "$HFS")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

TMPBASE=$(realpath "${CHAOS_DIR:-${TMPDIR:-/tmp}}") || die "no folder ${CHAOS_DIR:-${TMPDIR:-/tmp}}"
[[ -z ${CHAOS_LOGS:-} ]] || CHAOS_LOGS=$(realpath -m "$CHAOS_LOGS")
D=$(mktemp -d "$TMPBASE/hfs-chaos.XXXXXX") || die "mktemp failed in $TMPBASE"
CFG=$D/cluster.yaml
PY=$D/chaos_helper.py
WL_PID=""
WATCHDOG_PID=""
START=$EPOCHREALTIME
mkdir -p "$D/logs" "$D/wl" "$D/verify"
cd "$D" || exit 1   # nothing of this run lands in the caller's folder
touch "$D/acked.tsv" "$D/unacked.tsv" "$D/removed.tsv" "$D/rm_uncertain.tsv" "$D/wl.tsv" \
      "$D/faults.tsv" "$D/heals.tsv" "$D/restarts.tsv" "$D/nn.tsv" "$D/flips.tsv" "$D/fills.tsv" "$D/crashes.tsv"

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [[ -n $WATCHDOG_PID ]]; then
    for pid in $(pgrep -P "$WATCHDOG_PID" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    kill "$WATCHDOG_PID" 2>/dev/null
  fi
  if [[ -n $WL_PID ]]; then
    for pid in $(pgrep -P "$WL_PID" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    kill -KILL "$WL_PID" 2>/dev/null
  fi
  # every daemon and CLI call of this run names this run's own config file
  for pid in $(pgrep -f -- "$CFG" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  local keep=${CHAOS_LOGS:-}
  if [[ -z $keep && $rc -ne 0 ]]; then keep=$(mktemp -d "$TMPBASE/hfs-chaos-logs.XXXXXX"); fi
  if [[ -n $keep ]]; then
    mkdir -p "$keep" && cp -r "$D/logs" "$D"/*.tsv "$CFG" "$keep/" 2>/dev/null
    log "logs kept in $keep"
  fi
  rm -rf "$D"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'log "terminated (MAX_SECONDS + 120 s watchdog, or a signal)"; exit 143' TERM
( sleep $((MAX_SECONDS + 120)) && kill -TERM $$ ) >/dev/null 2>&1 &
WATCHDOG_PID=$!

now() { awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
remaining() { awk -v a="$START" -v b="$EPOCHREALTIME" -v m="$MAX_SECONDS" 'BEGIN { printf "%d", m - (b - a) }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
fault() { printf '%s\t%s\t%s\t%s\t%s\n' "$(now)" "$ROUND" "$1" "$2" "$3" >>"$D/faults.tsv"; log "round $ROUND: $1 $2 $3"; }
hfsc() { timeout -k 5 "$CLI_TIMEOUT" "$HFS" "$@" --config "$CFG"; }
hfsq() { timeout -k 2 15 "$HFS" "$@" --config "$CFG" 2>/dev/null; }   # quick status queries

# ---- helpers (python3, standard library only) ------------------------------------------------
cat >"$PY" <<'PYEOF'
import hashlib, json, os, random, re, socket, statistics, struct, sys, zlib

def free_port():
    # below the kernel's ephemeral range, so no client connection holds a daemon's port while
    # that daemon is down and about to be restarted on it
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    rng = random.SystemRandom()
    for _ in range(1000):
        p = rng.randint(20000, max(20001, lo - 1))
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p)); return p
        except OSError:
            pass
        finally:
            s.close()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

NODES = ["dn1", "dn2", "dn3", "dn4"]

def schedule(seed, rounds):
    """round, kind, target, param (TSV): the fault schedule, a function of the seed alone."""
    rng = random.Random(seed)
    plan = []
    for r in range(1, rounds + 1):
        faults = []
        if rng.random() < 0.6:
            faults.append(("dn_death", rng.choice(NODES), "-"))
        else:
            faults.append(("dn_restart", rng.choice(NODES), f"{rng.uniform(1, 8):.1f}"))
        if rng.random() < 0.7:
            faults.append(("bitflip", rng.choice(NODES), str(rng.randrange(2**31))))
        if rng.random() < 0.5:
            faults.append(("nn_restart", "nn", f"{rng.uniform(0.5, 4):.1f}"))
        if rng.random() < 0.3:
            faults.append(("dn_restart", rng.choice(NODES), f"{rng.uniform(1, 8):.1f}"))
        rng.shuffle(faults)
        if rng.random() < 0.35:
            faults.insert(0, ("fill", rng.choice(NODES), rng.choice(["below_reserve", "above_reserve"]) + f":{rng.randint(8, 15)}"))
        plan.append(faults)
    if rounds >= 2:  # every kind at least once
        for kind in ["dn_death", "dn_restart", "nn_restart", "bitflip", "fill"]:
            if not any(f[0] == kind for fs in plan for f in fs):
                r = rng.randrange(rounds)
                target = "nn" if kind == "nn_restart" else rng.choice(NODES)
                param = {"dn_death": "-", "dn_restart": f"{rng.uniform(1, 8):.1f}", "nn_restart": f"{rng.uniform(0.5, 4):.1f}",
                         "bitflip": str(rng.randrange(2**31)),
                         "fill": rng.choice(["below_reserve", "above_reserve"]) + f":{rng.randint(8, 15)}"}[kind]
                if kind == "fill":
                    if plan[r] and plan[r][0][0] == "fill":
                        continue
                    plan[r].insert(0, (kind, target, param))
                else:
                    plan[r].insert(rng.randint(1 if plan[r] and plan[r][0][0] == "fill" else 0, len(plan[r])), (kind, target, param))
    for r, fs in enumerate(plan, 1):
        for kind, target, param in fs:
            print(f"{r}\t{kind}\t{target}\t{param}\t{rng.uniform(2, 5):.1f}")

def workplan(seed, n):
    """op, kind, count, pick, size (TSV): the workload's operations in order."""
    for i in range(1, n + 1):
        rng = random.Random(f"{seed}:plan:{i}")
        x = rng.random()
        if x < 0.55: kind, count, size = "batch", rng.randint(3, 25), 0
        elif x < 0.67: kind, count, size = "large", 1, rng.randint(9 << 19, 10 << 20)
        elif x < 0.77: kind, count, size = "ingest", rng.randint(4, 12), 0
        elif x < 0.91: kind, count, size = "rm", 1, 0
        else: kind, count, size = "rmdir", 1, 0
        print(f"{i}\t{kind}\t{count}\t{rng.randrange(2**31)}\t{size}")

WORDS = b"alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar".split()

def content(rng, header, size):
    head = header.encode() + b"\n"
    if rng.random() < 0.33:  # compressible text (exercises the lz4 path of codec auto)
        out = bytearray(head)
        while len(out) < size:
            out += b" ".join(rng.choice(WORDS) for _ in range(12)) + b" %d\n" % rng.randrange(10**9)
        return bytes(out[:max(size, len(head))])
    return head + rng.randbytes(max(0, size - len(head)))

def batch(d, seed, op, n):
    rng = random.Random(f"{seed}:batch:{op}")
    for k in range(n):
        rel = f"f{k:03d}.bin" if rng.random() < 0.7 else f"sub{k % 3}/f{k:03d}.dat"
        data = content(rng, f"hfs-chaos seed={seed} op={op} file={k}", rng.randint(1024, 200 * 1024))
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f: f.write(data)
        print(f"{rel}\t{hashlib.sha256(data).hexdigest()}\t{len(data)}")

def large(path, seed, op, size):
    rng = random.Random(f"{seed}:large:{op}")
    h = hashlib.sha256()
    with open(path, "wb") as f:
        head = f"hfs-chaos seed={seed} op={op} large\n".encode()
        f.write(head); h.update(head)
        left = size - len(head)
        while left > 0:
            b = rng.randbytes(min(left, 1 << 20)); f.write(b); h.update(b); left -= len(b)
    print(f"{h.hexdigest()}\t{size}")

def png(w, h, rows):
    def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def pngs(d, seed, op, n):
    rng = random.Random(f"{seed}:png:{op}")
    for k in range(n):
        w, h = rng.randint(16, 160), rng.randint(16, 160)
        rows = [rng.randbytes(3 * w) for _ in range(h)]
        data = png(w, h, rows)
        rel = f"class{k % 3}/img{k:03d}.png"
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f: f.write(data)
        print(f"{rel}\t{hashlib.sha256(data).hexdigest()}\t{len(data)}")

def report_field(node, field):
    try: d = json.load(sys.stdin)
    except Exception: print(""); return
    if node == "-":
        if field == "safemode": print(d.get("safeMode") or "")
        elif field == "live": print(sum(1 for x in d.get("datanodes", []) if x.get("state") == "live"))
        return
    for x in d.get("datanodes", []):
        if x.get("id") == node: print(x.get(field, "")); return
    print("")

def fsck_field(field):
    try: d = json.load(sys.stdin)
    except Exception: print(""); return
    v = d.get(field, "")
    print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)

def pick_block(datadir, pick):
    bdir = os.path.join(datadir, "blocks")
    try: names = sorted(n for n in os.listdir(bdir) if n.startswith("blk_"))
    except FileNotFoundError: names = []
    files = [(n, os.path.getsize(os.path.join(bdir, n))) for n in names if os.path.exists(os.path.join(bdir, n))]
    files = [(n, s) for n, s in files if s > 48]
    if not files: print("none"); return
    rng = random.Random(pick)
    n, s = rng.choice(files)
    off = rng.randrange(4096, s) if s > 8192 else rng.randrange(24, s)
    print(f"{os.path.join(bdir, n)}\t{off}\t{s}")

def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off); b = f.read(1)
        if len(b) != 1: print("short"); return
        f.seek(off); f.write(bytes([b[0] ^ 0xFF])); f.flush(); os.fsync(f.fileno())
    print(f"{b[0]}\t{b[0] ^ 0xFF}")

def byte_at(path, off):
    try:
        with open(path, "rb") as f:
            f.seek(off); b = f.read(1)
        print(b[0] if b else "gone")
    except FileNotFoundError:
        print("gone")

def set_capacity(cfg, node, cap):
    lines = open(cfg).read().splitlines(True)
    out = []
    for l in lines:
        if re.match(rf"\s*- \{{ id: {re.escape(node)},", l):
            l = re.sub(r", capacity: \d+", "", l)
            if cap != "none":
                l = l.replace(" }", f", capacity: {cap} }}", 1)
        out.append(l)
    tmp = cfg + ".tmp"
    with open(tmp, "w") as f: f.write("".join(out))
    os.replace(tmp, cfg)

def used_bytes(datadir):
    bdir = os.path.join(datadir, "blocks"); t = 0
    for n in os.listdir(bdir):
        if n.startswith("blk_"):
            try: t += os.path.getsize(os.path.join(bdir, n))
            except FileNotFoundError: pass
    print(t)

def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""): h.update(b)
    return h.hexdigest()

def read_tsv(p):
    out = []
    for l in open(p):
        l = l.rstrip("\n")
        if l: out.append(l.split("\t"))
    return out

def compare(d):
    """Checks the tree fetched with `hfs get /chaos` against the lists; writes verify.tsv for
    the acknowledged files found, recheck.txt for those to fetch one by one, others.tsv."""
    root = os.path.join(d, "verify")
    acked = {r[0]: r[1] for r in read_tsv(os.path.join(d, "acked.tsv"))}
    with open(os.path.join(d, "verify.tsv"), "w") as v, open(os.path.join(d, "recheck.txt"), "w") as rc:
        for p, h in acked.items():
            lp = root + p
            if os.path.isfile(lp):
                v.write(f"{p}\t{'verified' if sha(lp) == h else 'corrupted'}\n")
            else:
                rc.write(p + "\n")
    # files present that were never acknowledged, or were removed: torn or resurrected?
    known = {}
    for r in read_tsv(os.path.join(d, "unacked.tsv")): known[r[0]] = ("unacked", r[1])
    for r in read_tsv(os.path.join(d, "rm_uncertain.tsv")): known[r[0]] = ("rm_uncertain", r[1])
    removed = {r[0]: r[1] for r in read_tsv(os.path.join(d, "removed.tsv"))}
    with open(os.path.join(d, "others.tsv"), "w") as o:
        for dirpath, _, names in os.walk(root):
            for n in names:
                lp = os.path.join(dirpath, n); p = lp[len(root):]
                if p in acked: continue
                if p in known:
                    kind, h = known[p]
                    o.write(f"{p}\t{kind}\t{'intact' if sha(lp) == h else 'torn'}\n")
                elif p in removed:
                    o.write(f"{p}\tremoved\tresurrected\n")
                else:
                    o.write(f"{p}\tunknown\tunknown\n")

def med(xs): return statistics.median(xs) if xs else None

def summary(d, meta_json):
    meta = json.loads(meta_json)
    faults = read_tsv(os.path.join(d, "faults.tsv"))
    heals = read_tsv(os.path.join(d, "heals.tsv"))
    restarts = read_tsv(os.path.join(d, "restarts.tsv"))
    nns = read_tsv(os.path.join(d, "nn.tsv"))
    flips = read_tsv(os.path.join(d, "flips.tsv"))
    fills = read_tsv(os.path.join(d, "fills.tsv"))
    crashes = read_tsv(os.path.join(d, "crashes.tsv"))
    wl = read_tsv(os.path.join(d, "wl.tsv"))
    ver = read_tsv(os.path.join(d, "verify.tsv"))
    others = read_tsv(os.path.join(d, "others.tsv")) if os.path.exists(os.path.join(d, "others.tsv")) else []
    kinds = ["dn_restart", "dn_death", "nn_restart", "bitflip", "fill"]
    by_kind = {k: sum(1 for f in faults if f[2] == k) for k in kinds}
    # workload: t0 t1 op kind rc files bytes
    ops = {}
    for r in wl:
        k = r[3]; s = ops.setdefault(k, {"ok": 0, "failed": 0, "timeout": 0, "files_ok": 0, "files_failed": 0, "bytes_ok": 0})
        rc = int(r[4])
        if rc == 0: s["ok"] += 1; s["files_ok"] += int(r[5]); s["bytes_ok"] += int(r[6])
        else:
            s["failed"] += 1; s["files_failed"] += int(r[5])
            if rc in (124, 137): s["timeout"] += 1
    put_kinds = ["batch", "large", "ingest"]
    acked_ever = sum(ops.get(k, {}).get("files_ok", 0) for k in put_kinds)
    acked_bytes = sum(ops.get(k, {}).get("bytes_ok", 0) for k in put_kinds)
    failed_files = sum(ops.get(k, {}).get("files_failed", 0) for k in put_kinds)
    failed_ops = sum(ops.get(k, {}).get("failed", 0) for k in put_kinds)
    put_ops = sum(ops.get(k, {}).get("ok", 0) + ops.get(k, {}).get("failed", 0) for k in put_kinds)
    timeouts = sum(s["timeout"] for s in ops.values())
    removed = len(read_tsv(os.path.join(d, "removed.tsv")))
    rm_unc = len(read_tsv(os.path.join(d, "rm_uncertain.tsv")))
    st = {}
    for r in ver: st[r[1]] = st.get(r[1], 0) + 1
    expected = len(read_tsv(os.path.join(d, "acked.tsv")))
    verified, lost, unreadable, corrupted = st.get("verified", 0), st.get("lost", 0), st.get("unreadable", 0), st.get("corrupted", 0)
    unchecked = expected - (verified + lost + unreadable + corrupted)
    torn = sum(1 for o in others if o[2] == "torn")
    resurrected = sum(1 for o in others if o[2] == "resurrected")
    unacked_present = sum(1 for o in others if o[1] == "unacked")
    unacked_intact = sum(1 for o in others if o[1] == "unacked" and o[2] == "intact")
    unknown = sum(1 for o in others if o[1] == "unknown")
    heal_ok = [h for h in heals if h[5] == "ok"]
    heal_s = [float(h[4]) for h in heal_ok]
    copy_s = [float(h[4]) - float(h[3]) for h in heal_ok]
    thr = [int(h[2]) / 1e6 / float(h[4]) for h in heal_ok if float(h[4]) > 0]
    heal_timeouts = sum(1 for h in heals if h[5] != "ok")
    flips_done = [f for f in flips if f[4] != "skipped"]
    flips_rep = [f for f in flips_done if f[4] == "repaired"]
    nn_back = [float(n[2]) for n in nns if n[3] == "ok"]
    dn_back = [float(x[3]) for x in restarts if x[4] == "ok"]
    fsck_ok = meta["final_fsck"] == "healthy"
    failures = lost + unreadable + corrupted + torn + resurrected + len(crashes) + (0 if fsck_ok else 1) + unchecked
    ok = failures == 0
    f1 = lambda x: "–" if x is None else f"{x:.1f}"
    f2 = lambda x: "–" if x is None else f"{x:.2f}"
    L = []
    L.append(f"## Chaos run, {meta['date']} (commit {meta['commit']})\n")
    L.append(f"`scripts/chaos.sh --rounds {meta['rounds']} --seed {meta['seed']}`: namenode + 4 datanodes on 127.0.0.1 "
             f"(2 racks, replication 2, 4 MiB blocks, heartbeat 1 s, dead_node_timeout 6 s, scanner 64 MiB/s every 5 s, "
             f"full block report every 30 s{', compaction every ' + meta['compaction'] if meta['compaction'] else ''}), "
             f"{meta['cores']} cores, {meta['duration']:.0f} s in all. MB = 10^6 bytes.\n")
    L.append("| measure | value |")
    L.append("|---|---|")
    L.append(f"| seed | {meta['seed']} |")
    L.append(f"| rounds run | {meta['rounds_run']} of {meta['rounds']}{' (stopped by MAX_SECONDS)' if meta['rounds_run'] < meta['rounds'] else ''} |")
    L.append(f"| faults injected | {sum(by_kind.values())}: " + ", ".join(f"{k} {by_kind[k]}" for k in kinds) + " |")
    L.append(f"| workload operations | " + ", ".join(f"{k} {ops[k]['ok']} ok / {ops[k]['failed']} failed" for k in ["batch", "large", "ingest", "rm", "rmdir"] if k in ops) + " |")
    L.append(f"| files acknowledged (put/ingest exit 0) | {acked_ever} ({acked_bytes / 1e6:.0f} MB) |")
    L.append(f"| of which removed by an acknowledged rm | {removed} |")
    L.append(f"| rm that failed (file may or may not remain) | {rm_unc} |")
    L.append(f"| files expected at the end | {expected} |")
    L.append(f"| **files verified byte for byte** | **{verified}** |")
    L.append(f"| **files lost / unreadable / corrupted** | **{lost} / {unreadable} / {corrupted}** |")
    if unchecked: L.append(f"| files not checked (time bound) | {unchecked} |")
    L.append(f"| failed puts (not acknowledged): operations / files | {failed_ops} of {put_ops} / {failed_files} |")
    L.append(f"| CLI calls killed by CLI_TIMEOUT ({meta['cli_timeout']} s) | {timeouts} |")
    L.append(f"| unacknowledged files visible at the end: intact / torn | {unacked_intact} / {unacked_present - unacked_intact} |")
    L.append(f"| removed files visible again (resurrected) | {resurrected} |")
    if unknown: L.append(f"| files nobody wrote | {unknown} |")
    L.append(f"| daemon crashes (exited without being killed) | {len(crashes)} |")
    L.append(f"| final fsck | {meta['final_fsck']} after {meta['final_fsck_s']:.0f} s |")
    L.append(f"| datanode death → replication restored (kill → fsck healthy), each | {', '.join(f1(x) for x in heal_s) or '–'} s{f'; {heal_timeouts} timed out' if heal_timeouts else ''} |")
    L.append(f"| … median | {f1(med(heal_s))} s (of which detection = dead_node_timeout ≈ {f1(med([float(h[3]) for h in heal_ok]))} s) |")
    L.append(f"| repair throughput (dead node's used bytes / heal time), each | {', '.join(f2(x) for x in thr) or '–'} MB/s |")
    L.append(f"| … median | {f2(med(thr))} MB/s |")
    L.append(f"| of the heal time: declared dead → fsck healthy, each | {', '.join(f1(x) for x in copy_s) or '–'} s |")
    L.append(f"| dead node's used bytes, each | {', '.join(f'{int(h[2]) / 1e6:.0f}' for h in heal_ok) or '–'} MB |")
    L.append(f"| byte flips repaired (reported corrupt, bad replica gone, fsck healthy) | {len(flips_rep)} of {len(flips_done)}"
             + (f" (others: {', '.join(f[4] for f in flips_done if f[4] != 'repaired')})" if len(flips_rep) < len(flips_done) else "") + " |")
    if flips_rep:
        L.append(f"| … flip → reported corrupt / → repaired, each | {', '.join(f1(float(f[5])) + ' / ' + f1(float(f[6])) for f in flips_rep)} s |")
    L.append(f"| namenode kill -9 → out of safe mode, each | {', '.join(f1(x) for x in nn_back) or '–'} s |")
    L.append(f"| datanode kill -9 → live again (restarted after), each | {', '.join(f1(float(x[3])) + ' (' + x[2] + ')' for x in restarts if x[4] == 'ok') or '–'} s |")
    if fills:
        L.append(f"| capacity fills: node, mode, puts ok / failed while held, appends the node refused | " + "; ".join(
            f"{f[1]} {f[4].replace('_', ' ')}, {f[7]} / {f[8]}, {f[9]}" for f in fills) + " |")
    L.append(f"| result | {'PASS' if ok else 'FAIL'} |")
    L.append("")
    L.append("Fault log (seconds since start, round, kind, target, detail):\n")
    L.append("```")
    for f in faults: L.append("  ".join(f))
    L.append("```")
    print("\n".join(L))
    js = {"ok": ok, "seed": meta["seed"], "rounds": meta["rounds"], "rounds_run": meta["rounds_run"], "commit": meta["commit"],
          "duration_s": round(meta["duration"], 1), "faults": by_kind, "files_acknowledged": acked_ever, "files_removed": removed,
          "files_expected": expected, "files_verified": verified, "files_lost": lost, "files_unreadable": unreadable,
          "files_corrupted": corrupted, "files_unchecked": unchecked, "failed_put_ops": failed_ops, "failed_put_files": failed_files,
          "cli_timeouts": timeouts, "torn": torn, "resurrected": resurrected, "crashes": len(crashes), "final_fsck": meta["final_fsck"],
          "heal_s": heal_s, "heal_median_s": med(heal_s), "heal_timeouts": heal_timeouts,
          "repair_MBps": [round(x, 2) for x in thr], "repair_median_MBps": med(thr),
          "flips": len(flips_done), "flips_repaired": len(flips_rep), "nn_back_s": nn_back}
    print("CHAOS_SUMMARY " + json.dumps(js))
    return ok

if __name__ == "__main__":
    a = sys.argv[1:]
    cmd = a[0]
    if cmd == "free_port": print(free_port())
    elif cmd == "schedule": schedule(int(a[1]), int(a[2]))
    elif cmd == "plan": workplan(int(a[1]), int(a[2]))
    elif cmd == "batch": batch(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif cmd == "large": large(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif cmd == "pngs": pngs(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif cmd == "report": report_field(a[1], a[2])
    elif cmd == "fsck": fsck_field(a[1])
    elif cmd == "pick_block": pick_block(a[1], int(a[2]))
    elif cmd == "flip": flip(a[1], int(a[2]))
    elif cmd == "byte_at": byte_at(a[1], int(a[2]))
    elif cmd == "set_capacity": set_capacity(a[1], a[2], a[3])
    elif cmd == "used_bytes": used_bytes(a[1])
    elif cmd == "sha": print(sha(a[1]))
    elif cmd == "compare": compare(a[1])
    elif cmd == "summary": sys.exit(0 if summary(a[1], a[2]) else 1)
    else: sys.exit(f"unknown helper command {cmd}")
PYEOF

# ---- cluster -------------------------------------------------------------------------------
# Binaries that know `compaction_interval` (compaction of mostly-deleted packed blocks, removal of
# unreferenced ones) get it short, so compactions happen under the faults too. Probe: a config
# with the key, read by a client aimed at a closed port, fails on the key or on the connection.
COMPACTION=""
printf 'cluster:\n  compaction_interval: 20s\nnamenode:\n  address: 127.0.0.1:1\ndatanodes:\n  - { id: p, address: 127.0.0.1:2, data_dir: p }\n' >"$D/probe.yaml"
if ! timeout 15 "$HFS" report --config "$D/probe.yaml" 2>&1 | grep -q "unknown key"; then COMPACTION=20s; fi
rm -f "$D/probe.yaml"
{
  echo "cluster:"
  echo "  replication: 2"
  echo "  block_size: 4MiB"
  echo "  codec: auto"
  echo "  heartbeat_interval: 1s"
  echo "  dead_node_timeout: 6s"
  echo "  scan_rate: 64MiB"
  echo "  scan_interval: 5s"
  echo "  block_report_interval: 30s"
  [[ -n $COMPACTION ]] && echo "  compaction_interval: $COMPACTION"
  echo "namenode:"
  echo "  address: 127.0.0.1:$(python3 "$PY" free_port)"
  echo "  metadata: nn/meta.sqlite"
  echo "datanodes:"
  for i in 1 2 3 4; do
    echo "  - { id: dn$i, address: 127.0.0.1:$(python3 "$PY" free_port), data_dir: dn$i, rack: /r$(( (i - 1) % 2 + 1 )) }"
  done
} >"$CFG"

# daemons: pid files $D/pid.NAME exist exactly while we mean the process to run
pid_of() { cat "$D/pid.$1" 2>/dev/null; }
running() {  # NAME: its process exists and is not a zombie
  local pid; pid=$(pid_of "$1") || return 1
  [[ -n $pid && -r /proc/$pid/stat ]] || return 1
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}
start_daemon() {  # NAME
  local n=$1
  if [[ $n == nn ]]; then
    (cd "$D" && exec "$HFS" namenode --config "$CFG" >>"$D/logs/nn.log" 2>&1) &
  else
    (cd "$D" && exec "$HFS" datanode --config "$CFG" --id "$n" >>"$D/logs/$n.log" 2>&1) &
  fi
  echo $! >"$D/pid.$n"
  echo "----- $(date +%T.%N) [chaos] started pid $! (t=$(now) s)" >>"$D/logs/$n.log"
}
stop_daemon() {  # NAME SIGNAL: signals it and reaps it (TERM: up to 10 s, then KILL)
  local n=$1 sig=$2 pid
  pid=$(pid_of "$n") || return 0
  echo "----- $(date +%T.%N) [chaos] kill -$sig $pid (t=$(now) s)" >>"$D/logs/$n.log"
  kill -"$sig" "$pid" 2>/dev/null
  if [[ $sig != KILL ]]; then
    for _ in $(seq 1 40); do [[ -d /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null
  fi
  { wait "$pid"; } 2>/dev/null
  rm -f "$D/pid.$n"
}
report_json() { hfsq report --json; }
node_field() { report_json | python3 "$PY" report "$1" "$2"; }
fsck_ok() { hfsq fsck / >/dev/null; }
wait_node_state() {  # NAME STATE SECONDS
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    [[ $(node_field "$1" state) == "$2" ]] && return 0
    sleep 0.25
  done
  return 1
}
wait_namenode_ready() {  # SECONDS: report answers and safe mode is over
  local deadline=$((SECONDS + $1)) j
  while ((SECONDS < deadline)); do
    if j=$(report_json) && [[ -n $j ]] && [[ -z $(python3 "$PY" report - safemode <<<"$j") ]]; then return 0; fi
    sleep 0.25
  done
  return 1
}
start_datanode_live() {  # NAME: starts it and waits (60 s) until the namenode reports it live; retries a start that died
  local n=$1 try
  for try in 1 2 3; do
    start_daemon "$n"
    wait_node_state "$n" live 60 && return 0
    running "$n" && { log "$n not live 60 s after its start"; return 1; }
    log "CRASH: $n exited at start (try $try): $(tail -n 2 "$D/logs/$n.log" | tr '\n' ' ')"
    printf '%s\t%s\t%s\t%s\n' "$(now)" "$ROUND" "$n" "exited at start" >>"$D/crashes.tsv"
    { wait "$(pid_of "$n")"; } 2>/dev/null
    rm -f "$D/pid.$n"; sleep 1
  done
  return 1
}
fsck_wait() {  # SECONDS: polls fsck until exit 0
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do fsck_ok && return 0; sleep 0.5; done
  return 1
}
check_crashes() {  # a daemon with a pid file that is not running exited by itself: a crash
  local n
  for n in nn "${NODES[@]}"; do
    [[ -f $D/pid.$n ]] || continue
    if ! running "$n"; then
      local pid rc
      pid=$(pid_of "$n"); { wait "$pid"; rc=$?; } 2>/dev/null
      printf '%s\t%s\t%s\t%s\n' "$(now)" "$ROUND" "$n" "$rc" >>"$D/crashes.tsv"
      log "CRASH: $n (pid $pid) exited by itself, status $rc; last log lines:"
      tail -n 15 "$D/logs/$n.log" >&2
      rm -f "$D/pid.$n"
      if [[ $n == nn ]]; then start_daemon nn; wait_namenode_ready 60; else start_datanode_live "$n"; fi
    fi
  done
}

ROUND=0
log "hfs $HFS (commit $COMMIT), seed $SEED, $ROUNDS rounds, folder $D"
start_daemon nn
for n in "${NODES[@]}"; do start_daemon "$n"; done
for n in "${NODES[@]}"; do wait_node_state "$n" live 60 || die "$n did not come up: $(tail -n 3 "$D/logs/$n.log")"; done
wait_namenode_ready 60 || die "the namenode did not leave safe mode"
hfsc mkdir -p /chaos/b /chaos/l /chaos/i >/dev/null || die "mkdir failed"

# ---- workload --------------------------------------------------------------------------------
python3 "$PY" plan "$SEED" 100000 >"$D/plan.tsv"
python3 "$PY" schedule "$SEED" "$ROUNDS" >"$D/schedule.tsv"
log "fault schedule (round kind target param gap):"; sed 's/^/    /' "$D/schedule.tsv" >&2

# wl_record T0 OP KIND RC FILES BYTES
wl_record() {
  local t1; t1=$(now)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$t1" "$2" "$3" "$4" "$5" "$6" >>"$D/wl.tsv"
  echo "----- [chaos] t=$1..$t1 s: op $2 $3 ($5 files, $6 bytes) exit $4" >>"$D/logs/workload.log"
}
# ack_files LIST PREFIX UNIT RC: LIST has rel<TAB>sha<TAB>size lines; to acked.tsv when RC is 0
ack_files() {
  local list=$1 prefix=$2 unit=$3 rc=$4 out
  if [[ $rc -eq 0 ]]; then out=$D/acked.tsv; else out=$D/unacked.tsv; fi
  awk -F'\t' -v p="$prefix" -v u="$unit" 'BEGIN { OFS = "\t" } { print p $1, $2, $3, u }' "$list" >>"$out"
}
workload() {
  trap - EXIT INT TERM
  local op kind count pick size t0 rc name list n nfiles bytes line path unit
  while IFS=$'\t' read -r -u 3 op kind count pick size; do
    [[ -e $D/stop ]] && break
    name=$(printf 'op%06d' "$op")
    t0=$(now)
    case $kind in
      batch)
        list=$D/wl/$name.tsv
        python3 "$PY" batch "$D/wl/$name" "$SEED" "$op" "$count" >"$list"
        hfsc put "$D/wl/$name" /chaos/b/ >>"$D/logs/workload.log" 2>&1; rc=$?
        ack_files "$list" "/chaos/b/$name/" "/chaos/b/$name" "$rc"
        wl_record "$t0" "$op" batch "$rc" "$count" "$(awk -F'\t' '{ s += $3 } END { print s + 0 }' "$list")"
        rm -rf "$D/wl/$name" "$list" ;;
      large)
        line=$(python3 "$PY" large "$D/wl/$name.bin" "$SEED" "$op" "$size")
        hfsc put "$D/wl/$name.bin" "/chaos/l/$name.bin" >>"$D/logs/workload.log" 2>&1; rc=$?
        printf '%s.bin\t%s\n' "$name" "$line" >"$D/wl/$name.tsv"
        ack_files "$D/wl/$name.tsv" /chaos/l/ "/chaos/l/$name.bin" "$rc"
        wl_record "$t0" "$op" large "$rc" 1 "$size"
        rm -f "$D/wl/$name.bin" "$D/wl/$name.tsv" ;;
      ingest)
        list=$D/wl/$name.tsv
        python3 "$PY" pngs "$D/wl/$name" "$SEED" "$op" "$count" >"$list"
        hfsc ingest "$D/wl/$name" "/chaos/i/$name" --labels dirs >>"$D/logs/workload.log" 2>&1; rc=$?
        ack_files "$list" "/chaos/i/$name/" "/chaos/i/$name" "$rc"
        wl_record "$t0" "$op" ingest "$rc" "$count" "$(awk -F'\t' '{ s += $3 } END { print s + 0 }' "$list")"
        rm -rf "$D/wl/$name" "$list" ;;
      rm)
        n=$(wc -l <"$D/acked.tsv")
        if ((n > 0)); then
          line=$(sed -n "$((pick % n + 1))p" "$D/acked.tsv")
          path=${line%%$'\t'*}
          hfsc rm "$path" >>"$D/logs/workload.log" 2>&1; rc=$?
          awk -F'\t' -v p="$path" '$1 == p' "$D/acked.tsv" >>"$D/$([[ $rc -eq 0 ]] && echo removed || echo rm_uncertain).tsv"
          awk -F'\t' -v p="$path" '$1 != p' "$D/acked.tsv" >"$D/acked.tmp" && mv "$D/acked.tmp" "$D/acked.tsv"
          wl_record "$t0" "$op" rm "$rc" 1 0
        fi ;;
      rmdir)
        n=$(cut -f4 "$D/acked.tsv" | sort -u | wc -l)
        if ((n > 0)); then
          unit=$(cut -f4 "$D/acked.tsv" | sort -u | sed -n "$((pick % n + 1))p")
          nfiles=$(awk -F'\t' -v u="$unit" '$4 == u' "$D/acked.tsv" | wc -l)
          hfsc rm -r "$unit" >>"$D/logs/workload.log" 2>&1; rc=$?
          awk -F'\t' -v u="$unit" '$4 == u' "$D/acked.tsv" >>"$D/$([[ $rc -eq 0 ]] && echo removed || echo rm_uncertain).tsv"
          awk -F'\t' -v u="$unit" '$4 != u' "$D/acked.tsv" >"$D/acked.tmp" && mv "$D/acked.tmp" "$D/acked.tsv"
          wl_record "$t0" "$op" rmdir "$rc" "$nfiles" 0
        fi ;;
    esac
    sleep "$WL_PAUSE"
  done 3<"$D/plan.tsv" </dev/null
}
workload &
WL_PID=$!
log "workload started (pid $WL_PID)"
sleep 5

# ---- faults ----------------------------------------------------------------------------------
# dn_restart NODE DOWN_SECONDS
f_dn_restart() {
  local n=$1 down=$2 t0 tb st=ok
  t0=$(now)
  stop_daemon "$n" KILL
  fault dn_restart "$n" "kill -9, restart after ${down} s"
  sleep "$down"
  start_datanode_live "$n" || st=failed
  tb=$(now)
  printf '%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$n" "$down" "$(sub "$t0" "$tb")" "$st" >>"$D/restarts.tsv"
  log "  $n live again $(sub "$t0" "$tb") s after the kill ($st)"
}
# dn_death NODE: kill -9, keep it down until fsck is healthy again
f_dn_death() {
  local n=$1 used t0 td th st=ok
  fsck_wait 60 || log "  (cluster not healthy before the kill: $(hfsq fsck / | tail -n 1))"
  used=$(node_field "$n" usedBytes)
  t0=$(now)
  stop_daemon "$n" KILL
  fault dn_death "$n" "kill -9 with ${used:-?} bytes used; down until fsck is healthy"
  if wait_node_state "$n" dead 30; then td=$(now); else td=$(now); log "  $n not reported dead within 30 s"; fi
  if fsck_wait "$HEAL_TIMEOUT"; then th=$(now); else th=$(now); st=timeout
    log "  fsck still unhealthy $HEAL_TIMEOUT s after the node was declared dead:"; hfsq fsck / | head -n 8 >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$n" "${used:-0}" "$(sub "$t0" "$td")" "$(sub "$t0" "$th")" "$st" >>"$D/heals.tsv"
  log "  $n: dead after $(sub "$t0" "$td") s, fsck healthy $(sub "$t0" "$th") s after the kill ($st); restarting it"
  start_datanode_live "$n" || log "  $n did not come back"
}
# nn_restart DOWN_SECONDS
f_nn_restart() {
  local down=$1 t0 tb st=ok
  t0=$(now)
  stop_daemon nn KILL
  fault nn_restart nn "kill -9, restart after ${down} s"
  sleep "$down"
  start_daemon nn
  wait_namenode_ready 90 || st=timeout
  tb=$(now)
  printf '%s\t%s\t%s\t%s\n' "$ROUND" "$down" "$(sub "$t0" "$tb")" "$st" >>"$D/nn.tsv"
  log "  namenode out of safe mode $(sub "$t0" "$tb") s after the kill ($st)"
}
# bitflip NODE PICK: flips one byte of a replica file, then watches (FLIP_WATCH s) for the namenode to log
# the replica as reported corrupt (by the block scanner or a reader) and for fsck to be healthy
# again with the flipped byte gone from that file (replica deleted or replaced)
f_bitflip() {
  local n=$1 pick=$2 sel file off size flipped t0 seen="" tr="" outcome="undetected" b deadline mark blk
  sel=$(python3 "$PY" pick_block "$D/$n" "$pick")
  if [[ $sel == none ]]; then
    fault bitflip "$n" "no block file to flip"
    printf '%s\t%s\t-\t-\tskipped\t\t\n' "$ROUND" "$n" >>"$D/flips.tsv"; return
  fi
  IFS=$'\t' read -r file off size <<<"$sel"
  blk=${file##*/blk_}
  mark=$(wc -l <"$D/logs/nn.log")
  flipped=$(python3 "$PY" flip "$file" "$off" | cut -f2)
  t0=$(now)
  fault bitflip "$n" "blk_$blk (size $size) offset $off -> byte $flipped"
  deadline=$((SECONDS + FLIP_WATCH))
  while ((SECONDS < deadline)); do
    if [[ -z $seen ]] && tail -n +"$((mark + 1))" "$D/logs/nn.log" | grep -q "block $blk on $n reported corrupt"; then seen=$(now); fi
    b=$(python3 "$PY" byte_at "$file" "$off")
    if [[ $b != "$flipped" ]] && fsck_ok; then
      tr=$(now)
      if [[ -n $seen ]]; then outcome=repaired; elif [[ $b == gone ]]; then outcome=block_gone; else outcome=rewritten; fi
      break
    fi
    sleep 0.25
  done
  if [[ -z $tr && -n $seen ]]; then
    # reported, still in the file: with fsck healthy no file uses the block (a used block with a
    # replica marked corrupt counts in fsck until it is replaced)
    if fsck_ok; then outcome=unused_block_kept; else outcome=not_repaired; fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$n" "blk_$blk" "$off" "$outcome" \
    "${seen:+$(sub "$t0" "$seen")}" "${tr:+$(sub "$t0" "$tr")}" >>"$D/flips.tsv"
  log "  flip on $n: $outcome${seen:+, reported corrupt after $(sub "$t0" "$seen") s}${tr:+, fsck healthy without it after $(sub "$t0" "$tr") s}"
}
# fill NODE MODE:HOLD (held until the end of the round)
FILL_NODE=""
f_fill() {
  local n=$1 mode=${2%%:*} hold=${2##*:} used cap
  stop_daemon "$n" TERM
  used=$(python3 "$PY" used_bytes "$D/$n")
  if [[ $mode == below_reserve ]]; then cap=$((used + (256 << 10))); else cap=$((used + (9 << 19))); fi
  python3 "$PY" set_capacity "$CFG" "$n" "$cap"
  start_datanode_live "$n" || log "  $n did not come back with its capacity"
  fault fill "$n" "$mode: capacity $cap = used $used + $((cap - used)); held >= ${hold} s"
  FILL_NODE=$n FILL_T0=$(now) FILL_HOLD=$hold FILL_MODE=$mode FILL_USED=$used FILL_CAP=$cap FILL_MARK=$(wc -l <"$D/logs/$n.log")
}
f_fill_restore() {
  [[ -n $FILL_NODE ]] || return 0
  local n=$FILL_NODE left t1 ok failed refused
  left=$(awk -v a="$FILL_T0" -v b="$(now)" -v h="$FILL_HOLD" 'BEGIN { x = h - (b - a); printf "%d", (x > 0 ? x + 1 : 0) }')
  ((left > 0)) && sleep "$left"
  log "  $n during the fill: capacity $(node_field "$n" capacityBytes), used $(node_field "$n" usedBytes)"
  refused=$(tail -n +"$((FILL_MARK + 1))" "$D/logs/$n.log" | grep -c "no space left")
  stop_daemon "$n" TERM
  python3 "$PY" set_capacity "$CFG" "$n" none
  start_datanode_live "$n" || log "  $n did not come back after the fill"
  t1=$(now)
  read -r ok failed < <(awk -F'\t' -v a="$FILL_T0" -v b="$t1" '$1 >= a && $2 <= b && ($4 == "batch" || $4 == "large" || $4 == "ingest") { if ($5 == 0) o++; else f++ } END { print o + 0, f + 0 }' "$D/wl.tsv")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$n" "$FILL_USED" "$FILL_CAP" "$FILL_MODE" "$FILL_T0" "$t1" "$ok" "$failed" "$refused" >>"$D/fills.tsv"
  fault fill_restored "$n" "capacity removed after $(sub "$FILL_T0" "$t1") s; puts meanwhile: $ok ok, $failed failed; appends refused by $n: $refused"
  FILL_NODE=""
}

ROUNDS_RUN=0
for r in $(seq 1 "$ROUNDS"); do
  if (($(remaining) < END_RESERVE)); then log "time bound: no round $r (MAX_SECONDS=$MAX_SECONDS)"; break; fi
  ROUND=$r
  log "=== round $r"
  while IFS=$'\t' read -r -u 3 _ kind target param gap; do
    check_crashes
    case $kind in
      dn_restart) f_dn_restart "$target" "$param" ;;
      dn_death) f_dn_death "$target" ;;
      nn_restart) f_nn_restart "$param" ;;
      bitflip) f_bitflip "$target" "$param" ;;
      fill) f_fill "$target" "$param" ;;
    esac
    sleep "$gap"
  done 3< <(awk -F'\t' -v r="$r" '$1 == r' "$D/schedule.tsv") </dev/null
  f_fill_restore
  check_crashes
  ROUNDS_RUN=$r
done

# ---- end: stop the workload, heal, verify ------------------------------------------------------
ROUND=end
touch "$D/stop"
log "stopping the workload (the operation under way finishes)"
for _ in $(seq 1 $((CLI_TIMEOUT * 2 + 20))); do kill -0 "$WL_PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$WL_PID" 2>/dev/null; then
  log "workload still running: killed"
  for pid in $(pgrep -P "$WL_PID"); do kill -KILL "$pid" 2>/dev/null; done
  kill -KILL "$WL_PID" 2>/dev/null
fi
{ wait "$WL_PID"; } 2>/dev/null
WL_PID=""
check_crashes
for n in nn "${NODES[@]}"; do
  if [[ ! -f $D/pid.$n ]]; then log "restarting $n"; if [[ $n == nn ]]; then start_daemon nn; else start_datanode_live "$n"; fi; fi
done
wait_namenode_ready 60 || log "namenode not ready"
t0=$(now)
budget=$(($(remaining) - 60)); ((budget > FSCK_TIMEOUT)) && budget=$FSCK_TIMEOUT; ((budget < 30)) && budget=30
if fsck_wait "$budget"; then FINAL_FSCK=healthy; else FINAL_FSCK="NOT healthy"; hfsq fsck / | tail -n 12 >&2; fi
FINAL_FSCK_S=$(sub "$t0" "$(now)")
log "final fsck: $FINAL_FSCK after $FINAL_FSCK_S s"
hfsq fsck / >"$D/logs/final-fsck.txt"
report_json >"$D/logs/final-report.json"

if [[ ${CHAOS_SELFTEST:-} == 1 ]]; then
  # the checker checks: a wrong recorded SHA-256 and a path never written must come out as
  # 1 corrupted and 1 lost (and the run must fail)
  log "CHAOS_SELFTEST: one recorded digest altered, one never-written path added"
  awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { $2 = "0000" substr($2, 5) } { print }' "$D/acked.tsv" >"$D/acked.tmp" && mv "$D/acked.tmp" "$D/acked.tsv"
  printf '/chaos/b/never-written.bin\t%064d\t1\t/chaos/b/never-written.bin\n' 0 >>"$D/acked.tsv"
fi
log "verifying $(wc -l <"$D/acked.tsv") acknowledged files: hfs get /chaos"
timeout -k 5 600 "$HFS" get /chaos "$D/verify/" --config "$CFG" >"$D/logs/verify-get.log" 2>&1 || log "hfs get /chaos exited $? (files it missed are fetched one by one): $(tail -n 2 "$D/logs/verify-get.log" | tr '\n' ' ')"
python3 "$PY" compare "$D"
if [[ -s $D/recheck.txt ]]; then
  log "$(wc -l <"$D/recheck.txt") acknowledged files missing from the tree: fetching each"
  while read -r -u 3 path; do
    (($(remaining) < 10)) && break
    rm -f "$D/one"
    if hfsc get "$path" "$D/one" >>"$D/logs/verify-get.log" 2>&1; then
      if [[ $(python3 "$PY" sha "$D/one") == $(awk -F'\t' -v p="$path" '$1 == p { print $2 }' "$D/acked.tsv") ]]; then st=verified; else st=corrupted; fi
    elif hfsc ls "$path" >/dev/null 2>&1; then st=unreadable
    else st=lost
    fi
    printf '%s\t%s\n' "$path" "$st" >>"$D/verify.tsv"
    [[ $st == verified ]] || log "  $st: $path"
  done 3<"$D/recheck.txt" </dev/null
fi
check_crashes

# the logs' fatal lines, if any
if grep -l -i -E 'fatal error|precondition failed|assertion failed|segmentation' "$D"/logs/*.log >/dev/null 2>&1; then
  log "fatal lines in the logs:"; grep -i -E 'fatal error|precondition failed|assertion failed|segmentation' "$D"/logs/*.log | head -n 20 >&2
fi

META=$(python3 -c 'import json, os, sys, time
print(json.dumps({"seed": int(sys.argv[1]), "rounds": int(sys.argv[2]), "rounds_run": int(sys.argv[3]), "commit": sys.argv[4],
  "date": time.strftime("%Y-%m-%d"), "duration": float(sys.argv[5]), "final_fsck": sys.argv[6], "final_fsck_s": float(sys.argv[7]),
  "cli_timeout": int(sys.argv[8]), "cores": os.cpu_count(), "compaction": sys.argv[9]}))' \
  "$SEED" "$ROUNDS" "$ROUNDS_RUN" "$COMMIT" "$(now)" "$FINAL_FSCK" "$FINAL_FSCK_S" "$CLI_TIMEOUT" "$COMPACTION")
python3 "$PY" summary "$D" "$META"
