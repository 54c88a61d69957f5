// pipeline.h: the streaming pipeline: lines in -> decode/validate -> reorder -> executor -> outputs.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/checkpoint.h"
#include "runtime/dead_letter.h"
#include "runtime/expected.h"
#include "runtime/time.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ethogram::runtime {

/// Where a run reads and writes, and how. The CLI fills it from the config file and its flags.
struct PipelineOptions {
    std::string events_path = "-"; ///< JSON Lines input; "-" = stdin
    std::string out_path = "-";    ///< detections; "-" = stdout
    /// Dead letters. Empty means the default: `<out_path>.dead.jsonl` when the output is a file, or
    /// stderr lines prefixed with "dead-letter: " when the output is stdout. Data is never dropped
    /// silently. The file is created even when no line is dead-lettered.
    std::string dead_letter_path;
    /// Suppressed detections (exclusive groups). Empty: only counted, and logged at the end.
    std::string suppressed_path;
    std::string summary_json_path; ///< optional JSON copy of the summary
    int64_t allowed_lateness_us = 0;
    EpochUnit epoch_unit = EpochUnit::Millis;
    std::string type_field = "type";
    bool explain = false;
    int32_t only = -1;                    ///< taxonomy node filter, -1 = none (see OutputOptions)
    uint32_t max_events_per_alias = 1000; ///< see OutputOptions
    std::string bundle_hash = {};         ///< see OutputOptions (set by `etho run --bundle`)
    bool print_summary = true;            ///< the compact block on stderr at the end
    /// The process exits right after the run (the CLI): the executors' state is then not freed, the OS
    /// reclaims it at exit (freeing 170 MB of key state object by object took about 30 ms at the end of the
    /// e-commerce x100 run, all of it after the last event). Ignored in sanitizer builds (leak checks).
    bool exit_after = false;
    /// Checkpoints and exactly-once resume (single-threaded pipeline only; needs a regular input file and
    /// file outputs). Empty dir: off.
    CheckpointOptions checkpoint;
};

/// What a run did. Invariant at the end: lines_in == processed + dead_total().
struct RunSummary {
    uint64_t lines_in = 0;  ///< non-blank input lines (blank lines are skipped, not counted)
    uint64_t processed = 0; ///< events handed to the executor
    uint64_t detections = 0;
    uint64_t suppressed = 0;
    uint64_t filtered = 0; ///< detections dropped by --only
    std::array<uint64_t, kDeadReasonCount> dead{};
    uint64_t reorder_high_water = 0;
    ir::ExecutorStats executor;
    double wall_seconds = 0; ///< the run's; after checkpoint resumes, summed over every process of the run
    double events_per_second = 0;
    uint64_t resumes = 0;     ///< how many times the run was resumed from a checkpoint (0: one process)
    std::string resumed_from; ///< the snapshot this (the last) process resumed from; empty if none
    /// The steady state (this process only): from the first read of the input (set-up done: outputs
    /// opened, executors made, shard threads started) to the last event processed (every detection handed
    /// to its output, not yet flushed). Excludes process start-up, compilation, the outputs' close and
    /// teardown; `--stats` prints it beside the whole run's wall time, never instead of it.
    double steady_seconds = 0;
    double setup_seconds = 0; ///< from the pipeline's start to the first read
    /// The same two moments as Unix times (seconds), so that a caller timing the whole process can tell
    /// start-up (process start to first read) and teardown (last event to exit) apart.
    double first_read_unix = 0;
    double last_event_unix = 0;

    uint64_t dead_total() const;
    uint64_t late() const { return dead[static_cast<size_t>(DeadReason::Late)]; }
};

/// A moment on both clocks: steady for durations, the system clock for the Unix time.
struct Moment {
    std::chrono::steady_clock::time_point steady;
    double unix_seconds = 0;
    static Moment now();
};
/// Fills the summary's steady-state fields from the pipeline's start, its first read and its last event.
void set_steady_state(RunSummary& s, std::chrono::steady_clock::time_point start, const Moment& first_read,
                      const Moment& last_event);

/// Whether a run may leave its executors' state unfreed: `opts.exit_after`, except in sanitizer builds.
bool skip_final_free(const PipelineOptions& opts);

/// Runs the whole input through `exec`. `pool` must be the (seeded) pool `exec` was created with.
/// Errors (cannot open or write a file) name the file and why; dead letters are not errors.
Expected<RunSummary> run_pipeline(const ir::RuleSet& rs, ir::StringPool& pool, ir::Executor& exec,
                                  const PipelineOptions& opts);

/// Opens the dead-letter output per the policy documented in PipelineOptions::dead_letter_path.
Expected<std::unique_ptr<DeadLetterWriter>> open_dead_letter_output(const PipelineOptions& opts);
/// The end of a run, shared by both pipelines: logs the suppressed and overflow notes, prints the summary
/// (when asked) and writes `summary_json_path`.
Expected<bool> report_run(const RunSummary& s, const PipelineOptions& opts, bool suppressed_written);

/// The summary as one compact human-readable block (what is printed on stderr).
std::string format_summary(const RunSummary& s);
/// Executor statistics (live keys, partial matches, state bytes, evictions, drops) as `stats:` lines.
std::string format_stats(const RunSummary& s);
/// The summary as a JSON object.
std::string summary_json(const RunSummary& s);

} // namespace ethogram::runtime
