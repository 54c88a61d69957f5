// output.cpp: JSON Lines formatting of detections and the writer sink.
#include "runtime/output.h"

#include "runtime/json_writer.h"
#include "runtime/time.h"

namespace ethogram::runtime {

namespace {

// The enum value names of what `expr` reads, or null when they cannot be determined. `current` lists the
// event types EventRef::Current may be (empty = every type).
const std::vector<std::string>* enum_names(const ir::RuleSet& rs, const ir::Rule& rule, ir::ExprId id,
                                           const std::vector<uint16_t>& current) {
    if (id == ir::kNoExpr || id >= rs.exprs.size()) return nullptr;
    const ir::Expr& e = rs.exprs[id];
    if (e.type != ir::Type::Enum) return nullptr;
    if (e.kind == ir::ExprKind::Aggregate) {
        if (e.agg >= rs.aggregates.size()) return nullptr;
        const ir::Aggregate& a = rs.aggregates[e.agg];
        if (a.source == ir::AggSource::Step) {
            if (a.step >= rule.pattern.steps.size()) return nullptr;
            return enum_names(rs, rule, a.value, rule.pattern.steps[a.step].types);
        }
        return enum_names(rs, rule, a.value, a.types);
    }
    if (e.kind != ir::ExprKind::Field) return nullptr;
    const std::vector<uint16_t>* types = &current;
    if (e.ref == ir::EventRef::Step) {
        if (e.step >= rule.pattern.steps.size()) return nullptr;
        types = &rule.pattern.steps[e.step].types;
    }
    auto slot_of = [&](size_t t) -> const std::vector<std::string>* {
        uint16_t slot = e.field_by_type.empty()
                            ? e.field
                            : (t < e.field_by_type.size() ? e.field_by_type[t] : ir::kNoField);
        if (slot == ir::kNoField || t >= rs.events.size() || slot >= rs.events[t].fields.size())
            return nullptr;
        const ir::FieldDef& fd = rs.events[t].fields[slot];
        return fd.type == ir::Type::Enum ? &fd.enum_values : nullptr;
    };
    if (types->empty()) {
        for (size_t t = 0; t < rs.events.size(); ++t)
            if (auto* names = slot_of(t)) return names;
        return nullptr;
    }
    for (uint16_t t : *types)
        if (auto* names = slot_of(t)) return names;
    return nullptr;
}

void append_value(std::string& out, const ir::Value& v, const ir::StringPool& pool,
                  const std::vector<std::string>* enum_values) {
    switch (v.type) {
    case ir::Type::Missing: out += "null"; break;
    case ir::Type::Bool: out += v.b ? "true" : "false"; break;
    case ir::Type::Int: append_json_int(out, v.i); break;
    case ir::Type::Float: append_json_double(out, v.f); break;
    case ir::Type::String:
        if (v.i >= 0 && static_cast<size_t>(v.i) < pool.size())
            append_json_string(out, pool.view(static_cast<uint32_t>(v.i)));
        else
            out += "null";
        break;
    case ir::Type::Enum:
        if (enum_values && v.i >= 0 && static_cast<size_t>(v.i) < enum_values->size())
            append_json_string(out, (*enum_values)[static_cast<size_t>(v.i)]);
        else
            append_json_int(out, v.i);
        break;
    case ir::Type::Timestamp:
        out.push_back('"');
        append_rfc3339(out, v.i);
        out.push_back('"');
        break;
    case ir::Type::Duration:
        if (v.i % 1000 == 0)
            append_json_int(out, v.i / 1000);
        else
            append_json_double(out, static_cast<double>(v.i) / 1000.0);
        break;
    }
}

void append_time(std::string& out, int64_t us) {
    out.push_back('"');
    append_rfc3339(out, us);
    out.push_back('"');
}

/// Index of the first listed event of a binding: all but the last `cap` are omitted (cap 0: none).
size_t first_listed(const ir::Binding& b, uint32_t cap) {
    return cap != 0 && b.events.size() > cap ? b.events.size() - cap : 0;
}

void append_explain(std::string& out, const ir::Detection& d, const ir::RuleSet& rs, const ir::Rule& rule,
                    uint32_t cap) {
    out += ",\"explain\":[";
    bool first = true;
    for (const ir::Binding& b : d.bindings) {
        bool step = b.step != UINT32_MAX && b.step < rule.pattern.steps.size();
        if (!step && b.alias != "trigger") continue; // a threshold's scope is listed under "events"
        for (size_t j = first_listed(b, cap); j < b.events.size(); ++j) {
            const ir::BoundEvent& e = b.events[j];
            if (!first) out.push_back(',');
            first = false;
            out += "{\"alias\":";
            append_json_string(out, b.alias);
            if (step) {
                out += ",\"step\":";
                append_json_uint(out, b.step);
            }
            out += ",\"type\":";
            append_json_string(out,
                               e.type < rs.events.size() ? std::string_view(rs.events[e.type].name) : "?");
            if (step) {
                out += ",\"predicate\":";
                append_json_string(out, rule.pattern.steps[b.step].pred_text);
            }
            out += ",\"line\":";
            append_json_uint(out, e.line);
            out.push_back('}');
        }
    }
    out.push_back(']');
}

/// `"models":{"nav":{"evidence":12,"confident":true,"surprise":1.5,"loglik":-0.9}}` (null scores before
/// the key's first observed event).
void append_model_scores(std::string& out, const ir::Detection& d, const ir::RuleSet& rs) {
    out += ",\"models\":{";
    bool first = true;
    for (const ir::ModelScore& m : d.models) {
        if (m.model >= rs.models.size()) continue;
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, rs.models[m.model].name);
        out += ":{\"evidence\":";
        append_json_uint(out, m.evidence);
        out += m.confident ? ",\"confident\":true" : ",\"confident\":false";
        out += ",\"surprise\":";
        append_json_double(out, m.surprise);
        out += ",\"loglik\":";
        append_json_double(out, m.loglik);
        out.push_back('}');
    }
    out.push_back('}');
}

} // namespace

