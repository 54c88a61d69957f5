// output.cpp: JSON Lines formatting of detections and the writer sink.
#include "runtime/output.h"

#include "runtime/json_writer.h"
#include "runtime/time.h"

#include <string>
#include <vector>

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

void append_value(JsonOut& out, const ir::Value& v, const ir::StringPool& pool,
                  const std::vector<std::string>* enum_values) {
    switch (v.type) {
    case ir::Type::Missing: out.lit("null"); break;
    case ir::Type::Bool:
        if (v.b)
            out.lit("true");
        else
            out.lit("false");
        break;
    case ir::Type::Int: out.int64(v.i); break;
    case ir::Type::Float: out.real(v.f); break;
    case ir::Type::String:
        if (v.i >= 0 && static_cast<size_t>(v.i) < pool.size())
            out.string(pool.view(static_cast<uint32_t>(v.i)));
        else
            out.lit("null");
        break;
    case ir::Type::Enum:
        if (enum_values && v.i >= 0 && static_cast<size_t>(v.i) < enum_values->size())
            out.string((*enum_values)[static_cast<size_t>(v.i)]);
        else
            out.int64(v.i);
        break;
    case ir::Type::Timestamp: out.time(v.i); break;
    case ir::Type::Duration:
        if (v.i % 1000 == 0)
            out.int64(v.i / 1000);
        else
            out.real(static_cast<double>(v.i) / 1000.0);
        break;
    }
}

/// Index of the first listed event of a binding: all but the last `cap` are omitted (cap 0: none).
size_t first_listed(const ir::Binding& b, uint32_t cap) {
    return cap != 0 && b.events.size() > cap ? b.events.size() - cap : 0;
}

void append_explain(JsonOut& out, const ir::Detection& d, const ir::RuleSet& rs, const ir::Rule& rule,
                    uint32_t cap) {
    out.lit(",\"explain\":[");
    bool first = true;
    for (const ir::Binding& b : d.bindings) {
        bool step = b.step != UINT32_MAX && b.step < rule.pattern.steps.size();
        if (!step && b.alias != "trigger") continue; // a threshold's scope is listed under "events"
        for (size_t j = first_listed(b, cap); j < b.events.size(); ++j) {
            const ir::BoundEvent& e = b.events[j];
            if (!first) out.ch(',');
            first = false;
            out.lit("{\"alias\":");
            out.string(b.alias);
            if (step) {
                out.lit(",\"step\":");
                out.uint64(b.step);
            }
            out.lit(",\"type\":");
            out.string(e.type < rs.events.size() ? std::string_view(rs.events[e.type].name) : "?");
            if (step) {
                out.lit(",\"predicate\":");
                out.string(rule.pattern.steps[b.step].pred_text);
            }
            out.lit(",\"line\":");
            out.uint64(e.line);
            out.ch('}');
        }
    }
    out.ch(']');
}

/// `"models":{"nav":{"evidence":12,"confident":true,"surprise":1.5,"loglik":-0.9}}` (null scores before
/// the key's first observed event).
void append_model_scores(JsonOut& out, const ir::Detection& d, const ir::RuleSet& rs) {
    out.lit(",\"models\":{");
    bool first = true;
    for (const ir::ModelScore& m : d.models) {
        if (m.model >= rs.models.size()) continue;
        if (!first) out.ch(',');
        first = false;
        out.string(rs.models[m.model].name);
        out.lit(":{\"evidence\":");
        out.uint64(m.evidence);
        if (m.confident)
            out.lit(",\"confident\":true");
        else
            out.lit(",\"confident\":false");
        out.lit(",\"surprise\":");
        out.real(m.surprise);
        out.lit(",\"loglik\":");
        out.real(m.loglik);
        out.ch('}');
    }
    out.ch('}');
}

