// engine.cpp: the interpreter's shared state and the tables precomputed from the rule set.
#include "compiler/interp/engine.h"

#include "compiler/interp/block_cache.h"
#include "compiler/interp/detection.h"
#include "compiler/interp/exact_sum.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ethogram::interp {

// Stored events (state.h): one allocation, the StoredEvent then its field array.
namespace {

/// A new stored event, referenced once. Inline in make and make_event: a call from make_event to make
/// cost two frames per event.
[[gnu::always_inline]] inline StoredEvent* new_stored_event(uint32_t nfields, const ir::Value* from) {
    // Freed blocks are reused per size (block_cache.h): all the events of one type have the same size.
    void* mem = blocks::get(stored_event_alloc_bytes(nfields));
    auto* se = new (mem) StoredEvent();
    se->ev.fields.n = nfields;
    auto* fields = reinterpret_cast<ir::Value*>(se + 1);
    // Each field is written once: copied (Value is trivially copyable) or made Missing.
    if (from && nfields > 0)
        std::memcpy(static_cast<void*>(fields), from, nfields * sizeof(ir::Value));
    else
        for (uint32_t i = 0; i < nfields; ++i) new (fields + i) ir::Value();
    se->ev.refs = 1;
    return se;
}

} // namespace

EventPtr EventPtr::make(uint32_t nfields, const ir::Value* from) {
    EventPtr p;
    p.p_ = new_stored_event(nfields, from);
    return p;
}

void EventPtr::destroy(StoredEvent* p) {
    const uint32_t nfields = p->ev.fields.n;
    p->~StoredEvent(); // Value and StoredEvent are trivially destructible: nothing else to run
    blocks::put(p, stored_event_alloc_bytes(nfields));
}

// Partial matches (state.h): the heap block of a match holding more than kInline events.
void PartialMatch::grow() {
    const uint32_t cap = capacity() * 2;
    const size_t bytes = size_t{cap} * (sizeof(StoredEvent*) + sizeof(uint32_t));
    auto** block = static_cast<StoredEvent**>(blocks::get(bytes));
    auto* tags = reinterpret_cast<uint32_t*>(block + cap);
    std::memcpy(static_cast<void*>(block), events(), n_ * sizeof(StoredEvent*));
    std::memcpy(tags, this->tags(), n_ * sizeof(uint32_t));
    if (cap_ != 0) blocks::put(in_.heap, heap_bytes());
    in_.heap = block;
    cap_ = cap;
}

void PartialMatch::free_heap() {
    blocks::put(in_.heap, heap_bytes());
}

void PartialMatch::copy_from(const PartialMatch& o) {
    first_time = o.first_time;
    absence_deadline = o.absence_deadline;
    pos = o.pos;
    count = o.count;
    waiting = o.waiting;
    StoredEvent* const* ev = o.events();
    const uint32_t* tags = o.tags();
    for (uint32_t i = 0; i < o.n_; ++i) push(ev[i], tags[i]);
}

void PartialMatch::steal(PartialMatch& o) noexcept {
    first_time = o.first_time;
    absence_deadline = o.absence_deadline;
    pos = o.pos;
    count = o.count;
    waiting = o.waiting;
    n_ = o.n_;
    cap_ = o.cap_;
    std::memcpy(tags_, o.tags_, sizeof(tags_));
    in_ = o.in_;
    o.n_ = 0;
    o.cap_ = 0;
}

EventPtr make_event(const ir::Event& e, uint64_t ord) {
    StoredEvent* se = new_stored_event(static_cast<uint32_t>(e.fields.size()), e.fields.data());
    se->ev.type = e.type;
    se->ev.time = e.time;
    se->ev.seq = e.seq;
    se->ev.line = e.line;
    se->ev.id = e.id;
    se->ord = ord;
    EventPtr p;
    p.p_ = se;
    return p;
}

ir::Event StoredEvent::to_event(uint32_t key) const {
    ir::Event e;
    e.type = ev.type;
    e.key = key;
    e.time = ev.time;
    e.seq = ev.seq;
    e.line = ev.line;
    e.id = ev.id;
    e.fields.assign(ev.fields.begin(), ev.fields.end());
    return e;
}

