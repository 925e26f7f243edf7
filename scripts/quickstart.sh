#!/usr/bin/env bash
# The main job on a fresh Debian machine with Swift: install what is needed, build, start the
# local cluster from ./cluster.yaml (namenode + 3 datanodes on 127.0.0.1, replication 2), put a
# few sample files, list them and get them back, compare, and leave the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product hfs
HFS=$PWD/.build/release/hfs
export HFS_CONFIG=$PWD/cluster.yaml
if ! "$HFS" report >/dev/null 2>&1; then "$HFS" cluster up --detach; fi
"$HFS" report

samples=$(mktemp -d /tmp/hfs-samples.XXXX)
trap 'rm -rf "$samples"' EXIT
mkdir -p "$samples/photos/cats" "$samples/photos/dogs"
python3 - "$samples" <<'PY'
import random, sys, os
root = sys.argv[1]; rnd = random.Random(42)
for cls in ("cats", "dogs"):
    for i in range(5):
        w, h = 64 + 16 * i, 48 + 8 * i
        px = bytes((x * 3 + y * 5 + i * 40 + (cls == "dogs") * 90) % 256 for y in range(h) for x in range(w * 3))
        open(os.path.join(root, "photos", cls, f"{cls}{i}.ppm"), "wb").write(b"P6 %d %d 255\n" % (w, h) + px)
open(os.path.join(root, "notes.txt"), "w").write("hfs sample dataset\n" * 100)
open(os.path.join(root, "random.bin"), "wb").write(bytes(rnd.getrandbits(8) for _ in range(6 << 20)))
PY

"$HFS" mkdir -p /samples
"$HFS" put -f "$samples/photos" "$samples/notes.txt" "$samples/random.bin" /samples/
echo "--- hfs ls -l -R /samples"
"$HFS" ls -l -R /samples
echo "--- hfs du -s -h /samples   (logical, stored, raw with replicas)"
"$HFS" du -s -h /samples
echo "--- hfs stat /samples/random.bin"
"$HFS" stat /samples/random.bin
back=$samples/back
mkdir -p "$back"
"$HFS" get /samples/photos /samples/notes.txt /samples/random.bin "$back/"
diff -r "$samples/photos" "$back/photos" && cmp "$samples/notes.txt" "$back/notes.txt" && cmp "$samples/random.bin" "$back/random.bin"
echo "--- got everything back byte for byte"
"$HFS" fsck /samples
echo "The cluster is still running: try '$HFS ls -l /samples' (with HFS_CONFIG=$HFS_CONFIG); stop it with '$HFS cluster down'."
