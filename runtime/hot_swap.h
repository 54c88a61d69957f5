// hot_swap.h: the watching pipeline: a continuous input whose rule set is swapped between two events when
// the deployment changes, with an optional shadow version fed the same events (docs/governance.md).
#pragma once

#include "compiler/ir/executor.h"
#include "runtime/pipeline.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ethogram::runtime {

/// Re-points every string constant of `rs` (Expr constants and `in` lists) to `pool.intern(text)`, so that
/// a rule set compiled on its own can run over a pool already in use (the pool of the running version:
/// stored events and keys keep their ids across a swap). Call it once per rule set. Returns true when no id
/// changed. Afterwards
/// `rs.strings` no longer indexes the ids (nothing on the run path reads it).
bool bind_strings(ir::RuleSet& rs, ir::StringPool& pool);

/// One version of the rules, ready to run: its rule set (bound to the run's pool) and executor.
struct LiveVersion {
    std::shared_ptr<ir::RuleSet> rs; ///< declared before `exec`: the executor goes first
    std::unique_ptr<ir::Executor> exec;
    std::string bundle_hash;                         ///< the manifest hash detections carry
    std::string label;                               ///< "NAME@VERSION" for logs
    std::chrono::steady_clock::time_point noticed{}; ///< when the change was noticed (latency figures)
};

/// Where new versions come from. `poll` is called between events when a check is due: it returns the new
/// live version (its rule set bound to `pool` with bind_strings, its executor created over `pool`) when the
/// deployment changed and the new version verified and compiled; nothing otherwise. A version it refuses
/// (invalid, untrusted, tampered, uncompilable) is logged and counted there, and never returned.
class SwapSource {
public:
    virtual ~SwapSource() = default;
    virtual std::optional<LiveVersion> poll(ir::StringPool& pool) = 0;
    /// Versions refused so far.
    virtual uint64_t refused() const = 0;
};

struct WatchOptions {
    int64_t poll_us = 1'000'000; ///< check at least this often (wall time), also while the input is idle
    uint64_t poll_events = 0;    ///< and every N events (0: by time only)
    bool sighup = true;          ///< SIGHUP asks for a check at once
    /// Follow a file input like `tail -f` (runtime/stream_reader.h): wait for appended lines, checked every
    /// `poll_us`; a truncated or replaced file is read again from its start (warned); SIGINT or SIGTERM ends
    /// the run (the rest of the file read, the summary written) with success.
    bool follow = false;
    std::string swap_log_path; ///< JSON Lines, one per swap (empty: logged only)
    /// `--only` by path: resolved in each version's taxonomy (its node indices may differ); a version
    /// without the node passes no detection (warned). Empty: PipelineOptions::only is used as is.
    std::string only_path;
};

/// A candidate run beside the live version on the same input lines; its detections go to `out_path`.
struct ShadowOptions {
    LiveVersion version;
    std::string out_path;
};

/// One swap, as logged.
struct SwapRecord {
    std::string from, to, from_bundle, to_bundle;
    uint64_t after_events = 0; ///< events the engine had processed when it swapped
    double prepare_ms = 0;     ///< from the change noticed to the new version verified and compiled
    double latency_ms = -1;    ///< from the change noticed to the first event processed by the new one
    ir::StateTransfer transfer;
    bool carried = false;
};

/// Per rule name: detections of the live version only, of the shadow only, and of both (matched by rule
/// name, key and detection time).
struct ShadowDiffRow {
    uint64_t only_live = 0, only_shadow = 0, both = 0;
};

struct WatchSummary {
    RunSummary run; ///< the live pipeline (lines_in == processed + dead letters)
    std::vector<SwapRecord> swaps;
    uint64_t refused = 0;
    bool shadow = false;
    uint64_t shadow_processed = 0, shadow_dead = 0, shadow_detections = 0;
    std::map<std::string, ShadowDiffRow> diff;
};

/// Runs `events_path` (a pipe, stdin or a file, read as it arrives; a file followed with `w.follow`) through
/// `initial`, checking `source` per `w` between events. `pool` is the pool `initial` (and every later
/// version) is bound to.
Expected<WatchSummary> run_watch_pipeline(LiveVersion initial, ir::StringPool& pool, SwapSource& source,
                                          const PipelineOptions& p, const WatchOptions& w,
                                          std::optional<ShadowOptions> shadow = std::nullopt);

/// The shadow diff as a human-readable table (`shadow:` lines).
std::string format_shadow_diff(const WatchSummary& s);

} // namespace ethogram::runtime