Engine::Engine(const ir::RuleSet& r, ir::StringPool& p, const ir::ExecutorOptions& o)
    : rs(r), pool(p), opts(o), eval(r, p), overflow_warned(r.rules.size(), false),
      session_keeps_events(r.sessions.size(), false), session_end_rules(r.sessions.size()),
      patterns(r.rules.size()), models(r, p) {
    eval.attach_models(&models);
    eval.set_scope_words(&agg_word);
    id_seed.reserve(rs.rules.size());
    for (const ir::Rule& rule : rs.rules) id_seed.push_back(detection_id_seed(rule.name));
    spare.resize(rs.rules.size());
    auto cover = [](uint32_t& first, uint32_t& count, uint32_t r) {
        if (count == 0) first = r;
        count = r - first + 1;
    };
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        if (rs.rules[i].kind == ir::RuleKind::Threshold)
            cover(threshold_first, threshold_count, i);
        else
            cover(pattern_first, pattern_count, i);
    }
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        const ir::Rule& rule = rs.rules[i];
        if (rule.kind == ir::RuleKind::Threshold) {
            threshold_rules.push_back(i);
            const ir::Threshold& th = rule.threshold;
            if (th.scope != ir::ScopeKind::Session || th.session >= rs.sessions.size()) continue;
            session_keeps_events[th.session] = true;
            if (th.at_session_end) session_end_rules[th.session].push_back(i);
            continue;
        }
        PatternInfo& info = patterns[i];
        const auto& steps = rule.pattern.steps;
        info.rule = i;
        info.timer_slot = pattern_slot(i);
        info.steps = steps.data();
        info.within_us = rule.pattern.within_us;
        info.keep_all = rule.keep_all;
        bool any_type_counts = false;
        for (uint32_t s = 0; s < steps.size(); ++s) {
            if (steps[s].kind == ir::StepKind::Positive) info.positives.push_back(s);
            if (steps[s].kind == ir::StepKind::Absence) info.absence = static_cast<int32_t>(s);
            any_type_counts = any_type_counts || steps[s].types.empty() || steps[s].strict;
        }
        if (!any_type_counts) {
            info.touches.assign(rs.events.size(), false);
            for (const ir::Step& st : steps)
                for (uint16_t t : st.types)
                    if (t < info.touches.size()) info.touches[t] = true;
        }
        if (!any_type_counts && !info.positives.empty() && steps[info.positives[0]].max == 1) {
            info.only_starts.assign(rs.events.size(), true);
            for (uint32_t s = 0; s < steps.size(); ++s)
                if (s != info.positives[0])
                    for (uint16_t t : steps[s].types)
                        if (t < info.only_starts.size()) info.only_starts[t] = false;
        }
    }
    threshold_rules_by_type.resize(rs.events.size() + 1);
    for (uint32_t r : threshold_rules) {
        const ir::Threshold& th = rs.rules[r].threshold;
        if (th.at_session_end) continue;
        for (size_t t = 0; t < threshold_rules_by_type.size(); ++t)
            if (type_in(th.on_types, static_cast<uint16_t>(t))) threshold_rules_by_type[t].push_back(r);
    }
    group_scopes(nullptr); // after threshold_rules_by_type: builds threshold_visits_by_type from it
    sessions_by_type.resize(rs.events.size() + 1);
    for (uint32_t s = 0; s < rs.sessions.size(); ++s) {
        const ir::Session& se = rs.sessions[s];
        for (size_t t = 0; t < sessions_by_type.size(); ++t) {
            SessionVisit v;
            v.session = s;
            for (const ir::SessionEnd& end : se.ends) {
                v.ends = v.ends || end.type == t;
                v.ends_always = v.ends_always || (end.type == t && end.pred == ir::kNoExpr);
            }
            v.joins = type_in(se.types, static_cast<uint16_t>(t));
            v.stores = session_keeps_events[s];
            if (v.ends || v.joins) sessions_by_type[t].push_back(v);
        }
    }
    pattern_rules_by_type.resize(rs.events.size() + 1);
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        if (rs.rules[i].kind != ir::RuleKind::Pattern) continue;
        const PatternInfo& info = patterns[i];
        const std::vector<bool>& touches = info.touches;
        for (size_t t = 0; t < pattern_rules_by_type.size(); ++t) {
            if (!touches.empty() && !(t < touches.size() && touches[t])) continue;
            PatternVisit v;
            v.info = &info;
            v.rule = i;
            v.slot = i - pattern_first;
            v.first_takes =
                !info.positives.empty() &&
                type_in(rs.rules[i].pattern.steps[info.positives[0]].types, static_cast<uint16_t>(t));
            v.only_starts = t < info.only_starts.size() && info.only_starts[t];
            pattern_rules_by_type[t].push_back(v);
        }
    }
}

