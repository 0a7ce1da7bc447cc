#!/usr/bin/env bash
# Lints the Dockerfiles (CI runs this; no Docker engine is needed). hadolint is not served by any
# registry these machines reach, so this uses dockerfile-utils (npm; the validator of the VS Code
# Docker extension): syntax, instructions and their arguments. Installed once into docker/target/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$here/target/lint/node_modules/.bin/dockerfile-utils"
if [ ! -x "$tool" ]; then
  mkdir -p "$here/target/lint"
  (cd "$here/target/lint" && npm install --no-audit --no-fund --silent dockerfile-utils@0.16.3 >/dev/null)
fi
status=0
for file in "$here"/Dockerfile.*; do
  case "$file" in *.dockerignore) continue ;; esac
  if "$tool" lint "$file"; then echo "lint ok: docker/$(basename "$file")"; else status=1; fi
done
exit $status
