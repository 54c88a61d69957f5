// dump.cpp: the `--dump-ast` text form: one node per line, two spaces of indent per level.
#include "compiler/ast/ast.h"

namespace ethogram::ast {

namespace {

class Dumper {
public:
    std::string out;

    void line(int depth, const std::string& s) {
        out += std::string(static_cast<size_t>(depth) * 2, ' ') + s + "\n";
    }

    static std::string at(const Span& s) {
        return " @" + std::to_string(s.line) + ":" + std::to_string(s.col);
    }

    static std::string dur(const DurationLit& d) {
        return std::to_string(d.us) + (d.has_unit ? "us" : " (no unit)");
    }

    void expr(int depth, const Expr& e) {
        switch (e.kind) {
        case ExprKind::Int: line(depth, "Int " + std::to_string(e.int_value) + at(e.span)); break;
        case ExprKind::Float: line(depth, "Float " + std::to_string(e.float_value) + at(e.span)); break;
        case ExprKind::String: line(depth, "String \"" + e.str_value + "\"" + at(e.span)); break;
        case ExprKind::Duration:
            line(depth, "Duration " + std::to_string(e.int_value) + "us" + at(e.span));
            break;
        case ExprKind::Bool:
            line(depth, std::string("Bool ") + (e.int_value ? "true" : "false") + at(e.span));
            break;
        case ExprKind::Name: line(depth, "Name " + e.name.text + at(e.span)); break;
        case ExprKind::Member: line(depth, "Member " + e.name.text + "." + e.member.text + at(e.span)); break;
        case ExprKind::Call: line(depth, "Call " + e.name.text + at(e.span)); break;
        case ExprKind::Filtered: line(depth, "Filtered" + at(e.span)); break;
        case ExprKind::Unary: line(depth, "Unary " + e.op + at(e.span)); break;
        case ExprKind::Binary: line(depth, "Binary " + e.op + at(e.span)); break;
        case ExprKind::InList: line(depth, "InList " + e.op + at(e.span)); break;
        }
        for (const auto& c : e.children) expr(depth + 1, *c);
    }

    void tax(int depth, const TaxNode& n) {
        line(depth, "Node " + n.name.text + at(n.name.span));
        for (const auto& c : n.children) tax(depth + 1, c);
    }

    void file(const File& f) {
        for (const auto& h : f.headers)
            line(0, "Ruleset " + h.name.text + " version " + h.version.text + at(h.span));
        for (const auto& i : f.imports) line(0, "Import \"" + i.path + "\"" + at(i.span));
        for (const auto& e : f.events) {
            line(0, "Event " + e.name.text + at(e.span));
            for (const auto& fd : e.fields) {
                std::string s = "Field ";
                for (const auto& a : fd.annotations) s += "@" + a.text + " ";
                if (!fd.modifier.empty()) s += fd.modifier + " ";
                s += fd.name.text + ": " + fd.type.text;
                if (!fd.enum_values.empty()) {
                    s += "(";
                    for (size_t i = 0; i < fd.enum_values.size(); ++i)
                        s += (i ? ", " : "") + fd.enum_values[i].text;
                    s += ")";
                }
                if (fd.optional) s += "?";
                line(1, s + at(fd.span));
            }
        }
        for (const auto& t : f.taxonomies) {
            std::string base;
            for (const auto& b : t.base) base += (base.empty() ? "" : ".") + b.text;
            line(0, "Taxonomy" + (base.empty() ? std::string() : " " + base) + at(t.span));
            for (const auto& n : t.nodes) tax(1, n);
        }
        for (const auto& s : f.sessions) {
            line(0, "Session " + s.name.text + at(s.span));
            for (const auto& g : s.gaps) line(1, "Gap " + dur(g));
            for (const auto& m : s.maxes) line(1, "Max " + dur(m));
            for (const auto& e : s.ends) {
                line(1, "EndOn " + e.type.text);
                if (e.pred) expr(2, *e.pred);
            }
            if (s.has_events) {
                std::string ev = "Events";
                for (const auto& t : s.events) ev += " " + t.text;
                line(1, ev);
            }
        }
        for (const auto& m : f.models) {
            line(0, "Model " + m.name.text + ": " + m.kind.text + at(m.span));
            for (const auto& p : m.paths) line(1, "Path \"" + p.text + "\"");
            for (const auto& h : m.hashes) line(1, "Hash \"" + h.text + "\"");
            for (const auto& [t, fd] : m.observes) line(1, "Observe " + t.text + "." + fd.text);
            for (const auto& s : m.per_sessions) line(1, "PerSession " + s.text);
            for (const auto& [n, sp] : m.min_evidences) line(1, "MinEvidence " + std::to_string(n));
            for (const auto& st : m.states) {
                std::string s = "States";
                for (const auto& n : st) s += " " + n.text;
                line(1, s);
            }
        }
        for (const auto& r : f.rules) rule(r);
        for (const auto& g : f.groups) {
            line(0, "Exclusive " + g.name.text + at(g.span));
            for (const auto& m : g.members)
                line(1, std::string(m.is_label ? "Label " : "Rule ") + m.name.text + " priority " +
                            std::to_string(m.priority));
        }
    }

    void rule(const RuleDecl& r) {
        line(0, "Rule " + r.name.text + at(r.span));
        for (const auto& l : r.labels) line(1, "Label " + l.text);
        for (const auto& s : r.severities) line(1, "Severity " + s.text);
        for (const auto& c : r.confidences) {
            line(1, "Confidence");
            expr(2, *c);
        }
        for (const auto& s : r.scopes) {
            switch (s.kind) {
            case ScopeKind::Session: line(1, "Over session " + s.session.text); break;
            case ScopeKind::Window: line(1, "Over last " + dur(s.window)); break;
            case ScopeKind::LastN: line(1, "Over last " + std::to_string(s.last_n) + " events"); break;
            case ScopeKind::None: break;
            }
        }
        if (r.has_on) {
            std::string on = "On";
            for (const auto& t : r.on_types) on += " " + t.text;
            line(1, on);
        }
        if (r.at_session_end) line(1, "AtSessionEnd");
        for (const auto& w : r.whens) {
            line(1, "When");
            expr(2, *w);
        }
        if (r.has_pattern) {
            line(1, "Pattern" + (r.has_pattern_within ? " within " + dur(r.pattern_within) : std::string()));
            for (const auto& st : r.steps) {
                std::string s = st.strict ? "=> " : "-> ";
                s += st.negated ? "Not " : "Step ";
                s += st.alias.text + ":";
                for (size_t i = 0; i < st.types.size(); ++i) s += (i ? " | " : " ") + st.types[i].text;
                if (st.has_quant)
                    s += " {" + std::to_string(st.min) + "," +
                         (st.max == UINT32_MAX ? std::string("inf") : std::to_string(st.max)) + "}";
                if (st.has_within) s += " within " + dur(st.within);
                line(2, s + at(st.span));
                if (st.pred) expr(3, *st.pred);
            }
        }
        if (r.keep_all) line(1, "KeepAll");
        for (const auto& e : r.emits) {
            line(1, "Emit " + e.name.text);
            expr(2, *e.value);
        }
        for (const auto& fb : r.fallbacks) {
            line(1, fb.when ? "Fallback when" : "Fallback none");
            if (fb.when) expr(2, *fb.when);
        }
    }
};

} // namespace

std::string dump(const File& f) {
    Dumper d;
    d.file(f);
    return d.out;
}

} // namespace ethogram::ast
