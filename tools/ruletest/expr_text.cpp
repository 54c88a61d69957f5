// expr_text.cpp: IR expressions back to readable rule-language text (coverage reports and diffs).
#include "runtime/json_writer.h"
#include "runtime/time.h"
#include "tools/ruletest/report.h"

#include <fmt/format.h>

#include <utility>

namespace ethogram::ruletest {

namespace {

class Printer {
public:
    Printer(const ir::RuleSet& rs, const ir::Rule& rule, std::string alias)
        : rs_(rs), rule_(rule), alias_(std::move(alias)) {}

    std::string expr(ir::ExprId id, const std::vector<uint16_t>& cur, ir::Op parent = ir::Op::None) const {
        if (id == ir::kNoExpr || id >= rs_.exprs.size()) return "true";
        const ir::Expr& e = rs_.exprs[id];
        switch (e.kind) {
        case ir::ExprKind::Const: return value(e.constant, nullptr);
        case ir::ExprKind::Field: return field(e, cur);
        case ir::ExprKind::SessionAttr: {
            static const char* names[] = {"duration", "events", "start", "last"};
            return std::string("session.") + names[static_cast<size_t>(e.attr)];
        }
        case ir::ExprKind::Unary:
            return fmt::format("{}{}", e.op == ir::Op::Not ? "not " : "-", expr(e.a, cur, e.op));
        case ir::ExprKind::Binary: {
            std::string a = operand(e.a, e.b, cur, e.op), b = operand(e.b, e.a, cur, e.op);
            std::string s = a + " " + std::string(ir::op_spelling(e.op)) + " " + b;
            const bool logical = e.op == ir::Op::And || e.op == ir::Op::Or;
            if (parent != ir::Op::None && parent != e.op && (logical || parent == ir::Op::Not))
                return "(" + s + ")";
            return s;
        }
        case ir::ExprKind::InList: {
            const auto* names = enum_names(e.a, cur);
            std::string s = expr(e.a, cur, e.op) + " " + std::string(ir::op_spelling(e.op)) + " [";
            for (size_t i = 0; i < e.list.size(); ++i) {
                s += i ? ", " : "";
                s += value(e.list[i], names);
            }
            return s + "]";
        }
        case ir::ExprKind::Call: {
            static const char* names[] = {"starts_with", "ends_with", "contains", "lower",
                                          "len",         "has",       "abs"};
            std::string s = std::string(names[static_cast<size_t>(e.fn)]) + "(";
            for (size_t i = 0; i < e.args.size(); ++i) {
                s += i ? ", " : "";
                s += expr(e.args[i], cur);
            }
            return s + ")";
        }
        case ir::ExprKind::Aggregate: return aggregate(e.agg);
        case ir::ExprKind::Model: return model_call(e);
        }
        return "?";
    }

private:
    // A model function as written: `class_prob(nav, "bot")`, `predict_next(nav, 2)`.
    std::string model_call(const ir::Expr& e) const {
        std::string name = e.model < rs_.models.size() ? rs_.models[e.model].name : "?";
        std::string s = std::string(ir::model_fn_name(e.mfn)) + "(" + name;
        switch (e.mfn) {
        case ir::ModelFn::NextProb: s += ", " + value(e.constant, nullptr); break;
        case ir::ModelFn::PredictNext:
        case ir::ModelFn::PredictProb:
            if (e.model_arg > 1) s += ", " + std::to_string(e.model_arg);
            break;
        case ir::ModelFn::StateProb:
        case ir::ModelFn::ClassProb: {
            const auto& labels =
                e.model < rs_.models.size() ? rs_.models[e.model].labels : std::vector<std::string>{};
            s += ", \"" + (e.model_arg < labels.size() ? labels[e.model_arg] : std::to_string(e.model_arg)) +
                 "\"";
            break;
        }
        default: break;
        }
        return s + ")";
    }

    // A comparison's constant side is written with the enum names of its other side.
    std::string operand(ir::ExprId id, ir::ExprId other, const std::vector<uint16_t>& cur, ir::Op op) const {
        const ir::Expr& e = rs_.exprs[id];
        if (e.kind == ir::ExprKind::Const && e.constant.type == ir::Type::Enum)
            return value(e.constant, enum_names(other, cur));
        return expr(id, cur, op);
    }

    const std::vector<uint16_t>& types_of(const ir::Expr& e, const std::vector<uint16_t>& cur) const {
        if (e.ref == ir::EventRef::Step && e.step < rule_.pattern.steps.size())
            return rule_.pattern.steps[e.step].types;
        return cur;
    }

