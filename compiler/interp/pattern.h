// pattern.h: sequence patterns (docs/semantics.md section 4): partial matches per key and rule.
#pragma once

#include "compiler/interp/engine.h"

#include <algorithm>
#include <vector>

namespace ethogram::interp {

/// patterns_on_event's work for an event whose type some pattern rule lists.
void visit_patterns(Engine& en, KeyState& ks, const EventPtr& e, const std::vector<PatternVisit>& rules,
                    DetectionBatch& batch);

/// Offers `e` to every pattern rule of its key: existing partial matches first (in creation order), then
/// a new partial match when `e` satisfies the first step. Inline: most events are of a type no pattern
/// rule lists (Engine::pattern_rules_by_type), and answering them here saves the frame of the call
/// (about 40 instructions per event, the visit's registers saved and restored).
inline void patterns_on_event(Engine& en, KeyState& ks, const EventPtr& e, DetectionBatch& batch) {
    const auto& by_type = en.pattern_rules_by_type;
    const std::vector<PatternVisit>& rules = by_type[std::min<size_t>(e->ev.type, by_type.size() - 1)];
    if (!rules.empty()) visit_patterns(en, ks, e, rules, batch);
}

/// The timer of pattern rule `rule` of `ks` fired at `t.deadline`: window deaths and trailing-absence
/// completions due at that deadline (ignored when the entry is stale).
void pattern_timer(Engine& en, KeyState& ks, uint32_t rule, const Timer& t, DetectionBatch& batch);

} // namespace ethogram::interp
