#!/usr/bin/env bash
# Sextant's test command (README's and CI's): installs every system package the build and the
# tests need, with apt-get and only when missing, then runs the test suites. Exits non-zero
# when anything fails.
#
#   Scripts/test.sh              every suite
#   Scripts/test.sh --no-install  skip the package check (a machine set up by hand)
set -euo pipefail
cd "$(dirname "$0")/.."

# What the build links and what the tests start, by Debian package:
#   zlib1g-dev, libsqlite3-dev   zlib (CRC, gzip) and SQLite (block index), linked
#   libre2-dev                    RE2 (regex matching), linked
#   libsnappy-dev                 snappy (remote write and remote read bodies), linked
#   prometheus                    promtool, which the API tests query Sextant with, and
#                                 Prometheus 2.42, the remote write/read peer of the tests
#   victoria-metrics              VictoriaMetrics 1.79, a remote write receiver of the tests
#   prometheus-node-exporter      a real exporter the scrape tests scrape
#   prometheus-alertmanager       Alertmanager 0.25, where the alerting tests send alerts
#   openssl                       certificates for the TLS scrape tests
packages=(
    zlib1g-dev libsqlite3-dev libre2-dev libsnappy-dev
    prometheus prometheus-node-exporter victoria-metrics prometheus-alertmanager
    openssl
)

install=1
for arg in "$@"; do
    case "$arg" in
        --no-install) install=0 ;;
        *) echo "usage: Scripts/test.sh [--no-install]" >&2; exit 2 ;;
    esac
done

install_missing() {
    local missing=()
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Scripts/test.sh: installing ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    # Packages that ship a daemon (prometheus, the node exporter) must not start one here.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

[ "$install" -eq 1 ] && install_missing

# Every suite, in the debug build, in groups that do not starve each other. Swift Testing runs
# a group's suites at once on the task pool (one thread per core, two here): the engine and
# language suites are long CPU-bound tests that hold those threads, while the server suites
# wait on clocks (scrapes, discovery watches, readiness), so the two run apart. Apart too:
# the suites that start `sextant serve`, Prometheus or VictoriaMetrics as children and wait
# for them (the remote write ones through minute-long outages), and the stress test and the
# hostile load test (16 clients each).
apart='AlertmanagerTests|ProcessTests|PromtoolTests|DefaultServeTests|RemoteProtocolTests|RemoteWriteSendTests'
swift test --filter '^(TSDBTests|PromQLTests|ScrapeTests|RemoteTests|RulesTests|AlertingTests|CLITests)\.' --skip "$apart"
swift test --skip-build --filter '^ServerTests\.' --skip "$apart" --skip StressTests --skip HostileLoadTests
swift test --skip-build --filter "$apart"
swift test --skip-build --filter StressTests
swift test --skip-build --filter HostileLoadTests

# The concurrency paths under ThreadSanitizer: the storage engine's suites, the PromQL engine,
# the remote write queues (shards, channels, progress), rules and the alert notifier, the HTTP API, and the stress test (scaled to TSan's speed: fewer series, longer blocks).
# -DSEXTANT_TSAN makes `Locked` use a lock ThreadSanitizer can see (Sources/Storage/Concurrency/
# Locked.swift); halt_on_error turns any report into a failure. Tests that start the sextant
# binary as a child process stay out: under TSan it starts too slowly for their timeouts. The
# engine suites and the server suites run apart, as above.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
tsan=(--sanitize=thread --scratch-path .build-tsan -Xswiftc -DSEXTANT_TSAN)
swift test "${tsan[@]}" --filter '^TSDBTests\.|^PromQLTests\.(EngineTests|ParserTests)/|^RemoteTests\.|^RulesTests\.|^AlertingTests\.'
swift test "${tsan[@]}" --skip-build --filter '^ServerTests\.(APITests|TargetsAPITests|StatusTests|AdminTests|QueryLimiterTests|HostileQueryTests|RemoteWriteQueueTests)/'
SEXTANT_STRESS_SECONDS=20 SEXTANT_STRESS_SERIES=50 SEXTANT_STRESS_BLOCK_SECONDS=60 \
swift test "${tsan[@]}" --skip-build --filter StressTests

# Every libFuzzer harness of Fuzz/ (parsers, PromQL evaluation, WAL, chunk, block index and remote
# protocol decoding) for 10 seconds on its committed seed corpus: a crash fails the run.
Scripts/fuzz.sh --seconds 10

# Allocation counts of the micro-benchmarks (Benchmarks/Package.swift, release build) held to
# the thresholds committed under Benchmarks/Thresholds/: counts do not depend on the machine,
# so a change that allocates more on a hot path fails here. Times are not checked (noisy).
Benchmarks/check-allocations.sh
