#!/usr/bin/env python3
"""Kernel CPU of a datanode's append pattern, buffered against O_DIRECT (one-off of session 6).

Writes 1 GiB to PATH as 8 MiB appends, each fdatasync'ed, in pieces of CHUNK bytes (env, default
1 MiB): `buffered` also drops each append from the page cache (posix_fadvise DONTNEED) as the
datanodes did; `direct` opens the file O_DIRECT (pieces must be multiples of 4096). Prints wall,
user and system seconds. Usage: CHUNK=65536 python3 scripts/bench/append-direct.py buffered|direct PATH
"""
import mmap, os, resource, sys, time

mode, path = sys.argv[1], sys.argv[2]
if mode not in ("buffered", "direct"):
    sys.exit("mode is buffered or direct")
total, batch = 1 << 30, 8 << 20
chunk = int(os.environ.get("CHUNK", 1 << 20))
buf = mmap.mmap(-1, chunk)  # page-aligned, as O_DIRECT needs
buf.write(os.urandom(chunk))
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (os.O_DIRECT if mode == "direct" else 0)
fd = os.open(path, flags, 0o644)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
off = 0
while off < total:
    start = off
    for _ in range(batch // chunk):
        os.pwrite(fd, buf, off)
        off += chunk
    os.fdatasync(fd)
    if mode == "buffered":
        os.posix_fadvise(fd, start, batch, os.POSIX_FADV_DONTNEED)
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.time()
print(f"{mode} chunk {chunk}: wall {t1 - t0:.2f} s user {r1.ru_utime - r0.ru_utime:.2f} sys {r1.ru_stime - r0.ru_stime:.2f}")
os.close(fd)
os.unlink(path)
