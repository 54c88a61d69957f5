// rule_dump.cpp: readable dumps of generated rule sets and streams, for mismatch reports.
#include "tests/oracle/random_rules.h"

#include <sstream>

#include <fmt/format.h>

namespace ethogram::oracle {
namespace {

std::string duration(int64_t us) {
    if (us % ir::kMicrosPerSecond == 0) return std::to_string(us / ir::kMicrosPerSecond) + "s";
    return std::to_string(us / ir::kMicrosPerMilli) + "ms";
}

std::string type_list(const ir::RuleSet& rs, const std::vector<uint16_t>& types) {
    if (types.empty()) return "any";
    std::string s;
    for (size_t i = 0; i < types.size(); ++i) s += (i ? "|" : "") + rs.events[types[i]].name;
    return s;
}

/// Prints an expression. `rule` names pattern steps; `self` is how the current event is written.
class ExprPrinter {
public:
    ExprPrinter(const ir::RuleSet& rs, const ir::Rule* rule) : rs_(rs), rule_(rule) {}

    /// `self` names the current event, of one of `self_types` (empty: any).
    std::string print(ir::ExprId id, const std::string& self, const std::vector<uint16_t>& self_types) const {
        if (id == ir::kNoExpr) return "true";
        const ir::Expr& x = rs_.exprs[id];
        switch (x.kind) {
        case ir::ExprKind::Const: return value(x.constant, x.type);
        case ir::ExprKind::Field: {
            if (x.ref == ir::EventRef::Current) return fmt::format("{}.{}", self, field_name(x, self_types));
            return fmt::format("{}.{}", step_alias(x.step),
                               field_name(x, rule_->pattern.steps[x.step].types));
        }
        case ir::ExprKind::SessionAttr: {
            static const char* names[] = {"duration", "events", "start", "last"};
            return std::string("session.") + names[static_cast<int>(x.attr)];
        }
        case ir::ExprKind::Unary:
            return fmt::format("{}({})", x.op == ir::Op::Not ? "not " : "-", print(x.a, self, self_types));
        case ir::ExprKind::Binary:
            return fmt::format("({} {} {})", print(x.a, self, self_types), op(x.op),
                               print(x.b, self, self_types));
        case ir::ExprKind::InList: {
            std::string list;
            for (const ir::Value& v : x.list) list += (list.empty() ? "" : ", ") + value(v, v.type);
            return fmt::format("{} {} [{}]", print(x.a, self, self_types),
                               x.op == ir::Op::NotIn ? "not in" : "in", list);
        }
        case ir::ExprKind::Call: return "call(...)";
        case ir::ExprKind::Aggregate: return aggregate(rs_.aggregates[x.agg]);
        case ir::ExprKind::Model: return "model(...)";
        }
        return "?";
    }

private:
    std::string step_alias(uint32_t step) const {
        if (rule_ && step < rule_->pattern.steps.size()) return rule_->pattern.steps[step].alias;
        return fmt::format("step{}", step);
    }

    /// The field's name, read from the schema of a type the event may have.
    std::string field_name(const ir::Expr& x, const std::vector<uint16_t>& types) const {
        if (!x.field_by_type.empty()) {
            for (size_t t = 0; t < x.field_by_type.size(); ++t)
                if (x.field_by_type[t] < rs_.events[t].fields.size())
                    return rs_.events[t].fields[x.field_by_type[t]].name;
            return "?";
        }
        uint16_t t = types.empty() ? 0 : types[0];
        return x.field < rs_.events[t].fields.size() ? rs_.events[t].fields[x.field].name : "?";
    }

    std::string value(const ir::Value& v, ir::Type t) const {
        switch (v.type) {
        case ir::Type::Missing: return "missing";
        case ir::Type::Bool: return v.b ? "true" : "false";
        case ir::Type::Int: return std::to_string(v.i);
        case ir::Type::Float: return std::to_string(v.f);
        case ir::Type::String:
            return fmt::format("\"{}\"",
                               v.i < static_cast<int64_t>(rs_.strings.size()) ? rs_.strings[v.i] : "?");
        case ir::Type::Enum: return fmt::format("enum#{}{}", v.i, t == ir::Type::Enum ? "" : "?");
        case ir::Type::Timestamp: return fmt::format("@{}", v.i);
        case ir::Type::Duration: return duration(v.i);
        }
        return "?";
    }

    /// Binary operators only (unary and list operators are printed by their callers).
    static std::string op(ir::Op o) {
        if (o < ir::Op::And || o > ir::Op::Mod) return "?";
        return std::string(ir::op_spelling(o));
    }

    std::string aggregate(const ir::Aggregate& g) const {
        std::string name(ir::aggregate_name(g.kind));
        bool step = g.source == ir::AggSource::Step;
        std::string src = step ? step_alias(g.step) : type_list(rs_, g.types);
        const std::vector<uint16_t>& el = step && rule_ ? rule_->pattern.steps[g.step].types : g.types;
        std::string s = fmt::format("{}({}", name, src);
        if (g.value != ir::kNoExpr) s += fmt::format(":{}", print(g.value, "it", el));
        if (g.filter != ir::kNoExpr) s += fmt::format(" where {}", print(g.filter, "it", el));
        return s + ")";
    }

