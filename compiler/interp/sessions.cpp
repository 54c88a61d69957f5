// sessions.cpp: sessions per key.
#include "compiler/interp/sessions.h"

#include "compiler/interp/threshold.h"
#include "compiler/interp/value_ops.h"

#include <algorithm>

namespace ethogram::interp {

namespace {

/// True when `e` is an `end on` event of session `s`. Out of line: only `end on` types with a predicate ask.
[[gnu::noinline]] bool ends_session(Engine& en, const ir::Session& s, const EventPtr& e) {
    for (const ir::SessionEnd& end : s.ends) {
        if (end.type != e->ev.type) continue;
        EvalContext ctx;
        ctx.current = e.get();
        if (en.eval.test(end.pred, ctx)) return true;
    }
    return false;
}

} // namespace

void visit_session(Engine& en, KeyState& ks, const Engine::SessionVisit& v, const EventPtr& e,
                   std::vector<uint32_t>& to_close) {
    const int64_t t = e->ev.time;
    const uint32_t s = v.session;
    const ir::Session& sess = en.rs.sessions[s];
    const bool ends = v.ends && (v.ends_always || ends_session(en, sess, e));
    // An `end on` event joins the session even when its type is not listed under `events`.
    if (!ends && !v.joins) return;
    SessionState& st = ks.sessions[s];
    // Timers with deadline < t fired before this event, so an open session has t <= deadline here.
    const bool opens = !st.open();
    // The deadline is min(last + gap, start + max): a later event only moves it later, and the queued
    // entry (at or before it) stays: session_timer moves it on when it fires early. One queue entry per
    // open session instead of one per event. Only an event before the latest (out of time order, which
    // the runtime never releases) can move it earlier.
    const bool back = !opens && t < st.last();
    const int64_t before = back ? session_deadline(sess, st) : 0;
    if (opens) {
        st.start = t;
        st.count = 0;
        st.events.clear();
        ++st.generation;
    }
    ++st.count;
    st.last_event = e;
    if (v.stores) push_capped(st.events, e, en.opts.max_scope_events, en.stats, en.eval);
    if (opens || back) {
        const int64_t d = session_deadline(sess, st);
        if (opens || d < before) {
            en.schedule(d, ks.key, s);
            st.timer_at = d;
        }
    }
    if (ends) to_close.push_back(s);
}

void close_session(Engine& en, KeyState& ks, uint32_t s, int64_t time, DetectionBatch& batch) {
    SessionState& st = ks.sessions[s];
    if (!st.open()) return;
    // The session does not change while its `at session end` rules read it: alike aggregates over it may
    // share a rescan (ExprEvaluator::open_memo).
    en.eval.open_memo();
    for (uint32_t rule : en.session_end_rules[s]) threshold_at_session_end(en, ks, rule, st, time, batch);
    en.eval.close_memo();
    st.timer_at = 0; // invalidates the pending timer entry
    st.events.clear();
    st.last_event.reset(); // closes the session
}

void session_timer(Engine& en, KeyState& ks, uint32_t s, const Timer& t, DetectionBatch& batch) {
    SessionState& st = ks.sessions[s];
    if (!st.open() || st.timer_at != t.deadline) return;
    const int64_t deadline = session_deadline(en.rs.sessions[s], st);
    if (t.deadline < deadline) {
        // The session was extended since this entry was queued: the same entry, at the new deadline.
        en.schedule(deadline, t.key, t.slot);
        st.timer_at = deadline;
        return;
    }
    close_session(en, ks, s, t.deadline, batch);
}

} // namespace ethogram::interp
