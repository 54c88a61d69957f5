// sema_expr.cpp: name resolution, type checking and lowering of expressions (operators, fields, literals).
#include "compiler/sema/sema_expr_internal.h"

namespace ethogram::sema {

using compiler::suggest;
using ir::Type;

namespace {

bool numeric(Type t) {
    return t == Type::Int || t == Type::Float;
}

std::string tn(Type t) {
    return std::string(1, '`').append(ir::type_name(t)).append(1, '`');
}

ir::Op binary_op(const std::string& op) {
    static const std::pair<const char*, ir::Op> ops[] = {
        {"and", ir::Op::And}, {"or", ir::Op::Or}, {"==", ir::Op::Eq}, {"!=", ir::Op::Ne}, {"<", ir::Op::Lt},
        {"<=", ir::Op::Le},   {">", ir::Op::Gt},  {">=", ir::Op::Ge}, {"+", ir::Op::Add}, {"-", ir::Op::Sub},
        {"*", ir::Op::Mul},   {"/", ir::Op::Div}, {"%", ir::Op::Mod}};
    for (const auto& [s, o] : ops)
        if (op == s) return o;
    return ir::Op::None;
}

/// Result type of arithmetic `a op b`, Missing when the operands do not combine.
Type arith_type(ir::Op op, Type a, Type b) {
    if (numeric(a) && numeric(b)) return a == Type::Int && b == Type::Int ? Type::Int : Type::Float;
    switch (op) {
    case ir::Op::Add:
        if (a == Type::Duration && b == Type::Duration) return Type::Duration;
        if ((a == Type::Timestamp && b == Type::Duration) || (a == Type::Duration && b == Type::Timestamp))
            return Type::Timestamp;
        return Type::Missing;
    case ir::Op::Sub:
        if (a == Type::Duration && b == Type::Duration) return Type::Duration;
        if (a == Type::Timestamp && b == Type::Timestamp) return Type::Duration;
        if (a == Type::Timestamp && b == Type::Duration) return Type::Timestamp;
        return Type::Missing;
    case ir::Op::Mul:
        if ((a == Type::Duration && numeric(b)) || (numeric(a) && b == Type::Duration)) return Type::Duration;
        return Type::Missing;
    case ir::Op::Div:
        if (a == Type::Duration && b == Type::Duration) return Type::Float;
        return Type::Missing;
    default: return Type::Missing;
    }
}

bool same_enum(const ir::FieldDef* a, const ir::FieldDef* b) {
    return a && b && a->enum_values == b->enum_values;
}

} // namespace

Typed Sema::lower_bool(const ast::Expr& e, ExprCtx& ctx, const char* what) {
    Typed t = lower(e, ctx);
    if (t.ok && t.type != Type::Bool) {
        diags.error("E0502", e.span, std::string(what) + " must be `bool`, found " + tn(t.type));
        t.ok = false;
    }
    return t;
}

Typed ExprLowering::constant(ir::Value v, const ir::FieldDef* enum_def) {
    ir::Expr x;
    x.kind = ir::ExprKind::Const;
    x.type = v.type;
    x.constant = v;
    return {s.add(std::move(x)), v.type, enum_def, true};
}

bool ExprLowering::names_field(const ExprCtx& ctx, const std::string& n) const {
    if (!ctx.bare_fields || !ctx.has_current) return false;
    if (n == "dwell" && ctx.in_aggregate) return true;
    if (ctx.current_types.empty()) {
        for (uint16_t t = 0; t < s.rs.events.size(); ++t)
            if (s.field_slot(t, n) != ir::kNoField) return true;
        return false;
    }
    for (uint16_t t : ctx.current_types)
        if (s.field_slot(t, n) != ir::kNoField) return true;
    return false;
}

Typed ExprLowering::enum_value(const ast::Expr& e, const std::string& v, const ir::FieldDef* def) {
    for (size_t i = 0; i < def->enum_values.size(); ++i)
        if (def->enum_values[i] == v) return constant(ir::Value::enumeration(static_cast<int64_t>(i)), def);
    auto& d = s.diags.error("E0505", e.span, "`" + v + "` is not a value of enum field `" + def->name + "`");
    suggest(d, v, def->enum_values);
    return {};
}

Typed ExprLowering::field(const std::vector<uint16_t>& types_in, const ast::Ident& f, ir::EventRef ref,
                          uint32_t step, const ExprCtx& ctx, const std::string& owner, bool partial_ok) {
    if (f.text == "dwell") {
        if (!ctx.in_aggregate) {
            s.diags.error("E0508", f.span, "`dwell` is only available inside aggregates");
            return {};
        }
        ir::Expr x;
        x.kind = ir::ExprKind::Field;
        x.type = Type::Duration;
        x.ref = ref;
        x.step = step;
        x.field = ir::kFieldDwell;
        return {s.add(std::move(x)), Type::Duration, nullptr, true};
    }
    std::vector<uint16_t> types = types_in;
    if (types.empty())
        for (uint16_t t = 0; t < s.rs.events.size(); ++t) types.push_back(t);
    std::vector<uint16_t> slots(s.rs.events.size(), ir::kNoField);
    const ir::FieldDef* def = nullptr;
    uint16_t first_slot = ir::kNoField;
    const ir::EventType* lacking = nullptr;
    for (uint16_t t : types) {
        uint16_t slot = s.field_slot(t, f.text);
        if (slot == ir::kNoField) {
            if (!lacking) lacking = &s.rs.events[t];
            continue;
        }
        const ir::FieldDef& fd = s.rs.events[t].fields[slot];
        if (def && (fd.type != def->type || fd.enum_values != def->enum_values)) {
            s.diags.error("E0409", f.span,
                          "field `" + f.text + "` has different types in the event types of `" + owner + "`");
            return {};
        }
        if (!def) {
            def = &fd;
            first_slot = slot;
        }
        slots[t] = slot;
    }
    if (!def) {
        auto& d = s.diags.error("E0211", f.span, "unknown field `" + f.text + "` of `" + owner + "`");
        std::vector<std::string> names;
        for (uint16_t t : types)
            for (const auto& fd : s.rs.events[t].fields) names.push_back(fd.name);
        suggest(d, f.text, names);
        return {};
    }
    if (lacking && !partial_ok) {
        s.diags.error("E0409", f.span,
                      "field `" + f.text + "` is not common to the alternatives of `" + owner + "`: `" +
                          lacking->name + "` lacks it");
        return {};
    }
    ir::Expr x;
    x.kind = ir::ExprKind::Field;
    x.type = def->type;
    x.ref = ref;
    x.step = step;
    x.field = first_slot;
    if (types.size() > 1) x.field_by_type = std::move(slots);
    return {s.add(std::move(x)), def->type, def->type == Type::Enum ? def : nullptr, true};
}

Typed ExprLowering::name(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* hint) {
    const std::string& n = e.name.text;
    if (names_field(ctx, n))
        return field(ctx.current_types, e.name, ir::EventRef::Current, 0, ctx, ctx.current_name,
                     ctx.current_types.empty());
    if (hint) return enum_value(e, n, hint);
    auto& d = s.diags.error("E0211", e.span, "unknown field `" + n + "`");
    if (ctx.aliases && ctx.aliases->count(n)) {
        d.notes.push_back({"`" + n + "` is an alias: write `" + n + ".field`", std::nullopt});
    } else if (ctx.bare_fields && ctx.has_current) {
        std::vector<std::string> names;
        std::vector<uint16_t> types = ctx.current_types;
        if (types.empty())
            for (uint16_t t = 0; t < s.rs.events.size(); ++t) types.push_back(t);
        for (uint16_t t : types)
            for (const auto& fd : s.rs.events[t].fields) names.push_back(fd.name);
        suggest(d, n, names);
    }
    return {};
}

Typed ExprLowering::member(const ast::Expr& e, ExprCtx& ctx) {
    const std::string& obj = e.name.text;
    // The current event under its own name: a step's alias, an aggregate's source, a session end's type.
    if (!ctx.current_name.empty() && obj == ctx.current_name && ctx.has_current)
        return field(ctx.current_types, e.member, ir::EventRef::Current, 0, ctx, obj,
                     ctx.current_types.empty());
    if (ctx.aliases) {
        if (auto it = ctx.aliases->find(obj); it != ctx.aliases->end()) {
            const AliasInfo& a = it->second;
            if (a.negated) {
                s.diags.error("E0406", e.name.span,
                              "negated alias `" + obj + "` can only be used in its own condition");
                return {};
            }
            if (a.collected) {
                s.diags.error("E0405", e.span,
                              "`" + obj +
                                  "` is collected (quantified): use an aggregate such as "
                                  "`count(" +
                                  obj + ")` or `last(" + obj + "." + e.member.text + ")`");
                return {};
            }
            if (a.step >= ctx.bound_before) {
                s.diags.error("E0403", e.name.span, "alias `" + obj + "` is used before it is bound");
                return {};
            }
            return field(a.types, e.member, ir::EventRef::Step, a.step, ctx, obj, false);
        }
    }
    if (obj == "session") return session_attr(e, ctx);
    if (auto it = s.event_index.find(obj); it != s.event_index.end() && !ctx.aliases) {
        uint16_t type = it->second;
        if (ctx.in_aggregate) {
            s.diags.error("E0508", e.name.span,
                          "inside an aggregate, fields belong to the aggregated events `" + ctx.current_name +
                              "`");
            return {};
        }
        bool on = false;
        for (uint16_t t : ctx.on_types) on = on || t == type;
        if (ctx.kind != CtxKind::Threshold || !on) {
            s.diags.error("E0506", e.span,
                          "`" + obj + "." + e.member.text +
                              "` reads the triggering event: the "
                              "rule needs `on " +
                              obj + "` (or use an aggregate)");
            return {};
        }
        Typed t = field({type}, e.member, ir::EventRef::Current, 0, ctx, obj, false);
        if (t.ok && ctx.on_types.size() > 1 && s.rs.exprs[t.id].field != ir::kFieldDwell) {
            auto& x = s.rs.exprs[t.id];
            x.field_by_type.assign(s.rs.events.size(), ir::kNoField);
            x.field_by_type[type] = x.field;
        }
        return t;
    }
    if (ctx.aliases) {
        auto& d = s.diags.error("E0401", e.name.span, "unknown alias `" + obj + "`");
        std::vector<std::string> names;
        for (const auto& [k, v] : *ctx.aliases) names.push_back(k);
        suggest(d, obj, names);
        return {};
    }
    auto& d = s.diags.error("E0201", e.name.span, "unknown event type `" + obj + "`");
    auto names = s.event_names();
    names.push_back("session");
    suggest(d, obj, names);
    return {};
}

Typed ExprLowering::session_attr(const ast::Expr& e, ExprCtx& ctx) {
    static const std::vector<std::string> attrs = {"duration", "events", "start", "last"};
    static const Type types[] = {Type::Duration, Type::Int, Type::Timestamp, Type::Timestamp};
    if (!ctx.session_scope) {
        s.diags.error("E0507", e.span, "`session." + e.member.text + "` needs `over session NAME`");
        return {};
    }
    for (size_t i = 0; i < attrs.size(); ++i) {
        if (attrs[i] != e.member.text) continue;
        ir::Expr x;
        x.kind = ir::ExprKind::SessionAttr;
        x.attr = static_cast<ir::SessionAttr>(i);
        x.type = types[i];
        return {s.add(std::move(x)), types[i], nullptr, true};
    }
    auto& d =
        s.diags.error("E0507", e.member.span,
                      "unknown session attribute `" + e.member.text + "` (duration, events, start or last)");
    suggest(d, e.member.text, attrs);
    return {};
}

Typed ExprLowering::unary(const ast::Expr& e, ExprCtx& ctx) {
    Typed a = lower(*e.children[0], ctx, nullptr);
    if (!a.ok) return {};
    if (e.op == "not") {
        if (a.type != Type::Bool) {
            s.diags.error("E0502", e.children[0]->span,
                          "operand of `not` must be `bool`, found " + tn(a.type));
            return {};
        }
    } else if (!numeric(a.type) && a.type != Type::Duration) {
        s.diags.error("E0501", e.span, "type mismatch: cannot negate " + tn(a.type));
        return {};
    }
    const ir::Expr& in = s.rs.exprs[a.id];
    if (e.op == "-" && in.kind == ir::ExprKind::Const) {
        // Fold `-literal` so that negative constants stay constants (lists, confidence).
        ir::Value v = in.constant;
        if (v.type == Type::Float)
            v.f = -v.f;
        else
            v.i = -v.i;
        s.rs.exprs.pop_back();
        return constant(v, nullptr);
    }
    ir::Expr x;
    x.kind = ir::ExprKind::Unary;
    x.op = e.op == "not" ? ir::Op::Not : ir::Op::Neg;
    x.type = a.type;
    x.a = a.id;
    return {s.add(std::move(x)), a.type, nullptr, true};
}

bool ExprLowering::literalish(const ast::Expr& e, const ExprCtx& ctx) const {
    return e.kind == ast::ExprKind::String ||
           (e.kind == ast::ExprKind::Name && !names_field(ctx, e.name.text));
}

Typed ExprLowering::binary(const ast::Expr& e, ExprCtx& ctx) {
    ir::Op op = binary_op(e.op);
    const ast::Expr& l = *e.children[0];
    const ast::Expr& r = *e.children[1];
    Typed a, b;
    // Enum values are resolved against the other operand: lower the side that is not a bare name first.
    // When that side fails, the bare name is not checked: its error would only be a consequence.
    if (literalish(l, ctx) && !literalish(r, ctx)) {
        b = lower(r, ctx, nullptr);
        if (!b.ok) return {};
        a = lower(l, ctx, b.enum_def);
    } else {
        a = lower(l, ctx, nullptr);
        if (!a.ok && literalish(r, ctx)) return {};
        b = lower(r, ctx, a.ok ? a.enum_def : nullptr);
    }
    if (!a.ok || !b.ok) return {};
    ir::Expr x;
    x.kind = ir::ExprKind::Binary;
    x.op = op;
    x.a = a.id;
    x.b = b.id;
    auto mismatch = [&](const char* why) {
        s.diags.error("E0501", e.span,
                      std::string("type mismatch: cannot ") + why + " " + tn(a.type) + " and " + tn(b.type) +
                          " with `" + e.op + "`");
        return Typed{};
    };
    switch (op) {
    case ir::Op::And:
    case ir::Op::Or:
        for (const auto* side : {&a, &b}) {
            if (side->type != Type::Bool) {
                const ast::Expr& at = side == &a ? l : r;
                s.diags.error("E0502", at.span,
                              "operand of `" + e.op + "` must be `bool`, found " + tn(side->type));
                return {};
            }
        }
        x.type = Type::Bool;
        break;
    case ir::Op::Eq:
    case ir::Op::Ne:
    case ir::Op::Lt:
    case ir::Op::Le:
    case ir::Op::Gt:
    case ir::Op::Ge: {
        bool ordering = op != ir::Op::Eq && op != ir::Op::Ne;
        bool comparable = (numeric(a.type) && numeric(b.type)) || a.type == b.type;
        if (comparable && a.type == Type::Enum && !same_enum(a.enum_def, b.enum_def)) comparable = false;
        if (!comparable) return mismatch("compare");
        if (ordering && (a.type == Type::Bool || a.type == Type::Enum || a.type == Type::String))
            return mismatch("order");
        x.type = Type::Bool;
        break;
    }
    default: {
        Type t = arith_type(op, a.type, b.type);
        if (op == ir::Op::Mod && !(numeric(a.type) && numeric(b.type))) t = Type::Missing;
        if (t == Type::Missing) return mismatch("combine");
        x.type = t;
        break;
    }
    }
    Type t = x.type;
    return {s.add(std::move(x)), t, nullptr, true};
}

Typed ExprLowering::in_list(const ast::Expr& e, ExprCtx& ctx) {
    Typed a = lower(*e.children[0], ctx, nullptr);
    if (!a.ok) return {};
    ir::Expr x;
    x.kind = ir::ExprKind::InList;
    x.op = e.op == "in" ? ir::Op::In : ir::Op::NotIn;
    x.type = Type::Bool;
    x.a = a.id;
    for (size_t i = 1; i < e.children.size(); ++i) {
        const ast::Expr& el = *e.children[i];
        Typed v = lower(el, ctx, a.enum_def);
        if (!v.ok) return {};
        const ir::Expr& ve = s.rs.exprs[v.id];
        if (ve.kind != ir::ExprKind::Const) {
            s.diags.error("E0413", el.span, "the elements of an `in` list must be constants");
            return {};
        }
        if (!(v.type == a.type || (numeric(v.type) && numeric(a.type)))) {
            s.diags.error("E0501", el.span,
                          "type mismatch: list element is " + tn(v.type) + ", tested value is " + tn(a.type));
            return {};
        }
        x.list.push_back(ve.constant);
    }
    return {s.add(std::move(x)), Type::Bool, nullptr, true};
}

Typed ExprLowering::lower(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* hint) {
    switch (e.kind) {
    case ast::ExprKind::Int: return constant(ir::Value::integer(e.int_value), nullptr);
    case ast::ExprKind::Float: return constant(ir::Value::real(e.float_value), nullptr);
    case ast::ExprKind::Bool: return constant(ir::Value::boolean(e.int_value != 0), nullptr);
    case ast::ExprKind::Duration: return constant(ir::Value::duration(e.int_value), nullptr);
    case ast::ExprKind::String:
        if (hint) return enum_value(e, e.str_value, hint);
        return constant(ir::Value::string(s.intern(e.str_value)), nullptr);
    case ast::ExprKind::Name: return name(e, ctx, hint);
    case ast::ExprKind::Member: return member(e, ctx);
    case ast::ExprKind::Call: return call(e, ctx);
    case ast::ExprKind::Unary: return unary(e, ctx);
    case ast::ExprKind::Binary: return binary(e, ctx);
    case ast::ExprKind::InList: return in_list(e, ctx);
    case ast::ExprKind::Filtered:
        s.diags.error("E0504", e.span, "`where` filters only apply to aggregate arguments");
        return {};
    }
    return {};
}

Typed Sema::lower(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* enum_hint) {
    return ExprLowering{*this}.lower(e, ctx, enum_hint);
}

} // namespace ethogram::sema
