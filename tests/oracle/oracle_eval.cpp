// oracle_eval.cpp: naive expression and aggregate evaluation for the oracle (recomputes everything).
#include "tests/oracle/oracle_eval.h"

#include "tests/oracle/oracle.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace ethogram::oracle {
namespace {

using ir::Type;
using ir::Value;

bool is_real(const Value& v) {
    return v.type == Type::Float;
}

double as_double(const Value& v) {
    return is_real(v) ? v.f : static_cast<double>(v.i);
}

/// Three-way compare of two present values; nullopt when they are not comparable.
std::optional<int> compare(const Value& a, const Value& b) {
    if (a.is_missing() || b.is_missing()) return std::nullopt;
    if (a.type == Type::Bool || b.type == Type::Bool) {
        if (a.type != b.type) return std::nullopt;
        return static_cast<int>(a.b) - static_cast<int>(b.b);
    }
    if (is_real(a) || is_real(b)) {
        double x = as_double(a), y = as_double(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
}

bool same_value(const Value& a, const Value& b) {
    auto c = compare(a, b);
    return c && *c == 0;
}

const ir::Event* step_event(const EvalCtx& ctx, uint32_t step) {
    if (!ctx.steps || step >= ctx.steps->size() || (*ctx.steps)[step].empty()) return nullptr;
    return (*ctx.steps)[step].front();
}

Value read_field(const ir::Expr& x, const ir::Event* ev) {
    if (!ev) return Value::missing();
    uint16_t slot = x.field_by_type.empty() ? x.field : x.field_by_type[ev->type];
    if (slot == ir::kNoField || slot >= ev->fields.size()) return Value::missing();
    return ev->fields[slot];
}

Value arith(ir::Op op, const Value& a, const Value& b, Type result) {
    if (a.is_missing() || b.is_missing()) return Value::missing();
    if (result == Type::Float) {
        double x = as_double(a), y = as_double(b);
        switch (op) {
        case ir::Op::Add: return Value::real(x + y);
        case ir::Op::Sub: return Value::real(x - y);
        case ir::Op::Mul: return Value::real(x * y);
        case ir::Op::Div: return y == 0 ? Value::missing() : Value::real(x / y);
        default: return Value::missing();
        }
    }
    int64_t x = a.i, y = b.i, r = 0;
    switch (op) {
    case ir::Op::Add: r = x + y; break;
    case ir::Op::Sub: r = x - y; break;
    case ir::Op::Mul: r = x * y; break;
    case ir::Op::Div:
        if (y == 0) return Value::missing();
        r = x / y;
        break;
    case ir::Op::Mod:
        if (y == 0) return Value::missing();
        r = x % y;
        break;
    default: return Value::missing();
    }
    Value v;
    v.type = result;
    v.i = r;
    return v;
}

Value eval_binary(const EvalCtx& ctx, const ir::Expr& x) {
    using ir::Op;
    if (x.op == Op::And) {
        Value a = eval(ctx, x.a);
        if (a.type != Type::Bool || !a.b) return Value::boolean(false);
        Value b = eval(ctx, x.b);
        return Value::boolean(b.type == Type::Bool && b.b);
    }
    if (x.op == Op::Or) {
        Value a = eval(ctx, x.a);
        if (a.type == Type::Bool && a.b) return Value::boolean(true);
        Value b = eval(ctx, x.b);
        return Value::boolean(b.type == Type::Bool && b.b);
    }
    Value a = eval(ctx, x.a), b = eval(ctx, x.b);
    auto c = compare(a, b);
    switch (x.op) {
    case Op::Eq: return Value::boolean(c && *c == 0);
    case Op::Ne: return Value::boolean(c && *c != 0);
    case Op::Lt: return Value::boolean(c && *c < 0);
    case Op::Le: return Value::boolean(c && *c <= 0);
    case Op::Gt: return Value::boolean(c && *c > 0);
    case Op::Ge: return Value::boolean(c && *c >= 0);
    default: return arith(x.op, a, b, x.type);
    }
}

/// The elements of an aggregate: source events of the right types that pass the filter.
std::vector<const ir::Event*> elements(const EvalCtx& ctx, const ir::Aggregate& g) {
    std::vector<const ir::Event*> out;
    const std::vector<const ir::Event*>* src = nullptr;
    if (g.source == ir::AggSource::Step) {
        if (ctx.steps && g.step < ctx.steps->size()) src = &(*ctx.steps)[g.step];
    } else {
        src = ctx.scope;
    }
    if (!src) return out;
    for (const ir::Event* e : *src) {
        if (g.source == ir::AggSource::Scope && !g.types.empty() &&
            std::find(g.types.begin(), g.types.end(), e->type) == g.types.end())
            continue;
        EvalCtx sub = ctx;
        sub.current = e;
        if (!holds(sub, g.filter)) continue;
        out.push_back(e);
    }
    return out;
}

Value eval_aggregate(const EvalCtx& ctx, const ir::Aggregate& g) {
    std::vector<const ir::Event*> els = elements(ctx, g);
    if (g.kind == ir::AggKind::Count) return Value::integer(static_cast<int64_t>(els.size()));
    std::vector<Value> vals; // present values only: aggregates skip missing values
    for (const ir::Event* e : els) {
        EvalCtx sub = ctx;
        sub.current = e;
        Value v = eval(sub, g.value);
        if (!v.is_missing()) vals.push_back(v);
    }
    switch (g.kind) {
    case ir::AggKind::Sum: {
        if (g.type == Type::Float) {
            double s = 0;
            for (auto& v : vals) s += as_double(v);
            return Value::real(s);
        }
        int64_t s = 0;
        for (auto& v : vals) s += v.i;
        Value r;
        r.type = g.type;
        r.i = s;
        return r;
    }
    case ir::AggKind::Avg: {
        if (vals.empty()) return Value::missing();
        double s = 0;
        for (auto& v : vals) s += as_double(v);
        return Value::real(s / static_cast<double>(vals.size()));
    }
    case ir::AggKind::Min:
    case ir::AggKind::Max: {
        if (vals.empty()) return Value::missing();
        Value best = vals.front();
        for (auto& v : vals) {
            auto c = compare(v, best);
            if (c && ((g.kind == ir::AggKind::Min && *c < 0) || (g.kind == ir::AggKind::Max && *c > 0)))
                best = v;
        }
        return best;
    }
    case ir::AggKind::Distinct: {
        std::vector<Value> seen;
        for (auto& v : vals) {
            bool dup = false;
            for (auto& s : seen) dup = dup || same_value(s, v);
            if (!dup) seen.push_back(v);
        }
        return Value::integer(static_cast<int64_t>(seen.size()));
    }
    case ir::AggKind::First: return vals.empty() ? Value::missing() : vals.front();
    case ir::AggKind::Last: return vals.empty() ? Value::missing() : vals.back();
    default: return Value::missing(); // behavioural features: never generated
    }
}

} // namespace

Value eval(const EvalCtx& ctx, ir::ExprId id) {
    const ir::Expr& x = ctx.rs->exprs[id];
    switch (x.kind) {
    case ir::ExprKind::Const: return x.constant;
    case ir::ExprKind::Field:
        return read_field(x, x.ref == ir::EventRef::Current ? ctx.current : step_event(ctx, x.step));
    case ir::ExprKind::SessionAttr:
        switch (x.attr) {
        case ir::SessionAttr::Duration: return Value::duration(ctx.session_last - ctx.session_start);
        case ir::SessionAttr::Events: return Value::integer(ctx.session_events);
        case ir::SessionAttr::Start: return Value::timestamp(ctx.session_start);
        case ir::SessionAttr::Last: return Value::timestamp(ctx.session_last);
        }
        return Value::missing();
    case ir::ExprKind::Unary: {
        Value a = eval(ctx, x.a);
        if (a.is_missing()) return a;
        if (x.op == ir::Op::Not) return Value::boolean(!a.b);
        if (a.type == Type::Float) return Value::real(-a.f);
        Value r = a;
        r.i = -a.i;
        return r;
    }
    case ir::ExprKind::Binary: return eval_binary(ctx, x);
    case ir::ExprKind::InList: {
        Value a = eval(ctx, x.a);
        if (a.is_missing()) return Value::boolean(false);
        bool in = false;
        for (auto& c : x.list) in = in || same_value(a, c);
        return Value::boolean(x.op == ir::Op::NotIn ? !in : in);
    }
    case ir::ExprKind::Call: {
        if (x.fn == ir::Builtin::Has) {
            return Value::boolean(!eval(ctx, x.args.at(0)).is_missing());
        }
        if (x.fn == ir::Builtin::Abs) {
            Value a = eval(ctx, x.args.at(0));
            if (a.is_missing()) return a;
            if (a.type == Type::Float) return Value::real(a.f < 0 ? -a.f : a.f);
            a.i = std::llabs(a.i);
            return a;
        }
        return Value::missing(); // string builtins: never generated
    }
    case ir::ExprKind::Aggregate: return eval_aggregate(ctx, ctx.rs->aggregates[x.agg]);
    case ir::ExprKind::Model: return Value::missing(); // model calls: never generated
    }
    return Value::missing();
}

bool holds(const EvalCtx& ctx, ir::ExprId id) {
    if (id == ir::kNoExpr) return true;
    Value v = eval(ctx, id);
    return v.type == Type::Bool && v.b;
}

bool satisfies(const EvalCtx& ctx, const std::vector<uint16_t>& types, ir::ExprId pred, const ir::Event& e) {
    if (std::find(types.begin(), types.end(), e.type) == types.end()) return false;
    EvalCtx sub = ctx;
    sub.current = &e;
    return holds(sub, pred);
}

std::vector<std::string> emits(const ir::RuleSet& rs, uint32_t rule, const EvalCtx& ctx) {
    std::vector<std::string> out;
    for (const ir::Emit& em : rs.rules[rule].emits) out.push_back(render_value(eval(ctx, em.expr)));
    return out;
}

} // namespace ethogram::oracle
