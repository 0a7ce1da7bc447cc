#!/usr/bin/env bash
# A user's build of the published library: installs the reactor's artifacts into the local Maven
# repository, then builds and tests .ci/consumer, a project outside the reactor that depends only
# on the installed io.github.adahessian4j:adahessian4j (the README's dependency snippet) and
# trains a tiny MLP with Adam, AdamW and AdaHessian. Fails loudly on any step.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
version=0.1.0-SNAPSHOT
fail() {
  echo "consumer check FAILED: $*" >&2
  exit 1
}

# 1. The consumer's dependency is the README's snippet, word for word (whitespace aside).
squash() { tr -d ' \t\n'; }
readme=$(sed -n '/^<dependency>$/,/^<\/dependency>$/p' README.md | squash)
[ -n "$readme" ] || fail "no <dependency> block in README.md"
squash < .ci/consumer/pom.xml | grep -qF "$readme" \
  || fail "the README's dependency snippet is not the one .ci/consumer/pom.xml uses"

# 2. The artifacts a user fetches, in the local repository.
mvn -B -q install -DskipTests

# 3. The user's project: its own pom, no parent, run from outside the reactor.
mvn -B -ntp -f .ci/consumer/pom.xml clean verify || fail "the consumer project did not build or its test failed"

# 4. It used the jars step 2 installed (the local repository may be shared with other builds):
#    the test wrote the paths of the jars it loaded the API, the bindings and the natives from.
used=.ci/consumer/target/used-jars.txt
[ -s "$used" ] || fail "$used is missing: the consumer test did not run"
i=0
for built in java/target/adahessian4j-$version.jar presets/target/adahessian4j-presets-$version.jar \
    presets/target/adahessian4j-presets-$version-linux-x86_64.jar; do
  i=$((i + 1))
  installed=$(sed -n "${i}p" "$used")
  cmp -s "$built" "$installed" || fail "$installed is not the $built this run built (installed over by another build?)"
done
echo "consumer check passed: .ci/consumer trained with Adam, AdamW and AdaHessian from the installed artifacts"
