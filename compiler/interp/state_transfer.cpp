// state_transfer.cpp: hot swap: carries the per-key state of unchanged rules from one interpreter into a
// fresh one running the next version of the rule set (docs/governance.md, "What a swap carries over").
#include "compiler/interp/interpreter_impl.h"
#include "compiler/interp/threshold.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace ethogram::interp {

namespace {

// Structural equality of the parts of two rule sets that decide a rule's state. Both rule sets are bound
// to one StringPool (runtime::bind_strings), so string constants compare by id; the event schemas are
// required equal as a whole, so event type indices and field slots compare directly.
class Same {
public:
    Same(const ir::RuleSet& a, const ir::RuleSet& b) : a_(a), b_(b) {}

    static bool value(const ir::Value& x, const ir::Value& y) {
        if (x.type != y.type) return false;
        switch (x.type) {
        case ir::Type::Missing: return true;
        case ir::Type::Bool: return x.b == y.b;
        case ir::Type::Float: return std::memcmp(&x.f, &y.f, sizeof x.f) == 0;
        default: return x.i == y.i;
        }
    }

    bool schemas() const {
        if (a_.events.size() != b_.events.size()) return false;
        for (size_t t = 0; t < a_.events.size(); ++t) {
            const ir::EventType &x = a_.events[t], &y = b_.events[t];
            if (x.name != y.name || x.key_field != y.key_field || x.time_field != y.time_field ||
                x.id_field != y.id_field || x.fields.size() != y.fields.size())
                return false;
            for (size_t f = 0; f < x.fields.size(); ++f) {
                const ir::FieldDef &p = x.fields[f], &q = y.fields[f];
                if (p.name != q.name || p.type != q.type || p.optional != q.optional ||
                    p.enum_values != q.enum_values)
                    return false;
            }
        }
        return true;
    }

    bool expr(ir::ExprId x, ir::ExprId y) const {
        if (x == ir::kNoExpr || y == ir::kNoExpr) return x == y;
        if (x >= a_.exprs.size() || y >= b_.exprs.size()) return false;
        const ir::Expr &p = a_.exprs[x], &q = b_.exprs[y];
        if (p.kind != q.kind || p.type != q.type || p.op != q.op || p.ref != q.ref || p.field != q.field ||
            p.field_by_type != q.field_by_type || p.step != q.step || p.attr != q.attr || p.fn != q.fn ||
            !value(p.constant, q.constant) || p.mfn != q.mfn || p.model_arg != q.model_arg ||
            p.args.size() != q.args.size() || p.list.size() != q.list.size())
            return false;
        for (size_t i = 0; i < p.list.size(); ++i)
            if (!value(p.list[i], q.list[i])) return false;
        for (size_t i = 0; i < p.args.size(); ++i)
            if (!expr(p.args[i], q.args[i])) return false;
        if (p.kind == ir::ExprKind::Aggregate && !aggregate(p.agg, q.agg)) return false;
        if (p.kind == ir::ExprKind::Model && !model(p.model, q.model)) return false;
        return expr(p.a, q.a) && expr(p.b, q.b);
    }

    bool aggregate(uint32_t x, uint32_t y) const {
        if (x >= a_.aggregates.size() || y >= b_.aggregates.size()) return false;
        const ir::Aggregate &p = a_.aggregates[x], &q = b_.aggregates[y];
        return p.kind == q.kind && p.source == q.source && p.step == q.step && p.types == q.types &&
               p.type == q.type && expr(p.value, q.value) && expr(p.filter, q.filter);
    }

    bool session(uint32_t x, uint32_t y) const {
        if (x >= a_.sessions.size() || y >= b_.sessions.size()) return false;
        const ir::Session &p = a_.sessions[x], &q = b_.sessions[y];
        if (p.name != q.name || p.gap_us != q.gap_us || p.max_us != q.max_us || p.types != q.types ||
            p.ends.size() != q.ends.size())
            return false;
        for (size_t i = 0; i < p.ends.size(); ++i)
            if (p.ends[i].type != q.ends[i].type || !expr(p.ends[i].pred, q.ends[i].pred)) return false;
        return true;
    }

    // Models by content: the file's hash, what they observe, their session (by definition).
    bool model(uint32_t x, uint32_t y) const {
        if (x >= a_.models.size() || y >= b_.models.size()) return false;
        const ir::Model &p = a_.models[x], &q = b_.models[y];
        if (p.name != q.name || p.kind != q.kind || p.hash != q.hash || p.min_evidence != q.min_evidence ||
            p.labels != q.labels || p.observe.size() != q.observe.size() ||
            (p.session < 0) != (q.session < 0))
            return false;
        for (size_t i = 0; i < p.observe.size(); ++i)
            if (p.observe[i].type != q.observe[i].type || p.observe[i].field != q.observe[i].field)
                return false;
        return p.session < 0 || session(static_cast<uint32_t>(p.session), static_cast<uint32_t>(q.session));
    }

