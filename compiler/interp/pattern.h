// pattern.h: sequence patterns (docs/semantics.md section 4): partial matches per key and rule.
#pragma once

#include "compiler/interp/engine.h"

#include <vector>

namespace ethogram::interp {

/// Offers `e` to every pattern rule of its key: existing partial matches first (in creation order), then
/// a new partial match when `e` satisfies the first step.
void patterns_on_event(Engine& en, KeyState& ks, const EventPtr& e, std::vector<ir::Detection>& batch);

/// The timer of pattern rule `rule` of `ks` fired at `t.deadline`: window deaths and trailing-absence
/// completions due at that deadline (ignored when the entry is stale).
void pattern_timer(Engine& en, KeyState& ks, uint32_t rule, const Timer& t,
                   std::vector<ir::Detection>& batch);

} // namespace ethogram::interp