/// A detection's times are mostly a few values (its time, first and last, and its events' times): the
/// last two written, with their text, so that a repeated one is copied rather than formatted again.
class TimeCache {
public:
    void write(JsonOut& out, int64_t us) {
        for (Entry& e : entries_) {
            if (e.len != 0 && e.us == us) {
                out.raw(e.text, e.len);
                return;
            }
        }
        Entry& e = entries_[next_];
        next_ ^= 1;
        e.us = us;
        e.len = static_cast<uint8_t>(write_rfc3339(e.text + 1, us) + 2);
        e.text[0] = '"';
        e.text[e.len - 1] = '"';
        out.raw(e.text, e.len);
    }

private:
    struct Entry {
        int64_t us = 0;
        uint8_t len = 0; ///< 0: empty
        char text[kRfc3339MaxSize + 2];
    };
    Entry entries_[2];
    unsigned next_ = 0;
};

// The detection's text up to the key: `{"rule":...,"behaviour":...,"key":`.
void write_head(JsonOut& out, const ir::RuleSet& rs, const ir::Rule& rule) {
    out.lit("{\"rule\":");
    out.string(rule.name);
    out.lit(",\"behaviour\":");
    out.string(rule.label < rs.taxonomy.size() ? std::string_view(rs.taxonomy[rule.label].path) : "");
    out.lit(",\"key\":");
}

// `,"severity":...,"confidence":`.
void write_severity(JsonOut& out, const ir::Rule& rule) {
    out.lit(",\"severity\":");
    out.string(ir::severity_name(rule.severity));
    out.lit(",\"confidence\":");
}

// `,"ruleset":...,"version":...` (and the bundle's provenance) `,"id":`.
void write_tail(JsonOut& out, const ir::RuleSet& rs, const ir::Rule& rule, const OutputOptions& opts) {
    out.lit(",\"ruleset\":");
    out.string(rs.name);
    out.lit(",\"version\":");
    out.string(rs.version);
    if (!opts.bundle_hash.empty()) { // provenance of a bundle run: which rule text, which bundle
        out.lit(",\"rule_hash\":");
        out.string(rule.hash);
        out.lit(",\"bundle\":");
        out.string(opts.bundle_hash);
    }
    out.lit(",\"id\":");
}

const std::vector<uint16_t> kNoTypes;

// The types EventRef::Current may be in the rule's emits (empty: any).
const std::vector<uint16_t>& current_types(const ir::Rule& rule) {
    return rule.kind == ir::RuleKind::Threshold ? rule.threshold.on_types : kNoTypes;
}

