// interpreter.cpp: the reference interpreter: per-key state, the timer queue and the order in which one
// event is processed (dwell, sessions, thresholds, patterns, `end on` closes, exclusive groups).
#include "compiler/interp/interpreter.h"

#include "compiler/interp/detection.h"
#include "compiler/interp/engine.h"
#include "compiler/interp/interpreter_impl.h"
#include "compiler/interp/pattern.h"
#include "compiler/interp/sessions.h"
#include "compiler/interp/state_bytes.h"
#include "compiler/interp/threshold.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <queue>

namespace ethogram::interp {

KeyState& Interpreter::new_key_state(uint32_t key) {
    auto [slot, fresh] = keys_.emplace(key);
    KeyState& ks = *slot;
    if (!fresh) return ks;
    // The record's arrays are laid out by the key table (default states); the models start from their
    // priors.
    if (!en_.models.empty()) en_.models.make_states(ks.models);
    return ks;
}

void Interpreter::on_event(const ir::Event& e, ir::DetectionSink& sink) {
    // The caller advances the watermark to e.time first; doing it again is harmless (advance_watermark
    // answers at once when nothing is due) and makes the "timers with deadline < t fire before the event"
    // rule hold for any caller.
    advance(e.time, sink);
    ++en_.stats.events;
    KeyState& ks = key_state(e.key);

    EventPtr se = make_event(e, next_ord_++);
    // The key's previous event now knows its dwell: the time to this event (any type).
    if (ks.last) ks.last->set_dwell(e.time - ks.last->ev.time);
    ks.last = se;

    to_close_.clear();
    en_.eval.set_key_models(&ks.models);
    sessions_on_event(en_, ks, se, to_close_);
    // Models see the event after the sessions (a new session resets `per session` models) and before
    // the rules, so that a rule triggered by the event reads scores that include it.
    if (!en_.models.empty()) en_.models.on_event(ks, *se);
    // Without a threshold rule there is no scope to update either: not even the call (about 57 instructions
    // per event of frame and set-up for pattern-only rule sets, docs/performance-history.md).
    if (en_.threshold_count != 0) thresholds_on_event(en_, ks, se, batch_);
    patterns_on_event(en_, ks, se, batch_);
    // An `end on` event closes its session after every rule has seen it.
    for (uint32_t s : to_close_) close_session(en_, ks, s, e.time, batch_);
    if (!batch_.empty()) resolve_batch(en_, batch_, sink);
    if (!ks.queued) queue_activity(ks);
    // Accounting on the hot path only under a budget; stats() sums the keys otherwise.
    if (en_.opts.max_state_bytes > 0) {
        account(ks);
        if (total_bytes_ > en_.opts.max_state_bytes) enforce_budget(e.key);
    }
}

void Interpreter::advance_watermark(int64_t wm, ir::DetectionSink& sink) {
    // Most calls (one per event) find no timer due and no key idle: answered by advance() without the
    // frame of fire_timers' loop.
    advance(wm, sink);
}

void Interpreter::fire_timers(int64_t wm, ir::DetectionSink& sink) {
    // Timers fire in (deadline, key, slot) order; all the timers of one key at one deadline form one
    // batch for exclusive-group resolution.
    bool fired = false;
    const auto sessions = static_cast<uint32_t>(en_.rs.sessions.size());
    while (en_.timers.due_before(wm)) {
        fired = true;
        Timer t = en_.timers.top();
        const int64_t deadline = t.deadline;
        const uint32_t key = t.key;
        // One key lookup per batch: the timers of the batch are all of this key, and firing one neither
        // creates nor removes a key.
        KeyState* ks = keys_.find(key);
        if (ks) en_.eval.set_key_models(&ks->models);
        for (;;) {
            en_.timers.pop();
            if (ks) {
                if (t.slot < sessions) {
                    const bool was_open = ks->sessions[t.slot].open();
                    session_timer(en_, *ks, t.slot, t, batch_);
                    if (was_open && !ks->sessions[t.slot].open()) queue_activity(*ks);
                } else {
                    // A stale entry (its rule waits for another deadline, or none) does nothing: skipped
                    // here without the call (pattern_timer checks again).
                    const PatternState& ps = ks->patterns[t.slot - sessions];
                    if (ps.timer_scheduled && ps.timer_deadline == t.deadline)
                        pattern_timer(en_, *ks, t.slot - sessions, t, batch_);
                }
                if (en_.opts.max_state_bytes > 0) account(*ks);
            }
            if (en_.timers.empty()) break;
            t = en_.timers.top();
            if (t.deadline != deadline || t.key != key) break;
        }
        if (!batch_.empty()) resolve_batch(en_, batch_, sink); // most timers detect nothing
    }
    // At end of input nothing is gained by evicting (and the summary keeps the live-key count). Once per
    // watermark (the caller advances to an event's time, then on_event does again): what a second pass at
    // the same watermark could find idle was queued since, by a fired timer (a closed session's key, at
    // its old latest time) or by an event (at the watermark itself, not idle).
    if (en_.opts.evict_idle_keys && wm != ir::kTimeInfinity && (fired || wm != evicted_at_)) {
        evict_idle(wm);
        evicted_at_ = wm;
    }
}

int64_t Interpreter::time_horizon(const ir::RuleSet& rs) {
    int64_t h = 0;
    for (const ir::Session& s : rs.sessions) h = std::max(h, s.gap_us);
    for (const ir::Rule& r : rs.rules) {
        if (r.kind == ir::RuleKind::Threshold) {
            if (r.threshold.scope == ir::ScopeKind::Window) h = std::max(h, r.threshold.window_us);
            continue;
        }
        h = std::max(h, r.pattern.within_us);
        for (const ir::Step& st : r.pattern.steps) h = std::max(h, st.within_us);
    }
    return h;
}

// A key whose state a fresh key would reproduce exactly: what its next event would see is the same. Called
// once the horizon has passed since its latest event, so that every timer of the key has fired and every
// window-scope event would be pruned by that next event.
bool Interpreter::evictable(const KeyState& ks) const {
    for (const SessionState& s : ks.sessions)
        if (s.open()) return false;
    // A model that lives as long as the key remembers its whole history (evidence, context); a `per
    // session` model restarts with the next session, which a fresh key opens too.
    for (size_t m = 0; m < ks.models.size() && m < en_.rs.models.size(); ++m)
        if (en_.rs.models[m].session < 0 && ks.models[m].count > 0) return false;
    for (uint32_t r = 0; r < en_.rs.rules.size(); ++r) {
        const ir::Rule& rule = en_.rs.rules[r];
        if (rule.kind == ir::RuleKind::Pattern) {
            // Matches without a `within` never expire by time.
            if (!ks.patterns[r].matches.empty()) return false;
            continue;
        }
        const ThresholdState& ts = ks.thresholds[r];
        // Edge memory: a condition that held at the last evaluation must not fire again.
        if (ts.evaluated && ts.previous) return false;
        // The last N events are in scope however old they are.
        if (rule.threshold.scope == ir::ScopeKind::LastN && !en_.scope_ring(ks, r).empty()) return false;
    }
    return true;
}

void Interpreter::push_activity(KeyState& ks) {
    ks.queued = true;
    activity_.emplace(ks.last->ev.time, ks.key);
}

void Interpreter::evict_idle(int64_t wm) {
    auto idle = [&](int64_t last) { return idle_at(last, wm); };
    while (!activity_.empty() && idle(activity_.top().time())) {
        const uint32_t key = activity_.top().key;
        activity_.pop();
        KeyState* found = keys_.find(key);
        if (!found) continue;
        KeyState& ks = *found;
        ks.queued = false;
        if (!idle(ks.last->ev.time)) {
            queue_activity(ks); // active since: look again later
            continue;
        }
        if (!evictable(ks)) continue; // stays as it is until its next event (which queues it again)
        ++en_.stats.evictions;
        total_bytes_ -= ks.bytes;
        keys_.erase(key);
    }
}

void Interpreter::account(KeyState& ks) {
    const uint64_t b = key_state_bytes(ks);
    total_bytes_ = total_bytes_ - ks.bytes + b;
    ks.bytes = b;
    en_.stats.peak_state_bytes = std::max(en_.stats.peak_state_bytes, total_bytes_);
}

void Interpreter::drop_key(KeyState& ks) {
    uint64_t live = 0;
    for (const PatternState& p : ks.patterns) live += p.matches.size();
    en_.stats.partial_matches -= std::min(en_.stats.partial_matches, live);
    total_bytes_ -= ks.bytes;
    ++en_.stats.budget_drops;
    keys_.erase(ks.key);
}

// Over the budget: drop whole keys, least recently active first, then (alone over it) the current one.
void Interpreter::enforce_budget(uint32_t current) {
    if (!budget_warned_) {
        budget_warned_ = true;
        spdlog::warn("the state budget ({} bytes) is exceeded: dropping the state of the least recently "
                     "active keys (counted as budget drops; detections may be lost)",
                     en_.opts.max_state_bytes);
    }
    size_t guard = activity_.size();
    while (total_bytes_ > en_.opts.max_state_bytes && !activity_.empty() && guard-- > 0) {
        const int64_t t = activity_.top().time();
        const uint32_t key = activity_.top().key;
        activity_.pop();
        KeyState* ks = keys_.find(key);
        if (!ks) continue;
        ks->queued = false;
        if (key == current || ks->last->ev.time != t) {
            queue_activity(*ks); // more recent than its entry says: to the back
            continue;
        }
        drop_key(*ks);
    }
    if (total_bytes_ > en_.opts.max_state_bytes) {
        if (KeyState* ks = keys_.find(current)) drop_key(*ks);
    }
}

uint64_t Interpreter::recomputed_state_bytes() const {
    uint64_t n = 0;
    keys_.for_each([&](const KeyState& ks) { n += key_state_bytes(ks); });
    return n;
}

ir::ExecutorStats Interpreter::stats() const {
    ir::ExecutorStats s = en_.stats;
    s.live_keys = keys_.size();
    if (en_.opts.max_state_bytes > 0) {
        s.state_bytes = total_bytes_;
    } else {
        s.state_bytes = recomputed_state_bytes();
        s.peak_state_bytes = s.state_bytes; // not tracked without a budget: the current value
    }
    return s;
}

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts) {
    return std::make_unique<Interpreter>(rs, pool, opts);
}

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, const NativeHooks* native) {
    return std::make_unique<Interpreter>(rs, pool, opts, native);
}

std::unique_ptr<ir::Executor> make_interpreter(const ir::RuleSet& rs, ir::StringPool& pool,
                                               const ir::ExecutorOptions& opts, Coverage* cov) {
    auto in = std::make_unique<Interpreter>(rs, pool, opts, nullptr);
    in->set_coverage(cov);
    return in;
}

} // namespace ethogram::interp
