// parallel.h: the parallel keyed pipeline on oneTBB: read chunks -> decode in parallel -> serial
// dead letters, reorder and watermark -> route by key to shards (own executor and pool each) -> writer.
#pragma once

#include "runtime/pipeline.h"
#include "runtime/shard.h"

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

struct ParallelOptions {
    uint32_t threads = 2;        ///< worker shards, and the decoding concurrency; >= 1
    bool ordered = false;        ///< write detections by (time, key, production order): deterministic
    uint32_t chunk_lines = 1024; ///< input lines per decoding chunk, and events per shard batch at most
    uint32_t queue_batches = 4;  ///< capacity of each shard's input queue, in batches
    /// Called by the writer thread before it writes each shard's output block (its text). For tests (a
    /// slow consumer) and embedders; runs on the writer thread only.
    std::function<void(std::string_view)> before_write;
};

/// How the parallel run used its queues (what backpressure bounded).
struct ParallelStats {
    uint32_t shards = 0;
    std::vector<uint64_t> events_per_shard;
    /// Most events routed to shards but not yet processed, at any time. Bounded by construction by
    /// inflight_bound: each shard's queue holds at most queue_batches batches of at most chunk_lines events,
    /// plus the batch the shard is running and the one the router is pushing.
    uint64_t inflight_high_water = 0;
    uint64_t inflight_bound = 0;
    /// Most shard outputs waiting for the writer at once: its queue holds queue_batches x shards, each
    /// shard blocks on at most one more, plus the one being written.
    uint64_t output_queue_high_water = 0;
    uint64_t ordered_high_water = 0; ///< detections held by the ordered merge at once
};

/// The parallel statistics as `stats:` lines (shards, events per shard, queue high-water marks).
std::string format_parallel_stats(const ParallelStats& s);

/// Runs the input through `opts.threads` shards. Same contract and outputs as run_pipeline: the summary
/// (counts, dead letters, executor statistics summed over shards) is identical to a single-threaded run;
/// detections are the same multiset, and with `ordered` the same sequence whenever no two detections of
/// different keys share a time (see docs/architecture.md, "Parallel runtime").
Expected<RunSummary> run_parallel_pipeline(const ir::RuleSet& rs, const ExecutorFactory& make,
                                           const PipelineOptions& opts, const ParallelOptions& popts,
                                           ParallelStats* stats = nullptr);

} // namespace ethogram::runtime
