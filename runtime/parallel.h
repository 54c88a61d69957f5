// parallel.h: the parallel keyed pipeline: one reader broadcasts chunks of whole lines to N shard threads;
// the shards validate each line once between them, then every shard walks every line's result (same
// watermark decisions) and runs only the events of its own keys.
#pragma once

#include "runtime/pipeline.h"
#include "runtime/shard.h"

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

struct ParallelOptions {
    uint32_t threads = 2; ///< shards, one thread each; >= 1
    bool ordered = false; ///< write detections by (time, key, production order): deterministic
    /// Input lines per chunk at most. Small enough that a chunk's parse results (an event per line) are
    /// still in cache when the owners take their events, a chunk after they were parsed.
    uint32_t chunk_lines = 1024;
    uint32_t chunk_bytes = 1 << 18; ///< input bytes per chunk, about (a chunk always ends with a whole line)
    uint32_t queue_chunks = 16;     ///< capacity of each shard's input queue, in chunks
    /// Called before each shard's output block is written (with its text; empty in ordered mode), one call
    /// at a time, under the output lock. For tests (a slow consumer) and embedders.
    std::function<void(std::string_view)> before_write;
};

/// How the parallel run used its queues (what backpressure bounded).
struct ParallelStats {
    uint32_t shards = 0;
    std::vector<uint64_t> events_per_shard;
    /// Most input lines read but not yet walked by every shard, at any time. Bounded by construction by
    /// inflight_bound: the slowest shard's queue holds at most queue_chunks chunks of at most chunk_lines
    /// lines, plus the chunk it is walking, the next one it took to parse ahead, and the one the reader is
    /// handing out.
    uint64_t inflight_high_water = 0;
    uint64_t inflight_bound = 0;
    uint64_t chunks = 0;             ///< chunks read
    uint64_t ordered_high_water = 0; ///< detections held by the ordered merge at once
    /// CPU seconds (user + system) each shard's thread used, and the reader (the calling thread, from the
    /// first read to the end of input). On an idle machine with a core per shard the wall time is about the
    /// largest of the shards' (they do not wait for each other beyond the queues' slack), so these give the
    /// speedup a run can reach whatever the load of a shared machine.
    std::vector<double> cpu_seconds_per_shard;
    /// Blocks of lines each shard validated (every line is validated once, by whichever shard claims its
    /// block), and how many times a shard found a chunk's blocks still being parsed by others and waited.
    std::vector<uint64_t> blocks_per_shard;
    uint64_t parse_waits = 0;
    /// Blocks a shard parsed again because their claimer had not published them after a short wait (the
    /// claimer was descheduled); the first result published is used (both are the same).
    uint64_t blocks_parsed_again = 0;
    double reader_cpu_seconds = 0;
    /// Seconds from the first read to: the reader's end of input (the last chunk handed out), and each
    /// shard's last event processed (its last detections handed to the output). The steady state
    /// (RunSummary::steady_seconds) ends with the latest shard.
    double reader_end_seconds = 0;
    std::vector<double> shard_end_seconds;
};

/// The malloc the process runs with: "tbbmalloc" when oneTBB's proxy replaced it (etho links it, see
/// tools/CMakeLists.txt; or LD_PRELOAD), else "glibc malloc".
std::string_view process_allocator();

/// The parallel statistics as `stats:` lines (shards, events per shard, queue high-water marks, CPU per
/// shard, the allocator).
std::string format_parallel_stats(const ParallelStats& s);

/// Runs the input through `popts.threads` shards. Same contract and outputs as run_pipeline: the summary
/// (counts, dead letters, executor statistics summed over shards) is identical to a single-threaded run;
/// detections are the same multiset, and with `ordered` the same sequence whenever no two detections of
/// different keys share a time (see docs/architecture.md, "Parallel runtime").
Expected<RunSummary> run_parallel_pipeline(const ir::RuleSet& rs, const ExecutorFactory& make,
                                           const PipelineOptions& opts, const ParallelOptions& popts,
                                           ParallelStats* stats = nullptr);

} // namespace ethogram::runtime
