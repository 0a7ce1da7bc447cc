#!/usr/bin/env bash
# The full run of the compare demo: every claim of the article over several seeds (docs/claims.md,
# "The article's claims, full run"). Builds the reactor (package, no install: the classes come from
# presets/, java/ and bench/target, never from ~/.m2's copies of this project) and runs
#   compare --full [your options]
# e.g. bench/claims.sh                      (MNIST: docs/claims.md's table; bench/data/setup-data.sh first)
#      bench/claims.sh --dataset fashion    (Fashion-MNIST)
#      bench/claims.sh --seeds 3 --out /tmp/claims
#      bench/claims.sh --model resnet --plan short --estimate   (a named, reduced plan: its time)
# Output: bench/target/compare-full/ unless --out is given. MAVEN_ARGS adds Maven options (e.g. -o);
# SKIP_BUILD=1 runs what is already built.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 # OpenBLAS's own pool fights libtorch's OpenMP threads (README)
# shellcheck disable=SC2086
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -B -q ${MAVEN_ARGS:-} -pl presets,java,bench package -DskipTests
fi
cp_file="$PWD/bench/target/claims-classpath.txt"
# shellcheck disable=SC2086
mvn -B -q ${MAVEN_ARGS:-} -pl presets,java,bench dependency:build-classpath -Dmdep.includeScope=runtime \
  -DexcludeGroupIds=io.github.adahessian4j -Dmdep.outputFile="$cp_file" >/dev/null
jars=(presets/target/adahessian4j-presets-*-linux-x86_64*.jar)
natives="${jars[0]}"
classpath="bench/target/classes:java/target/classes:presets/target/classes:$natives:$(cat "$cp_file")"
exec java -Xmx2g -Djava.awt.headless=true -Dadahessian4j.compare.out=bench/target/compare -cp "$classpath" \
  io.github.adahessian4j.bench.BenchCli compare --full "$@"
