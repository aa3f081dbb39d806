#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (a package of their own) and runs them, each on a
# copy of its committed seed corpus (Fuzz/Corpus/<target>/), so the corpus in the repository
# does not grow. Crash, timeout and out-of-memory inputs go to an artifacts directory that is
# printed. Exits non-zero when a target failed.
#
#   Scripts/fuzz.sh                         every target, 30 seconds each
#   Scripts/fuzz.sh --seconds 300 FuzzChunk one target, 5 minutes
#   Scripts/fuzz.sh --runs 10000            every target, 10000 inputs each
#   Scripts/fuzz.sh --no-build FuzzWALRecord   reuse the last build
#   Scripts/fuzz.sh --runs 10000000 --corpus-dir /var/tmp/sextant-corpus FuzzChunk
#                                           a long run whose corpus is kept (and resumed) there
#   Scripts/fuzz.sh --max-len 1024 FuzzTextParser   inputs of at most 1 KiB
#   Scripts/fuzz.sh --timeout 120 ...       an input may take 120 s (default 10): libFuzzer's
#                                           timer runs on the wall clock, so a long run at idle
#                                           priority beside a build needs more
#
# A crash is reproduced by running the target's binary on the artifact:
#   SWIFT_BACKTRACE=enable=no Fuzz/.build/release/FuzzChunk <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: Scripts/fuzz.sh [--seconds N] [--runs N] [--max-len N] [--timeout S] [--corpus-dir DIR] [--no-build] [target...]" >&2
    echo "targets: ${all_targets[*]}" >&2
    exit 2
}

# Every directory Fuzz/Sources/Fuzz* is a target, except FuzzSeeds (it writes seeds, it does not fuzz).
all_targets=()
for dir in Fuzz/Sources/Fuzz*/; do
    name=$(basename "$dir")
    [ "$name" = FuzzSeeds ] || all_targets+=("$name")
done

seconds=""
runs=""
max_len=""
timeout=10
corpus_dir=""
build=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --max-len) [ $# -ge 2 ] || usage; max_len=$2; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
        --corpus-dir) [ $# -ge 2 ] || usage; corpus_dir=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) usage ;;
        -*) echo "Scripts/fuzz.sh: unknown option $1" >&2; usage ;;
        *) targets+=("$1"); shift ;;
    esac
done
for n in "$seconds" "$runs" "$max_len" "$timeout"; do
    if [ -n "$n" ] && ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
        echo "Scripts/fuzz.sh: --seconds, --runs, --max-len and --timeout take a positive whole number, not '$n'" >&2
        exit 2
    fi
done
[ -n "$seconds" ] || [ -n "$runs" ] || seconds=30
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    if [ ! -d "Fuzz/Sources/$t" ] || [ "$t" = FuzzSeeds ]; then
        echo "Scripts/fuzz.sh: no fuzz target '$t'" >&2
        usage
    fi
    if [ ! -d "Fuzz/Corpus/$t" ]; then
        echo "Scripts/fuzz.sh: no seed corpus Fuzz/Corpus/$t" >&2
        exit 1
    fi
done

# One build for every target: release, libFuzzer and AddressSanitizer instrumentation, and
# -enable-testing for the harnesses' @testable imports.
build_flags=(-c release --package-path Fuzz --scratch-path Fuzz/.build
             -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing)
mkdir -p Fuzz/.build
if [ "$build" -eq 1 ]; then
    echo "Scripts/fuzz.sh: building Fuzz/ (log: Fuzz/.build/fuzz-build.log)"
    if ! swift build "${build_flags[@]}" >Fuzz/.build/fuzz-build.log 2>&1; then
        # The linker's "Cannot export local symbol" warnings about ASan internals are noise.
        grep -v 'Cannot export local symbol' Fuzz/.build/fuzz-build.log | tail -40 >&2
        echo "Scripts/fuzz.sh: the build failed" >&2
        exit 1
    fi
fi
bin=$(swift build "${build_flags[@]}" --show-bin-path)
for t in "${targets[@]}"; do
    if [ ! -x "$bin/$t" ]; then
        echo "Scripts/fuzz.sh: $bin/$t is missing (build first, without --no-build)" >&2
        exit 1
    fi
done

