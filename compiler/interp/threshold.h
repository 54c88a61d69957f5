// threshold.h: threshold rules (docs/semantics.md section 3): scopes, edge triggering, session end.
#pragma once

#include "compiler/interp/engine.h"

#include <vector>

namespace ethogram::interp {

/// Adds `e` to the Window / LastN scopes of its key and evaluates every per-event threshold rule whose
/// `on` types include it (sessions must already have seen `e`).
void thresholds_on_event(Engine& en, KeyState& ks, const EventPtr& e, DetectionBatch& batch);

/// Rebuilds the running counts of shared scope `ring` of group `group` from its events (after a restore or
/// a hot swap, whose rings come without them or with another group's). Not for a holder of nested groups
/// (their sizes are not in the events): restored and carried groups never nest (Engine::group_scopes).
void recount_scope(Engine& en, uint32_t group, EventBuffer& ring);

/// Evaluates `at session end` rule `rule` once over the closing session `st` (still open); the detection
/// time is `time`. The `trigger` binding is the session's last event.
void threshold_at_session_end(Engine& en, KeyState& ks, uint32_t rule, const SessionState& st, int64_t time,
                              DetectionBatch& batch);

} // namespace ethogram::interp
