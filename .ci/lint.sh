#!/usr/bin/env bash
# Machine-kept standards, one part at a time or all of them (CI runs `.ci/lint.sh`):
#   .ci/lint.sh [--strict] [shell|python|cpp|java ...]
#   shell   shellcheck (every severity) over every *.sh and every script whose #! names sh or bash
#   python  pyflakes over every *.py; pycodestyle, max-line-length 120 (the scripts' tables and
#           case lists read better whole; Java is held to 100 by google-java-format)
#   cpp     clang-format --dry-run --Werror (style: cpp/.clang-format) over cpp/**/*.{h,cpp,cu}
#   java    Spotless (google-java-format, configured in the parent pom.xml): mvn spotless:check
# Enforced, failing the run: shellcheck, pyflakes, pycodestyle, clang-format and Spotless (cpp/
# and the Java tree were each formatted once in their own commit; a file the formatter would
# change fails the run). Only files listed in PYTHON_PENDING are reported without failing;
# --strict (or LINT_STRICT=1) enforces those too.
# Tools come from Debian (installed here when missing) and, for Spotless, from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python files pycodestyle only reports on (none: every file is held to it).
PYTHON_PENDING=()
PYCODESTYLE=(pycodestyle --max-line-length=120)
CLANG_FORMAT_MAJOR=14  # Debian bookworm's; other versions format some constructs differently

strict="${LINT_STRICT:-0}"
parts=()
for arg in "$@"; do
  case "$arg" in
    --strict) strict=1 ;;
    shell|python|cpp|java) parts+=("$arg") ;;
    *) echo "usage: $0 [--strict] [shell|python|cpp|java ...]" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(shell python cpp java)

# need_debian COMMAND PACKAGE: installs PACKAGE when missing and checks that it provides COMMAND.
# shellcheck source=.ci/need-debian.sh
source .ci/need-debian.sh
need() { need_debian "$1" "$2" || { failed "need_debian $1 $2"; return 1; }; }

# The tree's files (tracked, and new ones not ignored), NUL-separated, matching git pathspecs.
files() { git ls-files -z --cached --others --exclude-standard -- "$@"; }

status=0
failed() { echo "FAILED: $1"; status=1; }
pending() {  # $1: what; reported, or a failure under --strict
  if [ "$strict" = 1 ]; then failed "$1"; else echo "not enforced yet: $1"; fi
}

lint_shell() {
  need shellcheck shellcheck || return 0
  local scripts=() f
  while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    if [[ "$f" == *.sh ]] || head -n 1 "$f" | grep -qE '^#!.*(/|env +)(ba)?sh( |$)'; then
      scripts+=("$f")
    fi
  done < <(files)
  if shellcheck --version | sed -n 2p && shellcheck "${scripts[@]}"; then
    echo "shellcheck ok: ${#scripts[@]} scripts"
  else
    failed "shellcheck"
  fi
}

lint_python() {
  need pyflakes3 pyflakes3 || return 0
  need pycodestyle pycodestyle || return 0
  local all=() enforced=() f p skip
  while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    all+=("$f")
    skip=0
    for p in "${PYTHON_PENDING[@]}"; do [ "$f" = "$p" ] && skip=1; done
    [ "$skip" = 1 ] || enforced+=("$f")
  done < <(files '*.py')
  if pyflakes3 "${all[@]}"; then echo "pyflakes ok: ${#all[@]} files"; else failed "pyflakes"; fi
  if "${PYCODESTYLE[@]}" "${enforced[@]}"; then
    echo "pycodestyle ok: ${#enforced[@]} files"
  else
    failed "pycodestyle"
  fi
  [ ${#PYTHON_PENDING[@]} -gt 0 ] || return 0
  local count
  count="$("${PYCODESTYLE[@]}" "${PYTHON_PENDING[@]}" | wc -l || true)"
  if [ "$count" -gt 0 ]; then
    if [ "$strict" = 1 ]; then "${PYCODESTYLE[@]}" "${PYTHON_PENDING[@]}" || true; fi
    pending "pycodestyle: $count findings in ${PYTHON_PENDING[*]}"
  else
    echo "pycodestyle ok: ${PYTHON_PENDING[*]}"
  fi
}

lint_cpp() {
  need clang-format clang-format || return 0
  local version sources=() f changed=0 added=0 removed=0 diff
  version="$(clang-format --version)"
  echo "$version"
  [[ "$version" =~ version\ $CLANG_FORMAT_MAJOR\. ]] ||
    echo "warning: cpp/.clang-format is checked with clang-format $CLANG_FORMAT_MAJOR"
  while IFS= read -r -d '' f; do
    [ -f "$f" ] && sources+=("$f")
  done < <(files 'cpp/*.h' 'cpp/*.cpp' 'cpp/*.cu')
  for f in "${sources[@]}"; do
    if ! clang-format --dry-run --Werror --style=file "$f" 2>/dev/null; then
      changed=$((changed + 1))
      diff="$(clang-format --style=file "$f" | diff "$f" - || true)"
      added=$((added + $(grep -c '^>' <<<"$diff" || true)))
      removed=$((removed + $(grep -c '^<' <<<"$diff" || true)))
      # the findings (clang-format exits non-zero on them: not the end of this run)
      clang-format --dry-run --Werror --style=file "$f" 2>&1 | head -n 40 || true
    fi
  done
  if [ "$changed" -eq 0 ]; then
    echo "clang-format ok: ${#sources[@]} files"
  else
    # Enforced: cpp/ has been formatted once. Fix with clang-format -i --style=file FILE.
    failed "clang-format: $changed of ${#sources[@]} files would change (+$added -$removed lines)"
  fi
}

lint_java() {
  local log=target/lint/spotless.log need=0 n
  mkdir -p target/lint
  # -fn: every module is checked even after one fails; the counts come from Spotless's summary.
  if ! mvn -B -fn spotless:check >"$log" 2>&1; then
    cat "$log"; failed "Spotless could not run"; return
  fi
  if ! grep -q 'Spotless.Java is keeping' "$log"; then
    cat "$log"; failed "Spotless checked nothing"; return
  fi
  while read -r n; do need=$((need + n)); done \
    < <(sed -n 's/.*Spotless\.Java is keeping [0-9]* files clean - \([0-9]*\) needs changes.*/\1/p' "$log")
  if [ "$need" -eq 0 ] && ! grep -q 'BUILD FAILURE' "$log"; then
    echo "Spotless ok"
  else
    grep -E '^\[ERROR\]' "$log" | head -n 80
    failed "Spotless (google-java-format): $need Java files would change (mvn spotless:apply); log: $log"
  fi
}

for part in "${parts[@]}"; do
  echo "== lint: $part"
  case "$part" in
    shell) lint_shell ;;
    python) lint_python ;;
    cpp) lint_cpp ;;
    java) lint_java ;;
  esac
done
exit $status
