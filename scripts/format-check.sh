#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format would write.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: make format)"
    bad=1
  fi
done < <(git ls-files '*.h' '*.cc')
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "format check: all files formatted"
