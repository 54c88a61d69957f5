// ir_builder.h: a test-only builder of ir::RuleSet by hand (no front end), and a runner that feeds
// events to the interpreter and collects what it produces.
#pragma once

#include "compiler/interp/interpreter.h"
#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::interp::testing {

constexpr int64_t kSec = ir::kMicrosPerSecond;
constexpr int64_t kMin = 60 * kSec;

/// Builds a rule set. Every event type gets slot 0 = `key` (string) and slot 1 = `ts` (timestamp);
/// the declared fields follow from slot 2.
class IrBuilder {
public:
    ir::RuleSet rs;

    IrBuilder() { rs.taxonomy.push_back({"test", -1}); }

    uint16_t event(const std::string& name,
                   const std::vector<std::pair<std::string, ir::Type>>& fields = {}) {
        ir::EventType et;
        et.name = name;
        et.fields.push_back({"key", ir::Type::String, false, {}, {}});
        et.fields.push_back({"ts", ir::Type::Timestamp, false, {}, {}});
        for (const auto& [n, t] : fields) et.fields.push_back({n, t, true, {}, {}});
        et.key_field = 0;
        et.time_field = 1;
        rs.events.push_back(et);
        return static_cast<uint16_t>(rs.events.size() - 1);
    }

    uint16_t slot(uint16_t type, const std::string& name) const {
        const auto& fs = rs.events[type].fields;
        for (size_t i = 0; i < fs.size(); ++i)
            if (fs[i].name == name) return static_cast<uint16_t>(i);
        return ir::kNoField;
    }

    ir::ExprId add(ir::Expr e) {
        rs.exprs.push_back(std::move(e));
        return static_cast<ir::ExprId>(rs.exprs.size() - 1);
    }

    // ------------------------------------------------------------ constants
    ir::ExprId constant(ir::Value v) {
        ir::Expr e;
        e.kind = ir::ExprKind::Const;
        e.type = v.type;
        e.constant = v;
        return add(e);
    }
    ir::ExprId i(int64_t v) { return constant(ir::Value::integer(v)); }
    ir::ExprId f(double v) { return constant(ir::Value::real(v)); }
    ir::ExprId b(bool v) { return constant(ir::Value::boolean(v)); }
    ir::ExprId dur(int64_t us) { return constant(ir::Value::duration(us)); }
    ir::ExprId ts(int64_t us) { return constant(ir::Value::timestamp(us)); }
    ir::ExprId missing() { return constant(ir::Value::missing()); }
    /// A string constant: interned in rs.strings (the pool is seeded with them).
    ir::ExprId s(const std::string& v) { return constant(str(v)); }
    ir::Value str(const std::string& v) {
        for (size_t k = 0; k < rs.strings.size(); ++k)
            if (rs.strings[k] == v) return ir::Value::string(static_cast<uint32_t>(k));
        rs.strings.push_back(v);
        return ir::Value::string(static_cast<uint32_t>(rs.strings.size() - 1));
    }

    // ------------------------------------------------------------ fields
    /// Field `name` of the current event (of type `type`).
    ir::ExprId fld(uint16_t type, const std::string& name) {
        ir::Expr e;
        e.kind = ir::ExprKind::Field;
        e.ref = ir::EventRef::Current;
        e.field = slot(type, name);
        e.type = rs.events[type].fields[e.field].type;
        return add(e);
    }
    /// Field `name` of the event bound to pattern step `step`.
    ir::ExprId step_fld(uint32_t step, uint16_t type, const std::string& name) {
        ir::ExprId id = fld(type, name);
        rs.exprs[id].ref = ir::EventRef::Step;
        rs.exprs[id].step = step;
        return id;
    }
    /// Field `name` of a current event that may be of any of `types` (alternatives, `any`).
    ir::ExprId fld_multi(const std::vector<uint16_t>& types, const std::string& name) {
        ir::Expr e;
        e.kind = ir::ExprKind::Field;
        e.field_by_type.assign(rs.events.size(), ir::kNoField);
        for (uint16_t t : types) {
            e.field_by_type[t] = slot(t, name);
            e.type = rs.events[t].fields[e.field_by_type[t]].type;
        }
        return add(e);
    }
    ir::ExprId dwell() {
        ir::Expr e;
        e.kind = ir::ExprKind::Field;
        e.field = ir::kFieldDwell;
        e.type = ir::Type::Duration;
        return add(e);
    }
    ir::ExprId session_attr(ir::SessionAttr a) {
        ir::Expr e;
        e.kind = ir::ExprKind::SessionAttr;
        e.attr = a;
        return add(e);
    }