    const ir::FieldDef* field_def(const ir::Expr& e, const std::vector<uint16_t>& cur) const {
        auto in_type = [&](size_t t) -> const ir::FieldDef* {
            uint16_t slot = e.field_by_type.empty()
                                ? e.field
                                : (t < e.field_by_type.size() ? e.field_by_type[t] : ir::kNoField);
            if (t >= rs_.events.size() || slot >= rs_.events[t].fields.size()) return nullptr;
            return &rs_.events[t].fields[slot];
        };
        const auto& types = types_of(e, cur);
        for (uint16_t t : types)
            if (auto* f = in_type(t)) return f;
        for (size_t t = 0; t < rs_.events.size(); ++t)
            if (auto* f = in_type(t)) return f;
        return nullptr;
    }

    const std::vector<std::string>* enum_names(ir::ExprId id, const std::vector<uint16_t>& cur) const {
        if (id >= rs_.exprs.size()) return nullptr;
        const ir::Expr& e = rs_.exprs[id];
        if (e.kind != ir::ExprKind::Field) return nullptr;
        const ir::FieldDef* f = field_def(e, cur);
        return f && f->type == ir::Type::Enum ? &f->enum_values : nullptr;
    }

    std::string field(const ir::Expr& e, const std::vector<uint16_t>& cur) const {
        std::string name = "?";
        if (e.field == ir::kFieldDwell)
            name = "dwell";
        else if (const ir::FieldDef* f = field_def(e, cur))
            name = f->name;
        if (e.ref == ir::EventRef::Step && e.step < rule_.pattern.steps.size())
            return rule_.pattern.steps[e.step].alias + "." + name;
        return alias_.empty() ? name : alias_ + "." + name;
    }

    std::string aggregate(uint32_t id) const {
        if (id >= rs_.aggregates.size()) return "?";
        const ir::Aggregate& a = rs_.aggregates[id];
        // Inside an aggregate, the current event is the element: its fields are written bare.
        const std::string outer = std::exchange(alias_, std::string());
        std::string arg;
        const std::vector<uint16_t>* types = &a.types;
        if (a.source == ir::AggSource::Step && a.step < rule_.pattern.steps.size()) {
            arg = rule_.pattern.steps[a.step].alias;
            types = &rule_.pattern.steps[a.step].types;
        } else {
            for (uint16_t t : a.types) {
                arg += arg.empty() ? "" : " | ";
                arg += rs_.events[t].name;
            }
            if (arg.empty()) arg = "any";
        }
        if (a.value != ir::kNoExpr) {
            arg += '.';
            arg += expr(a.value, *types);
        }
        if (a.filter != ir::kNoExpr) {
            arg += " where ";
            arg += expr(a.filter, *types);
        }
        alias_ = outer;
        return std::string(ir::aggregate_name(a.kind)) + "(" + arg + ")";
    }

    std::string value(const ir::Value& v, const std::vector<std::string>* enums) const {
        switch (v.type) {
        case ir::Type::Missing: return "null";
        case ir::Type::Bool: return v.b ? "true" : "false";
        case ir::Type::Int: return std::to_string(v.i);
        case ir::Type::Float: {
            std::string s;
            runtime::append_json_double(s, v.f);
            if (s.find_first_of(".eE") == std::string::npos) s += ".0";
            return s;
        }
        case ir::Type::String: {
            std::string s;
            runtime::append_json_string(s, v.i >= 0 && static_cast<size_t>(v.i) < rs_.strings.size()
                                               ? std::string_view(rs_.strings[static_cast<size_t>(v.i)])
                                               : std::string_view("?"));
            return s;
        }
        case ir::Type::Enum:
            if (enums && v.i >= 0 && static_cast<size_t>(v.i) < enums->size())
                return (*enums)[static_cast<size_t>(v.i)];
            return fmt::format("enum#{}", v.i);
        case ir::Type::Timestamp: return runtime::format_rfc3339(v.i);
        case ir::Type::Duration: return runtime::format_duration(v.i);
        }
        return "?";
    }

    const ir::RuleSet& rs_;
    const ir::Rule& rule_;
    mutable std::string alias_; ///< written before the current event's fields (a step's candidate)
};

} // namespace

std::string expr_text(const ir::RuleSet& rs, const ir::Rule& rule, ir::ExprId id, int32_t step) {
    static const std::vector<uint16_t> kNone;
    if (step >= 0 && static_cast<size_t>(step) < rule.pattern.steps.size()) {
        const ir::Step& st = rule.pattern.steps[static_cast<size_t>(step)];
        return Printer(rs, rule, st.alias).expr(id, st.types);
    }
    const std::vector<uint16_t>& cur = rule.kind == ir::RuleKind::Threshold ? rule.threshold.on_types : kNone;
    return Printer(rs, rule, "").expr(id, cur);
}

} // namespace ethogram::ruletest
