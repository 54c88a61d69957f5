// cmd_eval.cpp: `etho eval`: a model's metrics on labelled (or unlabelled) events, k-fold on request, or a
// rule set's detections scored against labels.
#include "tools/commands.h"
#include "tools/event_log.h"
#include "tools/model_pipeline.h"

#include "models/metrics.h"
#include "runtime/json_writer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <set>

namespace ethogram::tools {

namespace {

int fail(int code, const std::string& msg) {
    fmt::print(stderr, "etho: {}\n", msg);
    return code;
}

int eval_detections(const EvalOptions& o) {
    if (o.labels.empty()) return fail(kExitUsage, "eval --detections needs --labels");
    if (!o.model.empty() || !o.events.empty())
        return fail(kExitUsage,
                    "eval --detections scores a rule set's output: do not pass --model or --events");
    auto labels = read_labels(o.labels);
    if (!labels) return fail(kExitData, labels.error());
    std::set<std::string> classes;
    for (const auto& [k, l] : labels->by_key) classes.insert(l);
    if (o.positive.empty())
        return fail(kExitUsage, fmt::format("eval --detections needs --positive CLASS (the class a detection "
                                            "asserts; labels hold: {})",
                                            fmt::join(classes, ", ")));
    if (!classes.contains(o.positive))
        return fail(kExitUsage, fmt::format("--positive: no key is labelled '{}' (labels hold: {})",
                                            o.positive, fmt::join(classes, ", ")));
    auto det = read_detection_keys(o.detections, o.rule);
    if (!det) return fail(kExitData, det.error());
    const std::string negative = "not " + o.positive;
    models::ConfusionMatrix cm({negative, o.positive});
    std::vector<double> score;
    std::vector<uint8_t> pos;
    for (const auto& [key, label] : labels->by_key) {
        const bool actual = label == o.positive, detected = det->keys.contains(key);
        cm.add(actual, detected);
        score.push_back(detected);
        pos.push_back(actual);
    }
    uint64_t unlabelled = 0;
    for (const auto& k : det->keys) unlabelled += !labels->by_key.contains(k);
    auto rep = models::classification_report(cm);
    const double auc = models::roc_auc(score, pos);
    const auto& p = rep.classes[1];
    if (o.format == "json") {
        std::string js = "{\"rule\":";
        if (o.rule.empty())
            js += "null";
        else
            runtime::append_json_string(js, o.rule);
        js += fmt::format(
            ",\"positive\":\"{}\",\"labelled_keys\":{},\"detections\":{},\"detected_keys\":{},"
            "\"detected_unlabelled_keys\":{},\"malformed\":{},\"tp\":{},\"fp\":{},\"fn\":{},\"tn\":{},",
            o.positive, labels->by_key.size(), det->detections, det->keys.size(), unlabelled, det->malformed,
            cm.at(1, 1), cm.at(0, 1), cm.at(1, 0), cm.at(0, 0));
        js += "\"precision\":";
        runtime::append_json_double(js, p.precision);
        js += ",\"recall\":";
        runtime::append_json_double(js, p.recall);
        js += ",\"f1\":";
        runtime::append_json_double(js, p.f1);
        js += ",\"accuracy\":";
        runtime::append_json_double(js, rep.accuracy);
        js += ",\"auc\":";
        runtime::append_json_double(js, auc);
        js += "}\n";
        fmt::print("{}", js);
        return kExitOk;
    }
    fmt::print("detections: {} ({}{} detection(s), {} distinct keys, {} of them unlabelled, {} malformed "
               "line(s))\n",
               o.detections, o.rule.empty() ? "all rules: " : "rule " + o.rule + ": ", det->detections,
               det->keys.size(), unlabelled, det->malformed);
    fmt::print("labels: {} ({} keys, {} labelled '{}')\n", o.labels, labels->by_key.size(), p.support,
               o.positive);
    fmt::print("a detected key counts as '{}', every other labelled key as '{}'\n\n", o.positive, negative);
    fmt::print("              detected  not detected\n");
    fmt::print("{:<14}{:>8}{:>14}\n", o.positive, cm.at(1, 1), cm.at(1, 0));
    fmt::print("{:<14}{:>8}{:>14}\n", negative, cm.at(0, 1), cm.at(0, 0));
    fmt::print("\nprecision {:.4f}, recall {:.4f}, F1 {:.4f}, accuracy {:.4f}, AUC {:.4f}\n", p.precision,
               p.recall, p.f1, rep.accuracy, auc);
    return kExitOk;
}

} // namespace

CLI::App* add_eval(CLI::App& app, EvalOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("eval", "Evaluate a model (or a rule set's detections) against labels");
    cmd->add_option("--model", o.model, "Model file written by etho train");
    cmd->add_option("--events", o.events, "JSON Lines events to score");
    cmd->add_option("--labels", o.labels, "Class labels per key (JSONL or CSV)");
    cmd->add_option("--folds", o.folds,
                    "k-fold cross-validation on --events, retraining from the stored spec")
        ->check(CLI::Range(2u, 100u));
    cmd->add_option("--positive", o.positive,
                    "Class scored by AUC (markov/hmm: by surprise; default for a classifier: the spec's)");
    cmd->add_option("--detections", o.detections, "Score etho run's detections (JSONL) instead of a model");
    cmd->add_option("--rule", o.rule, "With --detections: only this rule's detections");
    cmd->add_option("--dead-letter", o.dead_letter, "Write malformed event lines here (JSONL)");
    cmd->add_option("--format", o.format, "Output: text or json")->check(CLI::IsMember({"text", "json"}));
    return cmd;
}

int run_eval(const EvalOptions& o) {
    if (!o.detections.empty()) return eval_detections(o);
    if (!o.rule.empty()) return fail(kExitUsage, "eval: --rule goes with --detections");
    if (o.model.empty() || o.events.empty())
        return fail(kExitUsage, "eval: pass --model and --events (or --detections and --labels)");
    auto model = load_any_model(o.model);
    if (!model) return fail(kExitData, model.error());
    auto spec = stored_spec(*model, o.model);
    if (!spec) return fail(kExitData, spec.error());
    EventLogOptions lo = log_options(*spec);
    lo.dead_letter_path = o.dead_letter;
    auto log = read_event_log(o.events, lo);
    if (!log) return fail(kExitData, log.error());
    if (log->malformed) {
        fmt::print(stderr, "{}", describe_malformed(*log));
        fmt::print(stderr, "etho: {}: {} malformed line(s) skipped\n", o.events, log->malformed);
    }
    if (log->sequences.empty()) return fail(kExitData, o.events + ": no usable event");

    // Classes: the classifier's own; for markov/hmm, the labels' distinct values (AUC of the surprise).
    std::vector<std::string> classes;
    size_t positive = 0;
    if (model->kind == ModelKind::Classifier) {
        for (size_t c = 0; c < model->classifier->class_count(); ++c)
            classes.push_back(model->classifier->class_name(c));
        const std::string& want = o.positive.empty() ? spec->positive : o.positive;
        positive = static_cast<size_t>(std::find(classes.begin(), classes.end(), want) - classes.begin());
        if (positive == classes.size())
            return fail(kExitUsage, fmt::format("--positive: '{}' is not one of the model's classes", want));
        spec->positive = want;
    }
    std::optional<Labels> labels;
    std::vector<size_t> idx;
    if (!o.labels.empty()) {
        auto l = read_labels(o.labels);
        if (!l) return fail(kExitData, l.error());
        labels = std::move(*l);
        if (model->kind != ModelKind::Classifier) {
            std::set<std::string> distinct;
            for (const auto& [k, v] : labels->by_key) distinct.insert(v);
            classes.assign(distinct.begin(), distinct.end());
            if (o.positive.empty())
                return fail(kExitUsage,
                            fmt::format("eval: with labels, a {} model needs --positive CLASS (the "
                                        "class expected to be surprising; labels hold: {})",
                                        kind_name(model->kind), fmt::join(classes, ", ")));
            positive =
                static_cast<size_t>(std::find(classes.begin(), classes.end(), o.positive) - classes.begin());
            if (positive == classes.size())
                return fail(kExitUsage, fmt::format("--positive: no key is labelled '{}'", o.positive));
        }
        auto i = label_indices(log->sequences, *labels, classes);
        if (!i) return fail(kExitData, i.error());
        idx = std::move(*i);
    } else if (o.folds) {
        if (model->kind == ModelKind::Classifier)
            return fail(kExitUsage, "eval --folds: a classifier needs --labels");
    }
    const std::vector<size_t>* lp = labels ? &idx : nullptr;

    EvalReport report;
    if (o.folds) {
        auto r = cross_validate(*spec, log->sequences, lp, classes, positive, o.folds);
        if (!r) return fail(kExitData, "eval --folds: " + r.error());
        report = std::move(*r);
    } else {
        std::vector<size_t> all(log->sequences.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        report = summarise(*model, predict(*model, log->sequences, all, lp,
                                           labels ? classes : std::vector<std::string>{}, positive));
    }
    if (o.format == "json")
        fmt::print("{}\n", format_report_json(*model, report));
    else
        fmt::print("{}", format_report_text(*model, report));
    return kExitOk;
}

} // namespace ethogram::tools
