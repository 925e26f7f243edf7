#!/usr/bin/env bash
# What writing into the page cache costs on this machine, by where the pages come from: 1 GiB
# written with dd (bs=1M, no sync) into memory that has been free for a while, then again right
# after the first file is deleted (its pages just freed), then after a pause. On a VM whose
# balloon device reports free pages to the host (virtio-balloon feature bit 5, "free page
# reporting"), memory free for a couple of seconds goes back to the host and the next write to
# it pays a host page fault per page. `hfs get` writes its output file exactly like that.
#
#   RUNS=3 scripts/bench/pagecache.sh [DIR]      (DIR: a folder on the disk to test; default /tmp)
set -euo pipefail
RUNS=${RUNS:-3}
DIR=${1:-/tmp}
PAUSE=${PAUSE:-10}
log() { echo "pagecache: $*" >&2; }
die() { echo "pagecache: error: $*" >&2; exit 1; }
[[ -d $DIR ]] || die "no folder $DIR"
W=$(mktemp -d "$DIR/hfs-pagecache.XXXXXX")
trap 'rm -rf "$W"' EXIT

for f in /sys/bus/virtio/drivers/virtio_balloon/virtio*/features; do
  [[ -r $f ]] || continue
  bits=$(cat "$f")
  echo "virtio-balloon features $f: free page reporting $([[ ${bits:5:1} == 1 ]] && echo on || echo off)"
done
[[ -r /sys/module/page_reporting/parameters/page_reporting_order ]] &&
  echo "page_reporting_order: $(cat /sys/module/page_reporting/parameters/page_reporting_order)"

# write NAME: seconds (wall) and system CPU seconds of writing 1 GiB to $W/NAME.
write() { /usr/bin/time -f "%e %S" dd if=/dev/zero of="$W/$1" bs=1M count=1024 status=none 2>&1; }

printf 'run\tcase\twall_s\tsys_s\n'
for k in $(seq 1 "$RUNS"); do
  sync; sleep "$PAUSE"
  read -r w s < <(write a); printf '%s\tafter %ss free\t%s\t%s\n' "$k" "$PAUSE" "$w" "$s"
  rm -f "$W/a"
  read -r w s < <(write b); printf '%s\tjust freed\t%s\t%s\n' "$k" "$w" "$s"
  rm -f "$W/b"
done
