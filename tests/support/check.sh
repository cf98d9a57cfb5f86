# Sourced by the shell tests. check DESCRIPTION COMMAND...: counts and
# prints the command's outcome; a test ends with
# `echo "$passed passed, $failed failed"`.
passed=0
failed=0
check() {
  local description=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok      $description"
  else
    failed=$((failed + 1)); echo "FAILED  $description"
  fi
}