    // ------------------------------------------------------------ operators
    ir::ExprId bin(ir::Op op, ir::ExprId a, ir::ExprId b2) {
        ir::Expr e;
        e.kind = ir::ExprKind::Binary;
        e.op = op;
        e.a = a;
        e.b = b2;
        return add(e);
    }
    ir::ExprId un(ir::Op op, ir::ExprId a) {
        ir::Expr e;
        e.kind = ir::ExprKind::Unary;
        e.op = op;
        e.a = a;
        return add(e);
    }
    ir::ExprId in(ir::ExprId a, std::vector<ir::Value> list, bool negated = false) {
        ir::Expr e;
        e.kind = ir::ExprKind::InList;
        e.op = negated ? ir::Op::NotIn : ir::Op::In;
        e.a = a;
        e.list = std::move(list);
        return add(e);
    }
    ir::ExprId call(ir::Builtin fn, std::vector<ir::ExprId> args) {
        ir::Expr e;
        e.kind = ir::ExprKind::Call;
        e.fn = fn;
        e.args = std::move(args);
        return add(e);
    }

    // ------------------------------------------------------------ aggregates
    /// An aggregate over the scope's events of `types` (empty = any).
    ir::ExprId agg(ir::AggKind k, std::vector<uint16_t> types, ir::ExprId value = ir::kNoExpr,
                   ir::ExprId filter = ir::kNoExpr, ir::Type result = ir::Type::Missing) {
        ir::Aggregate a;
        a.kind = k;
        a.source = ir::AggSource::Scope;
        a.types = std::move(types);
        a.value = value;
        a.filter = filter;
        a.type = result;
        return add_agg(a);
    }
    /// An aggregate over the events collected by pattern step `step`.
    ir::ExprId step_agg(ir::AggKind k, uint32_t step, ir::ExprId value = ir::kNoExpr,
                        ir::ExprId filter = ir::kNoExpr, ir::Type result = ir::Type::Missing) {
        ir::Aggregate a;
        a.kind = k;
        a.source = ir::AggSource::Step;
        a.step = step;
        a.value = value;
        a.filter = filter;
        a.type = result;
        return add_agg(a);
    }
    ir::ExprId add_agg(const ir::Aggregate& a) {
        rs.aggregates.push_back(a);
        ir::Expr e;
        e.kind = ir::ExprKind::Aggregate;
        e.agg = static_cast<uint32_t>(rs.aggregates.size() - 1);
        e.type = a.type;
        return add(e);
    }

    // ------------------------------------------------------------ sessions and rules
    uint32_t session(const std::string& name, int64_t gap, int64_t max = -1, std::vector<uint16_t> types = {},
                     std::vector<ir::SessionEnd> ends = {}) {
        ir::Session s;
        s.name = name;
        s.gap_us = gap;
        s.max_us = max;
        s.types = std::move(types);
        s.ends = std::move(ends);
        rs.sessions.push_back(s);
        return static_cast<uint32_t>(rs.sessions.size() - 1);
    }

    uint32_t threshold(const std::string& name, const ir::Threshold& th) {
        ir::Rule r;
        r.name = name;
        r.kind = ir::RuleKind::Threshold;
        r.threshold = th;
        rs.rules.push_back(r);
        return static_cast<uint32_t>(rs.rules.size() - 1);
    }
    uint32_t pattern(const std::string& name, std::vector<ir::Step> steps, int64_t within = -1) {
        ir::Rule r;
        r.name = name;
        r.kind = ir::RuleKind::Pattern;
        r.pattern.steps = std::move(steps);
        r.pattern.within_us = within;
        rs.rules.push_back(r);
        return static_cast<uint32_t>(rs.rules.size() - 1);
    }
    ir::Rule& rule(uint32_t r) { return rs.rules[r]; }
    void emit(uint32_t r, const std::string& name, ir::ExprId e) { rs.rules[r].emits.push_back({name, e}); }
    uint32_t group(const std::string& name, std::vector<std::pair<uint32_t, int32_t>> members) {
        ir::Group g;
        g.name = name;
        auto gi = static_cast<int32_t>(rs.groups.size());
        for (auto [r, prio] : members) {
            g.rules.push_back(r);
            rs.rules[r].group = gi;
            rs.rules[r].priority = prio;
        }
        rs.groups.push_back(g);
        return static_cast<uint32_t>(gi);
    }
};

