// printer.cpp: dump_ir: the stable, human-readable text form of a compiled rule set.
#include "compiler/driver/compile.h"

#include <cstdio>
#include <string>

namespace ethogram::compiler {

namespace {

const char* builtin_name(ir::Builtin b) {
    static const char* names[] = {"starts_with", "ends_with", "contains", "lower", "len", "has", "abs"};
    return names[static_cast<size_t>(b)];
}

std::string dur(int64_t us) {
    if (us < 0) return std::to_string(us);
    return std::to_string(us) + "us";
}

std::string value(const ir::RuleSet& rs, const ir::Value& v) {
    switch (v.type) {
    case ir::Type::Missing: return "missing";
    case ir::Type::Bool: return v.b ? "true" : "false";
    case ir::Type::Int: return std::to_string(v.i);
    case ir::Type::Float: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", v.f);
        return buf;
    }
    case ir::Type::String: {
        std::string s = v.i >= 0 && static_cast<size_t>(v.i) < rs.strings.size() ? rs.strings[v.i] : "?";
        std::string out = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\') out += '\\';
            if (c == '\n')
                out += "\\n";
            else if (c == '\t')
                out += "\\t";
            else
                out += c;
        }
        return out + "\"#" + std::to_string(v.i);
    }
    case ir::Type::Enum: return "enum#" + std::to_string(v.i);
    case ir::Type::Timestamp: return "ts:" + std::to_string(v.i);
    case ir::Type::Duration: return dur(v.i);
    }
    return "?";
}

std::string types(const ir::RuleSet& rs, const std::vector<uint16_t>& ts) {
    if (ts.empty()) return "*";
    std::string out;
    for (size_t i = 0; i < ts.size(); ++i) out += (i ? "|" : "") + rs.events[ts[i]].name;
    return out;
}

std::string slot(uint16_t f) {
    if (f == ir::kFieldDwell) return "dwell";
    if (f == ir::kNoField) return "-";
    return std::to_string(f);
}

std::string expr(const ir::RuleSet& rs, ir::ExprId id);

std::string expr_body(const ir::RuleSet& rs, const ir::Expr& e) {
    switch (e.kind) {
    case ir::ExprKind::Const: return value(rs, e.constant);
    case ir::ExprKind::Field: {
        std::string who = e.ref == ir::EventRef::Current ? "cur" : "step" + std::to_string(e.step);
        std::string out = who + "." + slot(e.field);
        if (!e.field_by_type.empty()) {
            out += "{";
            for (size_t i = 0; i < e.field_by_type.size(); ++i)
                out += (i ? "," : "") + slot(e.field_by_type[i]);
            out += "}";
        }
        return out;
    }
    case ir::ExprKind::SessionAttr: {
        static const char* names[] = {"duration", "events", "start", "last"};
        return std::string("session.") + names[static_cast<size_t>(e.attr)];
    }
    case ir::ExprKind::Unary:
        return std::string("(") + std::string(ir::op_spelling(e.op)) + " " + expr(rs, e.a) + ")";
    case ir::ExprKind::Binary:
        return "(" + expr(rs, e.a) + " " + std::string(ir::op_spelling(e.op)) + " " + expr(rs, e.b) + ")";
    case ir::ExprKind::InList: {
        std::string out = "(" + expr(rs, e.a) + " " + std::string(ir::op_spelling(e.op)) + " [";
        for (size_t i = 0; i < e.list.size(); ++i) out += (i ? ", " : "") + value(rs, e.list[i]);
        return out + "])";
    }
    case ir::ExprKind::Call: {
        std::string out = std::string(builtin_name(e.fn)) + "(";
        for (size_t i = 0; i < e.args.size(); ++i) out += (i ? ", " : "") + expr(rs, e.args[i]);
        return out + ")";
    }
    case ir::ExprKind::Aggregate: return "agg#" + std::to_string(e.agg);
    case ir::ExprKind::Model: {
        std::string out = std::string(ir::model_fn_name(e.mfn)) + "(model#" + std::to_string(e.model);
        if (e.mfn == ir::ModelFn::NextProb) out += ", " + value(rs, e.constant);
        if (e.mfn == ir::ModelFn::PredictNext || e.mfn == ir::ModelFn::PredictProb ||
            e.mfn == ir::ModelFn::StateProb || e.mfn == ir::ModelFn::ClassProb)
            out += ", " + std::to_string(e.model_arg);
        return out + ")";
    }
    }
    return "?";
}

std::string expr(const ir::RuleSet& rs, ir::ExprId id) {
    if (id == ir::kNoExpr) return "-";
    if (id >= rs.exprs.size()) return "<bad expr>";
    const ir::Expr& e = rs.exprs[id];
    return expr_body(rs, e) + ":" + std::string(ir::type_name(e.type));
}

std::string bound(uint32_t v) {
    return v == ir::kUnbounded ? "inf" : std::to_string(v);
}

} // namespace

