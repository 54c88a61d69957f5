// model_pipeline.h: training from a spec, scoring, splits, cross-validation and evaluation of models.
#pragma once

#include "models/classifier.h"
#include "models/drift.h"
#include "models/hmm.h"
#include "models/markov.h"
#include "models/metrics.h"
#include "models/model_file.h"
#include "models/vocabulary.h"
#include "tools/event_log.h"
#include "tools/model_spec.h"

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ethogram::tools {

/// A trained or loaded model of any kind, with its vocabulary (and its header when loaded).
struct AnyModel {
    ModelKind kind = ModelKind::Markov;
    models::Vocabulary vocabulary;
    std::optional<models::MarkovChain> markov;
    models::Hmm hmm;
    std::optional<models::SequenceClassifier> classifier;
    models::ModelMeta meta;
    bool hmm_converged = true; ///< training only
};

/// The event-reading options a spec implies (dead-letter path left empty).
EventLogOptions log_options(const TrainSpec& spec);

/// Class index per sequence: `classes.size()` for an unlabelled sequence. A label that is not one of
/// `classes` is an error naming the labels file and the key.
models::Expected<std::vector<size_t>> label_indices(const std::vector<Sequence>& seqs, const Labels& labels,
                                                    const std::vector<std::string>& classes);

/// Trains the spec's model on `train` (indices into `seqs`). `labels` (classifier only) gives each
/// sequence's class index into spec.classes. The vocabulary is built from the training sequences only.
models::Expected<AnyModel> train_model(const TrainSpec& spec, const std::vector<Sequence>& seqs,
                                       const std::vector<size_t>& train, const std::vector<size_t>* labels);

/// Shuffles 0..n-1 with `seed` and holds out round(fraction * n) of them, per stratum when `strata` is
/// given (one stratum id per index), so that every class keeps its share. Deterministic on every platform.
void split_holdout(size_t n, const std::vector<size_t>* strata, double fraction, uint64_t seed,
                   std::vector<size_t>& train, std::vector<size_t>& held_out);
/// Fold (0..k-1) of each index: shuffled with `seed` (per stratum), then dealt round-robin.
std::vector<uint32_t> assign_folds(size_t n, const std::vector<size_t>* strata, uint32_t k, uint64_t seed);

/// Scores of one sequence.
struct SequenceScore {
    double log_likelihood = 0.0; ///< markov/hmm: ln P(sequence); classifier: ln P under the argmax class
    uint64_t events = 0;
    uint64_t unseen = 0;           ///< events whose symbol is <unk>
    std::vector<double> posterior; ///< classifier: P(class | sequence)
    size_t predicted = 0;          ///< classifier: argmax of the posterior (ties: lower index)
};
SequenceScore score_sequence(const AnyModel& m, const Sequence& s);

/// The per-sequence score the drift baseline and `etho drift` use: P(positive) for a classifier, the mean
/// log-likelihood per event otherwise. `positive` is the classifier's positive class index.
double drift_score(const AnyModel& m, const SequenceScore& s, size_t positive);
/// "p(<class>)" or "mean_log_likelihood".
std::string drift_score_name(const AnyModel& m, size_t positive);

/// Predictions collected over one or more evaluation sets (folds are concatenated, then summarised).
struct Predictions {
    std::vector<std::string> classes; ///< empty: no labelled metrics
    size_t positive = 0;
    std::vector<size_t> actual, predicted;
    std::vector<double> positive_score; ///< P(positive), or -mean log-likelihood for markov/hmm
    std::vector<std::vector<double>> posteriors;
    uint64_t sequences = 0, events = 0, unseen = 0, unlabelled = 0;
    double log_likelihood = 0.0; ///< markov/hmm: sum over sequences
    std::vector<double> drift_scores;
    void append(const Predictions& o);
};

/// Scores `which` (indices into `seqs`); `labels` (or nullptr) gives class indices into `classes`.
Predictions predict(const AnyModel& m, const std::vector<Sequence>& seqs, const std::vector<size_t>& which,
                    const std::vector<size_t>* labels, const std::vector<std::string>& classes,
                    size_t positive);

/// Every metric `etho eval` reports.
struct EvalReport {
    uint64_t sequences = 0, events = 0, unseen = 0, unlabelled = 0;
    double log_likelihood = 0.0, mean_log_likelihood = 0.0, perplexity = 0.0; ///< markov/hmm
    bool labelled = false;
    std::vector<std::string> classes;
    std::string positive;
    std::optional<models::ConfusionMatrix> confusion;
    models::ClassificationReport report;
    std::vector<double> auc; ///< one-vs-rest per class (NaN when a class has no positive or no negative)
    double positive_auc = std::numeric_limits<double>::quiet_NaN();
    models::Calibration calibration; ///< of P(positive) (classifier only)
    bool has_calibration = false;
    /// Per fold (cross-validation only); NaN where a metric does not apply.
    struct Fold {
        double macro_f1 = std::numeric_limits<double>::quiet_NaN();
        double auc = std::numeric_limits<double>::quiet_NaN();
        double perplexity = std::numeric_limits<double>::quiet_NaN();
    };
    std::vector<Fold> folds;
};
EvalReport summarise(const AnyModel& m, const Predictions& p);

/// Held-out evaluation of a spec on `seqs`: k-fold (when folds > 1) or the spec's holdout fraction.
/// `labels` (or nullptr) index into `classes`: a classifier's classes (and training labels, stratified
/// splits), or for markov/hmm the labels' classes, used for scoring only. `out_of_sample` collects the
/// pooled held-out predictions.
models::Expected<EvalReport> cross_validate(const TrainSpec& spec, const std::vector<Sequence>& seqs,
                                            const std::vector<size_t>* labels,
                                            const std::vector<std::string>& classes, size_t positive,
                                            uint32_t folds, Predictions* out_of_sample = nullptr);

/// Text and JSON renderings of a report. `title` lines come first in the text.
std::string format_report_text(const AnyModel& m, const EvalReport& r);
std::string format_report_json(const AnyModel& m, const EvalReport& r);

/// Loads a model file of any kind (header + payload), refusing a corrupt or inconsistent one.
models::Expected<AnyModel> load_any_model(const std::string& path);
/// The spec stored in a model trained by `etho train` (header train.spec).
models::Expected<TrainSpec> stored_spec(const AnyModel& m, const std::string& path);
/// Writes `m` with `meta` (kind, counts and hyper-parameters are filled in from the model).
models::Status save_any_model(const std::string& path, const AnyModel& m, models::ModelMeta meta);

} // namespace ethogram::tools
