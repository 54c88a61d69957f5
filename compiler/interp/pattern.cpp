// pattern.cpp: sequence patterns. One PatternRun handles one rule for one key while an event or a timer
// is processed; all state lives in PatternState (per key and rule).
#include "compiler/interp/pattern.h"

#include "compiler/interp/detection.h"
#include "compiler/interp/value_ops.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ethogram::interp {

namespace {

/// What a first step's test reads as the match's steps: nothing bound yet.
const PartialMatch kNothingBound;

class PatternRun {
public:
    /// `ps`: the rule's state in `ks`. What is per rule is read from `p` (Engine::patterns, built at
    /// setup); only the key's state is per visit.
    PatternRun(Engine& en, KeyState& ks, const PatternInfo& p, PatternState& ps)
        : en_(en), ks_(ks), p_(p), rule_(p.rule), steps_(p.steps), pos_(p.positives), absence_(p.absence),
          ps_(ps), live_before_(ps_.matches.size()) {}

    /// `only_starts`: PatternInfo::only_starts of the event's type.
    void on_event(const EventPtr& e, bool only_starts, DetectionBatch& batch);
    void start_only(const EventPtr& e, DetectionBatch& batch);
    void on_timer(int64_t deadline, DetectionBatch& batch);

private:
    /// Inline: most tests are a precomputed bit; the evaluation is out of line (evaluate).
    bool satisfies(uint32_t step, const StoredEvent& e, const PartialMatch& m) const {
        if (en_.bits_event == &e && p_.step_bit) {
            // Precomputed by the native dispatch function for this event (type and predicate).
            const uint32_t bit = p_.step_bit[step];
            if (bit != kNoBit) return (en_.step_bits[bit >> 6] >> (bit & 63)) & 1;
        }
        return evaluate(step, e, m);
    }
    [[gnu::noinline]] bool evaluate(uint32_t step, const StoredEvent& e, const PartialMatch& m) const;
    bool try_bind(PartialMatch& m, const EventPtr& e) const;
    bool killed_by(const PartialMatch& m, const StoredEvent& e) const;
    bool complete(const PartialMatch& m) const;
    /// Inline where a start or an advance binds (GCC kept it out of line: a call and a frame per binding).
    [[gnu::always_inline]] inline void bind(PartialMatch& m, uint32_t pos, const EventPtr& e) const;
    int64_t window_end(const PartialMatch& m) const;
    int64_t absence_deadline(const PartialMatch& m) const;
    /// Moves `m` from "all positive steps hold their minimum" to done (true) or to waiting (false).
    bool finish_positive(PartialMatch& m) const;
    void start(const EventPtr& e, std::vector<PartialMatch>& done);
    void emit_all(std::vector<PartialMatch>& done, std::string_view why, DetectionBatch& batch);
    void emit(const PartialMatch& m, int64_t time, std::string_view why, DetectionBatch& batch);
    /// Binds a fresh match `m` to its first event `e`.
    [[gnu::always_inline]] inline void init(PartialMatch& m, const EventPtr& e) const;
    void reschedule();
    void account();

