#!/usr/bin/env bash
# The release's javadoc check: builds the presets and java modules with -Prelease (their jars,
# sources jars and javadoc jars; installs nothing). The java module's javadoc runs doclint with
# every group and fails on any warning; each warning is printed as file:line: warning: message.
# Not yet in .ci/run: java/src/main has doclint warnings to fix first (CHANGELOG, "Unreleased").
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
# A javadoc run that finds its inputs unchanged since its last success skips itself (and so its
# warnings): start from no javadoc output.
rm -rf java/target/reports/apidocs java/target/maven-javadoc-plugin-stale-data.txt \
  presets/target/reports/apidocs presets/target/maven-javadoc-plugin-stale-data.txt
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mvn -B -ntp -Prelease -pl presets,java -DskipTests package >"$log" 2>&1; then
  grep -E ': (warning|error):|^\[ERROR\]' "$log" | sed 's/^\[WARNING\] //' >&2 || true
  echo "javadoc check FAILED (warnings and errors above; the whole log: mvn -B -Prelease -pl presets,java -DskipTests package)" >&2
  exit 1
fi
echo "javadoc check passed: doclint (all groups) reports no warning; sources and javadoc jars built"
