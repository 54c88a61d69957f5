// oracle_pattern.cpp: brute-force sequence matching, one sentence of docs/semantics.md §4 at a time.
#include "tests/oracle/oracle_pattern.h"

#include "tests/oracle/oracle_eval.h"

#include <algorithm>
#include <map>

namespace ethogram::oracle {

int PatternOracle::next_positive(uint32_t i) const {
    for (uint32_t j = i + 1; j < pat().steps.size(); ++j) {
        if (pat().steps[j].kind == ir::StepKind::Positive) return static_cast<int>(j);
        if (pat().steps[j].kind == ir::StepKind::Absence) return -1;
    }
    return -1;
}

int PatternOracle::last_positive() const {
    int last = -1;
    for (uint32_t j = 0; j < pat().steps.size(); ++j)
        if (pat().steps[j].kind == ir::StepKind::Positive) last = static_cast<int>(j);
    return last;
}

bool PatternOracle::step_accepts(const Partial& p, uint32_t step, const ir::Event& e) const {
    EvalCtx ctx;
    ctx.rs = rs_;
    ctx.steps = &p.bound;
    const ir::Step& s = pat().steps[step];
    return satisfies(ctx, s.types, s.pred, e);
}

// "A partial match at step i holding c events tries, in order: (1) if c >= min(i), the following steps
// i+1, i+2, ... (continuing past a step only while that step has minimum 0): the first one the event
// satisfies binds it; (2) otherwise, or if none did, step i itself when c < max(i)."
bool PatternOracle::try_bind(Partial& p, const ir::Event& e) const {
    const ir::Step& cur = pat().steps[p.pos];
    auto c = static_cast<uint32_t>(p.bound[p.pos].size());
    if (c >= cur.min) {
        for (int j = next_positive(p.pos); j >= 0; j = next_positive(static_cast<uint32_t>(j))) {
            if (step_accepts(p, static_cast<uint32_t>(j), e)) {
                p.pos = static_cast<uint32_t>(j);
                p.bound[p.pos].push_back(&e);
                p.last = &e;
                return true;
            }
            if (pat().steps[j].min > 0) break;
        }
    }
    if (c < cur.max && step_accepts(p, p.pos, e)) {
        p.bound[p.pos].push_back(&e);
        p.last = &e;
        return true;
    }
    return false;
}

// Strict next: "once A is complete (c >= min), the next event of the key (any type) that the partial
// match does not consume kills it." Negation: "once A is complete and until B binds, an event that
// satisfies N and that the partial match does not consume kills it", and "a negation guard between A and
// B stays active while the partial match crosses optional (minimum 0) steps between them". Read (and
// agreed by the interpreter) as: the guard opens once the nearest step before it with minimum >= 1 is
// complete (optional steps before the guard may still be unfilled), and closes when the positive step
// right after it (or any later one) binds.
bool PatternOracle::kills(const Partial& p, const ir::Event& e) const {
    const ir::Step& cur = pat().steps[p.pos];
    bool complete = p.bound[p.pos].size() >= cur.min;
    int j = next_positive(p.pos);
    if (complete && j >= 0 && pat().steps[j].strict) return true;
    const auto& steps = pat().steps;
    for (uint32_t n = 0; n < steps.size(); ++n) {
        if (steps[n].kind != ir::StepKind::Negation) continue;
        int a = static_cast<int>(n) - 1;
        while (a >= 0 && (steps[a].kind != ir::StepKind::Positive || steps[a].min == 0)) --a;
        uint32_t b = n + 1;
        while (b < steps.size() && steps[b].kind != ir::StepKind::Positive) ++b;
        if (a < 0 || b >= steps.size()) continue;
        // Active from A complete (at A with c >= min, or past it) until B binds (the match reaches B).
        bool after_a = static_cast<int>(p.pos) > a || (static_cast<int>(p.pos) == a && complete);
        if (after_a && p.pos < b && step_accepts(p, n, e)) return true;
    }
    return false;
}

// "A pattern completes when its last positive step holds its minimum count." With a trailing absence
// the match then waits until tA + D (or first + within).
void PatternOracle::after_bind(Partial& p, const ir::Event& e) const {
    int last = last_positive();
    if (static_cast<int>(p.pos) != last || p.bound[p.pos].size() != pat().steps[p.pos].min) return;
    const ir::Step& tail = pat().steps.back();
    if (tail.kind == ir::StepKind::Absence) {
        p.waiting = true;
        p.deadline = tail.within_us >= 0 ? e.time + tail.within_us : p.first()->time + pat().within_us;
    } else {
        p.completed = true;
    }
}

void PatternOracle::on_event(const ir::Event& e, std::vector<Tuple>& out) {
    for (Partial& p : partials_) {
        if (p.waiting) {
            // "An N event with t <= deadline kills it" (timers with deadline < t have fired already).
            if (step_accepts(p, static_cast<uint32_t>(pat().steps.size() - 1), e)) p.dead = true;
            continue;
        }
        if (try_bind(p, e)) {
            after_bind(p, e);
        } else if (kills(p, e)) {
            p.dead = true;
        }
    }
    // "Every event that satisfies the first step starts a new partial match (after the existing partial
    // matches of that rule and key have seen it)."
    Partial fresh;
    fresh.bound.resize(pat().steps.size());
    if (step_accepts(fresh, 0, e)) {
        fresh.bound[0].push_back(&e);
        fresh.last = &e;
        after_bind(fresh, e);
        // "At most state.max_partial_matches partial matches per key and rule; starting one more drops
        // the oldest." Live partials only: killed ones are gone, completed ones are matches.
        size_t live = 0;
        for (const Partial& p : partials_) live += !p.dead && !p.completed;
        for (Partial& p : partials_) {
            if (live < cap_) break;
            if (!p.dead && !p.completed) {
                p.dead = true;
                --live;
            }
        }
        partials_.push_back(std::move(fresh));
    }
    std::erase_if(partials_, [](const Partial& p) { return p.dead; });
    resolve(e.time, "event", out);
}

std::optional<int64_t> PatternOracle::next_deadline() const {
    std::optional<int64_t> best;
    for (const Partial& p : partials_) {
        std::optional<int64_t> d;
        if (p.waiting)
            d = p.deadline;
        else if (pat().within_us >= 0)
            d = p.first()->time + pat().within_us;
        if (d && (!best || *d < *best)) best = d;
    }
    return best;
}

void PatternOracle::fire(int64_t d, std::vector<Tuple>& out) {
    for (Partial& p : partials_) {
        if (p.waiting) {
            // "when the deadline passes (a later event or the watermark), it completes with detection
            // time = deadline."
            if (p.deadline == d) p.completed = true;
        } else if (pat().within_us >= 0 && p.first()->time + pat().within_us <= d) {
            p.dead = true; // "the watermark passes first + W"
        }
    }
    std::erase_if(partials_, [](const Partial& p) { return p.dead; });
    resolve(d, "absence", out);
}

// "When matches complete on an event (or timer), the one with the earliest first event is emitted and
// every partial match of that rule and key whose first event is at or before the match's last event is
// discarded. With keep all; every completed match is emitted, earliest first event first."
void PatternOracle::resolve(int64_t time, const char* trigger, std::vector<Tuple>& out) {
    bool keep_all = rs_->rules[rule_].keep_all;
    for (;;) {
        const Partial* best = nullptr;
        for (const Partial& p : partials_)
            if (p.completed && (!best || p.first()->seq < best->first()->seq)) best = &p;
        if (!best) break;
        out.push_back(detection(*best, time, trigger));
        uint64_t last_seq = best->last->seq, first_seq = best->first()->seq;
        if (keep_all)
            std::erase_if(partials_, [&](const Partial& p) { return p.first()->seq == first_seq; });
        else
            std::erase_if(partials_, [&](const Partial& p) { return p.first()->seq <= last_seq; });
    }
}

Tuple PatternOracle::detection(const Partial& p, int64_t time, const char* trigger) const {
    Tuple t;
    t.rule = rule_;
    t.key = key_;
    t.time = time;
    t.trigger = trigger;
    t.first_time = p.first()->time;
    t.last_time = p.last->time; // events are bound in time order
    std::map<std::string, std::vector<uint64_t>> by_alias;
    for (uint32_t s = 0; s < pat().steps.size(); ++s) {
        if (pat().steps[s].kind != ir::StepKind::Positive || p.bound[s].empty()) continue;
        auto& v = by_alias[pat().steps[s].alias];
        for (const ir::Event* e : p.bound[s]) v.push_back(e->seq);
    }
    t.bindings.assign(by_alias.begin(), by_alias.end());
    EvalCtx ctx; // "emit ... computes named output fields from the bound events at detection time"
    ctx.rs = rs_;
    ctx.steps = &p.bound;
    t.fields = emits(*rs_, rule_, ctx);
    return t;
}

} // namespace ethogram::oracle