// ---------------------------------------------------------------- steps
inline ir::Step pos(const std::string& alias, std::vector<uint16_t> types, ir::ExprId pred = ir::kNoExpr,
                    uint32_t min = 1, uint32_t max = 1, bool strict = false) {
    ir::Step s;
    s.kind = ir::StepKind::Positive;
    s.alias = alias;
    s.types = std::move(types);
    s.pred = pred;
    s.min = min;
    s.max = max;
    s.strict = strict;
    return s;
}
inline ir::Step neg(const std::string& alias, std::vector<uint16_t> types, ir::ExprId pred = ir::kNoExpr) {
    ir::Step s = pos(alias, std::move(types), pred);
    s.kind = ir::StepKind::Negation;
    return s;
}
inline ir::Step absent(const std::string& alias, std::vector<uint16_t> types, int64_t within = -1,
                       ir::ExprId pred = ir::kNoExpr) {
    ir::Step s = pos(alias, std::move(types), pred);
    s.kind = ir::StepKind::Absence;
    s.within_us = within;
    return s;
}
inline ir::Threshold window(int64_t d, ir::ExprId cond, std::vector<uint16_t> on = {}) {
    ir::Threshold t;
    t.scope = ir::ScopeKind::Window;
    t.window_us = d;
    t.cond = cond;
    t.on_types = std::move(on);
    return t;
}
inline ir::Threshold last_n(uint32_t n, ir::ExprId cond, std::vector<uint16_t> on = {}) {
    ir::Threshold t;
    t.scope = ir::ScopeKind::LastN;
    t.last_n = n;
    t.cond = cond;
    t.on_types = std::move(on);
    return t;
}
inline ir::Threshold over_session(uint32_t s, ir::ExprId cond, bool at_end = false,
                                  std::vector<uint16_t> on = {}) {
    ir::Threshold t;
    t.scope = ir::ScopeKind::Session;
    t.session = s;
    t.cond = cond;
    t.at_session_end = at_end;
    t.on_types = std::move(on);
    return t;
}

// ---------------------------------------------------------------- running
struct CollectSink : ir::DetectionSink {
    std::vector<ir::Detection> out;
    std::vector<ir::Detection> suppressed_out;
    void emit(ir::Detection&& d) override { out.push_back(std::move(d)); }
    void suppressed(ir::Detection&& d) override { suppressed_out.push_back(std::move(d)); }
};

/// Feeds events to an interpreter the way the runtime does (watermark to the event's time first).
class Runner {
public:
    explicit Runner(const ir::RuleSet& rs, ir::ExecutorOptions opts = {}) : rs_(rs) {
        ir::seed_string_pool(rs, pool);
        exec = make_interpreter(rs, pool, opts);
    }

    /// Sends an event of `type` for `key` at `t` (µs); `extra` fills slots 2.. in order. Returns its seq.
    uint64_t ev(uint16_t type, const std::string& key, int64_t t, std::vector<ir::Value> extra = {}) {
        return ev_seq(type, key, t, seq_ + 1, std::move(extra));
    }
    /// Like ev() with an explicit arrival seq (events released by time from a reorder buffer need not
    /// have increasing seqs).
    uint64_t ev_seq(uint16_t type, const std::string& key, int64_t t, uint64_t seq,
                    std::vector<ir::Value> extra = {}) {
        ir::Event e;
        e.type = type;
        e.key = pool.intern(key);
        e.time = t;
        e.seq = seq;
        e.line = seq;
        seq_ = std::max(seq_, seq);
        e.fields.push_back(ir::Value::string(e.key));
        e.fields.push_back(ir::Value::timestamp(t));
        for (const auto& v : extra) e.fields.push_back(v);
        e.fields.resize(rs_.events[type].fields.size());
        exec->advance_watermark(t, sink);
        exec->on_event(e, sink);
        return e.seq;
    }
    /// Takes `src`'s state through a snapshot (saved into `snap`): interns `src`'s strings under the same
    /// ids, restores, and saves again. Empty when that worked and the second save equals `snap` byte for
    /// byte, else what went wrong.
    std::string restore_from(Runner& src, std::string& snap) {
        if (Status st = src.exec->save_state(snap); !st.ok()) return "save: " + st.error();
        for (uint32_t id = static_cast<uint32_t>(pool.size()); id < src.pool.size(); ++id)
            pool.intern(src.pool.view(id));
        if (Status st = exec->restore_state(snap); !st.ok()) return "restore: " + st.error();
        std::string again;
        if (Status st = exec->save_state(again); !st.ok()) return "save again: " + st.error();
        return again == snap ? "" : "the restored state saves to other bytes";
    }
    void watermark(int64_t w) { exec->advance_watermark(w, sink); }
    void end() { exec->advance_watermark(ir::kTimeInfinity, sink); }
    ir::Value str(const std::string& s) { return ir::Value::string(pool.intern(s)); }
    std::string_view view(const ir::Value& v) const { return pool.view(static_cast<uint32_t>(v.i)); }

    ir::StringPool pool;
    std::unique_ptr<ir::Executor> exec;
    CollectSink sink;

private:
    const ir::RuleSet& rs_;
    uint64_t seq_ = 0;
};

/// The seqs bound to binding `b` of detection `d`.
inline std::vector<uint64_t> seqs(const ir::Detection& d, size_t b) {
    std::vector<uint64_t> out;
    for (const auto& e : d.bindings.at(b).events) out.push_back(e.seq);
    return out;
}

/// FNV-1a 64 written from its definition (offset basis 0xcbf29ce484222325, prime 0x100000001b3): the
/// detection id's definition, independent of the engine's code.
inline uint64_t fnv1a(const std::vector<unsigned char>& bytes) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

} // namespace ethogram::interp::testing
