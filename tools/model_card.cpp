// model_card.cpp: renders the model card as Markdown and JSON (training data, spec, metrics, limitations).
#include "tools/model_card.h"

#include "runtime/json_writer.h"
#include "runtime/time.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

namespace ethogram::tools {

namespace {

using runtime::append_json_double;
using runtime::append_json_string;
using runtime::append_json_uint;

std::string when(int64_t us) {
    return runtime::format_rfc3339(us);
}

// Plain-language limitations, shared by both renderings.
std::vector<std::string> limitations(const AnyModel& m, const CardInfo& c) {
    std::vector<std::string> out;
    const EvalReport* r = c.report;
    out.push_back(
        fmt::format("Vocabulary: {} symbols of '{}' (`<unk>` included), {} of them seen only once in "
                    "training; every other value scores as `<unk>`.",
                    m.vocabulary.size(), m.meta.field, c.singleton_symbols));
    if (r && r->events)
        out.push_back(fmt::format("Unseen-symbol rate on the validation data: {:.2f}% of events ({} of {}).",
                                  100.0 * double(r->unseen) / double(r->events), r->unseen, r->events));
    if (!c.class_counts.empty()) {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (const auto& [k, n] : c.class_counts) {
            lo = std::min(lo, n);
            hi = std::max(hi, n);
        }
        out.push_back(fmt::format(
            "Class balance in training: {}; imbalance ratio {:.2f} (largest / smallest). "
            "Precision of the rarer class moves most with the base rate in production.",
            [&] {
                std::string s;
                for (const auto& [k, n] : c.class_counts)
                    s += fmt::format("{}{} {}", s.empty() ? "" : ", ", k, n);
                return s;
            }(),
            lo ? double(hi) / double(lo) : INFINITY));
    }
    if (m.kind == ModelKind::Hmm && !c.hmm_converged)
        out.push_back("Baum-Welch stopped at max_iterations before meeting the tolerance.");
    if (m.kind == ModelKind::Hmm)
        out.push_back("HMM states come out in arbitrary order and Baum-Welch finds a local optimum only.");
    out.push_back(
        "The model sees only the order of the field's values within a sequence: not timing, not other "
        "fields. Sequences are cut by the spec's key, gap and max_length; scores of very short "
        "sequences carry little evidence.");
    if (c.validation_sequences == 0)
        out.push_back("No held-out data: the metrics and the drift baseline are in-sample (optimistic).");
    return out;
}

} // namespace

std::string card_base(const std::string& model_path) {
    std::string base = model_path;
    if (base.size() > 4 && base.ends_with(".etm")) base.resize(base.size() - 4);
    return base;
}

models::Status write_model_card(const AnyModel& m, const CardInfo& c) {
    const EventLog& log = *c.log;
    const std::vector<std::string> lims = limitations(m, c);
    const std::string created = when(c.created_unix * 1000000);
    std::string types;
    for (const auto& t : m.meta.event_types) types += fmt::format("{}{}", types.empty() ? "" : ", ", t);
    if (types.empty()) types = "(all types)";

    // Markdown.
    std::string md = fmt::format("# Model card: {}\n\n", c.model_path);
    md += fmt::format("- Kind: {} ({})\n", kind_name(m.kind), [&] {
        std::string hp;
        for (const auto& [k, v] : m.meta.hyper_params)
            hp += fmt::format("{}{}={}", hp.empty() ? "" : ", ", k, v);
        return hp;
    }());
    md += fmt::format("- Created: {} by Ethogram {}\n", created, m.meta.engine_version);
    md += fmt::format("- Field: `{}` of event types {}; sequences keyed by the spec's events.key\n",
                      m.meta.field, types);
    md += "\n## Training data\n\n";
    md += fmt::format("- Events: `{}`: {} lines, {} events used, {} of other types, {} blank, {} malformed\n",
                      c.events_path, log.lines, log.events, log.other_types, log.blank, log.malformed);
    for (const auto& [reason, n] : log.malformed_by_reason) md += fmt::format("  - {}: {}\n", reason, n);
    if (!c.labels_path.empty()) md += fmt::format("- Labels: `{}`\n", c.labels_path);
    md += fmt::format("- Time range: {} .. {}\n", log.events ? when(log.min_us) : "-",
                      log.events ? when(log.max_us) : "-");
    md += fmt::format("- Sequences: {} in all; {} for training ({} events), {} for validation\n",
                      log.sequences.size(), c.train_sequences, c.train_events, c.validation_sequences);
    for (const auto& [k, n] : c.class_counts)
        md += fmt::format("  - class {}: {} training sequences\n", k, n);
    md += fmt::format("- Training data hash (BLAKE2b-256): `{}`\n", c.training_data_hash);
    md += "\n## Spec\n\n```yaml\n" + c.spec_text + (c.spec_text.ends_with("\n") ? "" : "\n") + "```\n";
    md += fmt::format("\n## Metrics\n\n{}\n\n", c.validation);
    if (c.report) md += "```\n" + format_report_text(m, *c.report) + "```\n";
    md += fmt::format("\nDrift baseline: {}.\n", c.baseline_source);
    md += "\n## Limitations\n\n";
    for (const auto& l : lims) md += "- " + l + "\n";

    // JSON.
    std::string js = "{\"model\":";
    append_json_string(js, c.model_path);
    js += ",\"kind\":";
    append_json_string(js, kind_name(m.kind));
    js += ",\"created\":";
    append_json_string(js, created);
    js += ",\"engine_version\":";
    append_json_string(js, m.meta.engine_version);
    js += ",\"field\":";
    append_json_string(js, m.meta.field);
    js += ",\"event_types\":[";
    for (size_t i = 0; i < m.meta.event_types.size(); ++i) {
        if (i) js += ",";
        append_json_string(js, m.meta.event_types[i]);
    }
    js += "],\"hyper_params\":{";
    bool first = true;
    for (const auto& [k, v] : m.meta.hyper_params) {
        if (!first) js += ",";
        first = false;
        append_json_string(js, k);
        js += ":";
        append_json_string(js, v);
    }
    js += "},\"training_data\":{\"events_file\":";
    append_json_string(js, c.events_path);
    js += ",\"labels_file\":";
    if (c.labels_path.empty())
        js += "null";
    else
        append_json_string(js, c.labels_path);
    js += ",\"lines\":";
    append_json_uint(js, log.lines);
    js += ",\"events\":";
    append_json_uint(js, log.events);
    js += ",\"other_types\":";
    append_json_uint(js, log.other_types);
    js += ",\"malformed\":";
    append_json_uint(js, log.malformed);
    js += ",\"malformed_by_reason\":{";
    first = true;
    for (const auto& [k, n] : log.malformed_by_reason) {
        if (!first) js += ",";
        first = false;
        append_json_string(js, k);
        js += ":";
        append_json_uint(js, n);
    }
    js += "},\"time_min\":";
    if (log.events)
        append_json_string(js, when(log.min_us));
    else
        js += "null";
    js += ",\"time_max\":";
    if (log.events)
        append_json_string(js, when(log.max_us));
    else
        js += "null";
    js += ",\"sequences\":";
    append_json_uint(js, log.sequences.size());
    js += ",\"train_sequences\":";
    append_json_uint(js, c.train_sequences);
    js += ",\"train_events\":";
    append_json_uint(js, c.train_events);
    js += ",\"validation_sequences\":";
    append_json_uint(js, c.validation_sequences);
    js += ",\"class_counts\":{";
    first = true;
    for (const auto& [k, n] : c.class_counts) {
        if (!first) js += ",";
        first = false;
        append_json_string(js, k);
        js += ":";
        append_json_uint(js, n);
    }
    js += "},\"hash\":";
    append_json_string(js, c.training_data_hash);
    js += "},\"spec\":";
    append_json_string(js, c.spec_text);
    js += ",\"validation\":";
    append_json_string(js, c.validation);
    js += ",\"metrics\":";
    js += c.report ? format_report_json(m, *c.report) : "null";
    js += ",\"drift_baseline\":";
    append_json_string(js, c.baseline_source);
    js += ",\"limitations\":{\"vocabulary_size\":";
    append_json_uint(js, m.vocabulary.size());
    js += ",\"singleton_symbols\":";
    append_json_uint(js, c.singleton_symbols);
    js += ",\"validation_unseen_rate\":";
    append_json_double(js, c.report && c.report->events ? double(c.report->unseen) / double(c.report->events)
                                                        : 0.0);
    js += ",\"notes\":[";
    for (size_t i = 0; i < lims.size(); ++i) {
        if (i) js += ",";
        append_json_string(js, lims[i]);
    }
    js += "]}}\n";

    const std::string base = card_base(c.model_path);
    for (const auto& [path, text] :
         {std::pair{base + ".card.md", &md}, std::pair{base + ".card.json", &js}}) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *text;
        out.flush();
        if (!out) return models::Error{path + ": cannot write the model card"};
    }
    return models::ok_status();
}

} // namespace ethogram::tools
