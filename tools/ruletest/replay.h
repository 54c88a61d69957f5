// replay.h: runs a rule set over events held in memory, exactly as `etho run` would (decode, reorder,
// watermark, executor, JSON formatting), and keeps every detection for matching, diffing and reports.
#pragma once

#include "compiler/interp/coverage.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/time.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::ruletest {

/// How the events are read and run: the `etho run` settings that change detections.
struct ReplayOptions {
    int64_t allowed_lateness_us = 0;
    runtime::EpochUnit epoch_unit = runtime::EpochUnit::Millis;
    std::string type_field = "type";
    ir::ExecutorOptions exec;
    uint32_t max_events_per_alias = 1000;
    /// Jitter: each event's time moves by a pseudo-random amount in [-jitter_us, +jitter_us] (seeded,
    /// deterministic); each key's events, taken in time order, are then raised to the previous moved time,
    /// so every key keeps its order. Arrival order (and so lateness) is unchanged.
    int64_t jitter_us = 0;
    uint64_t jitter_seed = 0;
    interp::Coverage* coverage = nullptr; ///< counters to add to (sized for the rule set), or null
    bool explain = true;                  ///< also keep the `--explain` line of each detection
};

/// A JSON scalar as written in a detection's `fields` (what `etho run` prints).
struct JsonScalar {
    enum Kind : uint8_t { Null, Bool, Number, String, Other } kind = Null;
    bool b = false;
    double num = 0;
    std::string str;  ///< String
    std::string text; ///< the JSON text as printed
};

/// One detection, as printed by `etho run`, with the parts expectations and diffs read.
struct ReplayDetection {
    uint32_t rule = 0;
    std::string rule_name, behaviour, key, trigger;
    int64_t time = 0, first = 0, last = 0;
    bool suppressed = false;
    std::vector<std::pair<std::string, JsonScalar>> fields;
    /// Per alias: the input line of each bound event (for inline test events: the event's number).
    std::vector<std::pair<std::string, std::vector<uint64_t>>> events;
    std::string json;    ///< the `etho run` line (no explanation)
    std::string explain; ///< the `etho run --explain` line (empty unless ReplayOptions::explain)
};

/// An input line that was not processed.
struct DeadLine {
    uint64_t line = 0;
    std::string reason; ///< dead-letter code: parse_error, bad_field, late ...
    std::string detail;
};

struct ReplayResult {
    std::vector<ReplayDetection> detections; ///< emitted and suppressed, in production order
    std::vector<DeadLine> dead;
    uint64_t processed = 0;
};

/// Runs `lines` (line i has number i + 1; blank lines are skipped but keep their number) through a
/// fresh interpreter of `rs`.
ReplayResult replay(const ir::RuleSet& rs, const std::vector<std::string>& lines, const ReplayOptions& opts);

/// Splits a JSON Lines text into lines (a trailing newline does not make an empty last line).
std::vector<std::string> split_lines(const std::string& text);

/// Identity of a detection across runs: rule, key and the input lines of its bound events.
std::string detection_identity(const ReplayDetection& d);

} // namespace ethogram::ruletest
