// random_exprs.cpp: random schemas, predicates and aggregate conditions (typed as sema would type them).
#include "tests/oracle/random_exprs.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <string>

namespace ethogram::oracle {
namespace {

constexpr std::string_view kTypeNames[] = {"A", "B", "C"};
constexpr std::string_view kValueFields[] = {"x", "k", "s", "o"};

ir::Type field_type(std::string_view name) {
    if (name == "k") return ir::Type::Enum;
    if (name == "s") return ir::Type::String;
    return ir::Type::Int;
}

uint16_t slot_of(const ir::EventType& et, std::string_view name) {
    for (size_t i = 0; i < et.fields.size(); ++i)
        if (et.fields[i].name == name) return static_cast<uint16_t>(i);
    return ir::kNoField;
}

} // namespace

void Builder::make_schema(uint16_t ntypes) {
    for (const char* s : {"u", "v", "w"}) {
        string_ids.push_back(static_cast<uint32_t>(rs.strings.size()));
        rs.strings.emplace_back(s);
    }
    for (int i = 0; i < 4; ++i) {
        key_ids.push_back(static_cast<uint32_t>(rs.strings.size()));
        rs.strings.push_back(fmt::format("k{}", i));
    }
    rs.name = "random";
    rs.version = "1.0.0";
    rs.taxonomy.push_back({"test", -1});
    for (uint16_t t = 0; t < ntypes; ++t) {
        ir::EventType et;
        et.name = std::string(kTypeNames[t]);
        std::vector<ir::FieldDef> fs;
        fs.push_back({"uid", ir::Type::String, false, {}, {}});
        fs.push_back({"ts", ir::Type::Timestamp, false, {}, {}});
        for (std::string_view n : kValueFields) {
            ir::FieldDef fd{std::string(n), field_type(n), n == "o", {}, {}};
            if (n == "k") fd.enum_values = {"p", "q", "r"};
            fs.push_back(std::move(fd));
        }
        std::shuffle(fs.begin(), fs.end(), rng.g); // slots differ per type: exercises field_by_type
        et.fields = std::move(fs);
        et.key_field = slot_of(et, "uid");
        et.time_field = slot_of(et, "ts");
        rs.events.push_back(std::move(et));
    }
}

ir::ExprId Builder::add(ir::Expr e) {
    rs.exprs.push_back(std::move(e));
    return static_cast<ir::ExprId>(rs.exprs.size() - 1);
}

ir::ExprId Builder::field(ir::EventRef ref, uint32_t step, std::string_view name,
                          const std::vector<uint16_t>& types) {
    ir::Expr e;
    e.kind = ir::ExprKind::Field;
    e.type = field_type(name);
    e.ref = ref;
    e.step = step;
    std::vector<uint16_t> ts = types;
    if (ts.empty())
        for (uint16_t t = 0; t < rs.events.size(); ++t) ts.push_back(t);
    e.field = slot_of(rs.events[ts[0]], name);
    bool same =
        std::all_of(ts.begin(), ts.end(), [&](uint16_t t) { return slot_of(rs.events[t], name) == e.field; });
    if (!same) {
        e.field_by_type.assign(rs.events.size(), ir::kNoField);
        for (uint16_t t : ts) e.field_by_type[t] = slot_of(rs.events[t], name);
    }
    return add(std::move(e));
}

ir::ExprId Builder::constant_for(std::string_view name) {
    ir::Expr e;
    e.kind = ir::ExprKind::Const;
    e.type = field_type(name);
    if (name == "k")
        e.constant = ir::Value::enumeration(static_cast<int64_t>(rng.below(3)));
    else if (name == "s")
        e.constant = ir::Value::string(string_ids[rng.below(string_ids.size())]);
    else
        e.constant = ir::Value::integer(static_cast<int64_t>(rng.below(5)) - (rng.chance(0.1) ? 1 : 0));
    return add(std::move(e));
}

ir::ExprId Builder::compare(ir::Op op, ir::ExprId a, ir::ExprId b) {
    ir::Expr e;
    e.kind = ir::ExprKind::Binary;
    e.type = ir::Type::Bool;
    e.op = op;
    e.a = a;
    e.b = b;
    return add(std::move(e));
}

ir::Op Builder::random_cmp(std::string_view name) {
    static constexpr ir::Op ordered[] = {ir::Op::Eq, ir::Op::Ne, ir::Op::Lt,
                                         ir::Op::Le, ir::Op::Gt, ir::Op::Ge};
    if (name == "k" || name == "s") return rng.chance(0.7) ? ir::Op::Eq : ir::Op::Ne;
    return ordered[rng.below(6)];
}

/// Usually the atom alone; sometimes `a and b`, `a or b` or `not a`.
ir::ExprId Builder::combine(ir::ExprId a, ir::ExprId b) {
    uint64_t r = rng.below(10);
    ir::Expr e;
    e.type = ir::Type::Bool;
    if (r < 6) return a;
    if (r < 9) {
        e.kind = ir::ExprKind::Binary;
        e.op = r < 8 ? ir::Op::And : ir::Op::Or;
        e.a = a;
        e.b = b;
    } else {
        e.kind = ir::ExprKind::Unary;
        e.op = ir::Op::Not;
        e.a = a;
    }
    return add(std::move(e));
}

ir::ExprId Builder::aggregate(ir::Aggregate g) {
    rs.aggregates.push_back(std::move(g));
    ir::Expr e;
    e.kind = ir::ExprKind::Aggregate;
    e.type = rs.aggregates.back().type;
    e.agg = static_cast<uint32_t>(rs.aggregates.size() - 1);
    return add(std::move(e));
}

ir::ExprId Builder::field_cmp_const(const std::vector<uint16_t>& types) {
    std::string_view name = kValueFields[rng.below(4)];
    ir::ExprId f = field(ir::EventRef::Current, 0, name, types);
    uint64_t r = rng.below(10);
    if (r == 0) { // `f in [c, ...]` / `f not in [...]`
        ir::Expr e;
        e.kind = ir::ExprKind::InList;
        e.type = ir::Type::Bool;
        e.op = rng.chance(0.7) ? ir::Op::In : ir::Op::NotIn;
        e.a = f;
        for (uint64_t i = 0, n = 1 + rng.below(3); i < n; ++i)
            e.list.push_back(rs.exprs[constant_for(name)].constant);
        return add(std::move(e));
    }
    if (r == 1 && field_type(name) == ir::Type::Int) { // `f <op> c1 <cmp> c2`; `/ 0` and `% 0` are missing
        static constexpr ir::Op ops[] = {ir::Op::Add, ir::Op::Sub, ir::Op::Mul, ir::Op::Div, ir::Op::Mod};
        ir::Expr e;
        e.kind = ir::ExprKind::Binary;
        e.type = ir::Type::Int;
        e.op = ops[rng.below(std::size(ops))];
        e.a = f;
        ir::Expr c;
        c.kind = ir::ExprKind::Const;
        c.type = ir::Type::Int;
        c.constant = ir::Value::integer(static_cast<int64_t>(rng.below(3)));
        e.b = add(std::move(c));
        return compare(random_cmp(name), add(std::move(e)), constant_for(name));
    }
    return compare(random_cmp(name), f, constant_for(name));
}

ir::ExprId Builder::step_atom(const ir::Rule& rule, size_t step, const std::vector<uint16_t>& types) {
    std::vector<uint32_t> singles, collected;
    for (uint32_t i = 0; i < step; ++i) {
        const ir::Step& s = rule.pattern.steps[i];
        if (s.kind != ir::StepKind::Positive) continue;
        (s.collected() ? collected : singles).push_back(i);
    }
    uint64_t r = rng.below(10);
    if (r < 3 && !singles.empty()) {
        uint32_t i = singles[rng.below(singles.size())];
        std::string_view name = kValueFields[rng.below(4)];
        return compare(random_cmp(name), field(ir::EventRef::Current, 0, name, types),
                       field(ir::EventRef::Step, i, name, rule.pattern.steps[i].types));
    }
    if (r < 6 && !collected.empty()) {
        uint32_t i = collected[rng.below(collected.size())];
        const std::vector<uint16_t>& el = rule.pattern.steps[i].types;
        ir::Aggregate g;
        g.source = ir::AggSource::Step;
        g.step = i;
        g.type = ir::Type::Int;
        int64_t bound = 0;
        switch (rng.below(3)) {
        case 0:
            g.kind = ir::AggKind::Count;
            if (rng.chance(0.3)) g.filter = field_cmp_const(el);
            bound = static_cast<int64_t>(rng.below(4));
            break;
        case 1:
            g.kind = ir::AggKind::Sum;
            g.value = field(ir::EventRef::Current, 0, rng.chance(0.7) ? "x" : "o", el);
            bound = static_cast<int64_t>(rng.below(7));
            break;
        default:
            g.kind = ir::AggKind::Distinct;
            g.value = field(ir::EventRef::Current, 0, rng.chance(0.5) ? "k" : "x", el);
            bound = 1 + static_cast<int64_t>(rng.below(3));
            break;
        }
        ir::ExprId agg = aggregate(std::move(g));
        ir::Expr c;
        c.kind = ir::ExprKind::Const;
        c.type = ir::Type::Int;
        c.constant = ir::Value::integer(bound);
        return compare(random_cmp("x"), agg, add(std::move(c)));
    }
    return field_cmp_const(types);
}

ir::ExprId Builder::step_predicate(const ir::Rule& rule, size_t step, const std::vector<uint16_t>& types) {
    ir::ExprId a = step_atom(rule, step, types);
    return combine(a, step_atom(rule, step, types));
}

ir::ExprId Builder::threshold_atom(const ir::Threshold& th) {
    ir::Expr c;
    c.kind = ir::ExprKind::Const;
    c.type = ir::Type::Int;
    uint64_t r = rng.below(10);
    if (r == 0 && th.scope == ir::ScopeKind::Session) {
        ir::Expr s;
        s.kind = ir::ExprKind::SessionAttr;
        if (rng.chance(0.5)) {
            s.type = ir::Type::Int;
            s.attr = ir::SessionAttr::Events;
            c.constant = ir::Value::integer(1 + static_cast<int64_t>(rng.below(4)));
        } else {
            s.type = ir::Type::Duration;
            s.attr = ir::SessionAttr::Duration;
            c.type = ir::Type::Duration;
            c.constant = ir::Value::duration(static_cast<int64_t>(rng.below(5)) * ir::kMicrosPerSecond);
        }
        ir::ExprId sa = add(std::move(s));
        return compare(rng.chance(0.7) ? ir::Op::Ge : random_cmp("x"), sa, add(std::move(c)));
    }
    if (r == 1 && !th.at_session_end && !th.on_types.empty()) return field_cmp_const(th.on_types);
    ir::Aggregate g;
    g.source = ir::AggSource::Scope;
    if (rng.chance(0.6)) {
        g.types.push_back(static_cast<uint16_t>(rng.below(rs.events.size())));
        if (rng.chance(0.3)) {
            auto u = static_cast<uint16_t>(rng.below(rs.events.size()));
            if (u != g.types[0]) g.types.push_back(u);
        }
        std::sort(g.types.begin(), g.types.end());
    }
    g.type = ir::Type::Int;
    int64_t bound = 0;
    switch (rng.below(5)) {
    case 0:
        g.kind = ir::AggKind::Count;
        bound = 1 + static_cast<int64_t>(rng.below(4));
        break;
    case 1:
        g.kind = ir::AggKind::Sum;
        g.value = field(ir::EventRef::Current, 0, rng.chance(0.7) ? "x" : "o", g.types);
        bound = static_cast<int64_t>(rng.below(9));
        break;
    case 2:
        g.kind = ir::AggKind::Min;
        g.value = field(ir::EventRef::Current, 0, rng.chance(0.5) ? "x" : "o", g.types);
        bound = static_cast<int64_t>(rng.below(4));
        break;
    case 3:
        g.kind = ir::AggKind::Max;
        g.value = field(ir::EventRef::Current, 0, rng.chance(0.5) ? "x" : "o", g.types);
        bound = static_cast<int64_t>(rng.below(4));
        break;
    default:
        g.kind = ir::AggKind::Distinct;
        g.value = field(ir::EventRef::Current, 0, rng.chance(0.5) ? "k" : "s", g.types);
        bound = 1 + static_cast<int64_t>(rng.below(3));
        break;
    }
    if (rng.chance(0.25)) g.filter = field_cmp_const(g.types);
    ir::ExprId agg = aggregate(std::move(g));
    c.constant = ir::Value::integer(bound);
    return compare(rng.chance(0.5) ? ir::Op::Ge : random_cmp("x"), agg, add(std::move(c)));
}

ir::ExprId Builder::threshold_condition(const ir::Threshold& th) {
    ir::ExprId a = threshold_atom(th);
    return combine(a, threshold_atom(th));
}

ir::ExprId Builder::emit_value(const ir::Rule& rule) {
    static constexpr ir::AggKind kinds[] = {ir::AggKind::Count, ir::AggKind::Sum,      ir::AggKind::Min,
                                            ir::AggKind::Max,   ir::AggKind::Distinct, ir::AggKind::First,
                                            ir::AggKind::Last,  ir::AggKind::Avg};
    ir::Aggregate g;
    g.kind = kinds[rng.below(std::size(kinds))];
    std::vector<uint16_t> el;
    if (rule.kind == ir::RuleKind::Pattern) {
        std::vector<uint32_t> singles, collected;
        for (uint32_t i = 0; i < rule.pattern.steps.size(); ++i) {
            const ir::Step& s = rule.pattern.steps[i];
            if (s.kind == ir::StepKind::Positive) (s.collected() ? collected : singles).push_back(i);
        }
        if (collected.empty() || rng.chance(0.4)) {
            uint32_t i = singles.empty() ? 0 : singles[rng.below(singles.size())];
            if (singles.empty()) return ir::kNoExpr;
            return field(ir::EventRef::Step, i, kValueFields[rng.below(4)], rule.pattern.steps[i].types);
        }
        g.source = ir::AggSource::Step;
        g.step = collected[rng.below(collected.size())];
        el = rule.pattern.steps[g.step].types;
    } else {
        const ir::Threshold& th = rule.threshold;
        if (rng.chance(0.2) && th.scope == ir::ScopeKind::Session) {
            ir::Expr s;
            s.kind = ir::ExprKind::SessionAttr;
            s.attr = static_cast<ir::SessionAttr>(rng.below(4));
            static constexpr ir::Type types[] = {ir::Type::Duration, ir::Type::Int, ir::Type::Timestamp,
                                                 ir::Type::Timestamp};
            s.type = types[static_cast<int>(s.attr)];
            return add(std::move(s));
        }
        if (rng.chance(0.2) && !th.at_session_end && !th.on_types.empty())
            return field(ir::EventRef::Current, 0, kValueFields[rng.below(4)], th.on_types);
        g.source = ir::AggSource::Scope;
        if (rng.chance(0.6)) g.types.push_back(static_cast<uint16_t>(rng.below(rs.events.size())));
        el = g.types;
    }
    std::string_view name = rng.chance(0.6) ? "x" : "o";
    g.type = ir::Type::Int;
    if (g.kind == ir::AggKind::Avg) g.type = ir::Type::Float;
    if (g.kind == ir::AggKind::Distinct && rng.chance(0.5)) name = "k";
    if (g.kind != ir::AggKind::Count) g.value = field(ir::EventRef::Current, 0, name, el);
    if (rng.chance(0.2)) g.filter = field_cmp_const(el);
    return aggregate(std::move(g));
}

void Builder::add_emits(ir::Rule& rule) {
    auto n = rng.below(3);
    for (uint64_t i = 0; i < n; ++i) {
        ir::ExprId e = emit_value(rule);
        if (e != ir::kNoExpr) rule.emits.push_back({fmt::format("e{}", i), e});
    }
}

} // namespace ethogram::oracle