void Engine::use_native(const NativeHooks* nh) {
    native = nh;
    for (uint32_t r = 0; r < patterns.size(); ++r)
        patterns[r].step_bit =
            nh && r < nh->step_bit.size() && !nh->step_bit[r].empty() ? nh->step_bit[r].data() : nullptr;
    for (std::vector<PatternVisit>& visits : pattern_rules_by_type)
        for (PatternVisit& v : visits) {
            const std::vector<uint32_t>& pos = patterns[v.rule].positives;
            v.first_bit = kNoBit;
            if (nh && !pos.empty() && v.rule < nh->step_bit.size() && pos[0] < nh->step_bit[v.rule].size())
                v.first_bit = nh->step_bit[v.rule][pos[0]];
        }
    for (std::vector<ThresholdVisit>& visits : threshold_visits_by_type)
        for (ThresholdVisit& v : visits) v.test = native_test(v.cond);
    // A holder's view_steps are copies of its family's steps: they need the functions too.
    for (ScopeGroup& sg : scope_groups)
        for (auto* steps : {&sg.keep_steps, &sg.view_steps})
            for (ScopeGroup::KeepStep& k : *steps) {
                k.filter_fn = native_test(k.filter);
                k.value_fn = k.count ? nullptr : native_expr(k.value);
            }
}

NativeTestFn Engine::native_test(ir::ExprId cond) const {
    return native && cond < native->tests.size() ? native->tests[cond] : nullptr;
}

NativeExprFn Engine::native_expr(ir::ExprId id) const {
    return native && id < native->exprs.size() ? native->exprs[id] : nullptr;
}

namespace {

/// Calls `fn` on every aggregate `id` evaluates, also those inside aggregates' values and filters.
template <class Fn>
void for_each_aggregate(const ir::RuleSet& rs, ir::ExprId id, Fn&& fn) {
    if (id == ir::kNoExpr || id >= rs.exprs.size()) return;
    const ir::Expr& e = rs.exprs[id];
    for (ir::ExprId arg : e.args) for_each_aggregate(rs, arg, fn);
    for_each_aggregate(rs, e.a, fn);
    for_each_aggregate(rs, e.b, fn);
    if (e.kind == ir::ExprKind::Aggregate && e.agg < rs.aggregates.size()) {
        fn(e.agg);
        for_each_aggregate(rs, rs.aggregates[e.agg].value, fn);
        for_each_aggregate(rs, rs.aggregates[e.agg].filter, fn);
    }
}

} // namespace

