#!/usr/bin/env bash
# Creates (once) the Python environments of the test-only reference tools and prints the
# variables the tests read. The product never uses Python; the tests compare hfs against tools
# no one here wrote.
#
#   eval "$(scripts/reference/setup-venv.sh)"   # exports HFS_REF_PYTHON and HFS_REF_HOG_PYTHON
#
# - .venv-ref: Pillow, OpenCV 5, imagehash, numpy, scipy, scikit-image (its sample photos),
#   webdataset.
# - .venv-ref-cv4: OpenCV 4, whose cv2.HOGDescriptor (gone from OpenCV 5) is the HOG reference.
# VENV_ROOT=dir puts them elsewhere (default: the repository root).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${VENV_ROOT:-$root}

make_venv() {  # DIR PACKAGES...
  local venv=$1; shift
  local stamp="$venv/.hfs-packages"
  if [[ ! -x $venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "$*" ]]; then
    echo "[setup-venv] creating $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2
    echo "$*" >"$stamp"
  fi
}

make_venv "$base/.venv-ref" pillow==13.0.0 opencv-python-headless==5.0.0.93 ImageHash==4.3.2 numpy==2.4.6 \
  scipy==1.17.1 PyWavelets==1.9.0 scikit-image==0.26.0 webdataset==1.0.2
make_venv "$base/.venv-ref-cv4" opencv-python-headless==4.14.0.94 numpy==2.4.6 pillow==13.0.0
echo "export HFS_REF_PYTHON=$base/.venv-ref/bin/python"
echo "export HFS_REF_HOG_PYTHON=$base/.venv-ref-cv4/bin/python"