# The work directory (and the harnesses' scratch files, FuzzBlockIndex's database) in memory
# when /dev/shm is there: one file written and opened per execution.
scratch=${TMPDIR:-/tmp}
[ -n "${TMPDIR:-}" ] || [ ! -w /dev/shm ] || scratch=/dev/shm
work=$(mktemp -d "$scratch/sextant-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$PWD/Fuzz/.build/artifacts/$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$artifacts"

limits=(-rss_limit_mb=2048 -timeout="$timeout" -print_final_stats=1)
[ -z "$seconds" ] || limits+=("-max_total_time=$seconds")
[ -z "$runs" ] || limits+=("-runs=$runs")
[ -z "$max_len" ] || limits+=("-max_len=$max_len")
echo "Scripts/fuzz.sh: ${#targets[@]} target(s), ${seconds:+$seconds s}${seconds:+${runs:+ or }}${runs:+$runs runs} each; artifacts in $artifacts"

# Swift's own crash backtracer would race libFuzzer's handlers (and can hang); libFuzzer and
# ASan print the stack.
export SWIFT_BACKTRACE=enable=no
# No allocation stacks kept for ASan's reports: unwinding at every malloc took about a tenth
# of each execution. A crash is reported with its own stack; run the harness on the artifact
# (as above) for the allocation's. A smaller quarantine of freed memory (16 MiB, not
# 256): cycling through the large one faulted in fresh pages, a fifth of FuzzBlockIndex's time.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=16}"
# The harnesses' temporary files (FuzzBlockIndex's database) go under the work directory.
export TMPDIR="$work"

failed=0
summary=()
for t in "${targets[@]}"; do
    # The committed seeds on a copy (kept in --corpus-dir, and resumed from there, if given).
    corpus="$work/$t/corpus"
    [ -z "$corpus_dir" ] || corpus="$corpus_dir/$t"
    mkdir -p "$corpus" "$artifacts/$t"
    cp -R "Fuzz/Corpus/$t/." "$corpus/"
    log="$artifacts/$t/fuzz.log"
    echo "Scripts/fuzz.sh: running $t (log: $log)"
    # Tokens of the input language (Fuzz/Dictionaries/), where there is one.
    dict=()
    case "$t" in
        FuzzPromQLParser|FuzzPromQLEval) dict=(-dict=Fuzz/Dictionaries/PromQL.dict) ;;
        FuzzTextParser) dict=(-dict=Fuzz/Dictionaries/Text.dict) ;;
        FuzzOpenMetricsParser) dict=(-dict=Fuzz/Dictionaries/OpenMetrics.dict) ;;
    esac
    rc=0
    "$bin/$t" "${limits[@]}" ${dict[@]+"${dict[@]}"} -artifact_prefix="$artifacts/$t/" "$corpus" >"$log" 2>&1 || rc=$?

    # Executions and speed: libFuzzer's final stats, else its last status line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
        [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -1)
    fi
    [ -n "$rate" ] || rate=$(sed -n 's/^#[0-9]*[[:space:]].*exec\/s: \([0-9]*\).*/\1/p' "$log" | tail -1)
    : "${execs:=0}" "${rate:=?}"

    if [ "$rc" -eq 0 ]; then
        status=OK
    else
        failed=1
        kind=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z-]+( signal)?' "$log" || true)
        found=""
        for f in "$artifacts/$t"/crash-* "$artifacts/$t"/timeout-* "$artifacts/$t"/oom-* "$artifacts/$t"/leak-*; do
            [ -e "$f" ] && found+=" $f"
        done
        if [ -z "$kind$found" ] && grep -q 'libFuzzer: run interrupted' "$log"; then
            # SIGINT/SIGTERM: libFuzzer prints its stats and exits with -interrupted_exitcode (72).
            status="interrupted (exit $rc, no artifact; the count is what ran)"
        else
            status="CRASH (exit $rc${kind:+, ${kind#ERROR: }})$found"
        fi
    fi
    line=$(printf '%-22s %10s execs %8s exec/s  %s' "$t" "$execs" "$rate" "$status")
    summary+=("$line")
    echo "$line"
    if [ "$rc" -ne 0 ]; then
        # The Swift trap message (a harness's fatalError says which property broke), if any.
        reason=$(grep -m1 -E 'Fatal error:|Precondition failed:|Assertion failed:' "$log" | cut -c1-300 || true)
        if [ -n "$reason" ]; then
            summary+=("    $reason")
            echo "    $reason"
        fi
    fi
done

echo
echo "Scripts/fuzz.sh: summary (logs and artifacts in $artifacts)"
printf '%s\n' "${summary[@]}"
exit "$failed"
