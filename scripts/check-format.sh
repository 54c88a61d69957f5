#!/usr/bin/env bash
# check-format.sh: fails when any C/C++ source of the repository is not clang-formatted (.clang-format).
# Usage: scripts/check-format.sh [--fix]   (--fix rewrites the files in place instead of checking)
# Checked: every *.h, *.hpp, *.cpp, *.cc outside build directories (build*/), .git and out/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CLANG_FORMAT="${CLANG_FORMAT:-clang-format}"
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    echo "check-format: $CLANG_FORMAT not found (scripts/install-deps.sh installs it)" >&2
    exit 2
fi

mapfile -d '' files < <(find . \( -path ./.git -o -path './build*' -o -path ./out \) -prune -o \
    -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) -print0 | sort -z)

if [ ${#files[@]} -eq 0 ]; then
    echo "check-format: no C/C++ sources found"
    exit 0
fi

if [ "${1:-}" = "--fix" ]; then
    "$CLANG_FORMAT" -i "${files[@]}"
    echo "check-format: formatted ${#files[@]} files"
    exit 0
fi

bad=()
for f in "${files[@]}"; do
    if ! "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("${f#./}")
    fi
done

if [ ${#bad[@]} -ne 0 ]; then
    echo "check-format: ${#bad[@]} of ${#files[@]} files are not formatted ($("$CLANG_FORMAT" --version)):" >&2
    for f in "${bad[@]}"; do
        echo "  $f" >&2
        "$CLANG_FORMAT" "$f" | diff -u "$f" - | head -20 | sed 's/^/    /' >&2 || true
    done
    echo "check-format: fix with: scripts/check-format.sh --fix" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files OK"
