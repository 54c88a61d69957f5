// cmd_train.cpp: `etho train`: spec + JSONL events (+ labels) -> a model file, its card, validation metrics.
#include "tools/commands.h"
#include "tools/event_log.h"
#include "tools/model_card.h"
#include "tools/model_pipeline.h"
#include "tools/model_spec.h"

#include "models/hmm_train.h"
#include "runtime/time.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <map>

namespace ethogram::tools {

namespace {

int fail(int code, const std::string& msg) {
    fmt::print(stderr, "etho: {}\n", msg);
    return code;
}

// SOURCE_DATE_EPOCH (reproducible-builds.org) pins the creation time, so a committed model can be rebuilt
// byte for byte.
int64_t creation_time() {
    if (const char* s = std::getenv("SOURCE_DATE_EPOCH"); s && *s) {
        char* end = nullptr;
        long long v = std::strtoll(s, &end, 10);
        if (end && *end == '\0' && v >= 0) return v;
    }
    return static_cast<int64_t>(std::time(nullptr));
}

} // namespace

CLI::App* add_train(CLI::App& app, TrainOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("train", "Train a sequence model from JSON Lines events (docs/models.md)");
    cmd->add_option("--spec", o.spec, "Training spec (YAML): model kind, events, sequences, validation")
        ->required();
    cmd->add_option("--events", o.events, "JSON Lines events")->required();
    cmd->add_option("--labels", o.labels, "Class labels per key (JSONL or CSV); required by classifiers");
    cmd->add_option("--out", o.out, "Model file to write (the card goes beside it: <out>.card.md/.json)")
        ->required();
    cmd->add_option("--dead-letter", o.dead_letter, "Write malformed event lines here (JSONL)");
    return cmd;
}

int run_train(const TrainOptions& o) {
    auto spec = load_spec(o.spec);
    if (!spec) return fail(kExitUsage, spec.error());
    const bool cls = spec->kind == ModelKind::Classifier;
    if (cls && o.labels.empty())
        return fail(kExitUsage, "train: a classifier needs --labels (key or sequence id -> class)");
    if (!paths_exist({o.events})) return kExitUsage;

    EventLogOptions lo = log_options(*spec);
    lo.dead_letter_path = o.dead_letter;
    auto log = read_event_log(o.events, lo);
    if (!log) return fail(kExitData, log.error());
    if (log->malformed) {
        fmt::print(stderr, "{}", describe_malformed(*log));
        fmt::print(stderr, "etho: {}: {} malformed line(s) skipped{}\n", o.events, log->malformed,
                   o.dead_letter.empty() ? " (pass --dead-letter FILE to keep them)"
                                         : fmt::format(", written to {}", o.dead_letter));
    }
    if (log->sequences.empty())
        return fail(kExitData, fmt::format("{}: no usable event ({} lines, {} malformed, {} of other types)",
                                           o.events, log->lines, log->malformed, log->other_types));
    const std::vector<Sequence>& seqs = log->sequences;

    std::optional<Labels> labels;
    std::vector<size_t> label_idx;
    if (!o.labels.empty()) {
        auto l = read_labels(o.labels);
        if (!l) return fail(kExitData, l.error());
        labels = std::move(*l);
        if (cls) {
            auto idx = label_indices(seqs, *labels, spec->classes);
            if (!idx) return fail(kExitData, idx.error());
            label_idx = std::move(*idx);
        }
    }
    const std::vector<size_t>* lp = cls ? &label_idx : nullptr;
    const size_t positive =
        cls ? static_cast<size_t>(std::find(spec->classes.begin(), spec->classes.end(), spec->positive) -
                                  spec->classes.begin())
            : 0;

    // Metrics on held-out data, then the model to ship: with folds, trained on everything; with a holdout,
    // the model the metrics describe (trained on the training part only).
    std::vector<size_t> train, held_out;
    Predictions oos;
    std::optional<EvalReport> report;
    std::string validation;
    if (spec->folds > 1) {
        auto r = cross_validate(*spec, seqs, lp, cls ? spec->classes : std::vector<std::string>{}, positive,
                                spec->folds, &oos);
        if (!r) return fail(kExitData, "train: cross-validation: " + r.error());
        report = std::move(*r);
        for (size_t i = 0; i < seqs.size(); ++i) train.push_back(i);
        validation = fmt::format("{}-fold cross-validation (seed {}), held-out predictions pooled; the model "
                                 "itself is trained on all sequences",
                                 spec->folds, spec->seed);
    } else {
        split_holdout(seqs.size(), lp, spec->fraction, spec->seed, train, held_out);
        validation = held_out.empty()
                         ? "no validation split (validation.fraction is 0)"
                         : fmt::format("holdout: {} of {} sequences ({}%, seed {}{}), the model is "
                                       "trained on the rest",
                                       held_out.size(), seqs.size(), spec->fraction * 100, spec->seed,
                                       cls ? ", stratified by class" : "");
    }
    auto model = train_model(*spec, seqs, train, lp);
    if (!model) return fail(kExitData, "train: " + model.error());
    if (spec->folds <= 1 && !held_out.empty()) {
        std::vector<std::string> classes = cls ? spec->classes : std::vector<std::string>{};
        oos = predict(*model, seqs, held_out, lp, classes, positive);
        report = summarise(*model, oos);
    }

    // Drift baseline: the field over every sequence read, the score over held-out sequences (in-sample when
    // there are none).
    models::DriftBaseline baseline;
    baseline.field_counts.assign(model->vocabulary.size(), 0);
    for (const auto& s : seqs)
        for (const auto& sym : s.symbols) ++baseline.field_counts[model->vocabulary.id(sym)];
    std::vector<double> scores = oos.drift_scores;
    std::string baseline_source = fmt::format("field over all {} sequences read; score over the {} held-out "
                                              "sequences",
                                              seqs.size(), scores.size());
    if (scores.empty()) {
        for (size_t i : train)
            scores.push_back(drift_score(*model, score_sequence(*model, seqs[i]), positive));
        baseline_source =
            fmt::format("field over all {} sequences read; score over the {} training sequences "
                        "(in-sample)",
                        seqs.size(), scores.size());
    }
    baseline.score_name = drift_score_name(*model, positive);
    baseline.score.edges = models::quantile_edges(scores, 10);
    for (double s : scores) baseline.score.add(s);
    if (baseline.score.counts.empty()) baseline.score.counts.assign(1, 0);

    // Provenance.
    models::TrainingDataHash hash;
    uint64_t train_events = 0, train_seqs = 0;
    std::map<std::string, uint64_t> class_counts;
    std::map<std::string, uint64_t> symbol_counts;
    for (size_t i : train) {
        if (cls && label_idx[i] >= spec->classes.size()) continue;
        if (cls) {
            hash.add_label(spec->classes[label_idx[i]]);
            ++class_counts[spec->classes[label_idx[i]]];
        }
        hash.add_sequence(seqs[i].symbols);
        train_events += seqs[i].symbols.size();
        ++train_seqs;
        for (const auto& s : seqs[i].symbols) ++symbol_counts[s];
    }
    models::ModelMeta meta;
    meta.training_data_hash = hash.hex();
    meta.created_unix = creation_time();
    meta.field = spec->field;
    meta.event_types = spec->event_types;
    if (spec->kind == ModelKind::Hmm) {
        models::BaumWelchOptions ho = spec->hmm;
        ho.n_symbols = model->vocabulary.size();
        meta.hyper_params = models::hmm_hyper_params(ho);
        meta.sequences = train_seqs;
        meta.events = train_events;
    }
    meta.training = {
        {"spec", spec->text},
        {"events_file", o.events},
        {"labels_file", o.labels},
        {"lines", std::to_string(log->lines)},
        {"malformed", std::to_string(log->malformed)},
        {"time_min", log->events ? runtime::format_rfc3339(log->min_us) : ""},
        {"time_max", log->events ? runtime::format_rfc3339(log->max_us) : ""},
        {"validation", validation},
        {"validation_sequences", std::to_string(spec->folds > 1 ? oos.sequences : held_out.size())},
    };
    baseline.to_meta(meta.baseline);
    if (auto st = save_any_model(o.out, *model, meta); !st) return fail(kExitData, st.error());
    auto saved = load_any_model(o.out); // what the card describes is what was written
    if (!saved) return fail(kExitData, "train: the written model does not read back: " + saved.error());
    saved->hmm_converged = model->hmm_converged;

    CardInfo card;
    card.model_path = o.out;
    card.events_path = o.events;
    card.labels_path = o.labels;
    card.spec_text = spec->text;
    card.validation = validation;
    card.created_unix = meta.created_unix;
    card.log = &*log;
    card.train_sequences = train_seqs;
    card.validation_sequences = spec->folds > 1 ? oos.sequences : held_out.size();
    card.train_events = train_events;
    card.training_data_hash = meta.training_data_hash;
    card.class_counts = class_counts;
    for (const auto& [s, n] : symbol_counts) card.singleton_symbols += n == 1;
    card.hmm_converged = model->hmm_converged;
    card.report = report ? &*report : nullptr;
    card.baseline_source = baseline_source;
    if (auto st = write_model_card(*saved, card); !st) return fail(kExitData, st.error());

    fmt::print("wrote {} ({}, {} training sequences, {} events, vocabulary {}) and {}.card.md/.json\n", o.out,
               kind_name(model->kind), train_seqs, train_events, model->vocabulary.size(), card_base(o.out));
    fmt::print("validation: {}\n", validation);
    if (report) fmt::print("{}", format_report_text(*saved, *report));
    return kExitOk;
}

} // namespace ethogram::tools
