#!/usr/bin/env bash
# test.sh: the whole quality gate, as CI runs it (.ci/run): deps, format check, Release build + ctest,
# ASan+UBSan build + ctest, a ThreadSanitizer build of the parallel tests, and a bounded libFuzzer run. Exits
# non-zero when any stage fails.
# Usage: scripts/test.sh   (env: JOBS=2, FUZZ_SECONDS=120 (split between the fuzz targets), SKIP_DEPS=1 to skip apt, WERROR=0 to make
#                          compiler warnings non-fatal in the Release build; they are always counted)
# Build directories: build/ (Release), build-asan/ (sanitizers), build-tsan/ (ThreadSanitizer, parallel tests
# only), build-fuzz/ (clang-19 + libFuzzer); override with BUILD_DIR, ASAN_DIR, TSAN_DIR, FUZZ_DIR (relative to
# the repository). STAGES="format fuzz" runs a subset.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

JOBS="${JOBS:-2}"
FUZZ_SECONDS="${FUZZ_SECONDS:-120}"
WERROR="${WERROR:-1}"
BUILD_DIR="${BUILD_DIR:-build}"
ASAN_DIR="${ASAN_DIR:-build-asan}"
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
TSAN_DIR="${TSAN_DIR:-build-tsan}"
STAGES="${STAGES:-deps format release sanitize tsan fuzz}"
LOG_DIR="$root/${LOG_DIR:-build-logs}"
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log # stale logs would fake a summary line

declare -a stage_names=() stage_status=() stage_secs=()
failed=0

# Runs one named stage, records its wall time and status; later stages still run after a failure so
# that one CI pass reports everything.
stage() {
    local name="$1"
    shift
    echo
    echo "==== [$name] $(date -u +%H:%M:%S)"
    local t0=$SECONDS
    "$@"
    local rc=$?
    local dt=$((SECONDS - t0))
    stage_names+=("$name")
    stage_secs+=("$dt")
    if [ $rc -eq 0 ]; then
        stage_status+=("ok")
    else
        stage_status+=("FAILED($rc)")
        failed=1
    fi
    echo "==== [$name] ${stage_status[-1]} in ${dt}s"
    return 0
}

deps() {
    if [ "${SKIP_DEPS:-0}" = "1" ]; then
        echo "deps: skipped (SKIP_DEPS=1)"
        return 0
    fi
    "$root/scripts/install-deps.sh"
}

# build_and_test DIR LOG_NAME [cmake args...]: configure, build everything, run ctest (output kept).
build_and_test() {
    local dir="$1" log="$2"
    shift 2
    cmake -S "$root" -B "$root/$dir" -G Ninja "$@" || return 1
    # Build output is kept so that the summary can count compiler warnings.
    ninja -C "$root/$dir" -j"$JOBS" 2>&1 | tee "$LOG_DIR/build-$dir.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    (cd "$root/$dir" && ctest -j"$JOBS" --output-on-failure --timeout 600) 2>&1 | tee "$LOG_DIR/$log"
    return "${PIPESTATUS[0]}"
}

release() {
    local werror=OFF
    [ "$WERROR" = "1" ] && werror=ON
    build_and_test "$BUILD_DIR" ctest-release.log -DCMAKE_BUILD_TYPE=Release -DETHOGRAM_WERROR=$werror
}

sanitize() {
    # -O1 keeps the sanitized suite fast enough; halt on the first UBSan report so ctest sees it.
    # Both can be overridden from the environment (e.g. detect_leaks=0 where ptrace is not allowed).
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
        UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
        build_and_test "$ASAN_DIR" ctest-asan.log -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
        -DETHOGRAM_SANITIZE=ON
}

format() {
    "$root/scripts/check-format.sh"
}

tsan() {
    # ThreadSanitizer over the parallel runtime: only the parallel tests and what they link (the runtime,
    # the interpreter, the oracle's generators; no front end), then their ctest entries (the examples'
    # entries need etho and run in the other stages), and the block cache's and its chunk source's tests (frees across threads).
    # tests/parallel/tsan.supp explains its entries.
    local dir="$root/$TSAN_DIR"
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread || return 1
    ninja -C "$dir" -j"$JOBS" parallel_tests block_cache_tests || return 1
    (cd "$dir" && TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/parallel/tsan.supp}" \
        ctest -j"$JOBS" -R '^(parallel\.|BlockCache\.|ChunkSource\.)' -E '^parallel\.examples\.' --output-on-failure --timeout 900) 2>&1 |
        tee "$LOG_DIR/ctest-tsan.log"
    return "${PIPESTATUS[0]}"
}

