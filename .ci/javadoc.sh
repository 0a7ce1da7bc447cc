#!/usr/bin/env bash
# The release's javadoc check: builds the presets and java modules with -Prelease (their jars,
# sources jars and javadoc jars; installs nothing). The java module's javadoc runs doclint with
# every group and fails on any warning; each warning is printed as file:line: warning: message.
# Not yet run by .ci/run: java/src/main has doclint warnings to fix first (CHANGELOG, "Known issues").
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
  if grep -qE ': (warning|error):' "$log"; then
    grep -E ': (warning|error):' "$log" | sed 's/^\[WARNING\] //' >&2
    echo "javadoc check FAILED: $(grep -cE ': (warning|error):' "$log") javadoc warnings or errors (above)" >&2
  else
    tail -n 60 "$log" >&2
    echo "javadoc check FAILED: the build failed before or outside javadoc (log tail above)" >&2
  fi
  exit 1
fi
echo "javadoc check passed: doclint (all groups) reports no warning; sources and javadoc jars built"
