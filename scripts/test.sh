#!/usr/bin/env bash
# The whole test suite: unit tests of every module and integration tests that start real
# `hfs` namenode and datanode processes on 127.0.0.1 (free ports, temporary folders). Tests that
# compare against reference tools (Pillow, OpenCV, imagehash, webdataset) use the Python
# environment that scripts/reference/setup-venv.sh creates once (HFS_REF_PYTHON overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export HFS_REF_PYTHON=${HFS_REF_PYTHON:-$(scripts/reference/setup-venv.sh)}
swift build --build-tests
swift test --skip-build "$@"
