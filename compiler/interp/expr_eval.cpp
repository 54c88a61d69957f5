// expr_eval.cpp: evaluation of ir::Expr trees.
#include "compiler/interp/expr_eval.h"

#include "compiler/interp/aggregates.h"
#include "compiler/interp/models_eval.h"
#include "compiler/interp/value_ops.h"

#include <bit>
#include <cctype>
#include <cstdlib>
#include <string>

#include <map>
#include <tuple>

namespace ethogram::interp {

using ir::Builtin;
using ir::ExprKind;
using ir::Op;
using ir::Type;
using ir::Value;

namespace {

// The event a Field expression reads, or null.
const StoredEvent* referenced_event(const ir::Expr& e, const EvalContext& ctx) {
    return e.ref == ir::EventRef::Current ? ctx.current : step_event(ctx, e.step);
}

std::string_view string_arg(const Value& v, const ir::StringPool& pool) {
    return pool.view(static_cast<uint32_t>(v.i));
}

} // namespace

Value read_field(const ir::Expr& e, const StoredEvent& se) {
    uint16_t slot = e.field;
    if (!e.field_by_type.empty()) {
        if (se.ev.type >= e.field_by_type.size()) return Value::missing();
        slot = e.field_by_type[se.ev.type];
    }
    if (slot == ir::kFieldDwell) return se.dwell();
    if (slot >= se.ev.fields.size()) return Value::missing();
    return se.ev.fields[slot];
}

bool element_or_dwell(const ir::RuleSet& rs, ir::ExprId id, bool* dwell) {
    if (id == ir::kNoExpr) return true;
    if (id >= rs.exprs.size()) return false;
    const ir::Expr& e = rs.exprs[id];
    switch (e.kind) {
    case ir::ExprKind::Const: return true;
    case ir::ExprKind::Field: {
        if (e.ref != ir::EventRef::Current) return false;
        bool reads = e.field_by_type.empty() && e.field == ir::kFieldDwell;
        for (uint16_t f : e.field_by_type) reads = reads || f == ir::kFieldDwell;
        if (!reads) return true;
        if (!dwell) return false;
        *dwell = true;
        return true;
    }
    case ir::ExprKind::Unary:
    case ir::ExprKind::Binary:
    case ir::ExprKind::InList:
    case ir::ExprKind::Call:
        for (ir::ExprId arg : e.args)
            if (!element_or_dwell(rs, arg, dwell)) return false;
        return element_or_dwell(rs, e.a, dwell) && element_or_dwell(rs, e.b, dwell);
    default: return false;
    }
}

bool element_only(const ir::RuleSet& rs, ir::ExprId id) {
    return element_or_dwell(rs, id, nullptr);
}

ExprEvaluator::Foldable fold_kind(const ir::RuleSet& rs, const ir::Aggregate& x) {
    using F = ExprEvaluator::Foldable;
    if (x.source != ir::AggSource::Scope) return F::No;
    bool dwell = x.kind == ir::AggKind::DwellTime && x.value == ir::kNoExpr;
    if (!element_or_dwell(rs, x.filter, &dwell) || !element_or_dwell(rs, x.value, &dwell)) return F::No;
    switch (x.kind) {
    case ir::AggKind::GapStd:
    case ir::AggKind::Burstiness: return F::No;
    case ir::AggKind::Distinct:
    case ir::AggKind::Entropy:
    case ir::AggKind::Backtracks:
    case ir::AggKind::BacktrackRate: return dwell ? F::No : F::Whole;
    default: return dwell ? F::KnownDwell : F::Whole;
    }
}

// The native paths are out of line (and taken rarely without native code: never), so that the
// interpreter's own path stays as it was: one compare more per root, no registers saved for it.

ExprEvaluator::ExprEvaluator(const ir::RuleSet& rs, ir::StringPool& pool) : rs_(rs), pool_(pool) {
    // Memo entries (open_memo): one per class of alike scope aggregates, named by its first member.
    const auto& aggs = rs_.aggregates;
    agg_class_.assign(aggs.size(), kNoWord);
    std::map<std::tuple<int, std::vector<uint16_t>, ir::ExprId, ir::ExprId, int>, uint32_t> first;
    for (uint32_t a = 0; a < aggs.size(); ++a) {
        const ir::Aggregate& x = aggs[a];
        if (x.source != ir::AggSource::Scope) continue;
        const auto key =
            std::make_tuple(static_cast<int>(x.kind), x.types, x.value, x.filter, static_cast<int>(x.type));
        agg_class_[a] = first.try_emplace(key, a).first->second;
    }
    memo_.resize(aggs.size());
    foldable_.resize(aggs.size());
    for (uint32_t a = 0; a < aggs.size(); ++a) foldable_[a] = fold_kind(rs_, aggs[a]);
}

Fold* ExprEvaluator::fold_of(const ir::Aggregate& agg, const SessionState& st) {
    const auto a = static_cast<size_t>(&agg - rs_.aggregates.data());
    if (a >= foldable_.size() || foldable_[a] == Foldable::No) return nullptr;
    SessionFolds* folds = st.events.folds();
    if (!folds) return nullptr;
    const uint32_t cls = agg_class_[a];
    for (Fold& f : *folds)
        if (f.agg == cls) return &f;
    Fold& f = folds->emplace_back();
    f.agg = cls;
    return &f;
}

bool ExprEvaluator::test(ir::ExprId id, const EvalContext& ctx) {
    // Without native code ntests_ is 0; kNoExpr is past every table.
    if (id < ntests_) [[unlikely]]
        return test_native(id, ctx);
    return holds(id, ctx);
}

bool ExprEvaluator::test_native(ir::ExprId id, const EvalContext& ctx) {
    if (const NativeTestFn fn = native_->tests[id]) {
        const int32_t r = fn(&ctx, this);
        if (r >= 0) return r != 0;
        // Negative: a value outside the types the code was specialised for; interpret instead.
    }
    if (id < nexprs_ && native_->exprs[id]) return holds_value(eval_native(id, ctx));
    return holds(id, ctx);
}

bool ExprEvaluator::holds(ir::ExprId id, const EvalContext& ctx) {
    return id == ir::kNoExpr || holds_value(interpret(id, ctx));
}

Value ExprEvaluator::eval(ir::ExprId id, const EvalContext& ctx) {
    // Without native code nexprs_ is 0; with it, the number of expressions (kNoExpr is past).
    if (id < nexprs_) [[unlikely]]
        return eval_native(id, ctx);
    return interpret(id, ctx);
}

Value ExprEvaluator::eval_native(ir::ExprId id, const EvalContext& ctx) {
    if (const NativeExprFn fn = native_->exprs[id]) {
        // The compiled code reads `ctx` (and its current event) directly: no frame to build.
        Value out;
        if (fn(&ctx, this, &out) == 0) return out;
        // Non-zero: a value outside the types the code was specialised for; interpret instead.
    }
    return interpret(id, ctx);
}

// Operands (below) are interpreted directly: compiled code exists for roots only (lower.cpp).
Value ExprEvaluator::interpret(ir::ExprId id, const EvalContext& ctx) {
    if (id == ir::kNoExpr || id >= rs_.exprs.size()) return Value::missing();
    const ir::Expr& e = rs_.exprs[id];
    switch (e.kind) {
    case ExprKind::Const: return e.constant;
    case ExprKind::Field: return field(e, ctx);
    case ExprKind::SessionAttr: return session_attr(e, ctx);
    case ExprKind::Unary: return unary(e, ctx);
    case ExprKind::Binary: return binary(e, ctx);
    case ExprKind::InList: return in_list(e, ctx);
    case ExprKind::Call: return call(e, ctx);
    case ExprKind::Aggregate:
        if (e.agg >= rs_.aggregates.size()) return Value::missing();
        return eval_aggregate(rs_.aggregates[e.agg], ctx, *this);
    case ExprKind::Model: return models_ ? models_->eval(e, key_models_) : Value::missing();
    }
    return Value::missing();
}

Value ExprEvaluator::field(const ir::Expr& e, const EvalContext& ctx) const {
    const StoredEvent* ev = referenced_event(e, ctx);
    return ev ? read_field(e, *ev) : Value::missing();
}

Value ExprEvaluator::session_attr(const ir::Expr& e, const EvalContext& ctx) const {
    const SessionState* s = ctx.session;
    if (!s || !s->open()) return Value::missing();
    switch (e.attr) {
    case ir::SessionAttr::Duration: return Value::duration(s->last() - s->start);
    case ir::SessionAttr::Events: return Value::integer(static_cast<int64_t>(s->count));
    case ir::SessionAttr::Start: return Value::timestamp(s->start);
    case ir::SessionAttr::Last: return Value::timestamp(s->last());
    }
    return Value::missing();
}

Value ExprEvaluator::unary(const ir::Expr& e, const EvalContext& ctx) {
    Value a = interpret(e.a, ctx);
    if (e.op == Op::Not) {
        // not(missing) is missing, which a predicate reads as false: see the class comment.
        if (a.type != Type::Bool) return Value::missing();
        return Value::boolean(!a.b);
    }
    if (e.op == Op::Neg) {
        switch (a.type) {
        case Type::Int:
        case Type::Duration:
            return apply_arithmetic(Op::Sub, a.type == Type::Int ? Value::integer(0) : Value::duration(0), a);
        case Type::Float: return Value::real(-a.f);
        default: return Value::missing();
        }
    }
    return Value::missing();
}

Value ExprEvaluator::binary(const ir::Expr& e, const EvalContext& ctx) {
    switch (e.op) {
    case Op::And: return Value::boolean(holds(e.a, ctx) && holds(e.b, ctx));
    case Op::Or: return Value::boolean(holds(e.a, ctx) || holds(e.b, ctx));
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
        Value a = interpret(e.a, ctx);
        Value b = interpret(e.b, ctx);
        return Value::boolean(apply_comparison(e.op, a, b, pool_));
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod: {
        Value a = interpret(e.a, ctx);
        Value b = interpret(e.b, ctx);
        return apply_arithmetic(e.op, a, b);
    }
    default: return Value::missing();
    }
}

Value ExprEvaluator::in_list(const ir::Expr& e, const EvalContext& ctx) {
    Value a = interpret(e.a, ctx);
    if (a.is_missing()) return Value::boolean(false);
    bool found = false;
    for (const Value& c : e.list)
        if (values_equal(a, c)) {
            found = true;
            break;
        }
    return Value::boolean(e.op == Op::NotIn ? !found : found);
}

Value ExprEvaluator::call(const ir::Expr& e, const EvalContext& ctx) {
    auto arg = [&](size_t i) { return i < e.args.size() ? interpret(e.args[i], ctx) : Value::missing(); };
    switch (e.fn) {
    case Builtin::StartsWith:
    case Builtin::EndsWith:
    case Builtin::Contains: {
        Value s = arg(0), p = arg(1);
        if (s.type != Type::String || p.type != Type::String) return Value::boolean(false);
        std::string_view sv = string_arg(s, pool_), pv = string_arg(p, pool_);
        bool r = e.fn == Builtin::StartsWith ? sv.starts_with(pv)
                 : e.fn == Builtin::EndsWith ? sv.ends_with(pv)
                                             : sv.find(pv) != std::string_view::npos;
        return Value::boolean(r);
    }
    case Builtin::Lower: {
        Value s = arg(0);
        if (s.type != Type::String) return Value::missing();
        std::string low(string_arg(s, pool_));
        for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return Value::string(pool_.intern(low));
    }
    case Builtin::Len: {
        Value s = arg(0);
        if (s.type != Type::String) return Value::missing();
        return Value::integer(static_cast<int64_t>(string_arg(s, pool_).size()));
    }
    case Builtin::Has: return Value::boolean(!arg(0).is_missing());
    case Builtin::Abs: {
        Value x = arg(0);
        if (x.type == Type::Float) return Value::real(x.f < 0 ? -x.f : x.f);
        if (x.type == Type::Int || x.type == Type::Duration) {
            if (x.i >= 0) return x;
            Value zero = x.type == Type::Int ? Value::integer(0) : Value::duration(0);
            return apply_arithmetic(Op::Sub, zero, x);
        }
        return Value::missing();
    }
    }
    return Value::missing();
}

} // namespace ethogram::interp
