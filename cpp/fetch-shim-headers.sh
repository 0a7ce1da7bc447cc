#!/usr/bin/env bash
# Fetches libtorch's stable C-shim headers (Debian trixie's libtorch-dev 2.6.0, the oldest libtorch
# the core supports) into $1 (default cpp/target/shim) and prints the include folder.
# It uses a private apt configuration: the machine's own Debian mirror, trixie's package lists in
# the target folder, nothing installed system-wide.
set -euo pipefail
PACKAGE_VERSION="2.6.0+dfsg-7"
out="$(realpath -m "${1:-$(dirname "$0")/target/shim}")"
include="$out/root/usr/include"
if [ -f "$include/torch/csrc/inductor/aoti_torch/c/shim.h" ]; then
  echo "$include"; exit 0
fi
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "deb" && $3 ~ /^(bookworm|trixie)$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources" >&2; exit 1; }
mkdir -p "$out/lists/partial" "$out/cache/archives/partial" "$out/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$out/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$out/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$out/lists" -o "Dir::Cache=$out/cache" -o "Debug::NoLocking=1"
          -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$out/debs" && apt-get "${apt_opts[@]}" -qq download "libtorch-dev=$PACKAGE_VERSION" >&2)
dpkg -x "$out/debs/libtorch-dev_${PACKAGE_VERSION}_amd64.deb" "$out/root"
echo "$include"
