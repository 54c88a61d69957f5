// drift.h: population stability (PSI) and KL divergence between a stored baseline and a current window.
#pragma once

#include "models/expected.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace ethogram::models {

/// Counts over bins. For a numeric score, `edges` holds the interior cut points, ascending and distinct,
/// so there are edges.size() + 1 bins: bin 0 is (-inf, edges[0]), bin i is [edges[i-1], edges[i]), the
/// last is [edges.back(), +inf). For a categorical field `edges` is empty and bin i is symbol id i.
struct Histogram {
    std::vector<double> edges;
    std::vector<uint64_t> counts;

    uint64_t total() const;
    /// The bin of `x` (NaN falls in bin 0, +inf in the last bin).
    size_t bin_of(double x) const;
    /// Adds `x` to its bin (sizes counts to edges.size() + 1 first if needed).
    void add(double x);
};

/// Up to `bins - 1` cut points at the quantiles k / bins of `values` (nearest-rank), duplicates removed,
/// so that the training scores fall into roughly equal-count bins; NaN and infinite values are ignored.
std::vector<double> quantile_edges(std::vector<double> values, size_t bins);

/// PSI and KL between two distributions given as counts over the same bins.
struct Divergence {
    /// Population stability index: sum_i (q_i - p_i) ln(q_i / p_i), the symmetrised KL divergence.
    double psi = 0.0;
    /// KL(current || baseline) = sum_i q_i ln(q_i / p_i), in nats.
    double kl = 0.0;
};

/// Additive smoothing of compare(): p_i = (b_i + s) / (B + s n), likewise q_i, so that an empty bin on
/// either side gives a large but finite divergence instead of infinity.
inline constexpr double kDriftSmoothing = 0.5;

/// Compares `current` against `baseline` (p = baseline, q = current; both smoothed with `smoothing`).
/// Fails when the sizes differ, there are no bins, or either side is empty.
Expected<Divergence> compare_counts(std::span<const uint64_t> baseline, std::span<const uint64_t> current,
                                    double smoothing = kDriftSmoothing);

/// What `etho drift` compares against: the training distribution of the model's categorical field (per
/// vocabulary id, <unk> included) and of the model's per-sequence score. Stored in the model file's
/// header under "baseline.*" (docs/models.md).
struct DriftBaseline {
    std::vector<uint64_t> field_counts; ///< per vocabulary id
    std::string score_name;             ///< e.g. "p(bot)", "mean_log_likelihood"
    Histogram score;                    ///< quantile bins of the training sequences' scores

    /// Adds the "baseline.*" entries (without the prefix) to `out`.
    void to_meta(std::map<std::string, std::string>& out) const;
    /// Reads them back; fails naming the key when one is missing or malformed.
    static Expected<DriftBaseline> from_meta(const std::map<std::string, std::string>& in);
};

/// Comma-separated decimal counts / shortest round-trip doubles (the header's text encodings).
std::string join_counts(std::span<const uint64_t> v);
std::string join_doubles(std::span<const double> v);
Expected<std::vector<uint64_t>> split_counts(const std::string& s);
Expected<std::vector<double>> split_doubles(const std::string& s);

} // namespace ethogram::models
