#!/usr/bin/env bash
# Run one stage of `make test` and print how long it took.
set -uo pipefail
name=$1; shift
start=$(date +%s)
printf '\n=== stage %s ===\n' "$name"
"$@"
rc=$?
printf '=== stage %s: %s in %ss ===\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - start ))"
[ -n "${STAGE_LOG:-}" ] && printf '%-28s %-6s %5ss\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - start ))" >>"$STAGE_LOG"
exit $rc
