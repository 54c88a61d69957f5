// metrics_test.cpp: confusion matrix, P/R/F1, ROC AUC with ties and calibration against hand-computed values.
#include "models/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ethogram::models {
namespace {

TEST(Metrics, ThreeClassConfusionMatrixByHand) {
    ConfusionMatrix m({"a", "b", "c"});
    auto add = [&](size_t a, size_t p, int n) {
        for (int i = 0; i < n; ++i) m.add(a, p);
    };
    add(0, 0, 3);
    add(0, 1, 1);
    add(1, 1, 2);
    add(1, 2, 1);
    add(2, 0, 1);
    add(2, 2, 2);
    EXPECT_EQ(m.total(), 10u);
    ClassificationReport r = classification_report(m);
    ASSERT_EQ(r.classes.size(), 3u);
    // a: support 4 (row), predicted 4 (column: 3 + 1 from c), tp 3.
    EXPECT_EQ(r.classes[0].support, 4u);
    EXPECT_EQ(r.classes[0].predicted, 4u);
    EXPECT_DOUBLE_EQ(r.classes[0].precision, 0.75);
    EXPECT_DOUBLE_EQ(r.classes[0].recall, 0.75);
    EXPECT_DOUBLE_EQ(r.classes[0].f1, 0.75);
    // b: support 3, predicted 3 (1 from a + 2), tp 2; c likewise.
    EXPECT_DOUBLE_EQ(r.classes[1].precision, 2.0 / 3);
    EXPECT_DOUBLE_EQ(r.classes[1].recall, 2.0 / 3);
    EXPECT_DOUBLE_EQ(r.classes[2].f1, 2.0 / 3);
    EXPECT_DOUBLE_EQ(r.accuracy, 0.7);
    EXPECT_NEAR(r.macro_f1, (0.75 + 2.0 / 3 + 2.0 / 3) / 3, 1e-15);
}

TEST(Metrics, NeverPredictedClassHasZeroPrecisionNotNaN) {
    ConfusionMatrix m({"neg", "pos"});
    m.add(0, 0);
    m.add(1, 0);
    m.add(1, 0);
    ClassificationReport r = classification_report(m);
    EXPECT_EQ(r.classes[1].predicted, 0u);
    EXPECT_EQ(r.classes[1].precision, 0.0);
    EXPECT_EQ(r.classes[1].recall, 0.0);
    EXPECT_EQ(r.classes[1].f1, 0.0);
    EXPECT_DOUBLE_EQ(r.classes[0].precision, 1.0 / 3);
    EXPECT_DOUBLE_EQ(r.accuracy, 1.0 / 3);
}

TEST(Metrics, MergePoolsFolds) {
    ConfusionMatrix a({"x", "y"}), b({"x", "y"});
    a.add(0, 1);
    b.add(0, 1);
    b.add(1, 1);
    a.merge(b);
    EXPECT_EQ(a.at(0, 1), 2u);
    EXPECT_EQ(a.at(1, 1), 1u);
    EXPECT_EQ(a.total(), 3u);
}

TEST(Metrics, RocAucWithoutTies) {
    // The classic 4-point example: 3 of the 4 (positive, negative) pairs are ordered correctly.
    std::vector<double> s = {0.1, 0.4, 0.35, 0.8};
    std::vector<uint8_t> y = {0, 0, 1, 1};
    EXPECT_DOUBLE_EQ(roc_auc(s, y), 0.75);
    std::vector<uint8_t> inverted = {1, 1, 0, 0};
    EXPECT_DOUBLE_EQ(roc_auc(s, inverted), 0.25);
}

TEST(Metrics, RocAucCountsTiesAsOneHalf) {
    // Positives {0.5, 0.9}, negatives {0.5, 0.5}: pairs (0.5, 0.5) x2 tie = 1, (0.9, *) x2 = 2; 3 / 4.
    std::vector<double> s = {0.5, 0.5, 0.5, 0.9};
    std::vector<uint8_t> y = {0, 1, 0, 1};
    EXPECT_DOUBLE_EQ(roc_auc(s, y), 0.75);
    std::vector<double> flat = {0.3, 0.3, 0.3, 0.3};
    EXPECT_DOUBLE_EQ(roc_auc(flat, y), 0.5);
}

TEST(Metrics, RocAucUndefinedWithOneClass) {
    std::vector<double> s = {0.1, 0.2};
    std::vector<uint8_t> y = {1, 1};
    EXPECT_TRUE(std::isnan(roc_auc(s, y)));
    EXPECT_TRUE(std::isnan(roc_auc({}, {})));
}

TEST(Metrics, CalibrationEceAndBrierByHand) {
    std::vector<double> p = {0.05, 0.15, 0.12, 0.95};
    std::vector<uint8_t> y = {0, 1, 0, 1};
    Calibration c = calibration(p, y, 10);
    ASSERT_EQ(c.bins.size(), 10u);
    EXPECT_EQ(c.bins[0].count, 1u);
    EXPECT_EQ(c.bins[1].count, 2u);
    EXPECT_EQ(c.bins[9].count, 1u);
    EXPECT_NEAR(c.bins[1].mean_predicted, 0.135, 1e-15);
    EXPECT_DOUBLE_EQ(c.bins[1].observed_rate, 0.5);
    // ECE = 1/4 * 0.05 + 2/4 * |0.135 - 0.5| + 1/4 * |0.95 - 1|.
    EXPECT_NEAR(c.ece, 0.0125 + 0.1825 + 0.0125, 1e-12);
    // Brier = (0.05^2 + 0.85^2 + 0.12^2 + 0.05^2) / 4.
    EXPECT_NEAR(c.brier, 0.7419 / 4, 1e-12);
}

TEST(Metrics, CalibrationPutsOneInTheLastBinAndClamps) {
    std::vector<double> p = {1.0, 1.5, -0.2};
    std::vector<uint8_t> y = {1, 1, 0};
    Calibration c = calibration(p, y, 4);
    EXPECT_EQ(c.bins[3].count, 2u);
    EXPECT_EQ(c.bins[0].count, 1u);
    EXPECT_DOUBLE_EQ(c.bins[3].hi, 1.0);
    EXPECT_DOUBLE_EQ(c.ece, 0.0);
    EXPECT_DOUBLE_EQ(c.brier, 0.0);
    Calibration empty = calibration({}, {}, 10);
    EXPECT_EQ(empty.ece, 0.0);
    EXPECT_EQ(empty.bins.size(), 10u);
}

} // namespace
} // namespace ethogram::models
