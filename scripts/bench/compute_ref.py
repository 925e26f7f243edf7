"""What a user does without hfs compute: the same hooks with imagehash, Pillow and OpenCV over
local files. Used by scripts/bench/compute.sh (run with the reference Python: numpy, Pillow,
imagehash, opencv-python-headless).

  compute_ref.py pool   TASK POOL SRC OUT RESULT.json   # a process pool over every file under SRC
  compute_ref.py single TASK SRC RESULT.json            # one process, one core, no output files

TASK:
  phash           str(imagehash.phash(Image.open(f)))                       -> OUT/phash.jsonl
  thumbnail-cv2   cv2.imread, cv2.resize(INTER_AREA) to longest side 128, JPEG q90 -> OUT/<rel path>
  thumbnail-pil   Image.open, Image.thumbnail((128, 128)) (draft: DCT scaling), JPEG q90 -> OUT/<rel path>
  canny           cv2.imread, cvtColor(BGR2GRAY), cv2.Canny(100, 200), JPEG q90 -> OUT/<rel path>
The JPEG quality is hfs's default for filter outputs (90). Each pool worker sets
cv2.setNumThreads(1): one image per process at a time (the usual way to run OpenCV in a pool).
RESULT.json gets {"files", "seconds", "cpu_seconds"}; pool mode times the whole pool (start-up
included), single mode only the loop (files read, decoded, hooked, outputs encoded in memory).
"""
import json, os, sys, time

SIZE = 128
QUALITY = 90


def files_under(src):
    out = []
    for root, dirs, names in os.walk(src):
        dirs.sort()
        for n in sorted(names):
            if not n.startswith("."):
                out.append(os.path.join(root, n))
    return out


def init():
    import cv2
    cv2.setNumThreads(1)


def run(task, path, src, out, write=True):
    """Runs TASK on PATH; returns the phash row or None (the output image is written under OUT)."""
    import cv2
    if task == "phash":
        import imagehash
        from PIL import Image
        with Image.open(path) as im:
            return os.path.relpath(path, src), str(imagehash.phash(im))
    if task == "thumbnail-pil":
        from PIL import Image
        with Image.open(path) as im:
            im.thumbnail((SIZE, SIZE))
            if write:
                dst = os.path.join(out, os.path.relpath(path, src))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                im.save(dst, "JPEG", quality=QUALITY)
            else:
                import io
                im.save(io.BytesIO(), "JPEG", quality=QUALITY)
        return None
    if task == "thumbnail-cv2":
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        s = SIZE / max(w, h)
        if s < 1:
            img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    elif task == "canny":
        img = cv2.Canny(cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY), 100, 200)
    else:
        raise SystemExit(f"unknown task {task}")
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise RuntimeError(f"cannot encode {path}")
    if write:
        dst = os.path.join(out, os.path.relpath(path, src))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(buf.tobytes())
    return None


def _work(args):
    return run(*args)


def main():
    mode = sys.argv[1]
    if mode == "pool":
        task, n, src, out, result = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
        import multiprocessing
        t0, c0 = time.monotonic(), time.process_time()
        files = files_under(src)
        os.makedirs(out, exist_ok=True)
        rows = []
        with multiprocessing.Pool(n, initializer=init) as pool:
            for r in pool.imap_unordered(_work, [(task, f, src, out) for f in files], chunksize=16):
                if r is not None:
                    rows.append(r)
        if rows:
            with open(os.path.join(out, "phash.jsonl"), "w") as f:
                for p, h in sorted(rows):
                    f.write(json.dumps({"path": p, "result": h}) + "\n")
        dt = time.monotonic() - t0
        import resource
        cpu = time.process_time() - c0
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += ch.ru_utime + ch.ru_stime
    elif mode == "single":
        task, src, result = sys.argv[2], sys.argv[3], sys.argv[4]
        init()
        files = files_under(src)
        run(task, files[0], src, None, write=False)   # warm-up (imports, first-call set-up)
        t0, c0 = time.monotonic(), time.process_time()
        for f in files:
            run(task, f, src, None, write=False)
        dt, cpu = time.monotonic() - t0, time.process_time() - c0
    else:
        raise SystemExit(__doc__)
    with open(result, "w") as f:
        json.dump({"files": len(files), "seconds": dt, "cpu_seconds": cpu}, f)


if __name__ == "__main__":
    main()