std::string dump_ir(const ir::RuleSet& rs) {
    std::string o;
    o += "ruleset " + rs.name + " version " + rs.version + "\n";
    o += "content_hash " + rs.content_hash + "\n";
    for (const auto& s : rs.sources) o += "source " + s + "\n";
    for (size_t i = 0; i < rs.events.size(); ++i) {
        const auto& e = rs.events[i];
        o += "event #" + std::to_string(i) + " " + e.name + " key=" + slot(e.key_field) +
             " time=" + slot(e.time_field) + " id=" + slot(e.id_field) + "\n";
        for (size_t f = 0; f < e.fields.size(); ++f) {
            const auto& fd = e.fields[f];
            o += "  field " + std::to_string(f) + " " + fd.name + ": " + std::string(ir::type_name(fd.type));
            if (!fd.enum_values.empty()) {
                o += "(";
                for (size_t k = 0; k < fd.enum_values.size(); ++k) o += (k ? ", " : "") + fd.enum_values[k];
                o += ")";
            }
            if (fd.optional) o += "?";
            for (const auto& a : fd.annotations) o += " @" + a;
            o += "\n";
        }
    }
    for (size_t i = 0; i < rs.taxonomy.size(); ++i)
        o += "taxonomy #" + std::to_string(i) + " " + rs.taxonomy[i].path +
             " parent=" + std::to_string(rs.taxonomy[i].parent) + "\n";
    for (size_t i = 0; i < rs.sessions.size(); ++i) {
        const auto& s = rs.sessions[i];
        o += "session #" + std::to_string(i) + " " + s.name + " gap=" + dur(s.gap_us) +
             " max=" + dur(s.max_us) + " events=" + types(rs, s.types) + "\n";
        for (const auto& e : s.ends)
            o += "  end on " + rs.events[e.type].name + " where " + expr(rs, e.pred) + "\n";
    }
    for (size_t i = 0; i < rs.models.size(); ++i) {
        const auto& m = rs.models[i];
        o += "model #" + std::to_string(i) + " " + m.name + ": " + std::string(ir::model_kind_name(m.kind)) +
             " " + m.hash + " bytes=" + std::to_string(m.image.size()) +
             " min_evidence=" + std::to_string(m.min_evidence) + " per=" +
             (m.session < 0 ? std::string("key")
                            : "session " + rs.sessions[static_cast<size_t>(m.session)].name) +
             "\n  observe";
        for (const auto& sl : m.observe) o += " " + rs.events[sl.type].name + "." + slot(sl.field);
        if (!m.labels.empty()) {
            o += "\n  labels";
            for (const auto& l : m.labels) o += " " + l;
        }
        o += "\n";
    }
    for (size_t i = 0; i < rs.aggregates.size(); ++i) {
        const auto& a = rs.aggregates[i];
        o += "agg #" + std::to_string(i) + " " + std::string(ir::aggregate_name(a.kind)) + ":" +
             std::string(ir::type_name(a.type)) + " ";
        o += a.source == ir::AggSource::Scope ? "scope " + types(rs, a.types)
                                              : "step " + std::to_string(a.step);
        o += " value=" + expr(rs, a.value) + " filter=" + expr(rs, a.filter) + "\n";
    }
    for (size_t i = 0; i < rs.rules.size(); ++i) {
        const auto& r = rs.rules[i];
        o += "rule #" + std::to_string(i) + " " + r.name + " " +
             (r.kind == ir::RuleKind::Pattern ? "pattern" : "threshold") + "\n";
        o += "  label " + (r.label < rs.taxonomy.size() ? rs.taxonomy[r.label].path : "?") + "\n";
        o += "  severity " + std::string(ir::severity_name(r.severity)) + "\n";
        o += "  confidence " + expr(rs, r.confidence) + "\n";
        if (r.group >= 0)
            o += "  group " + std::to_string(r.group) + " priority " + std::to_string(r.priority) + "\n";
        if (r.keep_all) o += "  keep all\n";
        if (r.kind == ir::RuleKind::Threshold) {
            const auto& t = r.threshold;
            o += "  scope ";
            switch (t.scope) {
            case ir::ScopeKind::Window: o += "window " + dur(t.window_us); break;
            case ir::ScopeKind::LastN: o += "last " + std::to_string(t.last_n) + " events"; break;
            case ir::ScopeKind::Session:
                o += "session " + (t.session < rs.sessions.size() ? rs.sessions[t.session].name : "?");
                break;
            }
            o += "\n  on " + types(rs, t.on_types) + (t.at_session_end ? " at session end" : "") + "\n";
            o += "  when " + expr(rs, t.cond) + "\n";
        } else {
            o += "  within " + dur(r.pattern.within_us) + "\n";
            for (size_t s = 0; s < r.pattern.steps.size(); ++s) {
                const auto& st = r.pattern.steps[s];
                const char* kind = st.kind == ir::StepKind::Positive   ? "step"
                                   : st.kind == ir::StepKind::Negation ? "not"
                                                                       : "absent";
                o += "  " + std::string(kind) + " #" + std::to_string(s) + " " + st.alias + ": " +
                     types(rs, st.types) + " {" + bound(st.min) + "," + bound(st.max) + "}" +
                     (st.strict ? " strict" : "");
                if (st.kind == ir::StepKind::Absence) o += " within " + dur(st.within_us);
                o += " where " + expr(rs, st.pred) + "\n";
            }
        }
        for (const auto& e : r.emits) o += "  emit " + e.name + " = " + expr(rs, e.expr) + "\n";
        if (!r.gate.empty() || r.fallback != ir::kNoExpr) {
            o += "  gate";
            for (uint32_t m : r.gate) o += " model#" + std::to_string(m);
            o += " fallback " + expr(rs, r.fallback) + "\n";
        }
    }
    for (size_t i = 0; i < rs.groups.size(); ++i) {
        o += "group #" + std::to_string(i) + " " + rs.groups[i].name + ":";
        for (uint32_t r : rs.groups[i].rules) o += " " + rs.rules[r].name;
        o += "\n";
    }
    o += "strings " + std::to_string(rs.strings.size()) + "\n";
    return o;
}

} // namespace ethogram::compiler