fuzz() {
    local dir="$root/$FUZZ_DIR"
    CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DETHOGRAM_FUZZ=ON -DETHOGRAM_TESTS=OFF || return 1
    # Only the fuzz targets (executables named fuzz_*) and what they link.
    mapfile -t targets < <(ninja -C "$dir" -t targets all | sed -n 's/^\(fuzz_[A-Za-z0-9_]*\): .*/\1/p' | sort -u)
    if [ ${#targets[@]} -eq 0 ]; then
        echo "fuzz: no fuzz_* target in tests/fuzz" >&2
        return 1
    fi
    ninja -C "$dir" -j"$JOBS" "${targets[@]}" || return 1
    # Each target's seeds: tests/fuzz/corpus/<target>/ (and, for the rule-text fuzzer, every example rule
    # file), copied into a scratch corpus per target, since libFuzzer writes new inputs into it.
    local per=$((FUZZ_SECONDS / ${#targets[@]}))
    [ "$per" -lt 10 ] && per=10
    local rc=0 t
    for t in "${targets[@]}"; do
        local corpus="$dir/corpus/$t"
        rm -rf "$corpus" && mkdir -p "$corpus"
        if [ -d "$root/tests/fuzz/corpus/$t" ]; then
            find "$root/tests/fuzz/corpus/$t" -type f -exec cp {} "$corpus/" \;
        fi
        if [ "$t" = fuzz_frontend ]; then
            find "$root/examples" "$root/rules" -name '*.etho' -type f 2>/dev/null | while read -r f; do
                cp "$f" "$corpus/$(echo "${f#"$root"/}" | tr '/' '_')"
            done
        fi
        echo "fuzz: $t for ${per}s over $(find "$corpus" -type f | wc -l) seeds"
        mkdir -p "$dir/artifacts"
        "$dir/bin/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$dir/artifacts/" "$corpus" 2>&1 | tail -n 25
        [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    done
    return $rc
}

# Everything runs from main, so that bash has parsed the whole file before it starts (editing the script
# during a run cannot derail it).
main() {
    total0=$SECONDS
    for s in $STAGES; do
        case "$s" in
            deps | format | release | sanitize | tsan | fuzz) stage "$s" "$s" ;;
            *) echo "test.sh: unknown stage $s" >&2 && exit 2 ;;
        esac
    done

    echo
    echo "==== summary (total $((SECONDS - total0))s)"
    for i in "${!stage_names[@]}"; do
        printf '  %-10s %-12s %6ss\n' "${stage_names[$i]}" "${stage_status[$i]}" "${stage_secs[$i]}"
    done
    summary_of() {
        grep -E 'tests passed, [0-9]+ tests? failed out of' "$LOG_DIR/$1" 2>/dev/null | tail -n 1
    }
    # A clean build prints no "warning:" line (ninja only rebuilds what changed: a no-op build counts 0).
    warnings="$(cat "$LOG_DIR/build-$BUILD_DIR.log" 2>/dev/null | grep -c 'warning:' || true)"
    echo "  compiler warnings in the Release build: ${warnings:-0}"
    asan_line="$(summary_of ctest-asan.log)"
    release_line="$(summary_of ctest-release.log)"
    tsan_line="$(summary_of ctest-tsan.log)"
    echo "  asan ctest:    ${asan_line:-no ctest summary (stage not run, or its build failed)}"
    echo "  tsan ctest:    ${tsan_line:-no ctest summary (stage not run, or its build failed)}"
    echo "  release ctest: ${release_line:-no ctest summary (stage not run, or its build failed)}"
    [ $failed -eq 0 ] && echo "test.sh: all stages passed" || echo "test.sh: some stages FAILED"
    # The last line is ctest's own summary line of the Release suite.
    echo "${release_line:-0% tests passed, build failed}"
    exit $failed
}

main "$@"
exit $?
