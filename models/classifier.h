// classifier.h: class-conditional Markov chains (bot vs human, converting vs not) with priors and weights.
#pragma once

#include "models/expected.h"
#include "models/markov.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ethogram::models {

/// How the classes are modelled and weighed.
struct ClassifierConfig {
    MarkovConfig chain; ///< Every class gets its own chain with these hyper-parameters.
    /// P(class), one per class, positive (normalized on use). Empty: estimated from the training data as
    /// proportional to class_weights[c] * (training sequences labelled c).
    std::vector<double> priors;
    /// Multipliers of the frequency-estimated priors, one per class (empty: all 1). They counter class
    /// imbalance: weights N / (C * n_c) turn any class frequencies into uniform priors. Each class's chain
    /// is a generative model of that class alone, so the weights change the priors and nothing else.
    std::vector<double> class_weights;
};

/// One Markov chain per class over a shared symbol vocabulary. Scores are log-likelihoods
/// ln P(sequence | class), log-likelihood ratios between two classes, and posterior class probabilities
/// P(class | sequence) = prior * likelihood / sum over classes (computed with log-sum-exp).
class SequenceClassifier {
public:
    /// Needs at least two classes with distinct names; validates the chain config, priors and weights.
    static Expected<SequenceClassifier> create(const ClassifierConfig& config,
                                               std::vector<std::string> classes, uint32_t vocab_size);

    /// Trains class labels[i]'s chain on sequences[i] (counts accumulate across calls) and re-estimates
    /// frequency priors. Fails, changing nothing, on a label or symbol out of range, or if a class would
    /// still have no training sequence (its likelihood would be meaningless).
    Status train(std::span<const std::vector<uint32_t>> sequences, std::span<const uint32_t> labels);

    size_t class_count() const { return names_.size(); }
    const std::string& class_name(size_t c) const { return names_[c]; }
    /// The index of class `name`, or class_count() when there is none.
    size_t class_index(const std::string& name) const;
    const MarkovChain& chain(size_t c) const { return chains_[c]; }
    /// ln P(class) in use (configured, or from the class frequencies and weights; uniform before training).
    double log_prior(size_t c) const { return log_priors_[c]; }
    /// Training sequences seen per class.
    uint64_t class_sequences(size_t c) const { return class_sequences_[c]; }

    /// ln P(sequence | c) for every class, scoring from the start of a sequence.
    std::vector<double> log_likelihoods(std::span<const uint32_t> sequence) const;
    /// ln P(sequence | a) - ln P(sequence | b): positive when `a` explains the sequence better.
    double log_likelihood_ratio(std::span<const uint32_t> sequence, size_t a, size_t b) const;
    /// P(c | sequence) for every class; sums to one.
    std::vector<double> posterior(std::span<const uint32_t> sequence) const;
    /// The posterior from per-class log-likelihoods (into `out`, size class_count(); no allocation).
    void posterior_from(std::span<const double> log_likelihoods, std::span<double> out) const;

    /// Hyper-parameters as ModelMeta::hyper_params entries.
    std::map<std::string, std::string> hyper_params() const;
    void serialize(ByteWriter& w) const;
    std::vector<uint8_t> serialize() const;
    static Expected<SequenceClassifier> deserialize(ByteReader& r);
    static Expected<SequenceClassifier> deserialize(std::span<const uint8_t> payload);

private:
    SequenceClassifier() = default;
    void update_priors();

    ClassifierConfig config_;
    std::vector<std::string> names_;
    std::vector<MarkovChain> chains_;
    std::vector<uint64_t> class_sequences_;
    std::vector<double> log_priors_;
};

/// Online per-key scoring against every class: one MarkovState per class, so an event costs
/// O(classes * k) lookups. The states are allocated once, at construction.
class ClassifierState {
public:
    explicit ClassifierState(const SequenceClassifier& model);
    /// Scores `symbol` under every class and advances.
    void observe(const SequenceClassifier& model, uint32_t symbol);
    /// ln P(events so far | c).
    double log_likelihood(size_t c) const { return states_[c].sum_log_prob(); }
    /// ln P(events | a) - ln P(events | b).
    double log_likelihood_ratio(size_t a, size_t b) const { return log_likelihood(a) - log_likelihood(b); }
    /// P(c | events so far) into `out` (size class_count()).
    void posterior(const SequenceClassifier& model, std::span<double> out) const;
    uint64_t count() const { return states_.empty() ? 0 : states_[0].count(); }

private:
    std::vector<MarkovState> states_;
    mutable std::vector<double> scratch_; // per-class log-likelihoods for posterior(), sized once
};

/// A classifier with the vocabulary its ids come from: what a "classifier" model file holds.
struct ClassifierModel {
    Vocabulary vocabulary;
    SequenceClassifier classifier;
};

/// Writes a "classifier" model file (payload: the vocabulary, then the classifier); like
/// save_markov_model(), kind, counts (summed over classes) and hyper-parameters come from the model.
Status save_classifier_model(const std::string& path, const Vocabulary& vocabulary,
                             const SequenceClassifier& classifier, ModelMeta meta);
/// Reads a file written by save_classifier_model(), refusing other kinds and inconsistent payloads.
Expected<ClassifierModel> load_classifier_model(const std::string& path);

} // namespace ethogram::models
