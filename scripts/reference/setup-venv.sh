#!/usr/bin/env bash
# Creates (once) the Python environment of the test-only reference tools: Pillow, OpenCV,
# imagehash, numpy, scikit-image (its sample photos) and webdataset. The product never uses
# Python; the tests compare hfs against these references. Prints the interpreter's path.
#
#   export HFS_REF_PYTHON=$(scripts/reference/setup-venv.sh)
#
# VENV=dir overrides the location (default .venv-ref at the repository root).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv-ref}
packages=(pillow==13.0.0 opencv-python-headless==5.0.0.93 ImageHash==4.3.2 numpy==2.4.6 scipy==1.17.1
          PyWavelets==1.9.0 scikit-image==0.26.0 webdataset==1.0.2)
stamp="$venv/.hfs-packages"
if [[ ! -x $venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]]; then
  echo "[setup-venv] creating $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}" >&2
  echo "${packages[*]}" >"$stamp"
fi
echo "$venv/bin/python"
