// etho_print.cpp: prints a generated rule set as real .etho source, for the front-end round trip.
#include "tests/oracle/etho_print.h"

#include <fmt/format.h>

namespace ethogram::oracle {
namespace {

std::string duration(int64_t us) {
    if (us % ir::kMicrosPerSecond == 0) return fmt::format("{}s", us / ir::kMicrosPerSecond);
    return fmt::format("{}ms", us / ir::kMicrosPerMilli);
}

/// Thrown (inside this file only) when a construct has no .etho spelling.
struct Inexpressible {};

class Printer {
public:
    explicit Printer(const ir::RuleSet& rs) : rs_(rs) {}

    /// `self`: how the current event is written ("" for bare field names); `types`: its possible types.
    std::string expr(ir::ExprId id, const ir::Rule* rule, const std::string& self,
                     const std::vector<uint16_t>& types) const {
        const ir::Expr& x = rs_.exprs.at(id);
        switch (x.kind) {
        case ir::ExprKind::Const: return value(x.constant, x.type);
        case ir::ExprKind::Field:
            if (x.ref == ir::EventRef::Current) {
                std::string f = field_name(x, types);
                return self.empty() ? f : fmt::format("{}.{}", self, f);
            }
            return fmt::format("{}.{}", rule->pattern.steps[x.step].alias,
                               field_name(x, rule->pattern.steps[x.step].types));
        case ir::ExprKind::SessionAttr: {
            static const char* names[] = {"duration", "events", "start", "last"};
            return fmt::format("session.{}", names[static_cast<int>(x.attr)]);
        }
        case ir::ExprKind::Unary:
            return fmt::format("{}({})", x.op == ir::Op::Not ? "not " : "-", expr(x.a, rule, self, types));
        case ir::ExprKind::Binary:
            return fmt::format("({} {} {})", expr(x.a, rule, self, types), op(x.op),
                               expr(x.b, rule, self, types));
        case ir::ExprKind::InList: {
            std::string list;
            for (const ir::Value& v : x.list)
                list += fmt::format("{}{}", list.empty() ? "" : ", ", value(v, v.type));
            return fmt::format("({} {} [{}])", expr(x.a, rule, self, types),
                               x.op == ir::Op::NotIn ? "not in" : "in", list);
        }
        case ir::ExprKind::Call: throw Inexpressible{};
        case ir::ExprKind::Aggregate: return aggregate(rs_.aggregates[x.agg], rule);
        case ir::ExprKind::Model: throw Inexpressible{};
        }
        throw Inexpressible{};
    }

    std::string types(const std::vector<uint16_t>& ts, const char* sep) const {
        std::string s;
        for (uint16_t t : ts) s += fmt::format("{}{}", s.empty() ? "" : sep, rs_.events[t].name);
        return s;
    }

private:
    std::string aggregate(const ir::Aggregate& g, const ir::Rule* rule) const {
        // The generator uses the plain aggregates only (count .. last); features have no oracle here.
        if (g.kind > ir::AggKind::Last) throw Inexpressible{};
        std::string src;
        std::vector<uint16_t> el;
        if (g.source == ir::AggSource::Step) {
            src = rule->pattern.steps[g.step].alias;
            el = rule->pattern.steps[g.step].types;
        } else {
            if (g.types.size() > 1) throw Inexpressible{}; // the language has `X` or `any`, no `A|B`
            src = g.types.empty() ? "any" : rs_.events[g.types[0]].name;
            el = g.types;
        }
        std::string arg = src;
        if (g.value != ir::kNoExpr) arg = expr(g.value, rule, src, el);
        if (g.filter != ir::kNoExpr) arg += fmt::format(" where {}", expr(g.filter, rule, "", el));
        return fmt::format("{}({})", ir::aggregate_name(g.kind), arg);
    }

    std::string field_name(const ir::Expr& x, const std::vector<uint16_t>& ts) const {
        if (!x.field_by_type.empty()) {
            for (size_t t = 0; t < x.field_by_type.size(); ++t)
                if (x.field_by_type[t] < rs_.events[t].fields.size())
                    return rs_.events[t].fields[x.field_by_type[t]].name;
            throw Inexpressible{};
        }
        uint16_t t = ts.empty() ? 0 : ts[0];
        return rs_.events[t].fields.at(x.field).name;
    }

    std::string value(const ir::Value& v, ir::Type) const {
        switch (v.type) {
        case ir::Type::Bool: return v.b ? "true" : "false";
        case ir::Type::Int: return fmt::format("{}", v.i);
        case ir::Type::String: return fmt::format("\"{}\"", rs_.strings.at(static_cast<size_t>(v.i)));
        case ir::Type::Enum: {
            static const char* kEnum[] = {"p", "q", "r"}; // the generator's enum(p, q, r)
            return kEnum[v.i];
        }
        case ir::Type::Duration: return duration(v.i);
        default: throw Inexpressible{};
        }
    }

    /// Binary operators only (unary and list operators are printed by their callers).
    static std::string op(ir::Op o) {
        if (o < ir::Op::And || o > ir::Op::Mod) throw Inexpressible{};
        return std::string(ir::op_spelling(o));
    }

