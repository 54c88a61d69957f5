// snapshot.cpp: the interpreter's state as bytes and back (checkpoints, docs/architecture.md). Events are
// shared between a key's buffers (scopes, sessions, partial matches, `last`): they are written once in an
// event table and referred to by index, so that the sharing, and with it the dwell updates, survive.
#include "compiler/interp/interpreter_impl.h"
#include "compiler/interp/threshold.h"
#include "compiler/ir/snapshot_bytes.h"

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>

namespace ethogram::interp {

namespace {

/// Version of the layout below; bump it on any change (an old snapshot is then refused, never misread).
/// 2: compact per-key state (sessions without open/last/deadline, which follow from the rest).
/// 4: Window / LastN scope rings shared per scope group (a ring only for each group's leader rule), and
/// flat partial matches (each bound event with its step index; the first and last times and orders
/// follow from the events).
constexpr uint32_t kStateVersion = 4;
constexpr uint64_t kNoEvent = UINT64_MAX;

// Assigns each shared event an index on first sight and writes the table at the end.
class EventTable {
public:
    /// `key`: the key whose state refers to `e` (a stored event does not keep its key).
    uint64_t ref(const EventPtr& e, uint32_t key) { return ref_raw(e.get(), key); }
    uint64_t ref_raw(const StoredEvent* e, uint32_t key) {
        if (!e) return kNoEvent;
        auto [it, fresh] = index_.try_emplace(e, order_.size());
        if (fresh) order_.emplace_back(e, key);
        return it->second;
    }
    void write(ir::SnapWriter& w) const {
        w.u64(order_.size());
        for (const auto& [se, key] : order_) {
            w.event(se->to_event(key));
            w.value(se->dwell());
            w.u64(se->ord);
        }
    }

private:
    std::unordered_map<const StoredEvent*, uint64_t> index_;
    std::vector<std::pair<const StoredEvent*, uint32_t>> order_;
};

void write_ring(ir::SnapWriter& w, EventTable& t, const EventBuffer& b, uint32_t key, size_t from = 0) {
    w.u64(b.size() - from);
    for (size_t i = from; i < b.size(); ++i) w.u64(t.ref(b[i], key));
}

void write_model(ir::SnapWriter& w, const ModelKeyState& m) {
    w.u8(static_cast<uint8_t>(m.st.index()));
    auto markov = [&](const models::MarkovState& s) {
        auto ctx = s.context();
        w.u64(ctx.size());
        for (uint32_t c : ctx) w.u32(c);
        w.u64(s.count());
        w.f64(s.sum_log_prob());
    };
    if (const auto* s = std::get_if<models::MarkovState>(&m.st)) {
        markov(*s);
    } else if (const auto* h = std::get_if<models::HmmState>(&m.st)) {
        auto post = h->posterior();
        w.u64(post.size());
        for (double p : post) w.f64(p);
        w.f64(h->log_likelihood());
        w.u64(h->count());
    } else if (const auto* v = std::get_if<std::vector<models::MarkovState>>(&m.st)) {
        w.u64(v->size());
        for (const models::MarkovState& s : *v) markov(s);
    }
    w.u64(m.count);
    w.f64(m.sum_log_prob);
    w.f64(m.last_log_prob);
    w.u64(m.session_gen);
}

bool read_markov(ir::SnapReader& r, models::MarkovState& s) {
    uint64_t n = r.count(4);
    std::vector<uint32_t> ctx(n);
    for (auto& c : ctx) c = r.u32();
    uint64_t count = r.u64();
    double sum = r.f64();
    if (r.failed()) return false;
    if (!s.assign(ctx, count, sum)) {
        r.fail("a Markov model state has another order than the model");
        return false;
    }
    return true;
}

void read_model(ir::SnapReader& r, ModelKeyState& m) {
    const uint8_t idx = r.u8();
    if (r.ok() && idx != m.st.index()) {
        r.fail("a model state has another kind than the model");
        return;
    }
    if (auto* s = std::get_if<models::MarkovState>(&m.st)) {
        read_markov(r, *s);
    } else if (auto* h = std::get_if<models::HmmState>(&m.st)) {
        uint64_t n = r.count(8);
        std::vector<double> post(n);
        for (double& p : post) p = r.f64();
        double ll = r.f64();
        uint64_t count = r.u64();
        if (r.ok() && n != h->posterior().size()) r.fail("an HMM state has another number of states");
        if (r.ok()) h->assign(std::move(post), ll, count);
    } else if (auto* v = std::get_if<std::vector<models::MarkovState>>(&m.st)) {
        uint64_t n = r.count(8);
        if (r.ok() && n != v->size()) r.fail("a classifier state has another number of classes");
        for (size_t i = 0; r.ok() && i < v->size(); ++i) read_markov(r, (*v)[i]);
    }
    m.count = r.u64();
    m.sum_log_prob = r.f64();
    m.last_log_prob = r.f64();
    m.session_gen = r.u64();
}

void write_stats(ir::SnapWriter& w, const ir::ExecutorStats& s) {
    for (uint64_t v : {s.events, s.live_keys, s.partial_matches, s.overflow_drops, s.detections, s.suppressed,
                       s.evictions, s.state_bytes, s.peak_state_bytes, s.budget_drops})
        w.u64(v);
}

void read_stats(ir::SnapReader& r, ir::ExecutorStats& s) {
    for (uint64_t* v : {&s.events, &s.live_keys, &s.partial_matches, &s.overflow_drops, &s.detections,
                        &s.suppressed, &s.evictions, &s.state_bytes, &s.peak_state_bytes, &s.budget_drops})
        *v = r.u64();
}

/// Reads the per-rule scope group leaders and groups `en`'s rules so: a rule in a group names a leader of
/// the same scope that leads itself; a Window / LastN threshold rule is in a group.
bool read_scope_groups(ir::SnapReader& r, Engine& en) {
    const auto n = static_cast<uint32_t>(en.rs.rules.size());
    std::vector<int64_t> origin(n, -1);
    for (uint32_t i = 0; i < n && r.ok(); ++i) origin[i] = r.u32();
    if (!r.ok()) return true; // the reader reports it
    for (uint32_t i = 0; i < n; ++i) {
        const bool scoped = en.scope_group[i] != Engine::kNoGroup;
        if (origin[i] == UINT32_MAX) {
            if (scoped) return false;
            continue;
        }
        const auto l = static_cast<uint32_t>(origin[i]);
        if (!scoped || l >= n || origin[l] != l || en.scope_group[l] == Engine::kNoGroup) return false;
        const ir::Threshold &a = en.rs.rules[i].threshold, &b = en.rs.rules[l].threshold;
        const bool window = a.scope == ir::ScopeKind::Window;
        if (a.scope != b.scope || (window ? a.window_us != b.window_us : a.last_n != b.last_n)) return false;
    }
    en.group_scopes(&origin);
    return true;
}

} // namespace

Status Interpreter::save_state(std::string& out) const {
    ir::SnapWriter w(out);
    w.u32(kStateVersion);
    w.u32(static_cast<uint32_t>(en_.rs.rules.size()));
    w.u32(static_cast<uint32_t>(en_.rs.sessions.size()));
    w.u32(static_cast<uint32_t>(en_.rs.models.size()));
    write_stats(w, en_.stats);
    w.u64(en_.overflow_warned.size());
    for (bool b : en_.overflow_warned) w.boolean(b);
    // Per rule, the leader of its shared scope group (a hot swap may have split groups: see group_scopes).
    for (uint32_t g : en_.scope_group) w.u32(g == Engine::kNoGroup ? UINT32_MAX : en_.scope_groups[g].leader);
    w.boolean(budget_warned_);
    w.u64(total_bytes_);
    w.u64(next_ord_);

    // Priority queues expose only their top: drain copies (in pop order, which restores any heap).
    TimerQueue timers = en_.timers;
    w.u64(timers.size());
    for (; !timers.empty(); timers.pop()) {
        const Timer& t = timers.top();
        w.i64(t.deadline);
        w.u32(t.key);
        w.u32(t.slot);
    }
    auto activity = activity_;
    w.u64(activity.size());
    for (; !activity.empty(); activity.pop()) {
        w.i64(activity.top().time());
        w.u32(activity.top().key);
    }

    // Keys in id order, so that equal states give equal bytes. The key records go to a second buffer:
    // the event table they build is written first.
    std::vector<uint32_t> ids;
    ids.reserve(keys_.size());
    keys_.for_each([&](const KeyState& ks) { ids.push_back(ks.key); });
    std::sort(ids.begin(), ids.end());
    EventTable table;
    std::string body;
    ir::SnapWriter k(body);
    k.u64(ids.size());
    for (uint32_t id : ids) {
        const KeyState& ks = *keys_.find(id);
        k.u32(ks.key);
        k.u64(table.ref(ks.last, id));
        k.u64(ks.bytes);
        k.boolean(ks.queued);
        k.u64(ks.sessions.size());
        for (const SessionState& s : ks.sessions) {
            k.i64(s.start);
            k.u64(s.count);
            k.u64(s.generation);
            k.i64(s.timer_at);
            write_ring(k, table, s.events, id);
            k.u64(table.ref(s.last_event, id));
        }
        k.u64(ks.thresholds.size());
        for (uint32_t i = 0; i < ks.thresholds.size(); ++i) {
            const ThresholdState& t = ks.thresholds[en_.threshold_first + i];
            // Only a group's leader holds a ring (the shared scope of its group). A nested window is
            // written as its own ring was before nesting: its holder ring's last events (the format is
            // unchanged; a restored state does not nest, see Engine::group_scopes).
            const uint32_t rule = en_.threshold_first + i;
            if (en_.holds_ring(rule)) {
                const ScopeGroup& g = en_.scope_groups[en_.scope_group[rule]];
                if (g.holder == en_.scope_group[rule]) {
                    write_ring(k, table, t.scope, id);
                } else {
                    const EventBuffer& ring = ks.thresholds[en_.scope_groups[g.holder].leader].scope;
                    const size_t size = ring.empty() ? 0 : static_cast<size_t>(ring.words()[g.size_word]);
                    write_ring(k, table, ring, id, ring.size() - size);
                }
            }
            k.boolean(t.evaluated);
            k.boolean(t.previous);
            k.u64(t.session_gen);
        }
        k.u64(ks.patterns.size());
        for (const PatternState& p : ks.patterns) {
            k.u64(p.matches.size());
            for (const PartialMatch& m : p.matches) {
                k.u32(m.pos);
                k.u32(m.count);
                k.u64(m.size());
                for (uint32_t i = 0; i < m.size(); ++i) {
                    k.u32(m.tags()[i]);
                    k.u64(table.ref_raw(m.events()[i], id));
                }
                k.boolean(m.waiting);
                k.i64(m.absence_deadline);
            }
            k.boolean(p.timer_scheduled);
            k.i64(p.timer_deadline);
        }
        k.u64(ks.models.size());
        for (const ModelKeyState& m : ks.models) write_model(k, m);
    }
    table.write(w);
    out += body;
    return ok_status();
}

Status Interpreter::restore_state(std::string_view in) {
    if (!keys_.empty() || en_.stats.events != 0)
        return Error{"executor state: restore needs a fresh executor (this one has processed events)"};
    ir::SnapReader r(in);
    const uint32_t version = r.u32();
    if (r.ok() && version != kStateVersion)
        return Error{fmt::format("executor state: format version {} (this engine reads version {})", version,
                                 kStateVersion)};
    const uint32_t rules = r.u32(), sessions = r.u32(), models = r.u32();
    if (r.ok() && (rules != en_.rs.rules.size() || sessions != en_.rs.sessions.size() ||
                   models != en_.rs.models.size()))
        return Error{fmt::format("executor state: saved for {} rules, {} sessions, {} models; this rule set "
                                 "has {}, {}, {}",
                                 rules, sessions, models, en_.rs.rules.size(), en_.rs.sessions.size(),
                                 en_.rs.models.size())};
    read_stats(r, en_.stats);
    uint64_t nw = r.count(1);
    if (r.ok() && nw != en_.overflow_warned.size()) r.fail("per-rule table of another size");
    for (uint64_t i = 0; r.ok() && i < nw; ++i) en_.overflow_warned[i] = r.boolean();
    if (!read_scope_groups(r, en_)) r.fail("scope groups that do not fit this rule set");
    budget_warned_ = r.boolean();
    total_bytes_ = r.u64();
    next_ord_ = r.u64();
    uint64_t nt = r.count(16);
    for (uint64_t i = 0; i < nt && r.ok(); ++i) {
        Timer t;
        t.deadline = r.i64();
        t.key = r.u32();
        t.slot = r.u32();
        en_.timers.push(t);
    }
    uint64_t na = r.count(12);
    for (uint64_t i = 0; i < na && r.ok(); ++i) {
        int64_t t = r.i64();
        uint32_t key = r.u32();
        activity_.emplace(t, key);
    }

    // The event table, then the keys that refer to it.
    std::vector<EventPtr> events(r.count(45));
    for (EventPtr& ep : events) {
        ir::Event e;
        r.event(e, static_cast<uint32_t>(en_.rs.events.size()));
        const ir::Value dwell = r.value();
        const uint64_t ord = r.u64();
        if (!r.ok()) break;
        if (dwell.type != ir::Type::Missing && dwell.type != ir::Type::Duration) {
            r.fail("an event whose dwell is neither missing nor a duration");
            break;
        }
        ep = make_event(e, ord);
        if (dwell.type == ir::Type::Duration) ep->set_dwell(dwell.i);
    }
    auto ev = [&](uint64_t i) -> EventPtr {
        if (i == kNoEvent) return nullptr;
        if (i >= events.size()) {
            r.fail("an event index out of range");
            return nullptr;
        }
        return events[i];
    };
    // `words`: the owner words a ring is allocated with (a session's: its folds, rebuilt on use).
    auto ring = [&](EventBuffer& b, uint32_t words = 0) {
        uint64_t n = r.count(8);
        for (uint64_t i = 0; i < n && r.ok(); ++i) {
            EventPtr e = ev(r.u64());
            if (!e) r.fail("a missing event in a buffer");
            b.push_back(std::move(e), words);
        }
    };
    auto expect = [&](uint64_t got, size_t want, const char* what) {
        if (r.ok() && got != want) r.fail(what);
    };
    uint64_t nk = r.count(20);
    for (uint64_t i = 0; i < nk && r.ok(); ++i) {
        const uint32_t id = r.u32();
        if (!r.ok()) break;
        if (keys_.contains(id)) {
            r.fail("a key saved twice");
            break;
        }
        KeyState& ks = key_state(id); // sized for this rule set, model states created
        ks.last = ev(r.u64());
        ks.bytes = r.u64();
        ks.queued = r.boolean();
        expect(r.u64(), ks.sessions.size(), "a key with another number of sessions");
        for (SessionState& s : ks.sessions) {
            s.start = r.i64();
            s.count = r.u64();
            s.generation = r.u64();
            s.timer_at = r.i64();
            ring(s.events, 1);
            s.last_event = ev(r.u64());
            // An open session has a latest event (deadline and latest time follow); a closed one no timer.
            if (r.ok() && !s.open() && s.timer_at != 0) r.fail("a closed session with a timer");
        }
        expect(r.u64(), ks.thresholds.size(), "a key with another number of threshold rules");
        for (uint32_t i = 0; i < ks.thresholds.size(); ++i) {
            ThresholdState& t = ks.thresholds[en_.threshold_first + i];
            if (en_.holds_ring(en_.threshold_first + i)) {
                ring(t.scope);
                recount_scope(en_, en_.scope_group[en_.threshold_first + i], t.scope);
            }
            t.evaluated = r.boolean();
            t.previous = r.boolean();
            t.session_gen = r.u64();
        }
        expect(r.u64(), ks.patterns.size(), "a key with another number of pattern rules");
        uint32_t rule = en_.pattern_first;
        for (PatternState& p : ks.patterns) {
            const auto nsteps = static_cast<uint32_t>(en_.rs.rules[rule].pattern.steps.size());
            const auto npos = static_cast<uint32_t>(en_.patterns[rule].positives.size());
            ++rule;
            p.matches.resize(r.count(30));
            for (PartialMatch& m : p.matches) {
                m.pos = r.u32();
                m.count = r.u32();
                if (r.ok() && m.pos >= npos) r.fail("a partial match past its rule's last step");
                const uint64_t n = r.count(12);
                if (r.ok() && n == 0) r.fail("a partial match without events");
                uint32_t prev = 0;
                for (uint64_t i = 0; i < n && r.ok(); ++i) {
                    const uint32_t step = r.u32();
                    EventPtr e = ev(r.u64());
                    if (!r.ok()) break;
                    // A match binds its steps in order: its events' steps never decrease.
                    if (!e || step >= nsteps || step < prev) {
                        r.fail("a partial match with a missing event or steps out of order");
                        break;
                    }
                    prev = step;
                    m.push(e.get(), step);
                }
                if (r.ok()) m.first_time = m.first().ev.time;
                m.waiting = r.boolean();
                m.absence_deadline = r.i64();
            }
            p.timer_scheduled = r.boolean();
            p.timer_deadline = r.i64();
        }
        expect(r.u64(), ks.models.size(), "a key with another number of models");
        for (ModelKeyState& m : ks.models) read_model(r, m);
    }
    if (r.ok() && r.remaining() != 0) r.fail("trailing bytes after the state");
    if (r.failed()) {
        // Leave a fresh executor behind, never a half-restored one.
        keys_.clear();
        en_.timers = TimerQueue();
        activity_ = decltype(activity_)();
        en_.stats = ir::ExecutorStats();
        en_.group_scopes(nullptr);
        total_bytes_ = 0;
        next_ord_ = 0;
        return Error{"executor state: " + r.error()};
    }
    return ok_status();
}

} // namespace ethogram::interp
