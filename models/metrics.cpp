// metrics.cpp: confusion matrix, per-class metrics, ROC AUC by mid-ranks, reliability bins.
#include "models/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ethogram::models {

ConfusionMatrix::ConfusionMatrix(std::vector<std::string> classes)
    : classes_(std::move(classes)), counts_(classes_.size() * classes_.size(), 0) {}

uint64_t ConfusionMatrix::total() const {
    return std::accumulate(counts_.begin(), counts_.end(), uint64_t{0});
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
    for (size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
}

ClassificationReport classification_report(const ConfusionMatrix& m) {
    ClassificationReport r;
    const size_t n = m.size();
    uint64_t correct = 0;
    for (size_t c = 0; c < n; ++c) {
        ClassMetrics cm;
        cm.name = m.classes()[c];
        for (size_t o = 0; o < n; ++o) {
            cm.support += m.at(c, o);
            cm.predicted += m.at(o, c);
        }
        const uint64_t tp = m.at(c, c);
        correct += tp;
        cm.precision = cm.predicted ? double(tp) / double(cm.predicted) : 0.0;
        cm.recall = cm.support ? double(tp) / double(cm.support) : 0.0;
        const double s = cm.precision + cm.recall;
        cm.f1 = s > 0.0 ? 2.0 * cm.precision * cm.recall / s : 0.0;
        r.macro_f1 += cm.f1;
        r.classes.push_back(std::move(cm));
    }
    const uint64_t total = m.total();
    r.accuracy = total ? double(correct) / double(total) : 0.0;
    r.macro_f1 = n ? r.macro_f1 / double(n) : 0.0;
    return r;
}

double roc_auc(std::span<const double> scores, std::span<const uint8_t> positive) {
    const size_t n = std::min(scores.size(), positive.size());
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    // Sum of the (1-based, mid-rank for ties) ranks of the positives.
    double rank_sum = 0.0;
    uint64_t pos = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && scores[order[j]] == scores[order[i]]) ++j;
        const double mid = (double(i + 1) + double(j)) / 2.0; // mean of ranks i+1 .. j
        for (size_t t = i; t < j; ++t)
            if (positive[order[t]]) {
                rank_sum += mid;
                ++pos;
            }
        i = j;
    }
    const uint64_t neg = n - pos;
    if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
    const double u = rank_sum - double(pos) * double(pos + 1) / 2.0;
    return u / (double(pos) * double(neg));
}

Calibration calibration(std::span<const double> probs, std::span<const uint8_t> positive, size_t bins) {
    Calibration c;
    if (bins == 0) bins = 1;
    c.bins.resize(bins);
    std::vector<double> pred_sum(bins, 0.0);
    std::vector<uint64_t> pos(bins, 0);
    for (size_t b = 0; b < bins; ++b) {
        c.bins[b].lo = double(b) / double(bins);
        c.bins[b].hi = double(b + 1) / double(bins);
    }
    const size_t n = std::min(probs.size(), positive.size());
    double brier = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double p = std::clamp(probs[i], 0.0, 1.0);
        const double y = positive[i] ? 1.0 : 0.0;
        brier += (p - y) * (p - y);
        size_t b = static_cast<size_t>(p * double(bins));
        if (b >= bins) b = bins - 1; // p == 1 belongs to the last bin
        ++c.bins[b].count;
        pred_sum[b] += p;
        pos[b] += positive[i] ? 1 : 0;
    }
    if (n == 0) return c;
    for (size_t b = 0; b < bins; ++b) {
        ReliabilityBin& r = c.bins[b];
        if (r.count == 0) continue;
        r.mean_predicted = pred_sum[b] / double(r.count);
        r.observed_rate = double(pos[b]) / double(r.count);
        c.ece += double(r.count) / double(n) * std::abs(r.mean_predicted - r.observed_rate);
    }
    c.brier = brier / double(n);
    return c;
}

} // namespace ethogram::models
