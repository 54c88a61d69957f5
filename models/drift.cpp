// drift.cpp: histograms, quantile cut points, PSI and KL, and the baseline's header encoding.
#include "models/drift.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace ethogram::models {

uint64_t Histogram::total() const {
    return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}

size_t Histogram::bin_of(double x) const {
    if (std::isnan(x)) return 0;
    return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin());
}

void Histogram::add(double x) {
    if (counts.size() < edges.size() + 1) counts.resize(edges.size() + 1, 0);
    ++counts[bin_of(x)];
}

std::vector<double> quantile_edges(std::vector<double> values, size_t bins) {
    std::erase_if(values, [](double v) { return !std::isfinite(v); });
    std::vector<double> edges;
    if (values.empty() || bins < 2) return edges;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    for (size_t k = 1; k < bins; ++k) {
        // Nearest rank: the smallest value with at least k/bins of the data at or below it; the cut
        // point is the next distinct value, so the quantile's own ties stay in the lower bin.
        size_t idx = (k * n + bins - 1) / bins; // ceil(k n / bins), 1-based rank
        if (idx == 0) idx = 1;
        double q = values[idx - 1];
        auto next = std::upper_bound(values.begin(), values.end(), q);
        if (next == values.end()) break;
        if (edges.empty() || *next > edges.back()) edges.push_back(*next);
    }
    return edges;
}

Expected<Divergence> compare_counts(std::span<const uint64_t> baseline, std::span<const uint64_t> current,
                                    double smoothing) {
    if (baseline.size() != current.size())
        return Error{
            fmt::format("drift: baseline has {} bins, current window {}", baseline.size(), current.size())};
    if (baseline.empty()) return Error{"drift: no bins to compare"};
    const double nb = double(std::accumulate(baseline.begin(), baseline.end(), uint64_t{0}));
    const double nc = double(std::accumulate(current.begin(), current.end(), uint64_t{0}));
    if (nb == 0) return Error{"drift: the baseline is empty"};
    if (nc == 0) return Error{"drift: the current window is empty"};
    const double k = double(baseline.size());
    Divergence d;
    for (size_t i = 0; i < baseline.size(); ++i) {
        const double p = (double(baseline[i]) + smoothing) / (nb + smoothing * k);
        const double q = (double(current[i]) + smoothing) / (nc + smoothing * k);
        if (p <= 0.0 || q <= 0.0) { // smoothing 0 and an empty bin: only a zero q contributes nothing
            if (q > 0.0) d.psi = d.kl = INFINITY;
            continue;
        }
        const double l = std::log(q / p);
        d.psi += (q - p) * l;
        d.kl += q * l;
    }
    return d;
}

std::string join_counts(std::span<const uint64_t> v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(v[i]);
    }
    return out;
}

std::string join_doubles(std::span<const double> v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{}", i ? "," : "", v[i]);
    return out;
}

namespace {

template <class T>
Expected<std::vector<T>> split_numbers(const std::string& s, const char* what) {
    std::vector<T> out;
    if (s.empty()) return out;
    const char* p = s.data();
    const char* end = s.data() + s.size();
    while (true) {
        T v{};
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc{} || (next != end && *next != ','))
            return Error{fmt::format("not a list of {}: '{}{}'", what, std::string_view(s).substr(0, 40),
                                     s.size() > 40 ? "..." : "")};
        out.push_back(v);
        if (next == end) break;
        p = next + 1;
    }
    return out;
}

} // namespace

Expected<std::vector<uint64_t>> split_counts(const std::string& s) {
    return split_numbers<uint64_t>(s, "counts");
}

Expected<std::vector<double>> split_doubles(const std::string& s) {
    return split_numbers<double>(s, "numbers");
}

void DriftBaseline::to_meta(std::map<std::string, std::string>& out) const {
    out["field_counts"] = join_counts(field_counts);
    out["score"] = score_name;
    out["score_edges"] = join_doubles(score.edges);
    out["score_counts"] = join_counts(score.counts);
}

Expected<DriftBaseline> DriftBaseline::from_meta(const std::map<std::string, std::string>& in) {
    DriftBaseline b;
    auto get = [&](const char* key) -> const std::string* {
        auto it = in.find(key);
        return it == in.end() ? nullptr : &it->second;
    };
    for (const char* key : {"field_counts", "score", "score_edges", "score_counts"})
        if (!get(key))
            return Error{
                fmt::format("the model has no drift baseline (header key baseline.{} is missing)", key)};
    auto fc = split_counts(*get("field_counts"));
    if (!fc) return Error{"baseline.field_counts: " + fc.error()};
    auto edges = split_doubles(*get("score_edges"));
    if (!edges) return Error{"baseline.score_edges: " + edges.error()};
    auto sc = split_counts(*get("score_counts"));
    if (!sc) return Error{"baseline.score_counts: " + sc.error()};
    if (sc->size() != edges->size() + 1)
        return Error{fmt::format("baseline.score_counts: {} bins for {} cut points (expected {})", sc->size(),
                                 edges->size(), edges->size() + 1)};
    for (size_t i = 1; i < edges->size(); ++i)
        if (!((*edges)[i - 1] < (*edges)[i]))
            return Error{"baseline.score_edges: cut points are not ascending"};
    b.field_counts = std::move(*fc);
    b.score_name = *get("score");
    b.score.edges = std::move(*edges);
    b.score.counts = std::move(*sc);
    return b;
}

} // namespace ethogram::models
