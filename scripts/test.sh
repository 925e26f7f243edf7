#!/usr/bin/env bash
# The whole test suite: unit tests of every module and integration tests that start real
# `hfs` namenode and datanode processes on 127.0.0.1 (free ports, temporary folders).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
