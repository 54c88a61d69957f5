// exact_sum.cpp: Shewchuk's partials, and the multiset sum over them (exact_sum.h).
#include "compiler/interp/exact_sum.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ethogram::interp {

namespace exact {

bool add(double* p, uint32_t& n, uint32_t cap, double x) {
    // In place (Shewchuk's grow-expansion): the i-th partial written is never ahead of the j-th read.
    uint32_t i = 0;
    for (uint32_t j = 0; j < n; ++j) {
        double y = p[j];
        if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
        const double hi = x + y;
        if (!std::isfinite(hi)) return false;
        const double lo = y - (hi - x); // exact: hi + lo == x + y (Fast2Sum, |x| >= |y|)
        if (lo != 0.0) p[i++] = lo;
        x = hi;
    }
    if (x != 0.0) {
        if (i >= cap) return false;
        p[i++] = x;
    }
    n = i;
    return true;
}

void compress(double* p, uint32_t& n) {
    // Shewchuk's Compress: from the top down, then back up, with Fast2Sum (exact for these inputs).
    if (n < 2) return;
    double g[kCompressMax];
    uint32_t bottom = n - 1;
    double q_hi = p[n - 1];
    for (uint32_t i = n - 1; i-- > 0;) {
        const double s = q_hi + p[i], q = p[i] - (s - q_hi);
        if (q != 0.0) {
            g[bottom--] = s;
            q_hi = q;
        } else {
            q_hi = s;
        }
    }
    g[bottom] = q_hi;
    uint32_t top = 0;
    for (uint32_t i = bottom + 1; i < n; ++i) {
        const double s = g[i] + q_hi, q = q_hi - (s - g[i]);
        if (q != 0.0) p[top++] = q;
        q_hi = s;
    }
    if (q_hi != 0.0) p[top++] = q_hi;
    n = top;
}

double value(const double* p, uint32_t n) {
    // From the largest partial down until the rounding is decided; then the half-way case: when the
    // rest has the sign of the rounding error, the exact sum is past the half-way point (math.fsum).
    if (n == 0) return 0.0;
    double hi = p[--n], lo = 0.0;
    while (n > 0) {
        const double x = hi, y = p[--n];
        hi = x + y;
        const double yr = hi - x;
        lo = y - yr;
        if (lo != 0.0) break;
    }
    if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
        const double y = lo * 2.0, x = hi + y, yr = x - hi;
        if (y == yr) hi = x;
    }
    return hi;
}

} // namespace exact

namespace {

constexpr double kBig = 0x1p969;        // from here a value goes to the scaled partials
constexpr double kScaleDown = 0x1p-600; // exact for |x| >= 2^969: the result stays normal
constexpr double kScaleUp = 0x1p600;

} // namespace

void ExactSum::step(double x, bool removal) {
    if (std::isnan(x)) {
        removal ? --nan_ : ++nan_;
        return;
    }
    if (std::isinf(x)) {
        uint32_t& c = x > 0 ? pos_inf_ : neg_inf_;
        removal ? --c : ++c;
        return;
    }
    if (removal) x = -x;
    if (std::fabs(x) >= kBig) {
        // Scaled partials: the largest finite double scaled is 2^424, so that 2^599 of them cannot
        // overflow a partial.
        auto m = static_cast<uint32_t>(big_.size());
        big_.resize(m + 1);
        exact::add(big_.data(), m, UINT32_MAX, x * kScaleDown);
        big_.resize(m);
        return;
    }
    if (n_ + 1 > kSmall && n_ + 1 > spill_.size()) {
        // Room for one more partial than held (a partial is added at most).
        std::vector<double> grown(std::max<size_t>(2 * spill_.size(), 2 * kSmall));
        std::memcpy(grown.data(), data(), n_ * sizeof(double));
        spill_ = std::move(grown);
    }
    // Below 2^969 a partial cannot overflow before 2^54 values were added.
    exact::add(data(), n_, UINT32_MAX, x);
}

double ExactSum::value() const {
    if (nan_ > 0 || (pos_inf_ > 0 && neg_inf_ > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (pos_inf_ > 0) return std::numeric_limits<double>::infinity();
    if (neg_inf_ > 0) return -std::numeric_limits<double>::infinity();
    if (big_.empty()) return exact::value(data(), n_);
    // Both sets: the scaled partials scaled back (exact unless past the double range, then the sum is an
    // infinity of the largest's sign) merged into the others, then rounded once.
    std::vector<double> merged(data(), data() + n_);
    merged.resize(n_ + big_.size() + 1);
    uint32_t m = n_;
    for (auto it = big_.rbegin(); it != big_.rend(); ++it) {
        const double up = *it * kScaleUp;
        if (std::isinf(up) || !exact::add(merged.data(), m, UINT32_MAX, up))
            return std::copysign(std::numeric_limits<double>::infinity(), big_.back());
    }
    return exact::value(merged.data(), m);
}

const double* ExactSum::compact(uint32_t cap, uint32_t& n) const {
    if (nan_ > 0 || pos_inf_ > 0 || neg_inf_ > 0 || !big_.empty() || n_ > cap) return nullptr;
    n = n_;
    return data();
}

namespace kept_sum {

namespace {

void put(int64_t* w, const double* p, uint32_t n) {
    double all[kPartials] = {};
    std::memcpy(all, p, n * sizeof(double));
    std::memcpy(w + 2, all, sizeof all);
    const double v = exact::value(p, n);
    std::memcpy(w, &v, sizeof v);
    w[1] = 0;
}

} // namespace

void store(int64_t* w, const ExactSum& s) {
    uint32_t n = 0;
    const double* held = s.compact(exact::kCompressMax, n);
    double p[exact::kCompressMax];
    if (held) {
        std::memcpy(p, held, n * sizeof(double));
        exact::compress(p, n);
    }
    if (held && n <= kPartials)
        put(w, p, n);
    else
        w[1] = 1;
}

void step(int64_t* w, double x, int64_t sign) {
    if (w[1] != 0) return;
    // Not below 2^969 (an infinity, a NaN, a value of the scaled set): stale.
    if (!(std::fabs(x) < kBig)) {
        w[1] = 1;
        return;
    }
    if (sign < 0) x = -x;
    double p[kPartials + 1];
    std::memcpy(p, w + 2, kPartials * sizeof(double));
    // Grow-expansion (exact::add) over the stored partials (increasing magnitude, 0.0 past the last), in
    // place: the j-th read is never behind the i-th written.
    // Knuth's TwoSum: exact without comparing magnitudes.
    uint32_t i = 0;
    for (uint32_t j = 0; j < kPartials && p[j] != 0.0; ++j) {
        const double y = p[j], hi = x + y, yv = hi - x, lo = (x - (hi - yv)) + (y - yv);
        if (lo != 0.0) p[i++] = lo;
        x = hi;
    }
    if (x != 0.0) p[i++] = x;
    uint32_t n = i;
    // Below 2^969 no partial overflows; an addition can leave one more partial than needed: compressed,
    // a sliding window of money amounts needs two.
    if (n > 2) exact::compress(p, n);
    if (n > kPartials) {
        w[1] = 1;
        return;
    }
    for (uint32_t k = n; k < kPartials; ++k) p[k] = 0.0;
    std::memcpy(w + 2, p, kPartials * sizeof(double));
    // One or two partials: one addition rounds their exact sum once.
    const double v = n == 0 ? 0.0 : n == 1 ? p[0] : n == 2 ? p[0] + p[1] : exact::value(p, n);
    std::memcpy(w, &v, sizeof v);
}

} // namespace kept_sum

} // namespace ethogram::interp
