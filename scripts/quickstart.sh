#!/usr/bin/env bash
# The main job on a fresh Debian machine with Swift: install what is needed, build, start the
# local cluster from ./cluster.yaml (namenode + 3 datanodes on 127.0.0.1, replication 2), put a
# few sample files, list them and get them back, compare; ingest a small image dataset, look at
# it, and run compute hooks on it where it lives. The cluster keeps running.
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
# An image dataset (PNG, written with the standard library): shapes/<class>/<n>.png.
import struct, zlib
def png(path, w, h, rgb):
    raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in rgb(x, y)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
shapes = {"circles": lambda x, y, c, r: (x - c) ** 2 + (y - c) ** 2 < r * r,
          "squares": lambda x, y, c, r: abs(x - c) < r and abs(y - c) < r,
          "stripes": lambda x, y, c, r: (x // max(1, r // 3)) % 2 == 0}
for cls, inside in shapes.items():
    os.makedirs(os.path.join(root, "shapes", cls))
    for i in range(20):
        w = h = 64 + 8 * (i % 5); c = w // 2; r = 8 + i
        col = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        png(os.path.join(root, "shapes", cls, f"{i:02d}.png"), w, h,
            lambda x, y: col if inside(x, y, c, r) else ((x * 4) % 256, (y * 4) % 256, 128))
open(os.path.join(root, "shapes", "circles", "broken.png"), "wb").write(b"\x89PNG\r\n\x1a\n truncated")
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

echo "--- hfs ingest: a dataset of 60 PNGs in 3 classes (and one broken file, reported and skipped)"
"$HFS" ingest "$samples/shapes" /datasets/shapes --labels dirs
"$HFS" dataset show /datasets/shapes
echo "--- hfs dataset manifest (first rows)"
"$HFS" dataset manifest /datasets/shapes --format csv | head -4
echo "--- hfs compute run phash: runs on the datanodes holding the images (first rows)"
"$HFS" compute run phash /datasets/shapes > "$samples/phash.jsonl"
head -3 "$samples/phash.jsonl"
echo "--- hfs compute run thumbnail --out /derived: outputs written back into hfs"
"$HFS" compute run thumbnail /datasets/shapes --param size=32 --out /derived
"$HFS" ls /derived/shapes/squares | head -3
"$HFS" get /datasets/shapes/circles/00.png "$back/thumb.png" --transform thumbnail:16
echo "--- an on-read transform: $back/thumb.png is $(wc -c <"$back/thumb.png") bytes"
echo "The cluster is still running: try '$HFS ls -l /samples' (with HFS_CONFIG=$HFS_CONFIG); stop it with '$HFS cluster down'."
