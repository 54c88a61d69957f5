// oracle.h: a brute-force matcher written straight from docs/semantics.md, for differential testing.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::oracle {

/// A detection reduced to what the semantics pins down: rule, key, detection time, trigger kind and the
/// bound events' sequence numbers per alias (aliases sorted by name, aliases with no events dropped).
struct Tuple {
    uint32_t rule = 0;
    uint32_t key = 0;
    int64_t time = 0;
    std::string trigger; ///< "event", "absence", "session_end"
    std::vector<std::pair<std::string, std::vector<uint64_t>>> bindings;
    std::vector<std::string> fields; ///< emitted values, rendered by render_value
    int32_t suppressed_by = -1;      ///< exclusive groups: the winning rule, -1 when emitted
    int64_t first_time = 0;          ///< patterns: first and last bound event times (0 for thresholds)
    int64_t last_time = 0;

    auto operator<=>(const Tuple&) const = default;
    bool operator==(const Tuple&) const = default;
};

/// Computes the detections `rs` must produce on `events` (time-ordered, ties by seq), fed as the
/// Executor contract says: watermark to each event's time before it, +inf at the end. Output order: the
/// order in which they are produced (timers in deadline order before the event that passes them).
/// Only the constructs the random generator emits are supported (no behavioural features).
/// `max_partial_matches` is ExecutorOptions::max_partial_matches (§4 "Bounded state").
std::vector<Tuple> expected_detections(const ir::RuleSet& rs, const std::vector<ir::Event>& events,
                                       uint32_t max_partial_matches = UINT32_MAX);

/// Reduces an executor's detection to a Tuple.
Tuple to_tuple(const ir::Detection& d, const ir::RuleSet& rs);

/// A value as comparable text: type and payload ("int:3", "missing", "float:1.5").
std::string render_value(const ir::Value& v);

/// One line of text for a tuple, with rule and key names; times relative to `t0`.
std::string format_tuple(const ir::RuleSet& rs, const ir::StringPool& pool, const Tuple& t, int64_t t0 = 0);

} // namespace ethogram::oracle
