#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# contrib/deps.sh: installs the Debian packages of contrib/debian-packages.txt
# that are missing (apt-get, as root or through sudo).  Prints what it does;
# does nothing when everything is there.
set -euo pipefail
list="$(dirname "$0")/debian-packages.txt"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "r42intercept: installing missing Debian packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
        echo "r42intercept: run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
