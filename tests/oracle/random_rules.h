// random_rules.h: random valid rule sets (built directly in the IR) and random event streams.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::oracle {

/// Operator families: each generates rule sets that exercise one construct (Mixed: all of them).
enum class Family : uint8_t {
    FollowedBy,
    Strict,
    Kleene,
    Optional,
    Alternatives,
    Negation,
    AbsenceOwn,    ///< trailing absence with its own `within`
    AbsenceWithin, ///< trailing absence bounded by the pattern's `within`
    Within,
    KeepAll,
    Window,     ///< threshold `over last D`
    LastN,      ///< threshold `over last N events`
    Session,    ///< threshold `over session S`, evaluated per event
    SessionEnd, ///< threshold `over session S` with `at session end`
    Groups,     ///< an exclusive group over mixed rules
    Overflow,   ///< patterns with a tiny state.max_partial_matches
    Mixed,
};

std::vector<Family> all_families();
std::string_view family_name(Family f);

/// One generated test case. Every string an event carries (keys and string fields) is one of
/// `rs.strings`, so a pool seeded with ir::seed_string_pool gives the ids used in `events`.
struct Case {
    ir::RuleSet rs;
    std::vector<ir::Event> events;             ///< non-decreasing time, increasing seq
    uint32_t max_partial_matches = UINT32_MAX; ///< the executor's cap (ExecutorOptions)
};

/// Generates a case of family `f` from `seed` (deterministic).
Case generate_case(Family f, uint64_t seed);

/// A readable dump of the rule set (etho-like syntax, IR details in comments).
std::string dump_rules(const ir::RuleSet& rs);
/// One line per event: seq, time (seconds from the first event), key, type and fields.
std::string dump_events(const ir::RuleSet& rs, const std::vector<ir::Event>& events);

} // namespace ethogram::oracle
