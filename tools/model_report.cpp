// model_report.cpp: `etho eval`'s report as aligned text and as JSON.
#include "tools/model_pipeline.h"

#include "runtime/json_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ethogram::tools {

namespace {

std::string num(double v, int digits = 4) {
    if (std::isnan(v)) return "n/a";
    return fmt::format("{:.{}f}", v, digits);
}

std::string describe_model(const AnyModel& m) {
    switch (m.kind) {
    case ModelKind::Markov:
        return fmt::format("markov, order {}, vocabulary {}", m.markov->order(), m.vocabulary.size());
    case ModelKind::Hmm:
        return fmt::format("hmm, {} states, vocabulary {}", m.hmm.n_states, m.vocabulary.size());
    case ModelKind::Classifier:
        return fmt::format("classifier, {} classes, order {}, vocabulary {}", m.classifier->class_count(),
                           m.classifier->chain(0).order(), m.vocabulary.size());
    }
    return "";
}

} // namespace

std::string format_report_text(const AnyModel& m, const EvalReport& r) {
    std::string o;
    o += fmt::format("model: {}\n", describe_model(m));
    o += fmt::format(
        "sequences: {}{}, events: {}, unseen symbols: {} ({}%)\n", r.sequences,
        r.labelled ? fmt::format(" ({} labelled, {} unlabelled)", r.sequences - r.unlabelled, r.unlabelled)
                   : "",
        r.events, r.unseen, num(r.events ? 100.0 * double(r.unseen) / double(r.events) : 0.0, 2));
    if (m.kind != ModelKind::Classifier)
        o += fmt::format("log-likelihood: {} nats, per event: {}, perplexity: {}\n", num(r.log_likelihood),
                         num(r.mean_log_likelihood), num(r.perplexity));
    if (!r.folds.empty()) {
        o += fmt::format("cross-validation: {} folds (metrics below pool the held-out folds)\n",
                         r.folds.size());
        for (size_t f = 0; f < r.folds.size(); ++f) {
            std::string parts;
            auto part = [&](const char* name, double v) {
                if (!std::isnan(v)) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", name, num(v));
            };
            part("macro-F1", r.folds[f].macro_f1);
            part("AUC", r.folds[f].auc);
            part("perplexity", r.folds[f].perplexity);
            o += fmt::format("  fold {}: {}\n", f + 1, parts);
        }
    }
    if (!r.labelled) return o;
    if (r.confusion) {
        size_t w = 9;
        for (const auto& c : r.classes) w = std::max(w, c.size() + 2);
        o += fmt::format("\n{:<{}}{:>9}{:>11}{:>11}{:>9}{:>9}\n", "class", w, "support", "predicted",
                         "precision", "recall", "f1");
        for (const auto& c : r.report.classes)
            o += fmt::format("{:<{}}{:>9}{:>11}{:>11}{:>9}{:>9}\n", c.name, w, c.support, c.predicted,
                             num(c.precision), num(c.recall), num(c.f1));
        o += fmt::format("accuracy: {}, macro-F1: {}\n", num(r.report.accuracy), num(r.report.macro_f1));
        o += "\nconfusion matrix (rows: actual, columns: predicted)\n";
        o += fmt::format("{:<{}}", "", w);
        for (const auto& c : r.classes) o += fmt::format("{:>{}}", c, w);
        o += "\n";
        for (size_t a = 0; a < r.classes.size(); ++a) {
            o += fmt::format("{:<{}}", r.classes[a], w);
            for (size_t p = 0; p < r.classes.size(); ++p)
                o += fmt::format("{:>{}}", r.confusion->at(a, p), w);
            o += "\n";
        }
        o += "\nROC AUC (one class vs the rest):";
        for (size_t c = 0; c < r.classes.size(); ++c) o += fmt::format(" {} {}", r.classes[c], num(r.auc[c]));
        o += "\n";
    } else {
        o += fmt::format(
            "ROC AUC of the per-event surprise for '{}': {}{}\n", r.positive, num(r.positive_auc),
            r.positive_auc < 0.5 ? " (below 0.5: this class is less surprising than the rest)" : "");
    }
    if (r.has_calibration) {
        o += fmt::format("\ncalibration of P({}): ECE {}, Brier {}\n", r.positive, num(r.calibration.ece),
                         num(r.calibration.brier));
        o += fmt::format("  {:<11}{:>7}{:>10}{:>10}\n", "bin", "n", "mean p", "observed");
        for (const auto& b : r.calibration.bins)
            o += fmt::format("  [{:.1f}, {:.1f}{:<2}{:>7}{:>10}{:>10}\n", b.lo, b.hi, b.hi >= 1.0 ? "]" : ")",
                             b.count, b.count ? num(b.mean_predicted, 3) : "-",
                             b.count ? num(b.observed_rate, 3) : "-");
    }
    return o;
}

