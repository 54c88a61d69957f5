// checkpoint.h: checkpoint files (magic, format version, identity, BLAKE2b checksum), written atomically
// into a checkpoint directory that keeps the newest good snapshot and the one before it.
#pragma once

#include "compiler/ir/ir.h"
#include "runtime/expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::runtime {

/// `etho run --checkpoint-dir DIR --checkpoint-every N|T` (docs/architecture.md, "Checkpoints and recovery").
struct CheckpointOptions {
    std::string dir;           ///< empty: no checkpoints
    uint64_t every_events = 0; ///< take one after every N input lines (0: not by count)
    int64_t every_wall_us = 0; ///< or once T of wall-clock time has passed since the last (0: not by time)
    bool drop_incompatible =
        false;                  ///< a snapshot of another rule set or engine: start fresh instead of failing
    std::string engine_version; ///< recorded and compared (a snapshot of another engine version is refused)
    /// The run's arguments that shape state and output (input, outputs, lateness, caps, output format): a
    /// snapshot taken with others is refused like a rule-set change.
    std::string run_identity;
};

/// The default cadence when only --checkpoint-dir is given.
constexpr uint64_t kDefaultCheckpointEvents = 100000;

/// What a checkpoint file's header says besides the payload.
struct CheckpointHeader {
    uint64_t generation = 0;  ///< 1, 2, 3 ... in the order the run took them
    std::string ruleset_hash; ///< 64 hex digits: BLAKE2b-256 of the compiled rule set's identity
    std::string engine_version;
    std::string run_hash; ///< 64 hex digits: BLAKE2b-256 of CheckpointOptions::run_identity
};

/// BLAKE2b-256 (hex) of the rule set's identity: name, version, source content hash, every model's hash
/// and the shape of the compiled IR (events, fields, rules, sessions, models).
std::string ruleset_hash(const ir::RuleSet& rs);
std::string blake2b_hex(const std::string& bytes);

/// A checkpoint directory: files `ckpt-<generation>.snap`, written as `.tmp`, fsynced, renamed, the
/// directory fsynced. The newest two are kept, so that a damaged newest leaves a good one behind.
class CheckpointDir {
public:
    /// Creates the directory if needed; an error names it.
    static Expected<CheckpointDir> open(const std::string& dir);

    /// Writes the snapshot of `generation` atomically and prunes all but the two newest.
    Status write(const CheckpointHeader& h, const std::string& payload) const;

    struct Loaded {
        CheckpointHeader header;
        std::string payload;
        std::string path;
    };
    /// The newest valid snapshot; the rejected newer ones are described in `rejected` ("path: why").
    /// No snapshot at all: an empty optional (`found` false).
    Expected<bool> load_latest(Loaded& out, std::vector<std::string>& rejected) const;
    /// Removes every snapshot (the operator chose to drop incompatible state).
    Status clear() const;
    const std::string& dir() const { return dir_; }

    /// Test-only fault injection: ETHOGRAM_TEST_CKPT_KILL="G:PHASE" kills the process with SIGKILL while
    /// writing generation G, at PHASE "partial" (half the temp file written), "before-rename" or
    /// "after-rename" (before the directory fsync). Read once.
    static void test_kill_point(uint64_t generation, const char* phase);

private:
    explicit CheckpointDir(std::string dir) : dir_(std::move(dir)) {}
    std::vector<std::pair<uint64_t, std::string>> list() const; ///< (generation, path), newest first
    std::string dir_;
};

/// Writes `bytes` to `path` atomically: `path.tmp`, fsync, rename, fsync of the directory. A non-zero
/// `test_generation` enables the ETHOGRAM_TEST_CKPT_KILL hook for that generation.
Status write_file_atomic(const std::string& path, const std::string& bytes, uint64_t test_generation = 0);
Expected<std::string> read_whole_file(const std::string& path);

/// Parses a checkpoint file's bytes; an error says why it is refused (without the path).
Expected<CheckpointDir::Loaded> parse_checkpoint(const std::string& bytes);
/// The bytes of a checkpoint file.
std::string format_checkpoint(const CheckpointHeader& h, const std::string& payload);

} // namespace ethogram::runtime