    Engine& en_;
    KeyState& ks_;
    const PatternInfo& p_;
    uint32_t rule_;
    const ir::Step* steps_;
    const std::vector<uint32_t>& pos_;
    int32_t absence_;
    PatternState& ps_;
    size_t live_before_;
};

bool PatternRun::evaluate(uint32_t step, const StoredEvent& e, const PartialMatch& m) const {
    const ir::Step& s = steps_[step];
    if (!s.types.empty() && !type_in(s.types, e.ev.type)) return false;
    EvalContext ctx;
    ctx.current = &e;
    ctx.steps = &m;
    ctx.candidate_step = step;
    if (en_.cov) count_branches(en_.cov->rules[rule_].step_branches[step], en_.eval, ctx);
    return en_.eval.test(s.pred, ctx);
}

void PatternRun::bind(PartialMatch& m, uint32_t pos, const EventPtr& e) const {
    if (pos != m.pos) {
        m.pos = pos;
        m.count = 0;
    }
    m.push(e.get(), pos_[pos]);
    if (en_.cov) ++en_.cov->rules[rule_].step_hits[pos_[pos]];
    ++m.count;
}

// Candidate order (section 4): when the current step holds its minimum, the following steps (past a
// step only while it has minimum 0); otherwise, or if none took the event, the current step again.
bool PatternRun::try_bind(PartialMatch& m, const EventPtr& e) const {
    const ir::Step& cur = steps_[pos_[m.pos]];
    if (m.count >= cur.min) {
        for (uint32_t j = m.pos + 1; j < pos_.size(); ++j) {
            if (satisfies(pos_[j], *e, m)) {
                bind(m, j, e);
                return true;
            }
            if (steps_[pos_[j]].min > 0) break;
        }
    }
    if (m.count < cur.max && satisfies(pos_[m.pos], *e, m)) {
        bind(m, m.pos, e);
        return true;
    }
    return false;
}

// An event the match did not consume kills it when the current step is complete and the next step is
// strict (`=>`), or when it satisfies a negation guarding the gap after the current step (and the gaps
// after following minimum-0 steps, which the match may still skip).
bool PatternRun::killed_by(const PartialMatch& m, const StoredEvent& e) const {
    if (m.count < steps_[pos_[m.pos]].min) return false;
    if (m.pos + 1 < pos_.size() && steps_[pos_[m.pos + 1]].strict) return true;
    for (uint32_t j = m.pos; j + 1 < pos_.size(); ++j) {
        for (uint32_t s = pos_[j] + 1; s < pos_[j + 1]; ++s)
            if (steps_[s].kind == ir::StepKind::Negation && satisfies(s, e, m)) {
                if (en_.cov) ++en_.cov->rules[rule_].step_hits[s];
                return true;
            }
        if (steps_[pos_[j + 1]].min > 0) break;
    }
    return false;
}

bool PatternRun::complete(const PartialMatch& m) const {
    const ir::Step& last = steps_[pos_.back()];
    return m.pos + 1 == pos_.size() && m.count >= std::max<uint32_t>(last.min, 1);
}

int64_t PatternRun::window_end(const PartialMatch& m) const {
    if (p_.within_us < 0) return ir::kTimeInfinity;
    return saturating_add(m.first_time, p_.within_us);
}

int64_t PatternRun::absence_deadline(const PartialMatch& m) const {
    const ir::Step& a = steps_[static_cast<uint32_t>(absence_)];
    if (a.within_us >= 0) return saturating_add(m.last_time(), a.within_us);
    return window_end(m);
}

bool PatternRun::finish_positive(PartialMatch& m) const {
    if (absence_ < 0) return true;
    m.waiting = true;
    m.absence_deadline = absence_deadline(m);
    return false;
}

// An event that can only start a match (PatternInfo::only_starts): the live matches stay as they are, so
// they are not visited (each is a cache miss per event, and rules like `c -> not p within 30m` hold one
// per recent cart event). The timer moves only when the started match's deadline is the earliest.
void PatternRun::start_only(const EventPtr& e, DetectionBatch& batch) {
    std::vector<PartialMatch>& done = en_.pattern_done;
    done.clear();
    const size_t before = ps_.matches.size();
    const uint64_t drops = en_.stats.overflow_drops;
    start(e, done);
    if (!done.empty()) {
        emit_all(done, "event", batch);
        reschedule();
    } else if (ps_.matches.size() != before) {
        const PartialMatch& m = ps_.matches.back();
        const int64_t d = m.waiting ? m.absence_deadline : window_end(m);
        // Unchanged when the other matches were kept (no cap drop) and one of them is due no later.
        const bool same =
            before > 0 && en_.stats.overflow_drops == drops && ps_.timer_scheduled && d >= ps_.timer_deadline;
        if (!same) reschedule();
    } else if (en_.stats.overflow_drops != drops) {
        reschedule();
    }
    account();
}

void PatternRun::on_event(const EventPtr& e, bool only_starts, DetectionBatch& batch) {
    if (only_starts) {
        start_only(e, batch);
        return;
    }
    const int64_t t = e->ev.time;
    std::vector<PartialMatch>& done = en_.pattern_done;
    done.clear();
    // The matches that stay are compacted in place (same order): no second vector per event and rule.
    auto& ms = ps_.matches;
    size_t kept = 0;
    auto keep = [&](PartialMatch& m) {
        if (&ms[kept] != &m) ms[kept] = std::move(m);
        ++kept;
    };
    for (PartialMatch& m : ms) {
        if (m.waiting) {
            // Trailing absence: an absent-type event at or before the deadline kills the match.
            const bool kills = t <= m.absence_deadline && satisfies(static_cast<uint32_t>(absence_), *e, m);
            if (!kills) keep(m);
            if (kills && en_.cov) ++en_.cov->rules[rule_].step_hits[static_cast<uint32_t>(absence_)];
            continue;
        }
        // The window timer fired before this event when t > first + W; checked again for safety.
        if (t > window_end(m)) continue;
        if (try_bind(m, e)) {
            if (!complete(m))
                keep(m);
            else if (finish_positive(m))
                done.push_back(std::move(m));
            else
                keep(m);
        } else if (!killed_by(m, *e)) {
            keep(m);
        }
    }
    ms.erase(ms.begin() + static_cast<std::ptrdiff_t>(kept), ms.end());
    // Under consumption a match completed on this event discards any match the event would start.
    if (p_.keep_all || done.empty()) start(e, done);
    emit_all(done, "event", batch);
    reschedule();
    account();
}

void PatternRun::start(const EventPtr& e, std::vector<PartialMatch>& done) {
    if (pos_.empty()) return;
    // The type test first (satisfies() would fail on it too): most events start nothing.
    const ir::Step& first = steps_[pos_[0]];
    if (!first.types.empty() && !type_in(first.types, e->ev.type)) return;
    // Nothing is bound yet: a step reference reads missing, a step aggregate has no elements.
    if (!satisfies(pos_[0], *e, kNothingBound)) return;
    // The match is built where it stays (no local match moved in and destroyed per start). Bound to one
    // event at the first step, it is complete when that is the only positive step and needs at most one.
    const bool completes = pos_.size() == 1 && first.min <= 1;
    if (completes && absence_ < 0) {
        init(done.emplace_back(), e);
        return;
    }
    const uint32_t cap = en_.opts.max_partial_matches;
    while (!ps_.matches.empty() && ps_.matches.size() >= cap) {
        ps_.matches.erase(ps_.matches.begin());
        ++en_.stats.overflow_drops;
        if (!en_.overflow_warned[rule_]) {
            en_.overflow_warned[rule_] = true;
            spdlog::warn("rule '{}': {} partial matches for one key (the cap); dropping the oldest",
                         en_.rs.rules[rule_].name, cap);
        }
    }
    if (cap == 0) {
        // Nothing is kept; the binding is still counted, as a kept one is.
        if (en_.cov) ++en_.cov->rules[rule_].step_hits[pos_[0]];
        return;
    }
    PartialMatch& m = ps_.matches.emplace_back();
    init(m, e);
    if (completes) finish_positive(m); // waits out the trailing absence
}

void PatternRun::init(PartialMatch& m, const EventPtr& e) const {
    m.pos = 0;
    m.first_time = e->ev.time;
    bind(m, 0, e);
}

void PatternRun::on_timer(int64_t deadline, DetectionBatch& batch) {
    std::vector<PartialMatch>& done = en_.pattern_done;
    done.clear();
    // The matches that stay are compacted in place (same order), as in on_event: no second vector.
    auto& ms = ps_.matches;
    size_t kept = 0;
    for (PartialMatch& m : ms) {
        bool stays = false;
        if (m.waiting) {
            if (m.absence_deadline <= deadline)
                done.push_back(std::move(m));
            else
                stays = true;
        } else {
            stays = window_end(m) > deadline; // window_end <= deadline: the watermark passed it, it dies
        }
        if (!stays) continue;
        if (&ms[kept] != &m) ms[kept] = std::move(m);
        ++kept;
    }
    ms.erase(ms.begin() + static_cast<std::ptrdiff_t>(kept), ms.end());
    emit_all(done, "absence", batch);
    reschedule();
    account();
}

// Completed matches, earliest first event first. Consumption (default) is greedy: emit the earliest,
// discard every match (partial or completed) whose first event is at or before its last event, repeat.
void PatternRun::emit_all(std::vector<PartialMatch>& done, std::string_view why, DetectionBatch& batch) {
    if (done.empty()) return;
    // One completed match (the common case) needs no sort (stable_sort takes a temporary buffer).
    if (done.size() > 1)
        std::stable_sort(done.begin(), done.end(), [](const PartialMatch& a, const PartialMatch& b) {
            return a.first_ord() < b.first_ord();
        });
    const bool absence = why[0] == 'a';
    auto time_of = [&](const PartialMatch& m) { return absence ? m.absence_deadline : m.last_time(); };
    if (p_.keep_all) {
        for (const PartialMatch& m : done) emit(m, time_of(m), why, batch);
        done.clear(); // drops the events' references now
        return;
    }
    while (!done.empty()) {
        // Emitted where it is (no move out and destruction of a moved-from shell): the front stays in
        // place until it is erased below, after its last ord is read.
        const PartialMatch& w = done.front();
        emit(w, time_of(w), why, batch);
        const uint64_t w_last = w.last_ord();
        auto overlaps = [&](const PartialMatch& m) { return m.first_ord() <= w_last; };
        done.erase(std::remove_if(done.begin() + 1, done.end(), overlaps), done.end());
        done.erase(done.begin());
        ps_.matches.erase(std::remove_if(ps_.matches.begin(), ps_.matches.end(), overlaps),
                          ps_.matches.end());
    }
}

void PatternRun::emit(const PartialMatch& m, int64_t time, std::string_view why, DetectionBatch& batch) {
    // Built in place (no move and no destroyed shell per detection), in recycled storage.
    ir::Detection& d = new_detection(en_, rule_, batch);
    d.key = ks_.key;
    d.time = time;
    set_text(d.trigger, why);
    size_bindings(d, pos_.size());
    // One walk over the match's flat array: the tags never decrease and the positive steps are in order,
    // so each step's events are the next run of its tag (PartialMatch::step without a search per step).
    StoredEvent* const* evs = m.events();
    const uint32_t* tags = m.tags();
    const uint32_t n = m.size();
    uint32_t k = 0;
    for (size_t i = 0; i < pos_.size(); ++i) {
        const uint32_t s = pos_[i];
        while (k < n && tags[k] < s) ++k;
        uint32_t end = k;
        while (end < n && tags[end] == s) ++end;
        ir::BoundEvent* out = set_binding(d.bindings[i], steps_[s].alias, s, end - k);
        for (; k < end; ++k) *out++ = bound_event(*evs[k]);
    }
    EvalContext ctx;
    ctx.steps = &m;
    finish_detection(en_, d, ctx);
}

void PatternRun::reschedule() {
    int64_t next = ir::kTimeInfinity;
    for (const PartialMatch& m : ps_.matches)
        next = std::min(next, m.waiting ? m.absence_deadline : window_end(m));
    if (next == ir::kTimeInfinity) {
        // A deadline of +infinity never fires: nothing to schedule.
        ps_.timer_scheduled = false;
        return;
    }
    if (ps_.timer_scheduled && ps_.timer_deadline == next) return;
    ps_.timer_scheduled = true;
    ps_.timer_deadline = next;
    en_.schedule(next, ks_.key, p_.timer_slot);
}

void PatternRun::account() {
    en_.stats.partial_matches -= live_before_;
    en_.stats.partial_matches += ps_.matches.size();
    live_before_ = ps_.matches.size();
}

} // namespace