    const ir::RuleSet& rs_;
    const ir::Rule* rule_;
};

std::string quantifier(const ir::Step& s) {
    if (s.min == 1 && s.max == 1) return "";
    std::string hi = s.max == ir::kUnbounded ? "" : std::to_string(s.max);
    return fmt::format("{{{},{}}}", s.min, hi);
}

void dump_pattern(std::ostringstream& os, const ir::RuleSet& rs, const ir::Rule& r) {
    ExprPrinter pr(rs, &r);
    os << "    pattern";
    for (size_t i = 0; i < r.pattern.steps.size(); ++i) {
        const ir::Step& s = r.pattern.steps[i];
        if (i)
            os << "\n        " << (s.strict ? "=> " : "-> ");
        else
            os << " ";
        if (s.kind != ir::StepKind::Positive) os << "not ";
        os << s.alias << ": " << type_list(rs, s.types) << quantifier(s);
        if (s.pred != ir::kNoExpr) os << " where " << pr.print(s.pred, s.alias, s.types);
        if (s.kind == ir::StepKind::Absence && s.within_us >= 0) os << " within " << duration(s.within_us);
    }
    if (r.pattern.within_us >= 0) os << "\n        within " << duration(r.pattern.within_us);
    os << ";\n";
    if (r.keep_all) os << "    keep all;\n";
}

void dump_threshold(std::ostringstream& os, const ir::RuleSet& rs, const ir::Rule& r) {
    const ir::Threshold& th = r.threshold;
    ExprPrinter pr(rs, nullptr);
    os << "    over ";
    switch (th.scope) {
    case ir::ScopeKind::Window: os << "last " << duration(th.window_us); break;
    case ir::ScopeKind::LastN: os << "last " << th.last_n << " events"; break;
    case ir::ScopeKind::Session: os << "session " << rs.sessions[th.session].name; break;
    }
    os << ";\n";
    if (th.at_session_end)
        os << "    at session end;\n";
    else
        os << "    on " << type_list(rs, th.on_types) << ";\n";
    os << "    when " << pr.print(th.cond, "trigger", th.on_types) << ";\n";
}

} // namespace

std::string dump_rules(const ir::RuleSet& rs) {
    std::ostringstream os;
    for (const ir::EventType& et : rs.events) {
        os << "event " << et.name << " {";
        for (size_t i = 0; i < et.fields.size(); ++i) {
            const ir::FieldDef& f = et.fields[i];
            os << (i ? ", " : " ")
               << (i == et.key_field    ? "key "
                   : i == et.time_field ? "time "
                                        : "")
               << f.name << ":" << ir::type_name(f.type) << (f.optional ? "?" : "");
        }
        os << " }\n";
    }
    os << "// enum k: 0=p 1=q 2=r\n";
    for (const ir::Session& s : rs.sessions) {
        os << "session " << s.name << " { gap " << duration(s.gap_us) << ";";
        if (s.max_us >= 0) os << " max " << duration(s.max_us) << ";";
        for (const ir::SessionEnd& e : s.ends) {
            os << " end on " << rs.events[e.type].name;
            if (e.pred != ir::kNoExpr)
                os << " where " << ExprPrinter(rs, nullptr).print(e.pred, rs.events[e.type].name, {e.type});
            os << ";";
        }
        os << " events " << type_list(rs, s.types) << "; }\n";
    }
    for (const ir::Rule& r : rs.rules) {
        os << "rule " << r.name << " {\n";
        if (r.kind == ir::RuleKind::Pattern)
            dump_pattern(os, rs, r);
        else
            dump_threshold(os, rs, r);
        os << "}\n";
    }
    for (const ir::Group& g : rs.groups) {
        os << "exclusive " << g.name << " {";
        for (uint32_t r : g.rules)
            os << " " << rs.rules[r].name << " priority " << rs.rules[r].priority << ";";
        os << " }\n";
    }
    return os.str();
}

std::string dump_events(const ir::RuleSet& rs, const std::vector<ir::Event>& events) {
    std::ostringstream os;
    int64_t t0 = events.empty() ? 0 : events.front().time;
    for (const ir::Event& e : events) {
        const ir::EventType& et = rs.events[e.type];
        os << "  seq=" << e.seq << " t=+" << duration(e.time - t0)
           << " key=" << (e.key < rs.strings.size() ? rs.strings[e.key] : "?") << " " << et.name << " {";
        bool first = true;
        for (size_t i = 0; i < et.fields.size(); ++i) {
            if (i == et.key_field || i == et.time_field) continue;
            const ir::Value& v = e.fields[i];
            os << (first ? "" : ", ") << et.fields[i].name << "=";
            first = false;
            if (v.is_missing())
                os << "missing";
            else if (v.type == ir::Type::String)
                os << '"' << rs.strings[v.i] << '"';
            else if (v.type == ir::Type::Enum)
                os << et.fields[i].enum_values[v.i];
            else
                os << v.i;
        }
        os << "}\n";
    }
    return os.str();
}

} // namespace ethogram::oracle
