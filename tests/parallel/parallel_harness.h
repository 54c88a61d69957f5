// parallel_harness.h: runs a JSON Lines stream through the single-threaded and the parallel pipelines
// and compares what they wrote.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/parallel.h"
#include "runtime/pipeline.h"
#include "tests/support/text_lines.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::parallel_test {

/// Everything a run wrote and counted.
struct RunOutput {
    bool ok = false;
    std::string error;
    std::string detections, suppressed, dead;
    runtime::RunSummary summary;
    runtime::ParallelStats stats;
};

struct RunConfig {
    uint32_t threads = 1; ///< 1 = run_pipeline (the single-threaded path)
    bool ordered = false;
    int64_t lateness_us = 0;
    ir::ExecutorOptions exec;
    runtime::ParallelOptions parallel; ///< threads and ordered are taken from above
    /// What the output files hold before the run (a previous run's output), which the run must replace.
    std::string stale_output;
};

/// Runs `jsonl` through the interpreter with `cfg` (temporary files, removed afterwards).
RunOutput run_stream(const ir::RuleSet& rs, const std::string& jsonl, const RunConfig& cfg);

/// The events as JSON Lines the decoder accepts (strings through `pool`, times as RFC 3339 UTC).
std::string to_jsonl(const ir::RuleSet& rs, const ir::StringPool& pool, const std::vector<ir::Event>& events);

/// The lines of `text`, sorted: a multiset (tests/support/text_lines.h).
using test_support::sorted_lines;

/// `text` (detections in single-threaded order) stably sorted by (time, key): what --ordered writes.
std::string by_time_then_key(const std::string& text);

/// Empty when the two runs agree on summary counts, dead letters (exactly) and detections (as multisets,
/// or exactly when `exact`); otherwise what differs.
std::string compare_runs(const RunOutput& a, const RunOutput& b, bool exact);

} // namespace ethogram::parallel_test