void visit_patterns(Engine& en, KeyState& ks, const EventPtr& e, const std::vector<PatternVisit>& rules,
                    DetectionBatch& batch) {
    en.bits_event = nullptr;
    // Only the rules some step of which lists the event's type (or that any type concerns: `rules`, from
    // patterns_on_event): an event of a type no step lists can neither start, extend, kill nor complete a
    // match (the matches it would see past their window are gone: their timer fired before the event),
    // and leaves the timer as it is: skipping the rule leaves its state exactly as processing it would.
    // With no such rule, the step tests are not computed either (and bits_event stays null: it is reset
    // after every visit).
    const NativeHooks* nh = en.native;
    if (nh && e->ev.type < nh->dispatch.size() && nh->dispatch[e->ev.type]) {
        EvalContext ctx;
        ctx.current = e.get();
        // Cleared in place: one word for up to 64 step tests (most rule sets), without assign's memset call.
        const size_t words = (nh->nbits + 63) / 64;
        if (words == 1 && en.step_bits.size() == 1)
            en.step_bits[0] = 0;
        else
            en.step_bits.assign(words, 0);
        if (nh->dispatch[e->ev.type](&ctx, &en.eval, en.step_bits.data()) == 0) en.bits_event = e.get();
    }
    const bool bits = en.bits_event != nullptr;
    // The key's pattern states (KeyState::patterns, from Engine::pattern_first), found once per event.
    PatternState* states = ks.patterns.begin();
    for (const PatternVisit& v : rules) {
        // With no live match, or when the event can only start one (PatternInfo::only_starts: the live
        // matches stay as they are), only a start can happen, and it needs the first step's type (what
        // PatternRun::start tests first) and, when precomputed, its test: without them the rule's state
        // is left exactly as it is (no match, no timer move, no cap drop).
        const bool first_fails =
            !v.first_takes ||
            (bits && v.first_bit != kNoBit && !((en.step_bits[v.first_bit >> 6] >> (v.first_bit & 63)) & 1));
        if (first_fails && (v.only_starts || states[v.slot].matches.empty())) continue;
        PatternRun(en, ks, *v.info, states[v.slot]).on_event(e, v.only_starts, batch);
    }
    en.bits_event = nullptr;
}

void pattern_timer(Engine& en, KeyState& ks, uint32_t rule, const Timer& t, DetectionBatch& batch) {
    PatternState& ps = ks.patterns[rule];
    if (!ps.timer_scheduled || ps.timer_deadline != t.deadline) return;
    ps.timer_scheduled = false;
    PatternRun(en, ks, en.patterns[rule], ps).on_timer(t.deadline, batch);
}

} // namespace ethogram::interp