void Engine::group_scopes(const std::vector<int64_t>* origin) {
    scope_groups.clear();
    scope_group.assign(rs.rules.size(), kNoGroup);
    for (uint32_t r : threshold_rules) {
        const ir::Threshold& th = rs.rules[r].threshold;
        if (th.scope != ir::ScopeKind::Window && th.scope != ir::ScopeKind::LastN) continue;
        const int64_t window = th.scope == ir::ScopeKind::Window ? th.window_us : 0;
        const uint64_t n = th.scope == ir::ScopeKind::LastN ? th.last_n : 0;
        uint32_t g = 0;
        for (; g < scope_groups.size(); ++g) {
            const ScopeGroup& sg = scope_groups[g];
            if (sg.kind == th.scope && sg.window_us == window && sg.last_n == n &&
                (!origin || (*origin)[sg.leader] == (*origin)[r]))
                break;
        }
        if (g == scope_groups.size()) {
            ScopeGroup& sg = scope_groups.emplace_back();
            sg.leader = r;
            sg.kind = th.scope;
            sg.window_us = window;
            sg.last_n = n;
        }
        ++scope_groups[g].members;
        scope_group[r] = g;
    }
    // Nested windows: the Window groups of one origin share the widest one's ring. Groups of different
    // origins (a hot swap's carried and fresh rules, a restored state's groups) may hold different
    // events, so they never nest.
    ring_groups.clear();
    for (uint32_t g = 0; g < scope_groups.size(); ++g) {
        ScopeGroup& sg = scope_groups[g];
        sg.holder = g;
        if (sg.kind != ir::ScopeKind::Window) continue;
        for (uint32_t h = 0; h < scope_groups.size(); ++h) {
            const ScopeGroup& o = scope_groups[h];
            if (o.kind == ir::ScopeKind::Window && o.window_us > scope_groups[sg.holder].window_us &&
                (!origin || (*origin)[o.leader] == (*origin)[sg.leader]))
                sg.holder = h;
        }
    }
    for (uint32_t g = 0; g < scope_groups.size(); ++g) {
        ScopeGroup& sg = scope_groups[g];
        if (sg.holder != g) {
            sg.role = ScopeGroup::Role::View;
            scope_groups[sg.holder].views.push_back(g);
            scope_groups[sg.holder].role = ScopeGroup::Role::Holder;
        }
    }
    for (const ScopeGroup& sg : scope_groups)
        if (sg.role != ScopeGroup::Role::View) ring_groups.push_back(&sg);

    // Counted aggregates: counts over the scope whose elements are known when they enter it, evaluated by
    // the rules of one group only (a word index is per group).
    constexpr uint32_t kUnseen = UINT32_MAX - 1, kShared = UINT32_MAX - 2;
    std::vector<uint32_t> owner(rs.aggregates.size(), kUnseen);
    auto own = [&](ir::ExprId id, uint32_t g) {
        for_each_aggregate(
            rs, id, [&](uint32_t a) { owner[a] = owner[a] == kUnseen || owner[a] == g ? g : kShared; });
    };
    for (uint32_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        const uint32_t g = scope_group[r]; // kNoGroup: not over a shared scope
        own(rule.confidence, g);
        own(rule.fallback, g);
        for (const ir::Emit& em : rule.emits) own(em.expr, g);
        if (rule.kind == ir::RuleKind::Threshold) own(rule.threshold.cond, g);
        for (const ir::Step& st : rule.pattern.steps) own(st.pred, kNoGroup);
    }
    for (const ir::Session& se : rs.sessions)
        for (const ir::SessionEnd& end : se.ends) own(end.pred, kNoGroup);
    agg_word.assign(rs.aggregates.size(), ExprEvaluator::kNoWord);
    for (uint32_t a = 0; a < rs.aggregates.size(); ++a) {
        const ir::Aggregate& agg = rs.aggregates[a];
        const uint32_t g = owner[a];
        const bool count = agg.kind == ir::AggKind::Count;
        // A float sum, or an avg (its exact sum and the number of values: exact_sum.h kept_sum).
        const bool sum =
            (agg.kind == ir::AggKind::Sum && agg.type == ir::Type::Float) || agg.kind == ir::AggKind::Avg;
        if (sum && (agg.value == ir::kNoExpr || !element_only(rs, agg.value))) continue;
        if (g >= scope_groups.size() || !(count || sum) || agg.source != ir::AggSource::Scope ||
            !element_only(rs, agg.filter))
            continue;
        // One entry for the aggregates of one group that are alike.
        ScopeGroup& sg = scope_groups[g];
        size_t k = 0;
        for (; k < sg.kept.size(); ++k) {
            const ir::Aggregate& o = rs.aggregates[sg.kept[k].agg];
            if (o.kind == agg.kind && o.types == agg.types && o.filter == agg.filter &&
                o.value == agg.value && o.type == agg.type)
                break;
        }
        if (k == sg.kept.size()) {
            // Words in the holder's ring: a family's groups share its allocation.
            ScopeGroup& holder = scope_groups[sg.holder];
            sg.kept.push_back(ScopeGroup::Kept{a, holder.words});
            holder.words += count ? 1 : agg.kind == ir::AggKind::Avg ? kept_sum::kAvgWords : kept_sum::kWords;
        }
        agg_word[a] = sg.kept[k].word;
    }
    for (ScopeGroup& h : scope_groups)
        for (uint32_t v : h.views) scope_groups[v].size_word = h.words++;
    threshold_visits_by_type.assign(threshold_rules_by_type.size(), {});
    for (size_t t = 0; t < threshold_rules_by_type.size(); ++t) {
        for (uint32_t r : threshold_rules_by_type[t]) {
            const ir::Rule& rule = rs.rules[r];
            ThresholdVisit v;
            v.rule = r;
            v.slot = r - threshold_first;
            if (scope_group[r] != kNoGroup) {
                const ScopeGroup& sg = scope_groups[scope_group[r]];
                v.ring = scope_groups[sg.holder].leader - threshold_first;
                if (sg.holder != scope_group[r]) v.view = sg.size_word;
            }
            v.cond = rule.threshold.cond;
            v.test = native_test(v.cond);
            v.gated = !rule.gate.empty();
            // A session rule whose session is outside the rule set is never evaluated (as before visits).
            if (rule.threshold.scope == ir::ScopeKind::Session) {
                if (rule.threshold.session >= rs.sessions.size()) continue;
                v.session = rule.threshold.session;
            }
            threshold_visits_by_type[t].push_back(v);
        }
    }
    for (ScopeGroup& sg : scope_groups) {
        sg.slot = sg.leader - threshold_first;
        sg.keep_steps.clear();
        sg.keep_from.assign(1, 0);
        sg.keep_types = 0;
        sg.keep_plain = 0;
        for (size_t t = 0; t <= rs.events.size(); ++t) {
            bool plain = t < 63;
            for (const ScopeGroup::Kept& k : sg.kept) {
                const ir::Aggregate& agg = rs.aggregates[k.agg];
                if (!agg.types.empty() && std::find(agg.types.begin(), agg.types.end(), t) == agg.types.end())
                    continue;
                const bool count = agg.kind == ir::AggKind::Count;
                const ir::ExprId value = count ? ir::kNoExpr : agg.value;
                const bool avg = agg.kind == ir::AggKind::Avg;
                const bool avg_time =
                    avg && (agg.type == ir::Type::Duration || agg.type == ir::Type::Timestamp);
                sg.keep_steps.push_back({k.word, agg.filter, value, count, avg, avg_time,
                                         native_test(agg.filter), native_expr(value)});
                plain = plain && count && agg.filter == ir::kNoExpr;
            }
            if (sg.keep_steps.size() != sg.keep_from.back()) {
                sg.keep_types |= uint64_t{1} << std::min<size_t>(t, 63);
                if (plain) sg.keep_plain |= uint64_t{1} << t;
            }
            sg.keep_from.push_back(static_cast<uint32_t>(sg.keep_steps.size()));
        }
    }
    // A holder's steps and its views' by type, in one list: an event enters the whole family at once.
    for (ScopeGroup& h : scope_groups) {
        h.view_steps.clear();
        h.view_from.assign(1, 0);
        h.view_types = 0;
        if (h.role != ScopeGroup::Role::Holder) continue;
        for (size_t t = 0; t <= rs.events.size(); ++t) {
            h.view_steps.insert(h.view_steps.end(), h.keep_steps.begin() + h.keep_from[t],
                                h.keep_steps.begin() + h.keep_from[t + 1]);
            for (uint32_t v : h.views) {
                const ScopeGroup& g = scope_groups[v];
                h.view_steps.insert(h.view_steps.end(), g.keep_steps.begin() + g.keep_from[t],
                                    g.keep_steps.begin() + g.keep_from[t + 1]);
            }
            if (h.view_steps.size() != h.view_from.back())
                h.view_types |= uint64_t{1} << std::min<size_t>(t, 63);
            h.view_from.push_back(static_cast<uint32_t>(h.view_steps.size()));
        }
    }
}

} // namespace ethogram::interp
