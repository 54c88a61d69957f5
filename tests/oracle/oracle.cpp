// oracle.cpp: the oracle's driver: time and timers (§1), sessions (§2), thresholds (§3), patterns (§4).
#include "tests/oracle/oracle.h"

#include "tests/oracle/oracle_eval.h"
#include "tests/oracle/oracle_pattern.h"

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

namespace ethogram::oracle {
namespace {

struct SessionState {
    bool open = false;
    int64_t start = 0;
    int64_t last = 0;
    std::vector<const ir::Event*> events;
};

struct KeyState {
    std::vector<const ir::Event*> history;              ///< every event of the key so far
    std::vector<SessionState> sessions;                 ///< per RuleSet::sessions
    std::vector<int> edge;                              ///< per rule: -1 never evaluated, 0 false, 1 true
    std::vector<std::optional<PatternOracle>> patterns; ///< per rule
};

bool contains(const std::vector<uint16_t>& v, uint16_t t) {
    return v.empty() || std::find(v.begin(), v.end(), t) != v.end();
}

class Oracle {
public:
    Oracle(const ir::RuleSet& rs, uint32_t cap) : rs_(rs), cap_(cap) {}

    std::vector<Tuple> run(const std::vector<ir::Event>& events) {
        for (const ir::Event& e : events) {
            fire_timers_before(e.time);
            on_event(e);
        }
        fire_timers_before(ir::kTimeInfinity);
        return std::move(out_);
    }

private:
    KeyState& key_state(uint32_t key) {
        auto it = keys_.find(key);
        if (it != keys_.end()) return it->second;
        KeyState& k = keys_[key];
        k.sessions.resize(rs_.sessions.size());
        k.edge.assign(rs_.rules.size(), -1);
        k.patterns.resize(rs_.rules.size());
        for (uint32_t r = 0; r < rs_.rules.size(); ++r)
            if (rs_.rules[r].kind == ir::RuleKind::Pattern) k.patterns[r].emplace(rs_, r, key, cap_);
        return k;
    }

    // "The open session's deadline is min(last + gap, start + max)."
    int64_t session_deadline(uint32_t s, const SessionState& st) const {
        const ir::Session& def = rs_.sessions[s];
        int64_t d = st.last + def.gap_us;
        if (def.max_us >= 0) d = std::min(d, st.start + def.max_us);
        return d;
    }

    /// Earliest pending timer of one key.
    std::optional<int64_t> next_deadline(const KeyState& k) const {
        std::optional<int64_t> best;
        auto consider = [&](int64_t d) {
            if (!best || d < *best) best = d;
        };
        for (uint32_t s = 0; s < k.sessions.size(); ++s)
            if (k.sessions[s].open) consider(session_deadline(s, k.sessions[s]));
        for (const auto& p : k.patterns)
            if (p)
                if (auto d = p->next_deadline()) consider(*d);
        return best;
    }

    // "Before an event with time t is processed, every timer with deadline < t fires (all keys, in
    // deadline order, ties by key then rule)."
    void fire_timers_before(int64_t t) {
        for (;;) {
            std::optional<int64_t> best;
            uint32_t best_key = 0;
            for (auto& [key, k] : keys_) {
                auto d = next_deadline(k);
                if (d && *d < t && (!best || *d < *best)) {
                    best = d;
                    best_key = key;
                }
            }
            if (!best) return;
            fire(best_key, keys_[best_key], *best);
        }
    }

    void fire(uint32_t key, KeyState& k, int64_t d) {
        size_t batch = out_.size();
        for (uint32_t r = 0; r < rs_.rules.size(); ++r) {
            const ir::Rule& rule = rs_.rules[r];
            if (rule.kind == ir::RuleKind::Pattern) {
                if (auto nd = k.patterns[r]->next_deadline(); nd && *nd == d) k.patterns[r]->fire(d, out_);
            } else if (rule.threshold.at_session_end) {
                uint32_t s = rule.threshold.session;
                if (k.sessions[s].open && session_deadline(s, k.sessions[s]) == d)
                    session_end_rule(key, r, k.sessions[s], d);
            }
        }
        for (uint32_t s = 0; s < k.sessions.size(); ++s)
            if (k.sessions[s].open && session_deadline(s, k.sessions[s]) == d) k.sessions[s] = SessionState{};
        resolve_groups(batch);
    }

