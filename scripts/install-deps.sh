#!/usr/bin/env bash
# Installs the Debian packages hfs builds against (C libraries used through systemLibrary
# targets, and SQLite for GRDB). Idempotent; needs root or sudo.
set -euo pipefail
packages=(libsqlite3-dev zlib1g-dev liblz4-dev libblosc-dev libisal-dev libturbojpeg0-dev libpng-dev python3 python3-venv)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
