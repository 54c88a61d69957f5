// checkpointer.h: what the single-threaded pipeline saves at a checkpoint and puts back on resume: the
// input position, the reorder buffer, the string pool, the executor's state, the run counters and the
// durable length of every output file.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "runtime/checkpoint.h"
#include "runtime/expected.h"
#include "runtime/pipeline.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ethogram::runtime {

class LineReader;
class ReorderBuffer;
class DetectionWriter;
class DeadLetterWriter;
class OutputFile;

/// The pipeline's parts a checkpoint covers (pointers into run_pipeline's locals).
struct PipelineParts {
    LineReader* reader = nullptr;
    ReorderBuffer* reorder = nullptr;
    DetectionWriter* writer = nullptr;
    DeadLetterWriter* dead = nullptr;
    OutputFile* out = nullptr;
    OutputFile* suppressed = nullptr; ///< null when not written
    ir::Executor* exec = nullptr;
    ir::StringPool* pool = nullptr;
    uint64_t* seq = nullptr;      ///< the next arrival sequence number
    uint64_t* lines_in = nullptr; ///< RunSummary::lines_in so far
    uint64_t* processed = nullptr;
    std::chrono::steady_clock::time_point started{}; ///< when this process's run began (wall time)
};

/// Output lengths recorded by a checkpoint (what a resume cuts each file back to).
struct OutputLengths {
    uint64_t out = 0, dead = 0, suppressed = kNone;
    static constexpr uint64_t kNone = UINT64_MAX;
};

class Checkpointer {
public:
    /// Opens the checkpoint directory and loads the newest valid snapshot, if any. Refuses (unless
    /// drop_incompatible, which clears the directory) a snapshot of another rule set, engine version or
    /// run arguments; logs every rejected (corrupt, truncated) newer snapshot with its path and why.
    /// `threads` is the run's shard count (1: the single-threaded pipeline); a snapshot taken with another
    /// count is refused like a rule-set change (state is not re-sharded).
    static Expected<std::unique_ptr<Checkpointer>> open(const ir::RuleSet& rs, const PipelineOptions& opts,
                                                        uint32_t threads = 1);

    /// The shard count of the newest valid snapshot in `dir` (nothing when there is none, or it cannot be
    /// read: open() then says why). Lets a run whose --threads is the default (all cores) resume with the
    /// count the snapshot was taken with, e.g. after moving to a machine with another number of cores.
    static std::optional<uint32_t> resume_threads(const std::string& dir);

    /// A snapshot to resume from was found: the outputs are to be reopened at these lengths.
    bool resuming() const { return resume_.has_value(); }
    const OutputLengths& resume_lengths() const { return lengths_; }
    /// Puts the snapshot's state into the freshly built pipeline (the executor must be fresh).
    Status restore(PipelineParts& p);

    /// Called between two input lines: takes a checkpoint when one is due (and runs the test kill hook).
    Status tick(PipelineParts& p);
    /// Takes a checkpoint now.
    Status take(PipelineParts& p);
    uint64_t taken() const { return taken_; }

    /// After restore(): the wall time of the processes before this one (carried in the snapshot), how many
    /// times the run has been resumed (this resume included) and the snapshot resumed from. A run that
    /// did not resume: 0, 0 and "".
    double prior_wall_seconds() const { return prior_wall_us_ / 1e6; }
    uint64_t resumes() const { return resumes_; }
    const std::string& resumed_from() const { return resumed_from_; }
    /// The run's wall time so far in microseconds: the earlier processes' and this one's since `started`
    /// (what a snapshot records).
    uint64_t wall_us(std::chrono::steady_clock::time_point started) const;

    // For the sharded pipeline (runtime/parallel.cpp), which composes its own payload: it starts with the
    // same fields as the single-threaded one up to the output lengths, the wall time and the resume count,
    // then the shard count. Versions 1 and 2 were earlier layouts (no wall time; no shards); sharded version
    // 4 held every shard's reorder heap of all events (5: each shard's own events, shard 0 all times).
    static constexpr uint32_t kPayloadVersion = 3;        ///< single-threaded
    static constexpr uint32_t kShardedPayloadVersion = 5; ///< --threads > 1
    /// The payload to resume from (resuming() is true) and its file.
    const std::string& resume_payload() const { return resume_->payload; }
    const std::string& resume_path() const { return resume_->path; }
    /// The sharded resume is done: `lines_in` is where the cadence counts from; `prior_wall_us` and
    /// `resumes` are the snapshot's (this resume not counted yet).
    void resumed(uint64_t lines_in, uint64_t prior_wall_us, uint64_t resumes);
    /// Whether a checkpoint is due after `lines_in` input lines (by count or by wall-clock time).
    bool due(uint64_t lines_in);
    /// Writes a snapshot of `payload` (the next generation); `lines_in` restarts the cadence.
    Status write(const std::string& payload, uint64_t lines_in, uint64_t live_keys);
    /// The test hook ETHOGRAM_TEST_KILL_AT_LINE (0: off): SIGKILL once this many input lines are read.
    uint64_t kill_at_line() const { return kill_at_line_; }

private:
    Checkpointer(CheckpointDir dir, CheckpointOptions o, std::string ruleset_hash)
        : dir_(std::move(dir)), o_(std::move(o)), ruleset_hash_(std::move(ruleset_hash)) {}

    CheckpointDir dir_;
    CheckpointOptions o_;
    std::string ruleset_hash_;
    std::optional<CheckpointDir::Loaded> resume_;
    OutputLengths lengths_;
    uint64_t generation_ = 0; ///< of the last snapshot written or loaded
    uint64_t taken_ = 0;
    uint64_t last_lines_ = 0; ///< lines_in at the last checkpoint
    std::chrono::steady_clock::time_point last_time_ = std::chrono::steady_clock::now();
    uint64_t prior_wall_us_ = 0, resumes_ = 0;
    std::string resumed_from_;
    uint64_t kill_at_line_ = 0; ///< test hook ETHOGRAM_TEST_KILL_AT_LINE (0: off)
};

/// A run's file outputs: detections, suppressed detections (null without --suppressed) and dead letters.
struct RunOutputs {
    std::unique_ptr<OutputFile> out, suppressed;
    std::unique_ptr<DeadLetterWriter> dead;
};
/// Opens the outputs of a run: truncated, or, when `ck` resumes from a snapshot, cut back to the lengths it
/// recorded and appended to. The single-threaded and the sharded pipelines both open theirs here.
/// With `untruncated` (no checkpoint only) the detections and suppressed outputs are opened without
/// truncating them (OutputFile::open_untruncated): the caller cuts them before its first write.
Expected<RunOutputs> open_run_outputs(const PipelineOptions& opts, const Checkpointer* ck,
                                      bool untruncated = false);

} // namespace ethogram::runtime
