// exact_sum_test.cpp: the exact float sum (compiler/interp/exact_sum.h): rounded once whatever the order
// of additions and removals, against known sums (CPython's math.fsum cases) and against an exact integer
// reference; the partials kept in a threshold ring's words (kept_sum) against the multiset's sum.
#include "compiler/interp/exact_sum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <vector>

namespace ethogram::interp {
namespace {

double sum_of(const std::vector<double>& vs) {
    ExactSum s;
    for (double v : vs) s.add(v);
    return s.value();
}

/// Bitwise equality (NaN equals NaN; 0.0 and -0.0 differ).
bool same(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

TEST(ExactSum, KnownSums) {
    const double two53 = std::ldexp(1.0, 53);
    struct Case {
        std::vector<double> values;
        double want;
    };
    std::vector<Case> cases = {
        {{}, 0.0},
        {{0.0}, 0.0},
        {{-0.0, -0.0}, 0.0},
        {{1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}, 1e-100},
        {{1e16, 1.0, -1e16}, 1.0},                                 // left to right: 0.0
        {{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 1.0}, // left to right: 0.9999999999999999
        // Half-way cases (CPython test_math.testFsum): the rest decides the rounding.
        {{two53, -0.5, -std::ldexp(1.0, -54)}, two53 - 1.0},
        {{two53, 1.0, std::ldexp(1.0, -100)}, two53 + 2.0},
        {{two53 + 10.0, 1.0, std::ldexp(1.0, -100)}, two53 + 12.0},
        {{two53 - 4.0, 0.5, std::ldexp(1.0, -54)}, two53 - 3.0},
        // Beyond 2^969: the scaled partials, and a sum whose partial sums overflow but which does not.
        {{1e308, 1e308, -1e308}, 1e308},
        {{1.7976931348623157e308, 1.7976931348623157e308}, std::numeric_limits<double>::infinity()},
        {{1e308, 1.0, -1e308}, 1.0},
        {{std::numeric_limits<double>::infinity(), 1.0}, std::numeric_limits<double>::infinity()},
        {{-std::numeric_limits<double>::infinity(), 1e308}, -std::numeric_limits<double>::infinity()},
        {{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()},
         std::numeric_limits<double>::quiet_NaN()},
        {{1.0, std::numeric_limits<double>::quiet_NaN()}, std::numeric_limits<double>::quiet_NaN()},
    };
    std::vector<double> harmonic, alternating, telescoping;
    for (int n = 1; n <= 1000; ++n) {
        harmonic.push_back(1.0 / n);
        alternating.push_back((n % 2 ? -1.0 : 1.0) / n);
    }
    for (int i = 0; i < 1000; ++i) telescoping.push_back(std::pow(1.7, i + 1) - std::pow(1.7, i));
    telescoping.push_back(-std::pow(1.7, 1000));
    cases.push_back({harmonic, 7.4854708605503451});
    cases.push_back({alternating, -0.69264743055982025});
    cases.push_back({telescoping, -1.0});
    std::mt19937_64 rng(42);
    for (const Case& c : cases) {
        EXPECT_TRUE(same(sum_of(c.values), c.want)) << sum_of(c.values) << " != " << c.want;
        // Any order: the same bits.
        std::vector<double> shuffled = c.values;
        for (int k = 0; k < 5; ++k) {
            std::shuffle(shuffled.begin(), shuffled.end(), rng);
            EXPECT_TRUE(same(sum_of(shuffled), c.want));
        }
    }
}

TEST(ExactSum, RemovalUndoesAddition) {
    // Specials are counted and uncounted; finite values go in and out exactly.
    ExactSum s;
    s.add(1e16);
    s.add(std::numeric_limits<double>::quiet_NaN());
    s.add(std::numeric_limits<double>::infinity());
    s.add(1e308);
    s.add(1.0);
    EXPECT_TRUE(std::isnan(s.value()));
    s.remove(std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(s.value(), std::numeric_limits<double>::infinity());
    s.remove(std::numeric_limits<double>::infinity());
    s.remove(1e308);
    s.remove(1e16);
    EXPECT_EQ(s.value(), 1.0);
    uint32_t n = 0;
    ASSERT_NE(s.compact(3, n), nullptr);
    EXPECT_EQ(n, 1u);
    s.add(1e300); // from 2^969 on: not compact
    EXPECT_EQ(s.compact(3, n), nullptr);
}

/// Values k * 2^-20 (|k| < 2^40) are doubles, and their sum is the integer sum of the k, which a 128-bit
/// integer holds exactly and converts to double with one rounding: an exact reference.
TEST(ExactSum, MatchesAnExactIntegerReference) {
    std::mt19937_64 rng(7);
    const double unit = std::ldexp(1.0, -20);
    for (int round = 0; round < 2000; ++round) {
        const int n = 1 + static_cast<int>(rng() % 200);
        const int bits = 1 + static_cast<int>(rng() % 40);
        __extension__ __int128 total = 0;
        std::vector<double> vs;
        for (int i = 0; i < n; ++i) {
            const auto k = static_cast<int64_t>(rng() % (uint64_t{1} << bits)) * (rng() % 2 ? 1 : -1);
            total += k;
            vs.push_back(static_cast<double>(k) * unit);
        }
        const double want = static_cast<double>(total) * unit;
        ASSERT_TRUE(same(sum_of(vs), want)) << "round " << round;
    }
}

/// A sliding window kept in ring words (kept_sum::step) equals the exact sum of what it holds whenever it
/// is not stale, and goes stale only for a value it cannot keep; store() keeps it again.
TEST(ExactSum, KeptWindowEqualsTheMultisetSum) {
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> money(5.0, 500.0), wide(1e-6, 1e9);
    int64_t w[kept_sum::kWords] = {};
    std::deque<double> window;
    int fresh = 0, stale = 0;
    for (int i = 0; i < 200000; ++i) {
        double v = std::round(money(rng) * 100.0) / 100.0;
        if (rng() % 10 == 0) v = wide(rng) * (rng() % 2 ? 1 : -1);
        if (rng() % 5000 == 0) v = std::numeric_limits<double>::infinity();
        kept_sum::step(w, v, 1);
        window.push_back(v);
        while (window.size() > 1 + rng() % 400) {
            kept_sum::step(w, window.front(), -1);
            window.pop_front();
        }
        ExactSum s;
        for (double x : window) s.add(x);
        if (w[1] != 0) {
            ++stale;
            kept_sum::store(w, s); // what the next evaluation's rescan does
            continue;
        }
        ++fresh;
        double got;
        std::memcpy(&got, &w[0], sizeof got);
        ASSERT_TRUE(same(got, s.value())) << "step " << i;
    }
    EXPECT_GT(fresh, 190000);
    EXPECT_GT(stale, 0); // the infinities
}

} // namespace
} // namespace ethogram::interp
