#!/usr/bin/env python3
"""OpenCV reference results for the HFSImaging filter tests.

Needs numpy and opencv-python-headless; `datadir` needs scikit-image, `cmykjpeg` Pillow. The Swift
tests run it with the python named by $HFS_REF_PYTHON.

Usage:
  ref_filters.py datadir                         print scikit-image's bundled data folder
  ref_filters.py decode IN OUT                   cv2.imread(IN) as RGB(A)/gray, written as PNM/PAM-free raw (see below)
  ref_filters.py FILTER IN OUT [key=value ...]   apply FILTER to IN (binary PGM/PPM, RGB order), write OUT
  ref_filters.py cmykjpeg IN OUT                 IN (PPM) converted by Pillow to CMYK, saved as JPEG OUT
  ref_filters.py batch                           read "FILTER IN OUT [key=value ...]" or "decode IN OUT"
                                                 lines from stdin (one python start for many jobs)

OUT is binary PGM (1 channel) or PPM (3 channels); 4-channel results are written as a "P7-lite":
the header "HFSRAW W H C\\n" followed by the samples, so any channel count round-trips.
Filters (parameters as key=value; definitions documented on the Swift side):
  grayscale                 cv2.cvtColor RGB2GRAY / RGBA2GRAY
  resize  width= height= interpolation=bilinear|area      cv2.resize INTER_LINEAR / INTER_AREA
  thumbnail maxSide=        size as Image.thumbnailSize, cv2.resize INTER_AREA
  gaussian sigma= ksize=0   cv2.GaussianBlur(img, (k, k), sigma), BORDER_REFLECT_101
  sobel                     min(255, |Sobel dx| + |Sobel dy|) of the gray image, CV_16S, BORDER_REFLECT_101
  canny low= high=          cv2.Canny(gray, low, high, apertureSize=3, L2gradient=False)
  threshold value=          cv2.threshold(img, value, 255, THRESH_BINARY)
  otsu                      cv2.threshold(gray, 0, 255, THRESH_BINARY | THRESH_OTSU); prints the level
  rotate90 times=           cv2.rotate: 1 = ROTATE_90_CLOCKWISE, 2 = ROTATE_180, 3 = ROTATE_90_COUNTERCLOCKWISE
  flip direction=           cv2.flip: horizontal = code 1, vertical = code 0
  crop x= y= width= height= numpy slice
"""
import os
import sys

import cv2
import numpy as np


def read_pnm(path):
    data = open(path, "rb").read()
    if data.startswith(b"HFSRAW"):
        head, _, rest = data.partition(b"\n")
        _, w, h, c = head.split()
        w, h, c = int(w), int(h), int(c)
        return np.frombuffer(rest[: w * h * c], dtype=np.uint8).reshape(h, w, c)
    tokens, pos = [], 2
    magic = data[:2]
    while len(tokens) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        tokens.append(int(data[start:pos]))
    pos += 1
    w, h, maxval = tokens
    assert maxval == 255, "only maxval 255"
    c = 1 if magic == b"P5" else 3
    arr = np.frombuffer(data[pos: pos + w * h * c], dtype=np.uint8).reshape(h, w, c)
    return arr[:, :, 0] if c == 1 else arr


def write_image(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.ndim == 2:
        header = b"P5\n%d %d\n255\n" % (arr.shape[1], arr.shape[0])
    elif arr.shape[2] == 3:
        header = b"P6\n%d %d\n255\n" % (arr.shape[1], arr.shape[0])
    else:
        header = b"HFSRAW %d %d %d\n" % (arr.shape[1], arr.shape[0], arr.shape[2])
    with open(path, "wb") as f:
        f.write(header + arr.tobytes())


def gray(img):
    if img.ndim == 2:
        return img
    code = cv2.COLOR_RGBA2GRAY if img.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(img, code)


def thumbnail_size(w, h, max_side):
    long = max(w, h)
    if long <= max_side or max_side <= 0:
        return w, h
    scaled = lambda side: max(1, (side * max_side + long // 2) // long)
    return (max_side, scaled(h)) if w >= h else (scaled(w), max_side)


def apply(name, img, p):
    if name == "grayscale":
        return gray(img)
    if name == "resize":
        interp = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}[p.get("interpolation", "bilinear")]
        return cv2.resize(img, (int(p["width"]), int(p["height"])), interpolation=interp)
    if name == "thumbnail":
        h, w = img.shape[:2]
        tw, th = thumbnail_size(w, h, int(p["maxSide"]))
        return img if (tw, th) == (w, h) else cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
    if name == "gaussian":
        k = int(p.get("ksize", 0))
        return cv2.GaussianBlur(img, (k, k), float(p["sigma"]), borderType=cv2.BORDER_REFLECT_101)
    if name == "sobel":
        g = gray(img)
        dx = cv2.Sobel(g, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT_101).astype(np.int32)
        dy = cv2.Sobel(g, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT_101).astype(np.int32)
        return np.minimum(255, np.abs(dx) + np.abs(dy)).astype(np.uint8)
    if name == "canny":
        return cv2.Canny(gray(img), float(p["low"]), float(p["high"]), apertureSize=3, L2gradient=False)
    if name == "threshold":
        return cv2.threshold(img, float(p["value"]), 255, cv2.THRESH_BINARY)[1]
    if name == "otsu":
        level, out = cv2.threshold(gray(img), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        print(int(level))
        return out
    if name == "rotate90":
        times = int(p.get("times", 1)) % 4
        codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
        return img if times == 0 else cv2.rotate(img, codes[times])
    if name == "flip":
        return cv2.flip(img, 1 if p["direction"] == "horizontal" else 0)
    if name == "crop":
        x, y, w, h = (int(p[k]) for k in ("x", "y", "width", "height"))
        return img[y:y + h, x:x + w]
    raise SystemExit("unknown filter %r" % name)


def run_job(argv):
    if argv[0] == "decode":
        decode(argv[1], argv[2])
        return
    name, src, dst = argv[0], argv[1], argv[2]
    params = dict(kv.split("=", 1) for kv in argv[3:])
    write_image(dst, apply(name, read_pnm(src), params))


def decode(src, dst):
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit("cv2 cannot read %s" % src)
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    write_image(dst, img)


def main(argv):
    if len(argv) >= 1 and argv[0] == "datadir":
        import skimage
        print(os.path.join(os.path.dirname(skimage.__file__), "data"))
        return
    if len(argv) == 3 and argv[0] == "cmykjpeg":
        from PIL import Image
        Image.fromarray(read_pnm(argv[1])).convert("CMYK").save(argv[2], "JPEG", quality=95)
        return
    if len(argv) == 1 and argv[0] == "batch":
        for line in sys.stdin:
            if line.strip():
                run_job(line.split())
        return
    if len(argv) < 3:
        raise SystemExit(__doc__)
    run_job(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