    bool models(const std::vector<uint32_t>& x, const std::vector<uint32_t>& y) const {
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!model(x[i], y[i])) return false;
        return true;
    }

    // Same name, same source hash, and the same compiled meaning (what the names inside resolve to).
    bool rule(uint32_t x, uint32_t y) const {
        const ir::Rule &p = a_.rules[x], &q = b_.rules[y];
        if (p.name != q.name || p.hash != q.hash || p.kind != q.kind || p.keep_all != q.keep_all ||
            !expr(p.confidence, q.confidence) || !expr(p.fallback, q.fallback) || !models(p.gate, q.gate) ||
            !models(p.models, q.models) || p.emits.size() != q.emits.size())
            return false;
        for (size_t i = 0; i < p.emits.size(); ++i)
            if (p.emits[i].name != q.emits[i].name || !expr(p.emits[i].expr, q.emits[i].expr)) return false;
        if (p.kind == ir::RuleKind::Threshold) {
            const ir::Threshold &s = p.threshold, &t = q.threshold;
            if (s.scope != t.scope || s.window_us != t.window_us || s.last_n != t.last_n ||
                s.on_types != t.on_types || s.at_session_end != t.at_session_end || !expr(s.cond, t.cond))
                return false;
            return s.scope != ir::ScopeKind::Session || session(s.session, t.session);
        }
        const ir::Pattern &s = p.pattern, &t = q.pattern;
        if (s.within_us != t.within_us || s.steps.size() != t.steps.size()) return false;
        for (size_t i = 0; i < s.steps.size(); ++i) {
            const ir::Step &u = s.steps[i], &v = t.steps[i];
            if (u.kind != v.kind || u.alias != v.alias || u.types != v.types || !expr(u.pred, v.pred) ||
                u.min != v.min || u.max != v.max || u.strict != v.strict || u.within_us != v.within_us)
                return false;
        }
        return true;
    }

private:
    const ir::RuleSet& a_;
    const ir::RuleSet& b_;
};

int32_t find_by_name(const auto& items, const std::string& name) {
    for (size_t i = 0; i < items.size(); ++i)
        if (items[i].name == name) return static_cast<int32_t>(i);
    return -1;
}

} // namespace

