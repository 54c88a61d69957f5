// metrics.h: evaluation metrics of scored sequences: confusion matrix, P/R/F1, ROC AUC, calibration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ethogram::models {

/// Counts of (actual class, predicted class) pairs over `classes.size()` classes.
class ConfusionMatrix {
public:
    explicit ConfusionMatrix(std::vector<std::string> classes);
    void add(size_t actual, size_t predicted) { ++counts_[actual * classes_.size() + predicted]; }
    uint64_t at(size_t actual, size_t predicted) const {
        return counts_[actual * classes_.size() + predicted];
    }
    const std::vector<std::string>& classes() const { return classes_; }
    size_t size() const { return classes_.size(); }
    uint64_t total() const;
    /// Adds every count of `other` (same classes, in the same order): pools folds.
    void merge(const ConfusionMatrix& other);

private:
    std::vector<std::string> classes_;
    std::vector<uint64_t> counts_; // row = actual, column = predicted
};

/// Precision, recall and F1 of one class against the rest.
struct ClassMetrics {
    std::string name;
    uint64_t support = 0;   ///< sequences whose actual class is this one
    uint64_t predicted = 0; ///< sequences predicted as this class
    /// tp / predicted; 0 when nothing was predicted as this class (the "zero_division = 0" convention).
    double precision = 0.0;
    /// tp / support; 0 when the class has no sequence.
    double recall = 0.0;
    /// Harmonic mean of precision and recall; 0 when both are 0.
    double f1 = 0.0;
};

/// Per-class metrics plus accuracy and macro-averaged F1 (every class weighs the same however rare).
struct ClassificationReport {
    std::vector<ClassMetrics> classes;
    double accuracy = 0.0;
    double macro_f1 = 0.0;
};

ClassificationReport classification_report(const ConfusionMatrix& m);

/// Area under the ROC curve of `scores` (higher = more likely positive) against `positive` (1 = positive):
/// the Mann-Whitney statistic, P(score of a random positive > score of a random negative) + 1/2 P(tie),
/// computed from mid-ranks so that tied scores count one half. NaN when there is no positive or no
/// negative. O(n log n).
double roc_auc(std::span<const double> scores, std::span<const uint8_t> positive);

/// One bin of a reliability diagram: predictions with probability in [lo, hi) (the last bin includes 1).
struct ReliabilityBin {
    double lo = 0.0, hi = 0.0;
    uint64_t count = 0;
    double mean_predicted = 0.0; ///< mean predicted probability in the bin (0 when empty)
    double observed_rate = 0.0;  ///< fraction of positives in the bin (0 when empty)
};

/// Calibration of probabilities of the positive class.
struct Calibration {
    std::vector<ReliabilityBin> bins;
    /// Expected calibration error: sum over bins of (count / n) * |mean_predicted - observed_rate|.
    double ece = 0.0;
    /// Brier score: mean of (p - y)^2, y = 1 for positives.
    double brier = 0.0;
};

/// Equal-width reliability bins over [0, 1] (probabilities outside are clamped), ECE and Brier score.
/// All zero when `probs` is empty.
Calibration calibration(std::span<const double> probs, std::span<const uint8_t> positive, size_t bins = 10);

} // namespace ethogram::models