// A detection of `rule` as text; `pieces`, when given, holds the rule's constant parts already written.
void format(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
            const OutputOptions& opts, const RulePieces* pieces, std::string& text) {
    JsonOut out(text);
    TimeCache times;
    const ir::Rule& rule = rs.rules[d.rule];
    if (pieces)
        out.raw(pieces->head.data(), pieces->head.size());
    else
        write_head(out, rs, rule);
    if (d.key < pool.size())
        out.string(pool.view(d.key));
    else
        out.lit("null");
    out.lit(",\"time\":");
    times.write(out, d.time);
    out.lit(",\"first\":");
    times.write(out, d.first_time);
    out.lit(",\"last\":");
    times.write(out, d.last_time);
    if (pieces)
        out.raw(pieces->severity.data(), pieces->severity.size());
    else
        write_severity(out, rule);
    out.real(d.confidence);
    out.lit(",\"trigger\":");
    out.string(d.trigger);
    if (!d.decision.empty()) {
        out.lit(",\"decision\":");
        out.string(d.decision);
    }

    out.lit(",\"fields\":{");
    for (size_t i = 0; i < rule.emits.size() && i < d.fields.size(); ++i) {
        if (i) out.ch(',');
        if (pieces) {
            const std::string& name = pieces->emit_names[i];
            out.raw(name.data(), name.size());
            append_value(out, d.fields[i], pool, pieces->emit_enums[i]);
        } else {
            out.string(rule.emits[i].name);
            out.ch(':');
            append_value(out, d.fields[i], pool,
                         enum_names(rs, rule, rule.emits[i].expr, current_types(rule)));
        }
    }
    out.lit("},\"events\":{");
    for (size_t i = 0; i < d.bindings.size(); ++i) {
        const ir::Binding& b = d.bindings[i];
        if (i) out.ch(',');
        out.string(b.alias);
        out.lit(":[");
        const size_t from = first_listed(b, opts.max_events_per_alias);
        for (size_t j = from; j < b.events.size(); ++j) {
            const ir::BoundEvent& e = b.events[j];
            if (j > from) out.ch(',');
            out.lit("{\"line\":");
            out.uint64(e.line);
            out.lit(",\"time\":");
            times.write(out, e.time);
            if (e.id != ir::kNoString && e.id < pool.size()) {
                out.lit(",\"id\":");
                out.string(pool.view(e.id));
            }
            out.ch('}');
        }
        out.ch(']');
    }
    out.ch('}');
    bool any_omitted = false;
    for (const ir::Binding& b : d.bindings) {
        size_t omitted = first_listed(b, opts.max_events_per_alias);
        if (omitted == 0) continue;
        if (any_omitted)
            out.ch(',');
        else
            out.lit(",\"omitted\":{");
        any_omitted = true;
        out.string(b.alias);
        out.ch(':');
        out.uint64(omitted);
    }
    if (any_omitted) out.ch('}');
    if (pieces)
        out.raw(pieces->tail.data(), pieces->tail.size());
    else
        write_tail(out, rs, rule, opts);
    out.hex16(d.id);
    if (opts.explain) append_explain(out, d, rs, rule, opts.max_events_per_alias);
    if (opts.explain && !d.models.empty()) append_model_scores(out, d, rs);
    if (d.suppressed_by >= 0 && static_cast<size_t>(d.suppressed_by) < rs.rules.size()) {
        out.lit(",\"suppressed_by\":");
        out.string(rs.rules[static_cast<size_t>(d.suppressed_by)].name);
    }
    out.ch('}');
}

} // namespace

RulePieces::RulePieces(const ir::RuleSet& rs, const ir::Rule& rule, const OutputOptions& opts) {
    auto text = [](std::string& s, auto&& write) {
        JsonOut out(s);
        write(out);
    };
    text(head, [&](JsonOut& out) { write_head(out, rs, rule); });
    text(severity, [&](JsonOut& out) { write_severity(out, rule); });
    text(tail, [&](JsonOut& out) { write_tail(out, rs, rule, opts); });
    for (const ir::Emit& e : rule.emits) {
        std::string name;
        text(name, [&](JsonOut& out) {
            out.string(e.name);
            out.ch(':');
        });
        emit_names.push_back(std::move(name));
        emit_enums.push_back(enum_names(rs, rule, e.expr, current_types(rule)));
    }
}

void format_detection(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
                      const OutputOptions& opts, std::string& text) {
    format(d, rs, pool, opts, nullptr, text);
}

void format_detection(const ir::Detection& d, const ir::RuleSet& rs, const ir::StringPool& pool,
                      const OutputOptions& opts, const RulePieces& pieces, std::string& text) {
    format(d, rs, pool, opts, &pieces, text);
}

DetectionWriter::DetectionWriter(const ir::RuleSet& rs, const ir::StringPool& pool, OutputOptions opts,
                                 OutputFile* out, OutputFile* suppressed)
    : rs_(rs), pool_(pool), opts_(opts), out_(out), suppressed_out_(suppressed) {
    pieces_.reserve(rs.rules.size());
    for (const ir::Rule& rule : rs.rules) pieces_.emplace_back(rs, rule, opts_);
}

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
    format_detection(d, rs_, pool_, opts_, pieces_[d.rule], buf_);
    buf_.push_back('\n');
    out_->write(buf_);
}

void DetectionWriter::suppressed(ir::Detection&& d) {
    if (!keep(d)) return;
    ++suppressed_;
    if (!suppressed_out_) return;
    buf_.clear();
    format_detection(d, rs_, pool_, opts_, pieces_[d.rule], buf_);
    buf_.push_back('\n');
    suppressed_out_->write(buf_);
}

} // namespace ethogram::runtime