bool Interpreter::take_state(ir::Executor& from, ir::StateTransfer& out) {
    auto* src = dynamic_cast<Interpreter*>(from.state_holder());
    if (src == nullptr || src == this) {
        out.error = "the running executor is not an interpreter-based one";
        return false;
    }
    if (&src->en_.pool != &en_.pool) {
        out.error = "the two executors do not share one string pool";
        return false;
    }
    if (!keys_.empty() || en_.stats.events > 0) {
        out.error = "the new executor has already processed events";
        return false;
    }
    const ir::RuleSet& A = src->en_.rs;
    const ir::RuleSet& B = en_.rs;
    Same same(A, B);
    const bool schemas = same.schemas();

    // What is carried, old index -> new index (-1: fresh). Nothing is carried across a schema change.
    std::vector<int32_t> sessions(A.sessions.size(), -1), models(A.models.size(), -1),
        rules(A.rules.size(), -1);
    for (uint32_t s = 0; schemas && s < A.sessions.size(); ++s) {
        int32_t n = find_by_name(B.sessions, A.sessions[s].name);
        // A session whose events the new version keeps but the old one did not would miss them: fresh.
        if (n >= 0 && same.session(s, static_cast<uint32_t>(n)) &&
            (src->en_.session_keeps_events[s] || !en_.session_keeps_events[static_cast<size_t>(n)]))
            sessions[s] = n;
    }
    for (uint32_t m = 0; schemas && m < A.models.size(); ++m) {
        int32_t n = find_by_name(B.models, A.models[m].name);
        if (n >= 0 && same.model(m, static_cast<uint32_t>(n)) &&
            (A.models[m].session < 0 || sessions[static_cast<size_t>(A.models[m].session)] >= 0))
            models[m] = n;
    }
    std::vector<bool> new_carried(B.rules.size(), false);
    for (uint32_t r = 0; schemas && r < A.rules.size(); ++r) {
        int32_t n = find_by_name(B.rules, A.rules[r].name);
        if (n < 0 || !same.rule(r, static_cast<uint32_t>(n))) continue;
        const ir::Rule& rule = A.rules[r];
        if (rule.kind == ir::RuleKind::Threshold && rule.threshold.scope == ir::ScopeKind::Session &&
            sessions[rule.threshold.session] < 0)
            continue;
        bool models_ok = true;
        for (uint32_t m : rule.models) models_ok = models_ok && models[m] >= 0;
        if (!models_ok) continue;
        rules[r] = n;
        new_carried[static_cast<size_t>(n)] = true;
        out.carried_rules.push_back(rule.name);
    }
    for (uint32_t n = 0; n < B.rules.size(); ++n)
        if (!new_carried[n]) out.fresh_rules.push_back(B.rules[n].name);
    for (int32_t s : sessions) out.carried_sessions += s >= 0;
    for (int32_t m : models) out.carried_models += m >= 0;

    // Shared scope rings: a carried rule shares only with the rules carried from its old group (whose ring
    // it had), a fresh rule only with fresh ones (an empty ring), as when every rule had its own ring.
    std::vector<int64_t> origin(B.rules.size(), -1);
    for (size_t r = 0; r < rules.size(); ++r)
        if (rules[r] >= 0 && src->en_.scope_group[r] != Engine::kNoGroup)
            origin[static_cast<size_t>(rules[r])] = src->en_.scope_group[r];
    en_.group_scopes(&origin);

    // Move the per-key state. A key left with nothing carried is dropped: a fresh key behaves the same.
    src->keys_.for_each([&](KeyState& old) {
        const uint32_t key = old.key;
        // Nested windows keep one ring per family: give each old group its own events to move.
        src->en_.unnest(old);
        KeyState& ks = key_state(key);
        bool any = false;
        for (size_t s = 0; s < sessions.size(); ++s) {
            if (sessions[s] < 0) continue;
            SessionState& st = ks.sessions[static_cast<size_t>(sessions[s])];
            st = std::move(old.sessions[s]);
            st.events.drop_folds(); // they name the old rule set's aggregates
            if (!en_.session_keeps_events[static_cast<size_t>(sessions[s])]) st.events.clear();
            any = any || st.open() || st.count > 0;
        }
        for (size_t r = 0; r < rules.size(); ++r) {
            if (rules[r] < 0) continue;
            const auto n = static_cast<size_t>(rules[r]);
            if (A.rules[r].kind == ir::RuleKind::Threshold) {
                ThresholdState &to = ks.thresholds[n], &from = old.thresholds[r];
                to.evaluated = from.evaluated;
                to.previous = from.previous;
                to.session_gen = from.session_gen;
                any = any || to.evaluated;
                // The new group's leader takes the ring of the old group (all its members came from there).
                if (en_.holds_ring(static_cast<uint32_t>(n))) {
                    to.scope = std::move(src->en_.scope_ring(old, static_cast<uint32_t>(r)));
                    recount_scope(en_, en_.scope_group[n], to.scope);
                    any = any || !to.scope.empty();
                }
            } else {
                ks.patterns[n] = std::move(old.patterns[r]);
                out.partial_matches += ks.patterns[n].matches.size();
                any = any || !ks.patterns[n].matches.empty() || ks.patterns[n].timer_scheduled;
            }
        }
        for (size_t m = 0; m < models.size(); ++m) {
            if (models[m] < 0) continue;
            ks.models[static_cast<size_t>(models[m])] = std::move(old.models[m]);
            any = any || ks.models[static_cast<size_t>(models[m])].count > 0;
        }
        if (!any) {
            keys_.erase(key);
            return;
        }
        // Same schemas: the key's latest event is valid as it is (its dwell is set by the next event).
        ks.last = old.last;
        ++out.keys;
    });
    // Pending timers of carried owners keep their deadlines (their owners, carried, wait for them).
    TimerQueue timers = std::move(src->en_.timers);
    const auto old_sessions = static_cast<uint32_t>(A.sessions.size());
    while (!timers.empty()) {
        Timer t = timers.top();
        timers.pop();
        if (!keys_.contains(t.key)) continue;
        int32_t slot = -1;
        if (t.slot < old_sessions)
            slot = sessions[t.slot];
        else if (rules[t.slot - old_sessions] >= 0)
            slot =
                static_cast<int32_t>(en_.pattern_slot(static_cast<uint32_t>(rules[t.slot - old_sessions])));
        if (slot < 0) continue;
        t.slot = static_cast<uint32_t>(slot);
        en_.timers.push(t);
        ++out.timers;
    }
    next_ord_ = src->next_ord_;
    // Cumulative counters continue; the live ones are those of what was carried.
    const ir::ExecutorStats& os = src->en_.stats;
    en_.stats.events = os.events;
    en_.stats.detections = os.detections;
    en_.stats.suppressed = os.suppressed;
    en_.stats.overflow_drops = os.overflow_drops;
    en_.stats.evictions = os.evictions;
    en_.stats.budget_drops = os.budget_drops;
    en_.stats.peak_state_bytes = os.peak_state_bytes;
    en_.stats.partial_matches = out.partial_matches;
    keys_.for_each([&](KeyState& ks) {
        queue_activity(ks);
        if (en_.opts.max_state_bytes > 0) account(ks);
    });
    src->keys_.clear();
    src->activity_ = {};
    src->total_bytes_ = 0;
    return true;
}

} // namespace ethogram::interp