    // §5 "Detections of rules in one exclusive group for the same key, produced while processing one event
    // (or one timer deadline), are resolved: the highest priority is emitted, ties by declaration order;
    // the others go to the suppressed output with suppressed_by naming the winner." A batch is one key's.
    void resolve_groups(size_t batch) {
        for (size_t g = 0; g < rs_.groups.size(); ++g) {
            Tuple* winner = nullptr;
            for (size_t i = batch; i < out_.size(); ++i) {
                const ir::Rule& r = rs_.rules[out_[i].rule];
                if (r.group != static_cast<int32_t>(g)) continue;
                if (!winner) {
                    winner = &out_[i];
                    continue;
                }
                const ir::Rule& w = rs_.rules[winner->rule];
                if (r.priority > w.priority || (r.priority == w.priority && out_[i].rule < winner->rule))
                    winner = &out_[i];
            }
            for (size_t i = batch; i < out_.size(); ++i)
                if (winner && &out_[i] != winner && rs_.rules[out_[i].rule].group == static_cast<int32_t>(g))
                    out_[i].suppressed_by = static_cast<int32_t>(winner->rule);
        }
    }

    // "When a session closes, at session end rules are evaluated once; the detection time is the
    // deadline (timer close) or the ending event's time (action close)."
    void session_end_rule(uint32_t key, uint32_t r, const SessionState& st, int64_t time) {
        EvalCtx ctx = session_ctx(st);
        if (!holds(ctx, rs_.rules[r].threshold.cond)) return;
        Tuple t;
        t.rule = r;
        t.key = key;
        t.time = time;
        t.trigger = "session_end";
        t.bindings.push_back({"scope", seqs(st.events)});
        t.bindings.push_back({"trigger", {st.events.back()->seq}}); // "the session's last event"
        t.fields = emits(rs_, r, ctx);
        out_.push_back(std::move(t));
    }

    EvalCtx session_ctx(const SessionState& st) const {
        EvalCtx ctx;
        ctx.rs = &rs_;
        ctx.scope = &st.events;
        ctx.session_start = st.start;
        ctx.session_last = st.last;
        ctx.session_events = static_cast<int64_t>(st.events.size());
        return ctx;
    }

    static std::vector<uint64_t> seqs(const std::vector<const ir::Event*>& evs) {
        std::vector<uint64_t> v;
        for (const ir::Event* e : evs) v.push_back(e->seq);
        return v;
    }

    void on_event(const ir::Event& e) {
        size_t batch = out_.size();
        KeyState& k = key_state(e.key);
        k.history.push_back(&e);
        // §2: "An event starts a new session when the key has none open." (Every open session has a
        // deadline >= e.time here: earlier deadlines have fired.)
        for (uint32_t s = 0; s < rs_.sessions.size(); ++s) {
            if (!contains(rs_.sessions[s].types, e.type)) continue;
            SessionState& st = k.sessions[s];
            if (!st.open) {
                st = SessionState{};
                st.open = true;
                st.start = e.time;
                // "for over session rules the memory resets with each new session"
                for (uint32_t r = 0; r < rs_.rules.size(); ++r)
                    if (rs_.rules[r].kind == ir::RuleKind::Threshold &&
                        rs_.rules[r].threshold.scope == ir::ScopeKind::Session &&
                        rs_.rules[r].threshold.session == s)
                        k.edge[r] = -1;
            }
            st.last = e.time;
            st.events.push_back(&e);
        }
        for (uint32_t r = 0; r < rs_.rules.size(); ++r) {
            const ir::Rule& rule = rs_.rules[r];
            if (rule.kind == ir::RuleKind::Pattern)
                k.patterns[r]->on_event(e, out_);
            else if (!rule.threshold.at_session_end)
                threshold_rule(e, k, r);
        }
        // "An end on event joins the session and closes it immediately after it is processed."
        for (uint32_t s = 0; s < rs_.sessions.size(); ++s) {
            SessionState& st = k.sessions[s];
            if (!st.open || st.events.empty() || st.events.back() != &e) continue;
            bool ends = false;
            for (const ir::SessionEnd& end : rs_.sessions[s].ends) {
                EvalCtx ctx;
                ctx.rs = &rs_;
                ends = ends || satisfies(ctx, {end.type}, end.pred, e);
            }
            if (!ends) continue;
            for (uint32_t r = 0; r < rs_.rules.size(); ++r)
                if (rs_.rules[r].kind == ir::RuleKind::Threshold && rs_.rules[r].threshold.at_session_end &&
                    rs_.rules[r].threshold.session == s)
                    session_end_rule(e.key, r, st, e.time);
            st = SessionState{};
        }
        resolve_groups(batch);
    }

