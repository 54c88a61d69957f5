// sema_calls.cpp: lowering of function calls: scalar builtins, aggregates and behavioural features.
#include "compiler/sema/sema_expr_internal.h"

namespace ethogram::sema {

using compiler::suggest;
using ir::Type;

namespace {

struct AggInfo {
    const char* name;
    ir::AggKind kind;
    bool takes_field; ///< `X.f` (else `X`)
};

const AggInfo kAggs[] = {
    {"count", ir::AggKind::Count, false},
    {"sum", ir::AggKind::Sum, true},
    {"avg", ir::AggKind::Avg, true},
    {"min", ir::AggKind::Min, true},
    {"max", ir::AggKind::Max, true},
    {"distinct", ir::AggKind::Distinct, true},
    {"first", ir::AggKind::First, true},
    {"last", ir::AggKind::Last, true},
    {"dwell_time", ir::AggKind::DwellTime, false},
    {"entropy", ir::AggKind::Entropy, true},
    {"backtracks", ir::AggKind::Backtracks, true},
    {"backtrack_rate", ir::AggKind::BacktrackRate, true},
    {"transitions", ir::AggKind::Transitions, true},
    {"burstiness", ir::AggKind::Burstiness, false},
    {"gap_mean", ir::AggKind::GapMean, false},
    {"gap_std", ir::AggKind::GapStd, false},
    {"gap_min", ir::AggKind::GapMin, false},
    {"gap_max", ir::AggKind::GapMax, false},
};

struct ScalarInfo {
    const char* name;
    ir::Builtin fn;
    size_t arity;
};

const ScalarInfo kScalars[] = {
    {"starts_with", ir::Builtin::StartsWith, 2},
    {"ends_with", ir::Builtin::EndsWith, 2},
    {"contains", ir::Builtin::Contains, 2},
    {"lower", ir::Builtin::Lower, 1},
    {"len", ir::Builtin::Len, 1},
    {"has", ir::Builtin::Has, 1},
    {"abs", ir::Builtin::Abs, 1},
};

bool numeric(Type t) {
    return t == Type::Int || t == Type::Float;
}
std::string tn(Type t) {
    return std::string(1, '`').append(ir::type_name(t)).append(1, '`');
}

} // namespace

Typed ExprLowering::call(const ast::Expr& e, ExprCtx& ctx) {
    const std::string& n = e.name.text;
    bool handled = false;
    Typed m = model_call(e, ctx, handled);
    if (handled) return m;
    for (const auto& a : kAggs)
        if (n == a.name) return aggregate(e, ctx, a.kind, a.takes_field);
    for (const auto& f : kScalars) {
        if (n != f.name) continue;
        if (e.children.size() != f.arity) {
            s.diags.error("E0504", e.span,
                          "`" + n + "` takes " + std::to_string(f.arity) + " argument" +
                              (f.arity == 1 ? "" : "s") + ", found " + std::to_string(e.children.size()));
            return {};
        }
        return scalar_call(e, ctx, f.fn);
    }
    auto& d = s.diags.error("E0503", e.name.span, "unknown function `" + n + "`");
    std::vector<std::string> names;
    for (const auto& a : kAggs) names.push_back(a.name);
    for (const auto& f : kScalars) names.push_back(f.name);
    for (const char* f : {"evidence", "confident", "surprise", "loglik", "predict_next", "predict_prob",
                          "next_prob", "hidden_state", "state_prob", "class_prob", "predicted_class"})
        names.push_back(f);
    suggest(d, n, names);
    return {};
}

Typed ExprLowering::scalar_call(const ast::Expr& e, ExprCtx& ctx, ir::Builtin fn) {
    std::vector<Typed> args;
    for (const auto& c : e.children) {
        if (c->kind == ast::ExprKind::Filtered) {
            s.diags.error("E0504", c->span, "`where` filters only apply to aggregate arguments");
            return {};
        }
        Typed t = lower(*c, ctx, nullptr);
        if (!t.ok) return {};
        args.push_back(t);
    }
    Type result = Type::Bool;
    auto bad = [&](size_t i, const char* want) {
        s.diags.error("E0501", e.children[i]->span,
                      "type mismatch: `" + e.name.text + "` expects " + want + ", found " + tn(args[i].type));
        return Typed{};
    };
    switch (fn) {
    case ir::Builtin::StartsWith:
    case ir::Builtin::EndsWith:
    case ir::Builtin::Contains:
        for (size_t i = 0; i < 2; ++i)
            if (args[i].type != Type::String) return bad(i, "`string`");
        break;
    case ir::Builtin::Lower:
        if (args[0].type != Type::String) return bad(0, "`string`");
        result = Type::String;
        break;
    case ir::Builtin::Len:
        if (args[0].type != Type::String) return bad(0, "`string`");
        result = Type::Int;
        break;
    case ir::Builtin::Has:
        if (s.rs.exprs[args[0].id].kind != ir::ExprKind::Field) {
            s.diags.error("E0504", e.children[0]->span, "`has` takes a field, such as `has(a.sku)`");
            return {};
        }
        break;
    case ir::Builtin::Abs:
        if (!numeric(args[0].type) && args[0].type != Type::Duration) return bad(0, "a number or duration");
        result = args[0].type;
        break;
    }
    ir::Expr x;
    x.kind = ir::ExprKind::Call;
    x.fn = fn;
    x.type = result;
    for (const auto& a : args) x.args.push_back(a.id);
    return {s.add(std::move(x)), result, nullptr, true};
}

Typed ExprLowering::aggregate(const ast::Expr& e, ExprCtx& ctx, ir::AggKind kind, bool takes_field) {
    const std::string& fname = e.name.text;
    if (ctx.in_aggregate) {
        s.diags.error("E0508", e.span, "aggregates cannot be nested");
        return {};
    }
    if (!ctx.aggregates_allowed) {
        s.diags.error("E0508", e.span, "aggregates are not allowed here");
        return {};
    }
    const char* form = takes_field ? "(X.field [where ...])" : "(X [where ...])";
    if (e.children.size() != 1) {
        s.diags.error("E0504", e.span, "`" + fname + "` takes one argument: `" + fname + form + "`");
        return {};
    }
    const ast::Expr* arg = e.children[0].get();
    const ast::Expr* filter = nullptr;
    if (arg->kind == ast::ExprKind::Filtered) {
        filter = arg->children[1].get();
        arg = arg->children[0].get();
    }
    bool shape_ok = takes_field ? arg->kind == ast::ExprKind::Member : arg->kind == ast::ExprKind::Name;
    if (!shape_ok) {
        s.diags.error("E0504", arg->span, "`" + fname + "` takes `" + fname + form + "`");
        return {};
    }
    const ast::Ident& src = arg->name;
    ir::Aggregate agg;
    agg.kind = kind;
    ExprCtx el = ctx;
    el.has_current = true;
    el.bare_fields = true;
    el.in_aggregate = true;
    el.current_name = src.text;
    el.own_negated.clear();
    bool any = false;
    if (ctx.aliases) {
        auto it = ctx.aliases->find(src.text);
        if (it == ctx.aliases->end()) {
            auto& d = s.diags.error("E0401", src.span, "unknown alias `" + src.text + "`");
            std::vector<std::string> names;
            for (const auto& [k, v] : *ctx.aliases) names.push_back(k);
            suggest(d, src.text, names);
            if (s.event_index.count(src.text) || src.text == "any")
                d.notes.push_back(
                    {"aggregates in a pattern rule range over collected (quantified) aliases", std::nullopt});
            return {};
        }
        const AliasInfo& a = it->second;
        if (a.negated) {
            s.diags.error("E0406", src.span,
                          "negated alias `" + src.text + "` can only be used in its own condition");
            return {};
        }
        if (!a.collected) {
            s.diags.error("E0404", src.span,
                          "`" + fname + "` over `" + src.text +
                              "`, which binds a single event: quantify its step (e.g. `" + src.text +
                              ": T+`) or use `" + src.text + ".field`");
            return {};
        }
        if (a.step >= ctx.bound_before) {
            s.diags.error("E0403", src.span, "alias `" + src.text + "` is used before it is bound");
            return {};
        }
        agg.source = ir::AggSource::Step;
        agg.step = a.step;
        el.current_types = a.types;
    } else {
        agg.source = ir::AggSource::Scope;
        if (src.text == "any") {
            any = true;
            el.current_types.clear();
        } else {
            int t = s.find_event(src, false);
            if (t < 0) {
                auto& d = s.diags.error("E0201", src.span, "unknown event type `" + src.text + "`");
                auto names = s.event_names();
                names.push_back("any");
                suggest(d, src.text, names);
                return {};
            }
            agg.types = {static_cast<uint16_t>(t)};
            el.current_types = agg.types;
        }
    }
    Type result = Type::Int;
    const ir::FieldDef* enum_def = nullptr;
    if (takes_field) {
        Typed v = field(el.current_types, arg->member, ir::EventRef::Current, 0, el, src.text, any);
        if (!v.ok) return {};
        agg.value = v.id;
        Type vt = v.type;
        auto bad = [&](const char* want) {
            s.diags.error("E0501", arg->span,
                          "type mismatch: `" + fname + "` needs " + want + ", found " + tn(vt));
            return Typed{};
        };
        switch (kind) {
        case ir::AggKind::Sum:
            if (!numeric(vt) && vt != Type::Duration) return bad("a number or duration");
            result = vt;
            break;
        case ir::AggKind::Avg:
            if (!numeric(vt) && vt != Type::Duration) return bad("a number or duration");
            result = vt == Type::Duration ? Type::Duration : Type::Float;
            break;
        case ir::AggKind::Min:
        case ir::AggKind::Max:
            if (!numeric(vt) && vt != Type::Duration && vt != Type::Timestamp)
                return bad("a number, duration or timestamp");
            result = vt;
            break;
        case ir::AggKind::First:
        case ir::AggKind::Last:
            result = vt;
            enum_def = v.enum_def;
            break;
        case ir::AggKind::Entropy:
        case ir::AggKind::BacktrackRate: result = Type::Float; break;
        default: result = Type::Int; break; // distinct, backtracks, transitions
        }
    } else {
        switch (kind) {
        case ir::AggKind::DwellTime: {
            ir::Expr dw;
            dw.kind = ir::ExprKind::Field;
            dw.type = Type::Duration;
            dw.field = ir::kFieldDwell;
            agg.value = s.add(std::move(dw));
            result = Type::Duration;
            break;
        }
        case ir::AggKind::Burstiness: result = Type::Float; break;
        case ir::AggKind::GapMean:
        case ir::AggKind::GapStd:
        case ir::AggKind::GapMin:
        case ir::AggKind::GapMax: result = Type::Duration; break;
        default: result = Type::Int; break; // count
        }
    }
    if (filter) {
        Typed f = s.lower_bool(*filter, el, "aggregate filter");
        if (!f.ok) return {};
        agg.filter = f.id;
    }
    agg.type = result;
    s.rs.aggregates.push_back(std::move(agg));
    ir::Expr x;
    x.kind = ir::ExprKind::Aggregate;
    x.type = result;
    x.agg = static_cast<uint32_t>(s.rs.aggregates.size() - 1);
    return {s.add(std::move(x)), result, enum_def, true};
}

} // namespace ethogram::sema
