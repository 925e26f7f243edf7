#!/usr/bin/env python3
"""imagehash.phash throughput on a 1024x768 RGB image, one process and a process pool.

The image is made once in each worker (no pixel IPC): the pool's best case. Compare with
`.build/release/features-bench` (same kind of image) run right after, on the same machine.
"""
import multiprocessing as mp
import sys
import time

import imagehash
import numpy as np
from PIL import Image

SECONDS = 3.0


def make_image():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:768, 0:1024]
    arr = np.dstack([(x // 4 + rng.integers(0, 16, x.shape)) % 256, (y // 3 + rng.integers(0, 16, x.shape)) % 256,
                     ((x ^ y) // 8 + rng.integers(0, 16, x.shape)) % 256]).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


_image = None


def _init():
    global _image
    _image = make_image()


def _task(n):
    for _ in range(n):
        imagehash.phash(_image)
    return n


def main():
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    _init()
    imagehash.phash(_image)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        imagehash.phash(_image)
        count += 1
    elapsed = time.perf_counter() - start
    print("python phash, 1 process: %.1f images/s" % (count / elapsed))
    cpu0, n = time.process_time(), 0
    while time.process_time() - cpu0 < SECONDS:
        imagehash.phash(_image)
        n += 1
    print("python phash, CPU time: %.2f ms/image (load-independent)" % (1000 * (time.process_time() - cpu0) / n))
    with mp.Pool(processes, initializer=_init) as pool:
        pool.map(_task, [1] * processes)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < SECONDS:
            count += sum(pool.map(_task, [4] * (processes * 8)))
        elapsed = time.perf_counter() - start
    print("python phash, pool of %d: %.1f images/s" % (processes, count / elapsed))


if __name__ == "__main__":
    main()