void format_detection(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
                      const OutputOptions& opts, std::string& out) {
    const ir::Rule& rule = rs.rules[d.rule];
    out += "{\"rule\":";
    append_json_string(out, rule.name);
    out += ",\"behaviour\":";
    append_json_string(out,
                       rule.label < rs.taxonomy.size() ? std::string_view(rs.taxonomy[rule.label].path) : "");
    out += ",\"key\":";
    if (d.key < pool.size())
        append_json_string(out, pool.view(d.key));
    else
        out += "null";
    out += ",\"time\":";
    append_time(out, d.time);
    out += ",\"first\":";
    append_time(out, d.first_time);
    out += ",\"last\":";
    append_time(out, d.last_time);
    out += ",\"severity\":";
    append_json_string(out, ir::severity_name(rule.severity));
    out += ",\"confidence\":";
    append_json_double(out, d.confidence);
    out += ",\"trigger\":";
    append_json_string(out, d.trigger);
    if (!d.decision.empty()) {
        out += ",\"decision\":";
        append_json_string(out, d.decision);
    }

    out += ",\"fields\":{";
    static const std::vector<uint16_t> kNoTypes;
    const std::vector<uint16_t>& current =
        rule.kind == ir::RuleKind::Threshold ? rule.threshold.on_types : kNoTypes;
    for (size_t i = 0; i < rule.emits.size() && i < d.fields.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, rule.emits[i].name);
        out.push_back(':');
        append_value(out, d.fields[i], pool, enum_names(rs, rule, rule.emits[i].expr, current));
    }
    out += "},\"events\":{";
    for (size_t i = 0; i < d.bindings.size(); ++i) {
        const ir::Binding& b = d.bindings[i];
        if (i) out.push_back(',');
        append_json_string(out, b.alias);
        out += ":[";
        const size_t from = first_listed(b, opts.max_events_per_alias);
        for (size_t j = from; j < b.events.size(); ++j) {
            const ir::BoundEvent& e = b.events[j];
            if (j > from) out.push_back(',');
            out += "{\"line\":";
            append_json_uint(out, e.line);
            out += ",\"time\":";
            append_time(out, e.time);
            if (e.id != ir::kNoString && e.id < pool.size()) {
                out += ",\"id\":";
                append_json_string(out, pool.view(e.id));
            }
            out.push_back('}');
        }
        out.push_back(']');
    }
    out.push_back('}');
    bool any_omitted = false;
    for (const ir::Binding& b : d.bindings) {
        size_t omitted = first_listed(b, opts.max_events_per_alias);
        if (omitted == 0) continue;
        out += any_omitted ? "," : ",\"omitted\":{";
        any_omitted = true;
        append_json_string(out, b.alias);
        out.push_back(':');
        append_json_uint(out, omitted);
    }
    if (any_omitted) out.push_back('}');
    out += ",\"ruleset\":";
    append_json_string(out, rs.name);
    out += ",\"version\":";
    append_json_string(out, rs.version);
    if (!opts.bundle_hash.empty()) { // provenance of a bundle run: which rule text, which bundle
        out += ",\"rule_hash\":";
        append_json_string(out, rule.hash);
        out += ",\"bundle\":";
        append_json_string(out, opts.bundle_hash);
    }
    out += ",\"id\":";
    append_json_hex16(out, d.id);
    if (opts.explain) append_explain(out, d, rs, rule, opts.max_events_per_alias);
    if (opts.explain && !d.models.empty()) append_model_scores(out, d, rs);
    if (d.suppressed_by >= 0 && static_cast<size_t>(d.suppressed_by) < rs.rules.size()) {
        out += ",\"suppressed_by\":";
        append_json_string(out, rs.rules[static_cast<size_t>(d.suppressed_by)].name);
    }
    out.push_back('}');
}

DetectionWriter::DetectionWriter(const ir::RuleSet& rs, const ir::StringPool& pool, OutputOptions opts,
                                 OutputFile* out, OutputFile* suppressed)
    : rs_(rs), pool_(pool), opts_(opts), out_(out), suppressed_out_(suppressed) {}

bool DetectionWriter::keep(const ir::Detection& d) {
    if (opts_.only < 0) return true;
    if (rs_.in_subtree(rs_.rules[d.rule].label, static_cast<uint32_t>(opts_.only))) return true;
    ++filtered_;
    return false;
}

void DetectionWriter::emit(ir::Detection&& d) {
    if (!keep(d)) return;
    ++emitted_;
    if (!out_) return;
    buf_.clear();
    format_detection(d, rs_, pool_, opts_, buf_);
    buf_.push_back('\n');
    out_->write(buf_);
}

void DetectionWriter::suppressed(ir::Detection&& d) {
    if (!keep(d)) return;
    ++suppressed_;
    if (!suppressed_out_) return;
    buf_.clear();
    format_detection(d, rs_, pool_, opts_, buf_);
    buf_.push_back('\n');
    suppressed_out_->write(buf_);
}

} // namespace ethogram::runtime
