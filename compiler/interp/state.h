// state.h: the interpreter's per-key state: plain structs, one set per partition key, no pointers into
// the rule set, so that a later snapshot can serialise them.
#pragma once

#include "compiler/interp/event_ring.h"
#include "compiler/interp/model_state.h"
#include "compiler/ir/event.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace ethogram::interp {

/// An event as the interpreter keeps it: the decoded event plus its `dwell` pseudo-field, which is only
/// known when the key's next event arrives (missing until then).
struct StoredEvent {
    ir::Event ev;
    ir::Value dwell; ///< Duration once the key's next event arrived, Missing before
    /// Processing order (0, 1, 2 ... over all keys). Not `seq`: seq is the arrival order, and a reorder
    /// buffer releases events by time, so a later event may carry a smaller seq.
    uint64_t ord = 0;
};

/// Events are shared between scope buffers, sessions and partial matches: the dwell of an event must be
/// updated once and seen everywhere.
using EventPtr = std::shared_ptr<StoredEvent>;
using EventBuffer = Ring<EventPtr>;

/// One open (or closed) session of one key.
struct SessionState {
    bool open = false;
    int64_t start = 0;
    int64_t last = 0;
    int64_t deadline = 0;
    uint64_t count = 0;      ///< member events so far (not capped)
    uint64_t generation = 0; ///< incremented when a session opens: resets `over session` edge memory
    uint64_t timer_gen = 0;  ///< the live timer entry's generation (lazy invalidation)
    EventBuffer events;      ///< the session's events (capped), kept only when a rule scopes over it
    EventPtr last_event;     ///< the session's latest event
};

/// A threshold rule's state for one key.
struct ThresholdState {
    EventBuffer scope;        ///< Window / LastN scopes (Session scopes use SessionState::events)
    bool evaluated = false;   ///< the condition was evaluated before (edge triggering)
    bool previous = false;    ///< its value at the previous evaluation
    uint64_t session_gen = 0; ///< the session generation `previous` belongs to (over session)
};

/// One partial match of a pattern rule.
struct PartialMatch {
    uint32_t pos = 0;   ///< index into the rule's positive steps: the step the match is at
    uint32_t count = 0; ///< events held by that step
    std::vector<std::vector<EventPtr>> bound; ///< per pattern step index (negations stay empty)
    uint64_t first_ord = 0;                   ///< StoredEvent::ord of the first bound event
    int64_t first_time = 0;
    uint64_t last_ord = 0;
    int64_t last_time = 0;
    bool waiting = false;         ///< all positive steps done: waiting out the trailing absence
    int64_t absence_deadline = 0; ///< when `waiting`
};

/// A pattern rule's state for one key.
struct PatternState {
    std::vector<PartialMatch> matches; ///< in creation order (= first event order)
    bool timer_scheduled = false;
    int64_t timer_deadline = 0;
    uint64_t timer_gen = 0;
};

/// Everything the interpreter keeps for one partition key.
struct KeyState {
    uint32_t key = ir::kNoString;
    EventPtr last;                          ///< the key's latest event (its dwell is still missing)
    std::vector<SessionState> sessions;     ///< per RuleSet::sessions
    std::vector<ThresholdState> thresholds; ///< per rule (used for threshold rules)
    std::vector<PatternState> patterns;     ///< per rule (used for pattern rules)
    std::vector<ModelKeyState> models;      ///< per RuleSet::models
    uint64_t bytes = 0;  ///< approximate bytes of this state (state_bytes.h), last computed
    bool queued = false; ///< has an entry in the interpreter's activity queue (eviction)
};

} // namespace ethogram::interp