    // §3: "A threshold rule is evaluated on each event of its on types (after the event has been added
    // to the scope)". Scope `last D`: time in [t - D, t]; `last N events`: the N most recent.
    void threshold_rule(const ir::Event& e, KeyState& k, uint32_t r) {
        const ir::Threshold& th = rs_.rules[r].threshold;
        if (!contains(th.on_types, e.type)) return;
        std::vector<const ir::Event*> scope;
        EvalCtx ctx;
        ctx.rs = &rs_;
        ctx.current = &e;
        switch (th.scope) {
        case ir::ScopeKind::Window:
            for (const ir::Event* h : k.history)
                if (h->time >= e.time - th.window_us && h->time <= e.time) scope.push_back(h);
            ctx.scope = &scope;
            break;
        case ir::ScopeKind::LastN: {
            size_t n = std::min<size_t>(th.last_n, k.history.size());
            scope.assign(k.history.end() - static_cast<std::ptrdiff_t>(n), k.history.end());
            ctx.scope = &scope;
            break;
        }
        case ir::ScopeKind::Session: {
            const SessionState& st = k.sessions[th.session];
            if (!st.open) return; // never generated: on types are session members
            ctx = session_ctx(st);
            ctx.current = &e;
            scope = st.events;
            break;
        }
        }
        ctx.scope = &scope;
        bool now = holds(ctx, th.cond);
        // "Edge-triggered: fires when its condition is true and was false (or never evaluated) at the
        // previous evaluation for this key"
        bool fire = now && k.edge[r] != 1;
        k.edge[r] = now ? 1 : 0;
        if (!fire) return;
        Tuple t;
        t.rule = r;
        t.key = e.key;
        t.time = e.time;
        t.trigger = "event";
        t.bindings.push_back({"scope", seqs(scope)});
        t.bindings.push_back({"trigger", {e.seq}});
        t.fields = emits(rs_, r, ctx);
        out_.push_back(std::move(t));
    }

    const ir::RuleSet& rs_;
    uint32_t cap_;
    std::map<uint32_t, KeyState> keys_; // ordered: timer ties by key id
    std::vector<Tuple> out_;
};

} // namespace

std::vector<Tuple> expected_detections(const ir::RuleSet& rs, const std::vector<ir::Event>& events,
                                       uint32_t max_partial_matches) {
    return Oracle(rs, max_partial_matches).run(events);
}

Tuple to_tuple(const ir::Detection& d, const ir::RuleSet& rs) {
    Tuple t;
    t.rule = d.rule;
    t.key = d.key;
    t.time = d.time;
    t.trigger = d.trigger;
    t.suppressed_by = d.suppressed_by;
    if (d.rule < rs.rules.size() && rs.rules[d.rule].kind == ir::RuleKind::Pattern) {
        t.first_time = d.first_time;
        t.last_time = d.last_time;
    }
    std::map<std::string, std::vector<uint64_t>> by_alias;
    for (const ir::Binding& b : d.bindings) {
        if (b.events.empty()) continue;
        auto& v = by_alias[b.alias];
        for (const ir::BoundEvent& e : b.events) v.push_back(e.seq);
    }
    t.bindings.assign(by_alias.begin(), by_alias.end());
    for (const ir::Value& v : d.fields) t.fields.push_back(render_value(v));
    return t;
}

std::string render_value(const ir::Value& v) {
    std::ostringstream os;
    os << ir::type_name(v.type);
    switch (v.type) {
    case ir::Type::Missing: break;
    case ir::Type::Bool: os << ":" << (v.b ? "true" : "false"); break;
    case ir::Type::Float: os << ":" << v.f; break;
    default: os << ":" << v.i; break;
    }
    return os.str();
}

std::string format_tuple(const ir::RuleSet& rs, const ir::StringPool& pool, const Tuple& t, int64_t t0) {
    std::ostringstream os;
    os << (t.rule < rs.rules.size() ? rs.rules[t.rule].name : "?")
       << " key=" << (t.key < pool.size() ? std::string(pool.view(t.key)) : "?") << " t=+"
       << (t.time - t0) / 1000 << "ms " << t.trigger;
    for (const auto& [alias, seqs] : t.bindings) {
        os << " " << alias << "=[";
        for (size_t i = 0; i < seqs.size(); ++i) os << (i ? "," : "") << seqs[i];
        os << "]";
    }
    if (t.first_time != 0 || t.last_time != 0)
        os << " span=+" << (t.first_time - t0) / 1000 << "..+" << (t.last_time - t0) / 1000 << "ms";
    if (t.suppressed_by >= 0)
        os << " SUPPRESSED by "
           << (static_cast<size_t>(t.suppressed_by) < rs.rules.size() ? rs.rules[t.suppressed_by].name : "?");
    if (!t.fields.empty()) {
        os << " emit";
        for (const std::string& f : t.fields) os << " " << f;
    }
    return os.str();
}

} // namespace ethogram::oracle
