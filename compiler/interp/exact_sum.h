// exact_sum.h: the correctly rounded sum of doubles, kept exactly as values are added and removed.
#pragma once

#include <cstdint>
#include <vector>

namespace ethogram::interp {

/// Shewchuk's non-overlapping partials (the algorithm of Python's math.fsum), as free functions over a
/// caller's array so that a threshold ring can keep a few in its words.
namespace exact {

/// Adds the finite `x` to the partials p[0..n) (increasing magnitude, non-overlapping), in place: their
/// exact sum becomes the old one plus `x`. Needs room for n + 1. False, with p[0..n) no longer meaningful,
/// when a partial would overflow (an exact sum at the edge of the double range) or more than `cap` would
/// be needed: a caller that must survive that works on a copy.
bool add(double* p, uint32_t& n, uint32_t cap, double x);

/// compress() takes at most this many partials.
inline constexpr uint32_t kCompressMax = 64;

/// Rewrites p[0..n) (n <= kCompressMax) as the fewest partials Shewchuk's Compress finds for the same
/// exact sum: additions leave more than needed.
void compress(double* p, uint32_t& n);

/// The exact sum of p[0..n) rounded once to the nearest double (ties to even); 0.0 for none.
double value(const double* p, uint32_t n);

} // namespace exact

/// The sum of a multiset of doubles, exactly: the value is the exact sum rounded once, the same whatever
/// the order of additions and removals, so that a sliding window or a session's fold can add values as
/// they enter and remove them as they leave and still equal a rescan bit for bit. Infinities and NaNs
/// are counted (a removal uncounts them); a value too large for the partials (|x| >= 2^969) goes to a
/// second set scaled by 2^-600, so that no partial overflows.
class ExactSum {
public:
    ExactSum() = default;

    void add(double x) { step(x, false); }
    void remove(double x) { step(x, true); }
    /// The sum rounded once: NaN with a NaN or both infinities among the values, else an infinity among
    /// them, else the finite values' exact sum rounded (an infinity past the double range).
    double value() const;
    /// The finite partials when the values are all finite, below 2^969, and need at most `cap` partials:
    /// what a ring's words can keep (ThresholdKeep); else null.
    const double* compact(uint32_t cap, uint32_t& n) const;

private:
    void step(double x, bool removal);
    double* data() { return spill_.empty() ? small_ : spill_.data(); }
    const double* data() const { return spill_.empty() ? small_ : spill_.data(); }

    static constexpr uint32_t kSmall = 4;
    double small_[kSmall] = {};
    std::vector<double> spill_; ///< the partials once more than kSmall - 1 were held (room for one more)
    uint32_t n_ = 0;
    std::vector<double> big_; ///< partials of the values from 2^969 on, scaled by 2^-600 (rarely any)
    uint32_t pos_inf_ = 0, neg_inf_ = 0, nan_ = 0;
};

/// A float sum kept in a threshold ring's words (engine.h ScopeGroup::Kept) as values enter and leave:
/// word 0 the sum rounded (its bits: what the JIT's code reads), word 1 a stale flag (the next evaluation
/// rescans, then stores), words 2 .. 2 + kPartials the partials in increasing magnitude, 0.0 past the
/// last. Stale while the sum needs more partials than that, or a value is not finite or from 2^969 on.
namespace kept_sum {

inline constexpr uint32_t kPartials = 3;
inline constexpr uint32_t kWords = 2 + kPartials;
/// An avg: a sum's words, then the number of values (exact even while the sum is stale).
inline constexpr uint32_t kAvgWords = kWords + 1;

/// Keeps `s` from now on when it fits, else marks the words stale.
void store(int64_t* w, const ExactSum& s);
/// `x` entering (`sign` 1) or leaving (-1) the ring; nothing while stale.
void step(int64_t* w, double x, int64_t sign);

} // namespace kept_sum

} // namespace ethogram::interp