    const ir::RuleSet& rs_;
};

std::string quantifier(const ir::Step& s) {
    if (s.min == 1 && s.max == 1) return "";
    if (s.max == ir::kUnbounded) return fmt::format("{{{},}}", s.min);
    return fmt::format("{{{},{}}}", s.min, s.max);
}

std::string field_decl(const ir::EventType& et, size_t i) {
    const ir::FieldDef& f = et.fields[i];
    std::string type = f.type == ir::Type::Enum ? "enum(p, q, r)" : std::string(ir::type_name(f.type));
    const char* role = i == et.key_field ? "key " : i == et.time_field ? "time " : "";
    return fmt::format("{}{}: {}{};", role, f.name, type, f.optional ? "?" : "");
}

std::string pattern_rule(const Printer& pr, const ir::RuleSet& rs, const ir::Rule& r) {
    std::string s = "    pattern";
    for (size_t i = 0; i < r.pattern.steps.size(); ++i) {
        const ir::Step& st = r.pattern.steps[i];
        s += i == 0 ? " " : (st.strict ? "\n        => " : "\n        -> ");
        if (st.kind != ir::StepKind::Positive) s += "not ";
        s += fmt::format("{}: {}{}", st.alias, pr.types(st.types, " | "), quantifier(st));
        if (st.pred != ir::kNoExpr) s.append(" where ").append(pr.expr(st.pred, &r, st.alias, st.types));
        if (st.kind == ir::StepKind::Absence && st.within_us >= 0)
            s.append(" within ").append(duration(st.within_us));
    }
    // After a trailing absence a `within` binds to the absence step, so the whole-match bound is then
    // written as the rule's own `within D;` clause.
    const bool clause = !r.pattern.steps.empty() && r.pattern.steps.back().kind == ir::StepKind::Absence;
    if (r.pattern.within_us >= 0 && !clause)
        s.append("\n        within ").append(duration(r.pattern.within_us));
    s += ";\n";
    if (r.pattern.within_us >= 0 && clause)
        s.append("    within ").append(duration(r.pattern.within_us)) += ";\n";
    if (r.keep_all) s += "    keep all;\n";
    (void)rs;
    return s;
}

std::string threshold_rule(const Printer& pr, const ir::RuleSet& rs, const ir::Rule& r) {
    const ir::Threshold& th = r.threshold;
    std::string s = "    over ";
    switch (th.scope) {
    case ir::ScopeKind::Window: s.append("last ").append(duration(th.window_us)); break;
    case ir::ScopeKind::LastN: s += fmt::format("last {} events", th.last_n); break;
    case ir::ScopeKind::Session: s.append("session ").append(rs.sessions[th.session].name); break;
    }
    s += ";\n";
    if (th.at_session_end)
        s += "    at session end;\n";
    else if (!th.on_types.empty())
        s.append("    on ").append(pr.types(th.on_types, ", ")).append(";\n");
    // A trigger field is written `T.f`, which needs a single trigger type.
    std::string self = th.on_types.size() == 1 ? rs.events[th.on_types[0]].name : "?";
    s.append("    when ").append(pr.expr(th.cond, &r, self, th.on_types)).append(";\n");
    if (s.find("?.") != std::string::npos) throw Inexpressible{};
    return s;
}

} // namespace

std::optional<std::string> to_etho(const ir::RuleSet& rs) {
    try {
        Printer pr(rs);
        std::string s = "ruleset random version 1.0.0;\ntaxonomy { test; }\n";
        for (const ir::EventType& et : rs.events) {
            s += fmt::format("event {} {{", et.name);
            for (size_t i = 0; i < et.fields.size(); ++i) s.append(" ").append(field_decl(et, i));
            s += " }\n";
        }
        for (const ir::Session& ss : rs.sessions) {
            s += fmt::format("session {} {{ gap {};", ss.name, duration(ss.gap_us));
            if (ss.max_us >= 0) s += fmt::format(" max {};", duration(ss.max_us));
            for (const ir::SessionEnd& e : ss.ends) {
                s.append(" end on ").append(rs.events[e.type].name);
                if (e.pred != ir::kNoExpr) s.append(" where ").append(pr.expr(e.pred, nullptr, "", {e.type}));
                s += ";";
            }
            if (!ss.types.empty()) s.append(" events ").append(pr.types(ss.types, ", ")).append(";");
            s += " }\n";
        }
        for (const ir::Rule& r : rs.rules) {
            s += fmt::format("rule {} {{\n    label test;\n", r.name);
            s += r.kind == ir::RuleKind::Pattern ? pattern_rule(pr, rs, r) : threshold_rule(pr, rs, r);
            for (size_t i = 0; i < r.emits.size(); ++i) {
                const ir::Expr& e = rs.exprs[r.emits[i].expr];
                bool trigger_field = e.kind == ir::ExprKind::Field && e.ref == ir::EventRef::Current;
                if (trigger_field && r.threshold.on_types.size() != 1) throw Inexpressible{};
                std::string self = trigger_field ? rs.events[r.threshold.on_types[0]].name : "";
                s += fmt::format("    {} {} = {}{}\n", i == 0 ? "emit" : "    ", r.emits[i].name,
                                 pr.expr(r.emits[i].expr, &r, self, r.threshold.on_types),
                                 i + 1 == r.emits.size() ? ";" : ",");
            }
            s += "}\n";
        }
        for (const ir::Group& g : rs.groups) {
            s += fmt::format("exclusive {} {{", g.name);
            for (uint32_t r : g.rules)
                s += fmt::format(" {} priority {};", rs.rules[r].name, rs.rules[r].priority);
            s += " }\n";
        }
        return s;
    } catch (const Inexpressible&) {
        return std::nullopt;
    }
}

} // namespace ethogram::oracle
