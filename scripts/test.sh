#!/usr/bin/env bash
# The whole test suite: unit tests of every module and integration tests that start real
# `hfs` namenode and datanode processes on 127.0.0.1 (free ports, temporary folders). Tests that
# compare against reference tools (Pillow, OpenCV, imagehash, webdataset) use the Python
# environments that scripts/reference/setup-venv.sh creates once (HFS_REF_PYTHON and
# HFS_REF_HOG_PYTHON override them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ -z ${HFS_REF_PYTHON:-} || -z ${HFS_REF_HOG_PYTHON:-} ]]; then eval "$(scripts/reference/setup-venv.sh)"; fi
swift build --build-tests
swift test --skip-build "$@"