std::string format_report_json(const AnyModel& m, const EvalReport& r) {
    using runtime::append_json_double;
    using runtime::append_json_string;
    using runtime::append_json_uint;
    std::string o = "{\"kind\":";
    append_json_string(o, kind_name(m.kind));
    o += ",\"vocabulary_size\":";
    append_json_uint(o, m.vocabulary.size());
    o += ",\"sequences\":";
    append_json_uint(o, r.sequences);
    o += ",\"unlabelled\":";
    append_json_uint(o, r.labelled ? r.unlabelled : r.sequences);
    o += ",\"events\":";
    append_json_uint(o, r.events);
    o += ",\"unseen_events\":";
    append_json_uint(o, r.unseen);
    if (m.kind != ModelKind::Classifier) {
        o += ",\"log_likelihood\":";
        append_json_double(o, r.log_likelihood);
        o += ",\"mean_log_likelihood\":";
        append_json_double(o, r.mean_log_likelihood);
        o += ",\"perplexity\":";
        append_json_double(o, r.perplexity);
    }
    if (!r.folds.empty()) {
        o += ",\"folds\":[";
        for (size_t f = 0; f < r.folds.size(); ++f) {
            o += f ? ",{\"macro_f1\":" : "{\"macro_f1\":";
            append_json_double(o, r.folds[f].macro_f1);
            o += ",\"auc\":";
            append_json_double(o, r.folds[f].auc);
            o += ",\"perplexity\":";
            append_json_double(o, r.folds[f].perplexity);
            o += "}";
        }
        o += "]";
    }
    if (r.labelled) {
        o += ",\"positive\":";
        append_json_string(o, r.positive);
        o += ",\"positive_auc\":";
        append_json_double(o, r.positive_auc);
    }
    if (r.confusion) {
        o += ",\"classes\":[";
        for (size_t c = 0; c < r.report.classes.size(); ++c) {
            const auto& cm = r.report.classes[c];
            o += c ? ",{\"name\":" : "{\"name\":";
            append_json_string(o, cm.name);
            o += ",\"support\":";
            append_json_uint(o, cm.support);
            o += ",\"predicted\":";
            append_json_uint(o, cm.predicted);
            o += ",\"precision\":";
            append_json_double(o, cm.precision);
            o += ",\"recall\":";
            append_json_double(o, cm.recall);
            o += ",\"f1\":";
            append_json_double(o, cm.f1);
            o += ",\"auc\":";
            append_json_double(o, r.auc[c]);
            o += "}";
        }
        o += "],\"accuracy\":";
        append_json_double(o, r.report.accuracy);
        o += ",\"macro_f1\":";
        append_json_double(o, r.report.macro_f1);
        o += ",\"confusion\":[";
        for (size_t a = 0; a < r.classes.size(); ++a) {
            o += a ? ",[" : "[";
            for (size_t p = 0; p < r.classes.size(); ++p) {
                if (p) o += ",";
                append_json_uint(o, r.confusion->at(a, p));
            }
            o += "]";
        }
        o += "]";
    }
    if (r.has_calibration) {
        o += ",\"calibration\":{\"ece\":";
        append_json_double(o, r.calibration.ece);
        o += ",\"brier\":";
        append_json_double(o, r.calibration.brier);
        o += ",\"bins\":[";
        for (size_t b = 0; b < r.calibration.bins.size(); ++b) {
            const auto& bin = r.calibration.bins[b];
            o += b ? ",{\"lo\":" : "{\"lo\":";
            append_json_double(o, bin.lo);
            o += ",\"hi\":";
            append_json_double(o, bin.hi);
            o += ",\"count\":";
            append_json_uint(o, bin.count);
            o += ",\"mean_predicted\":";
            append_json_double(o, bin.mean_predicted);
            o += ",\"observed_rate\":";
            append_json_double(o, bin.observed_rate);
            o += "}";
        }
        o += "]}";
    }
    o += "}";
    return o;
}

} // namespace ethogram::tools
