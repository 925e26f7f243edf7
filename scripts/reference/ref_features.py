#!/usr/bin/env python3
"""Reference values for the HFSImaging feature hooks (stats, histogram, ahash/dhash/phash, HOG).

Run with the reference venv (HFS_REF_PYTHON): Pillow, numpy, scipy, imagehash, opencv-python-headless.
HOG needs cv2.HOGDescriptor, which OpenCV 5 no longer has: run the `hog` parts with an OpenCV 4.x
Python (HFS_REF_HOG_PYTHON) — without it the JSON says "hog": null and why.

  ref_features.py one IMAGE [--bins N] [--dump-pnm OUT] [--no-features] [--hog [--hog-whole]]
      JSON for one image (--no-features: for a Python with OpenCV 4 but no imagehash)
  ref_features.py batch OUTDIR [--generated] [--skimage] [--features/--no-features] [--hog]
      writes OUTDIR/NAME.pnm (decoded pixels: P5 gray, P6 RGB, P7 RGB_ALPHA) and OUTDIR/NAME.json;
      with --hog also OUTDIR/NAME.hog*.f32 (little-endian float32) and OUTDIR/NAME.hogin.pnm.

Images are normalised to L, RGB or RGBA exactly like the Swift side sees them (P/1/LA/I modes are
converted with Pillow first), and every feature is computed on that normalised image.
"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

HIST_BINS_DEFAULT = 16
HOG_CROP_W, HOG_CROP_H = 128, 192  # whole-image HOG is compared on this top-left crop


def normalise(img):
    if img.mode in ("L", "RGB", "RGBA"):
        return img
    if img.mode == "LA" or (img.mode == "P" and "transparency" in img.info) or img.mode == "PA":
        return img.convert("RGBA")
    if img.mode in ("1", "I", "I;16", "I;16B", "F"):
        if img.mode in ("I", "I;16", "I;16B", "F"):
            arr = np.asarray(img).astype(np.float64)
            hi = arr.max() if arr.size and arr.max() > 0 else 1
            return Image.fromarray(np.clip(arr * 255.0 / hi, 0, 255).astype(np.uint8), "L")
        return img.convert("L")
    return img.convert("RGB")


def write_pnm(path, img):
    arr = np.asarray(img)
    h, w = arr.shape[0], arr.shape[1]
    with open(path, "wb") as f:
        if img.mode == "L":
            f.write(b"P5\n%d %d\n255\n" % (w, h))
        elif img.mode == "RGB":
            f.write(b"P6\n%d %d\n255\n" % (w, h))
        else:
            f.write(b"P7\nWIDTH %d\nHEIGHT %d\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n" % (w, h))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def channels_of(img):
    return {"L": 1, "RGB": 3, "RGBA": 4}[img.mode]


def features(img, bins):
    import imagehash
    arr = np.asarray(img).astype(np.int64).reshape(img.size[1], img.size[0], channels_of(img))
    flat = arr.reshape(-1, arr.shape[2])
    out = {
        "width": img.size[0], "height": img.size[1], "channels": channels_of(img),
        "mean": [float(flat[:, c].mean()) for c in range(flat.shape[1])],
        "std": [float(flat[:, c].std()) for c in range(flat.shape[1])],
        "histogram_bins": bins,
        "histogram": [np.bincount(flat[:, c] * bins // 256, minlength=bins).tolist() for c in range(flat.shape[1])],
        "ahash": str(imagehash.average_hash(img)),
        "dhash": str(imagehash.dhash(img)),
        "phash": str(imagehash.phash(img)),
        "phash_pixels": np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS)).ravel().tolist(),
        "dhash_pixels": np.asarray(img.convert("L").resize((9, 8), Image.Resampling.LANCZOS)).ravel().tolist(),
        "imagehash_version": imagehash.__version__,
    }
    return out


def hog_reference(img, outbase):
    """HOG of cv2.HOGDescriptor() defaults. Returns a dict for the JSON, writes .f32 files."""
    try:
        import cv2
        hog = cv2.HOGDescriptor()
    except Exception as e:  # OpenCV 5 removed HOGDescriptor
        return None, "cv2.HOGDescriptor unavailable: %r" % (e,)
    rgb = img.convert("RGB") if img.mode == "RGBA" else img
    info = {"opencv": cv2.__version__}
    # 1) the hook's default: resize to the 64x128 window with Pillow LANCZOS, then one window
    small = rgb.resize((64, 128), Image.Resampling.LANCZOS)
    write_pnm(outbase + ".hogin.pnm", small)
    info["resized"] = save_hog(hog, small, outbase + ".hog64x128.f32", (8, 8))
    # 2) whole image (top-left crop) with windows at winStride 8x8 and 16x16
    if rgb.size[0] >= 64 and rgb.size[1] >= 128:
        crop = rgb.crop((0, 0, min(rgb.size[0], HOG_CROP_W), min(rgb.size[1], HOG_CROP_H)))
        info["crop"] = [crop.size[0], crop.size[1]]
        info["whole8"] = save_hog(hog, crop, outbase + ".hogwhole8.f32", (8, 8))
        info["whole16"] = save_hog(hog, crop, outbase + ".hogwhole16.f32", (16, 16))
    return info, None


def hog_values(img, whole):
    """For `one --hog`: the 64x128 Lanczos-resized window's descriptor, and with `whole` the
    descriptors of every window of the image itself (winStride 8x8, no padding)."""
    try:
        import cv2
        hog = cv2.HOGDescriptor()
    except Exception as e:
        return {"error": "cv2.HOGDescriptor unavailable: %r" % (e,)}
    rgb = img.convert("RGB") if img.mode == "RGBA" else img
    def bgr(im):
        a = np.asarray(im)
        return np.ascontiguousarray(a[:, :, ::-1]) if a.ndim == 3 else a
    out = {"opencv": cv2.__version__,
           "resized": hog.compute(bgr(rgb.resize((64, 128), Image.Resampling.LANCZOS))).ravel().tolist()}
    if whole and rgb.size[0] >= 64 and rgb.size[1] >= 128:
        out["whole"] = hog.compute(bgr(rgb), winStride=(8, 8), padding=(0, 0)).ravel().tolist()
    return out


def save_hog(hog, img, path, stride):
    arr = np.asarray(img)
    if arr.ndim == 3:
        arr = np.ascontiguousarray(arr[:, :, ::-1])  # OpenCV wants BGR
    d = hog.compute(arr, winStride=stride, padding=(0, 0)).astype("<f4").ravel()
    d.tofile(path)
    return {"file": os.path.basename(path), "length": int(d.size), "winStride": list(stride)}


def generated_images():
    rng = np.random.default_rng(1234)
    ims = {}
    x = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    ims["grad_h_l_256x256"] = Image.fromarray(x, "L")
    yy, xx = np.mgrid[0:200, 0:300]
    ims["grad_rgb_300x200"] = Image.fromarray(np.dstack([xx * 255 // 299, yy * 255 // 199, (xx + yy) * 255 // 498]).astype(np.uint8), "RGB")
    ims["grad_diag_l_131x77"] = Image.fromarray(((np.mgrid[0:77, 0:131].sum(0) * 255) // (76 + 130)).astype(np.uint8), "L")
    c = ((np.mgrid[0:128, 0:128] // 8).sum(0) % 2 * 255).astype(np.uint8)
    ims["checker8_l_128x128"] = Image.fromarray(c, "L")
    c2 = ((np.mgrid[0:47, 0:33] // 3).sum(0) % 2).astype(np.uint8)
    ims["checker3_rgb_33x47"] = Image.fromarray(np.dstack([c2 * 200 + 20, c2 * 50, 255 - c2 * 255]).astype(np.uint8), "RGB")
    ims["noise_rgb_640x480"] = Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), "RGB")
    ims["noise_l_97x61"] = Image.fromarray(rng.integers(0, 256, (61, 97), dtype=np.uint8), "L")
    ims["smooth_noise_rgb_256x192"] = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), "RGB").resize((256, 192), Image.Resampling.BICUBIC)
    ims["solid_gray_64x64"] = Image.new("L", (64, 64), 117)
    ims["tiny_rgb_5x7"] = Image.fromarray(rng.integers(0, 256, (7, 5, 3), dtype=np.uint8), "RGB")
    ims["tiny_l_1x1"] = Image.new("L", (1, 1), 200)
    ims["wide_rgb_1024x64"] = Image.fromarray(np.dstack([np.tile((np.sin(np.arange(1024) / 37.0) * 120 + 128).astype(np.uint8), (64, 1))] * 3), "RGB")
    ims["tall_l_48x700"] = Image.fromarray(np.tile((np.cos(np.arange(700) / 23.0) * 120 + 128).astype(np.uint8)[:, None], (1, 48)), "L")
    for name, size, mode in (("shapes_rgb_400x300", (400, 300), "RGB"), ("shapes_rgb_1024x768", (1024, 768), "RGB"),
                             ("shapes_rgba_200x150", (200, 150), "RGBA"), ("shapes_l_64x128", (64, 128), "L"),
                             ("shapes_rgb_64x128", (64, 128), "RGB"), ("shapes_rgb_160x256", (160, 256), "RGB")):
        im = Image.new(mode, size, (30, 60, 90, 255)[: len(mode)] if mode != "L" else 40)
        d = ImageDraw.Draw(im)
        w, h = size
        for i in range(12):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(4, w // 2 + 5)), y0 + int(rng.integers(4, h // 2 + 5))
            col = tuple(int(v) for v in rng.integers(0, 256, 4))[: len(mode)] if mode != "L" else int(rng.integers(0, 256))
            [d.rectangle, d.ellipse, d.line][i % 3]((x0, y0, x1, y1), fill=col) if i % 3 != 2 else d.line((x0, y0, x1, y1), fill=col, width=3)
        ims[name] = im
    # random sizes (tall, wide, tiny, upscaled on one axis): exercises Pillow's pass order and borders
    for i in range(24):
        w = int(rng.choice([1, 2, 3, 7, 9, 31, 33, 64, 100, 257, 400]))
        h = int(rng.choice([1, 2, 5, 8, 32, 47, 90, 128, 300, 513]))
        mode = ["L", "RGB"][i % 2]
        base = rng.integers(0, 256, (max(h // 8, 1), max(w // 8, 1), 3), dtype=np.uint8)
        smooth = Image.fromarray(base, "RGB").resize((w, h), Image.Resampling.BILINEAR)
        noisy = np.clip(np.asarray(smooth).astype(int) + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)
        im = Image.fromarray(noisy, "RGB")
        ims["rand%02d_%s_%dx%d" % (i, mode.lower(), w, h)] = im if mode == "RGB" else im.convert("L")
    g = np.asarray(ims["shapes_l_64x128"])
    ty, tx = np.mgrid[0:128, 0:66]
    ims["tie_rgb_66x128"] = Image.fromarray(np.dstack([tx * 2, np.zeros_like(tx), (ty * 2) % 256]).astype(np.uint8), "RGB")  # |grad R| == |grad B| on x == y
    ims["graytriple_rgb_64x128"] = Image.fromarray(np.dstack([g, g, g]), "RGB")  # equal channels: tie order
    return ims


def skimage_images(outdir):
    """skimage's sample images; the folder comes from HFS_SKIMAGE_DATA, an earlier batch run into the
    same OUTDIR (a Python without skimage, e.g. the HOG one, reuses it), or skimage itself."""
    d = os.environ.get("HFS_SKIMAGE_DATA")
    remembered = os.path.join(outdir, "skimage_dir.txt")
    if not d and os.path.exists(remembered):
        d = open(remembered).read().strip()
    if not d:
        import skimage
        d = os.path.join(os.path.dirname(skimage.__file__), "data")
    with open(remembered, "w") as f:
        f.write(d)
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith((".png", ".jpg")):
            out["sk_" + os.path.splitext(f)[0]] = os.path.join(d, f)
    return out


def batch(outdir, gen, sk, do_features, do_hog, bins):
    os.makedirs(outdir, exist_ok=True)
    items = []
    if gen:
        items += list(generated_images().items())
    if sk:
        items += [(n, p) for n, p in skimage_images(outdir).items()]
    names = []
    for name, src in items:
        img = normalise(Image.open(src) if isinstance(src, str) else src)
        img.load()
        base = os.path.join(outdir, name)
        rec = {"name": name}
        jpath = base + ".json"
        if os.path.exists(jpath):
            rec = json.load(open(jpath))
        write_pnm(base + ".pnm", img)
        if do_features:
            rec.update(features(img, bins))
        if do_hog:
            info, err = hog_reference(img, base)
            rec["hog"] = info
            if err:
                rec["hog_error"] = err
        with open(jpath, "w") as f:
            json.dump(rec, f)
        names.append(name)
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump(names, f)
    print(json.dumps({"images": len(names), "outdir": outdir}))


def main(argv):
    if len(argv) >= 2 and argv[0] == "one":
        bins = int(argv[argv.index("--bins") + 1]) if "--bins" in argv else HIST_BINS_DEFAULT
        img = normalise(Image.open(argv[1]))
        if "--no-features" in argv:
            rec = {"width": img.size[0], "height": img.size[1], "channels": channels_of(img)}
        else:
            rec = features(img, bins)
        if "--dump-pnm" in argv:
            write_pnm(argv[argv.index("--dump-pnm") + 1], img)
        if "--hog" in argv:
            rec["hog"] = hog_values(img, "--hog-whole" in argv)
        print(json.dumps(rec))
    elif len(argv) >= 2 and argv[0] == "batch":
        bins = int(argv[argv.index("--bins") + 1]) if "--bins" in argv else HIST_BINS_DEFAULT
        batch(argv[1], "--generated" in argv, "--skimage" in argv, "--no-features" not in argv, "--hog" in argv, bins)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
