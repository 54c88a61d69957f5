// threshold.cpp: threshold rules.
#include "compiler/interp/threshold.h"

#include "compiler/interp/detection.h"
#include "compiler/interp/exact_sum.h"
#include "compiler/interp/value_ops.h"

#include <algorithm>
#include <cstring>

namespace ethogram::interp {

namespace {

const EventBuffer kEmptyScope;

/// Coverage: the condition's outcome and each top-level branch's value (evaluated again, only when
/// counting; see make_interpreter in interpreter.h).
void count_condition(Engine& en, uint32_t rule, bool now, const EvalContext& ctx) {
    RuleCoverage& rc = en.cov->rules[rule];
    ++(now ? rc.cond_true : rc.cond_false);
    count_branches(rc.cond, en.eval, ctx);
}

/// Predicate `cond` (ExprEvaluator::test): with compiled code, its test function is called here directly,
/// not through test() and test_native() (two calls, the second saving registers for its fall-back path:
/// about 25 instructions per rule evaluation); on a bail-out (negative), the evaluator decides.
bool holds(Engine& en, ir::ExprId cond, const EvalContext& ctx) {
    if (en.native && cond < en.native->tests.size()) {
        if (const NativeTestFn fn = en.native->tests[cond]) {
            const int32_t r = fn(&ctx, &en.eval);
            if (r >= 0) return r != 0;
        }
    }
    return en.eval.test(cond, ctx);
}

using KeepStep = ScopeGroup::KeepStep;

/// Updates the kept aggregates [k, end) (ScopeGroup::keep_steps of the event's type) of `ring` for `se`
/// entering (`sign` 1) or leaving (-1) it.
[[gnu::noinline]] void keep(Engine& en, EventBuffer& ring, const KeepStep* k, const KeepStep* end,
                            const StoredEvent* se, int64_t sign) {
    int64_t* w = ring.words();
    EvalContext c; // the element alone: built once for every entry
    c.current = se;
    for (; k != end; ++k) {
        // A stale float sum stays stale whatever enters or leaves (the next evaluation rescans it and keeps
        // it again): its filter and value need not be evaluated. An avg's number of values is kept even so.
        if (!k->count && !k->avg && w[k->word + 1] != 0) continue;
        if (k->filter != ir::kNoExpr) {
            // holds() with the compiled test found once (Engine::use_native).
            const int32_t r = k->filter_fn ? k->filter_fn(&c, &en.eval) : -1;
            if (!(r >= 0 ? r != 0 : en.eval.test(k->filter, c))) continue;
        }
        if (k->count) {
            w[k->word] += sign;
            continue;
        }
        // A float sum: its exact partials (exact_sum.h), the value added or taken out.
        ir::Value v;
        if (!k->value_fn || k->value_fn(&c, &en.eval, &v) != 0) v = en.eval.eval(k->value, c);
        if (v.is_missing()) continue;
        if (k->avg) {
            w[k->word + kept_sum::kWords] += sign; // the number of values, stale sum or not
            // A value of another kind than the mean's (a float in an avg of durations): the rescan's type
            // is its first value's, so the sum is stale until a rescan finds them alike.
            if ((v.type == ir::Type::Duration || v.type == ir::Type::Timestamp) != k->avg_time) {
                w[k->word + 1] = 1;
                continue;
            }
        }
        kept_sum::step(w + k->word, as_double(v), sign);
    }
}

/// Calls keep() for `se` entering or leaving the ring of `g` when a kept aggregate can count it.
inline void keep_if(Engine& en, const ScopeGroup& g, EventBuffer& ring, const StoredEvent* se, int64_t sign) {
    const uint32_t bit = std::min<uint32_t>(se->ev.type, 63);
    if (!((g.keep_types >> bit) & 1)) return;
    const size_t t = std::min<size_t>(se->ev.type, g.keep_from.size() - 2);
    const uint32_t from = g.keep_from[t], to = g.keep_from[t + 1];
    if ((g.keep_plain >> bit) & 1) {
        // Counts without filter (such as count(search) for a search): no context, no call (a call to keep()
        // with its context cost about 50 instructions for one count).
        int64_t* w = ring.words();
        for (const KeepStep *k = g.keep_steps.data() + from, *end = g.keep_steps.data() + to; k != end; ++k)
            w[k->word] += sign;
        return;
    }
    if (from != to) keep(en, ring, g.keep_steps.data() + from, g.keep_steps.data() + to, se, sign);
}

/// Appends `e` to `ring` with its running counts. Inlined: a call per group per event cost about 20
/// instructions of prologue and epilogue.
[[gnu::always_inline]] inline void push(Engine& en, const ScopeGroup& g, EventBuffer& ring,
                                        const EventPtr& e) {
    ring.push_back(e, g.words, 16); // 2, 16, 32, ... slots: a key with one event stays small
    keep_if(en, g, ring, e.get(), 1);
}

/// Inlined: with more callers (update_nest), the compiler stopped inlining it into update_scope's prune
/// loop (about 20 instructions per pop on the 3 rules).
[[gnu::always_inline]] inline void pop(Engine& en, const ScopeGroup& g, EventBuffer& ring) {
    keep_if(en, g, ring, ring.front().get(), -1);
    ring.pop_front();
}

/// push_capped (engine.h) with the running counts kept. Out of line: the cap is rarely reached, and the
/// common path (room left) is tested by the caller. An event dropped for the cap counts once per member
/// rule, as when every rule had its own ring.
/// `keep_entry` false: the caller keeps the entering event's aggregates (update_nest).
[[gnu::noinline]] void push_capped(Engine& en, const ScopeGroup& g, EventBuffer& ring, const EventPtr& e,
                                   bool keep_entry = true) {
    const uint64_t drops = en.stats.overflow_drops;
    if (make_room(ring, en.opts.max_scope_events, en.stats, [&] { pop(en, g, ring); })) {
        if (keep_entry)
            push(en, g, ring, e);
        else
            ring.push_back(e, g.words, 16);
    }
    if (en.stats.overflow_drops != drops)
        en.stats.overflow_drops += (en.stats.overflow_drops - drops) * (g.members - 1);
}

/// Adds `e` (at time `t`) to a shared Window or LastN scope ring and drops what fell out of it.
[[gnu::always_inline]] inline void update_scope(Engine& en, const ScopeGroup& g, EventBuffer& ring,
                                                const EventPtr& e, int64_t t, uint32_t cap) {
    if (g.kind == ir::ScopeKind::Window) {
        if (ring.size() < cap) // (cap 0: never)
            push(en, g, ring, e);
        else
            push_capped(en, g, ring, e);
        // The window [t - D, t] is inclusive at both ends.
        const int64_t from = saturating_add(t, -g.window_us);
        while (!ring.empty() && ring.front()->ev.time < from) pop(en, g, ring);
    } else if (g.last_n <= cap) {
        // Falling out of the last N is the scope's meaning, not an overflow.
        push(en, g, ring, e);
        while (ring.size() > g.last_n) pop(en, g, ring);
    } else if (ring.size() < cap) {
        push(en, g, ring, e);
    } else {
        push_capped(en, g, ring, e);
    }
}

/// update_scope for a holder `h` with nested Window groups: one push into the shared ring, then each
/// view (the ring's last `size` elements, `size` in the ring's words) grows by the event and drops what
/// fell out of its window, then the holder prunes. Drops for the cap are counted per view as its own
/// ring's were, before the holder drops an element they share.
[[gnu::noinline]] void update_nest(Engine& en, const ScopeGroup& h, EventBuffer& ring, const EventPtr& e,
                                   int64_t t, uint32_t cap) {
    const ScopeGroup* const groups = en.scope_groups.data();
    if (cap == 0) {
        // No event enters any of the family's scopes: each group counts the drop once per member.
        for (uint32_t v : h.views) en.stats.overflow_drops += groups[v].members;
        en.stats.overflow_drops += h.members;
        return;
    }
    if (ring.size() >= cap) {
        // A view is no longer than the ring: only now can one be full.
        for (uint32_t v : h.views) {
            const ScopeGroup& g = groups[v];
            int64_t* const w = ring.words();
            const auto p = ring.parts();
            while (w[g.size_word] >= static_cast<int64_t>(cap)) {
                keep_if(en, g, ring, p[p.size - static_cast<size_t>(w[g.size_word])].get(), -1);
                --w[g.size_word];
                en.stats.overflow_drops += g.members;
            }
        }
    }
    // The event's kept aggregates for the holder and its views together, below.
    if (ring.size() < cap)
        ring.push_back(e, h.words, 16);
    else
        push_capped(en, h, ring, e, false);
    // The ring is allocated now, with its words; it does not change until the holder prunes.
    int64_t* const w = ring.words();
    const auto p = ring.parts();
    // The event enters the holder and every view: their kept aggregates in one call.
    const StoredEvent* se = e.get();
    if ((h.view_types >> std::min<uint32_t>(se->ev.type, 63)) & 1) {
        const size_t ty = std::min<size_t>(se->ev.type, h.view_from.size() - 2);
        const uint32_t vf = h.view_from[ty], vt = h.view_from[ty + 1];
        if (vf != vt) keep(en, ring, h.view_steps.data() + vf, h.view_steps.data() + vt, se, 1);
    }
    for (uint32_t v : h.views) {
        const ScopeGroup& g = groups[v];
        int64_t size = w[g.size_word] + 1;
        const int64_t from = saturating_add(t, -g.window_us);
        for (;;) {
            const StoredEvent* oldest = p[p.size - static_cast<size_t>(size)].get();
            if (oldest->ev.time >= from) break;
            keep_if(en, g, ring, oldest, -1);
            if (--size == 0) break;
        }
        w[g.size_word] = size;
    }
    const int64_t from = saturating_add(t, -h.window_us);
    while (!ring.empty() && ring.front()->ev.time < from) pop(en, h, ring);
}

/// The rule's condition, through its model gate (docs/semantics.md section 7): with a gate, `when` decides
/// while every gated model has its minimum evidence ("model"), else `fallback when` (or nothing).
bool decide(Engine& en, const ir::Rule& rule, const EvalContext& ctx, const char*& decision) {
    if (rule.gate.empty()) return holds(en, rule.threshold.cond, ctx);
    if (en.models.confident(rule.gate, en.eval.key_models())) {
        decision = "model";
        return holds(en, rule.threshold.cond, ctx);
    }
    decision = "fallback";
    return rule.fallback != ir::kNoExpr && holds(en, rule.fallback, ctx);
}

/// Builds the detection of threshold rule `rule`.
void emit(Engine& en, KeyState& ks, uint32_t rule, const StoredEvent* trigger, const EvalContext& ctx,
          int64_t time, std::string_view why, const char* decision, DetectionBatch& batch) {
    ir::Detection& d = new_detection(en, rule, batch); // built in place, in recycled storage
    if (decision) set_text(d.decision, decision);
    d.key = ks.key;
    d.time = time;
    set_text(d.trigger, why);
    size_bindings(d, 2);
    if (trigger)
        *set_binding(d.bindings[0], "trigger", UINT32_MAX, 1) = bound_event(*trigger);
    else
        set_binding(d.bindings[0], "trigger", UINT32_MAX, 0);
    // Sized once: a scope is often tens of events (growing by doubling was a chain of allocations).
    const size_t n = ctx.scope ? ctx.scope->size() : 0;
    ir::BoundEvent* out = set_binding(d.bindings[1], "scope", UINT32_MAX, ctx.scope ? n - ctx.scope_from : 0);
    if (ctx.scope)
        for (size_t i = ctx.scope_from; i < n; ++i) *out++ = bound_event(*(*ctx.scope)[i]);
    finish_detection(en, d, ctx);
}

} // namespace

void thresholds_on_event(Engine& en, KeyState& ks, const EventPtr& e, DetectionBatch& batch) {
    // Every shared scope first (once per group), then the rules: evaluating reads the scopes, never
    // changes them, so this is the order of one ring per rule.
    const size_t type = std::min<size_t>(e->ev.type, en.threshold_visits_by_type.size() - 1);
    const std::vector<Engine::ThresholdVisit>& visits = en.threshold_visits_by_type[type];
    // The states, indexed by ThresholdVisit::slot and ScopeGroup::slot (rule - threshold_first).
    ThresholdState* const states = ks.thresholds.begin();
    const int64_t t = e->ev.time;
    const uint32_t cap = en.opts.max_scope_events;
    // Views (nested windows) are updated with their holder's ring.
    for (const ScopeGroup* g : en.ring_groups) {
        if (g->role == ScopeGroup::Role::Ring) [[likely]]
            update_scope(en, *g, states[g->slot].scope, e, t, cap);
        else
            update_nest(en, *g, states[g->slot].scope, e, t, cap);
    }
    if (visits.empty()) return;
    Coverage* const cov = en.cov;
    EvalContext ctx;
    ctx.current = e.get();
    // Read only with scope_counts (null for a rule without a shared scope).
    ctx.scope_words = en.agg_word.data();
    // The scopes stay as they are until the next event: alike aggregates over one may share a rescan.
    en.eval.open_memo();
    for (const Engine::ThresholdVisit& v : visits) {
        ThresholdState& ts = states[v.slot];
        if (v.ring != Engine::kNoRing) {
            const EventBuffer& ring = states[v.ring].scope;
            ctx.scope = &ring;
            ctx.scope_counts = ring.words(); // null while empty (a rescan of nothing then)
            // A nested window: the ring's last `size` elements (the size word exists once the ring has
            // an allocation; before, the ring is empty).
            ctx.scope_from =
                v.view == Engine::kNoView || !ctx.scope_counts
                    ? 0
                    : static_cast<uint32_t>(ring.size() - static_cast<size_t>(ctx.scope_counts[v.view]));
        } else {
            ctx.scope = &kEmptyScope;
            ctx.scope_counts = nullptr;
            ctx.scope_from = 0;
        }
        ctx.session = nullptr;
        if (v.session != Engine::kNoSession) {
            const SessionState& st = ks.sessions[v.session];
            ctx.session = st.open() ? &st : nullptr;
            ctx.scope = st.open() ? &st.events : &kEmptyScope;
            ctx.scope_from = 0;
            // The edge memory of an `over session` rule belongs to one session.
            if (ts.session_gen != st.generation) {
                ts.evaluated = false;
                ts.session_gen = st.generation;
            }
        }
        const char* decision = nullptr;
        bool now;
        if (v.gated) {
            now = decide(en, en.rs.rules[v.rule], ctx, decision);
        } else {
            // holds() with the compiled test found once (Engine::use_native).
            const int32_t r = v.test ? v.test(&ctx, &en.eval) : -1;
            now = r >= 0 ? r != 0 : en.eval.test(v.cond, ctx);
        }
        if (cov) count_condition(en, v.rule, now, ctx);
        const bool fire = now && !(ts.evaluated && ts.previous);
        ts.evaluated = true;
        ts.previous = now;
        if (fire) emit(en, ks, v.rule, e.get(), ctx, e->ev.time, "event", decision, batch);
    }
    en.eval.close_memo();
}

void Engine::unnest(KeyState& ks) const {
    for (const ScopeGroup* hp : ring_groups) {
        const ScopeGroup& h = *hp;
        const EventBuffer& ring = ks.thresholds[h.leader].scope;
        if (!h.nested() || ring.empty()) continue;
        for (uint32_t v : h.views) {
            const ScopeGroup& g = scope_groups[v];
            EventBuffer& own = ks.thresholds[g.leader].scope;
            own.clear();
            const size_t n = ring.size(), size = static_cast<size_t>(ring.words()[g.size_word]);
            for (size_t i = n - size; i < n; ++i) own.push_back(ring[i]);
        }
    }
}

void recount_scope(Engine& en, uint32_t group, EventBuffer& ring) {
    const ScopeGroup& g = en.scope_groups[group];
    EventBuffer fresh;
    for (const EventPtr& e : ring) push(en, g, fresh, e);
    ring = std::move(fresh);
}

void threshold_at_session_end(Engine& en, KeyState& ks, uint32_t rule, const SessionState& st, int64_t time,
                              DetectionBatch& batch) {
    EvalContext ctx;
    ctx.current = st.last_event.get();
    ctx.session = &st;
    ctx.scope = &st.events;
    const char* decision = nullptr;
    const bool now = decide(en, en.rs.rules[rule], ctx, decision);
    if (en.cov) count_condition(en, rule, now, ctx);
    if (now) emit(en, ks, rule, st.last_event.get(), ctx, time, "session_end", decision, batch);
}

} // namespace ethogram::interp
