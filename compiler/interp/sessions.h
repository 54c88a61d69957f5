// sessions.h: sessions per key (docs/semantics.md section 2): open, join, deadlines as timers, close.
#pragma once

#include "compiler/interp/engine.h"
#include "compiler/interp/value_ops.h"

#include <algorithm>
#include <vector>

namespace ethogram::interp {

/// The deadline of open session `st` of definition `s`: its latest event plus the gap, capped by `max`.
/// Inline: computed twice per event and session.
inline int64_t session_deadline(const ir::Session& s, const SessionState& st) {
    int64_t d = saturating_add(st.last(), s.gap_us);
    if (s.max_us >= 0) d = std::min(d, saturating_add(st.start, s.max_us));
    return d;
}

/// Offers event `e` to session `v.session` of its key: opens or joins it, moves the deadline (and its
/// timer); appends the session to `to_close` when `e` ends it (`end on`).
void visit_session(Engine& en, KeyState& ks, const Engine::SessionVisit& v, const EventPtr& e,
                   std::vector<uint32_t>& to_close);

/// Offers event `e` to every session of its key: opens or joins, moves the deadline (and its timer).
/// Sessions that `e` ends (`end on`) are appended to `to_close`: the caller closes them after the event
/// has been processed by every rule. Inline, with the common case (the event joins an open session as its
/// latest event and does not end it: only the count, the latest event and the stored events change)
/// handled here: the call's frame cost as much as that work (visit_session does the rest).
inline void sessions_on_event(Engine& en, KeyState& ks, const EventPtr& e, std::vector<uint32_t>& to_close) {
    const auto& by_type = en.sessions_by_type;
    // Only the sessions the event's type can join or end (Engine::sessions_by_type).
    for (const Engine::SessionVisit& v : by_type[std::min<size_t>(e->ev.type, by_type.size() - 1)]) {
        SessionState& st = ks.sessions[v.session];
        if (v.joins && !v.ends && st.open() && e->ev.time >= st.last()) {
            ++st.count;
            st.last_event = e;
            if (v.stores) push_capped(st.events, e, en.opts.max_scope_events, en.stats, en.eval);
            continue;
        }
        visit_session(en, ks, v, e, to_close);
    }
}

/// Closes session `s` of `ks`: evaluates its `at session end` rules with detection time `time`, then
/// forgets the session's events.
void close_session(Engine& en, KeyState& ks, uint32_t s, int64_t time, DetectionBatch& batch);

/// A session timer fired: closes the session when the timer is still live.
void session_timer(Engine& en, KeyState& ks, uint32_t s, const Timer& t, DetectionBatch& batch);

} // namespace ethogram::interp
