// bench.h: `etho bench`: every figure of docs/performance.md measured in one run, printed and written as
// JSON, as ratios against baselines measured in the same run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::bench {

struct BenchOptions {
    uint64_t events = 200000;
    uint32_t users = 20000;
    uint64_t seed = 20261129;
    std::string rules_dir;     ///< bench/rules (schema.etho, reference.etho, three.etho)
    std::string json_path;     ///< where the JSON report goes (empty: none)
    std::string workload_path; ///< keep the generated JSONL here (empty: a temporary file, removed)
    std::vector<uint32_t> compile_sizes = {10, 100, 1000};
    int repeat = 3;            ///< matcher-only runs per engine: the fastest counts
    bool matcher_only = false; ///< skip the end-to-end and compile-time runs (profiling the matchers)
    /// MiB of small-object heap kept mapped for every timed run (bench/heap_reserve.h); 0: none
    uint32_t heap_reserve_mib = 64;
};

/// Runs the benchmark; returns a process exit code (non-zero when an engine disagrees with another or
/// with the hand-written baseline, or the inputs cannot be read).
int run_bench(const BenchOptions& o);

} // namespace ethogram::bench
