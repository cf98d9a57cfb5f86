#!/usr/bin/env bash
# Regenerates the golden cases into a temporary directory and checks that
# the committed tests/golden/<case>/ files are byte-identical, so fixtures
# and generator never drift. To update them after changing make_golden.cc:
#   build/tests/golden/make_golden tests/golden
#   check_fixtures.sh MAKE_GOLDEN GOLDEN_DIR
set -uo pipefail
make_golden=$1
golden=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden-fixtures.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$make_golden" "$tmp" >/dev/null || { echo "make_golden failed"; echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0
for case_dir in "$tmp"/*/; do
  name=$(basename "$case_dir")
  ok=1
  for file in "$case_dir"*; do
    if ! cmp -s "$file" "$golden/$name/$(basename "$file")"; then
      echo "FAIL $name/$(basename "$file") differs from make_golden's output"
      ok=0
    fi
  done
  for file in "$golden/$name"/*; do
    [[ -e $case_dir/$(basename "$file") ]] && continue
    echo "FAIL $name/$(basename "$file") is not written by make_golden"
    ok=0
  done
  if [[ $ok -eq 1 ]]; then
    echo "PASS $name fixtures up to date"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
