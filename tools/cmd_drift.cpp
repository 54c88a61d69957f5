// cmd_drift.cpp: `etho drift`: PSI and KL between a model's stored baseline and a window of new events.
#include "tools/commands.h"
#include "tools/event_log.h"
#include "tools/model_pipeline.h"

#include "models/drift.h"
#include "runtime/json_writer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ethogram::tools {

namespace {

int fail(int code, const std::string& msg) {
    fmt::print(stderr, "etho: {}\n", msg);
    return code;
}

} // namespace

CLI::App* add_drift(CLI::App& app, DriftOptions& o) {
    CLI::App* cmd = app.add_subcommand(
        "drift", "Compare new events with a model's training baseline (PSI, KL); exit 3 over the threshold");
    cmd->add_option("--model", o.model, "Model file written by etho train")->required();
    cmd->add_option("--events", o.events, "JSON Lines events: the current window")->required();
    cmd->add_option("--threshold", o.threshold,
                    "PSI above which drift is reported with exit code 3 (default 0.25: 'significant shift')")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--dead-letter", o.dead_letter, "Write malformed event lines here (JSONL)");
    cmd->add_option("--format", o.format, "Output: text or json")->check(CLI::IsMember({"text", "json"}));
    return cmd;
}

int run_drift(const DriftOptions& o) {
    auto model = load_any_model(o.model);
    if (!model) return fail(kExitData, model.error());
    auto spec = stored_spec(*model, o.model);
    if (!spec) return fail(kExitData, spec.error());
    auto baseline = models::DriftBaseline::from_meta(model->meta.baseline);
    if (!baseline) return fail(kExitData, o.model + ": " + baseline.error());
    if (baseline->field_counts.size() != model->vocabulary.size())
        return fail(kExitData, fmt::format("{}: the baseline has {} field bins for a vocabulary of {}",
                                           o.model, baseline->field_counts.size(), model->vocabulary.size()));
    EventLogOptions lo = log_options(*spec);
    lo.dead_letter_path = o.dead_letter;
    auto log = read_event_log(o.events, lo);
    if (!log) return fail(kExitData, log.error());
    if (log->malformed) {
        fmt::print(stderr, "{}", describe_malformed(*log));
        fmt::print(stderr, "etho: {}: {} malformed line(s) skipped\n", o.events, log->malformed);
    }
    if (log->sequences.empty()) return fail(kExitData, o.events + ": no usable event in the window");

    size_t positive = 0;
    if (model->kind == ModelKind::Classifier) {
        positive = model->classifier->class_index(spec->positive);
        if (positive >= model->classifier->class_count()) positive = model->classifier->class_count() - 1;
    }
    std::vector<uint64_t> field(model->vocabulary.size(), 0);
    models::Histogram score{baseline->score.edges, {}};
    score.counts.assign(score.edges.size() + 1, 0);
    for (const auto& s : log->sequences) {
        for (const auto& sym : s.symbols) ++field[model->vocabulary.id(sym)];
        score.add(drift_score(*model, score_sequence(*model, s), positive));
    }
    auto df = models::compare_counts(baseline->field_counts, field);
    if (!df) return fail(kExitData, "field: " + df.error());
    auto ds = models::compare_counts(baseline->score.counts, score.counts);
    if (!ds) return fail(kExitData, "score: " + ds.error());
    const bool drifted = df->psi > o.threshold || ds->psi > o.threshold;
    const uint64_t unseen = field[models::Vocabulary::kUnk];

    if (o.format == "json") {
        std::string js = "{\"model\":";
        runtime::append_json_string(js, o.model);
        js += ",\"events\":";
        runtime::append_json_uint(js, log->events);
        js += ",\"sequences\":";
        runtime::append_json_uint(js, log->sequences.size());
        js += ",\"malformed\":";
        runtime::append_json_uint(js, log->malformed);
        js += ",\"unseen_events\":";
        runtime::append_json_uint(js, unseen);
        js += ",\"field\":{\"name\":";
        runtime::append_json_string(js, model->meta.field);
        js += ",\"psi\":";
        runtime::append_json_double(js, df->psi);
        js += ",\"kl\":";
        runtime::append_json_double(js, df->kl);
        js += "},\"score\":{\"name\":";
        runtime::append_json_string(js, baseline->score_name);
        js += ",\"psi\":";
        runtime::append_json_double(js, ds->psi);
        js += ",\"kl\":";
        runtime::append_json_double(js, ds->kl);
        js += "},\"threshold\":";
        runtime::append_json_double(js, o.threshold);
        js += drifted ? ",\"drift\":true}\n" : ",\"drift\":false}\n";
        fmt::print("{}", js);
    } else {
        fmt::print("window: {}: {} events in {} sequences ({} malformed line(s)), {} unseen symbol(s)\n",
                   o.events, log->events, log->sequences.size(), log->malformed, unseen);
        fmt::print("{:<28}{:>10}{:>10}\n", "distribution", "PSI", "KL");
        fmt::print("{:<28}{:>10.4f}{:>10.4f}\n", "field " + model->meta.field, df->psi, df->kl);
        fmt::print("{:<28}{:>10.4f}{:>10.4f}\n", "score " + baseline->score_name, ds->psi, ds->kl);
        fmt::print("threshold (PSI): {}: {}\n", o.threshold, drifted ? "DRIFT" : "ok");
    }
    return drifted ? kExitDrift : kExitOk;
}

} // namespace ethogram::tools
