// hmm.h: hidden Markov models with discrete emissions: scaled forward, Viterbi, posteriors, online filter.
#pragma once

#include "models/expected.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::models {

/// A symbol of the emission alphabet: an index in [0, n_symbols).
using Symbol = std::uint32_t;

/// A discrete-emission HMM with N states and M symbols. All matrices are flat and row-major:
/// a[i * N + j] = P(state_{t+1} = j | state_t = i), b[i * M + k] = P(o_t = k | state_t = i).
/// Every scoring function below assumes a model that passed validate(); deserialize() and training only
/// ever produce such models.
struct Hmm {
    std::size_t n_states = 0;
    std::size_t n_symbols = 0;
    std::vector<double> pi; ///< initial distribution, size N
    std::vector<double> a;  ///< transitions, N x N
    std::vector<double> b;  ///< emissions, N x M

    double trans(std::size_t i, std::size_t j) const { return a[i * n_states + j]; }
    double emit(std::size_t i, Symbol k) const { return b[i * n_symbols + k]; }
};

/// Tolerance on |sum of a row - 1| accepted by validate() and deserialize().
inline constexpr double kRowSumTolerance = 1e-6;

/// An empty string when `m` is usable: N > 0, M > 0, sizes consistent, every entry finite and in [0, 1],
/// pi and every row of A and B summing to 1 within kRowSumTolerance. Otherwise what is wrong, e.g.
/// "row 1 of A sums to 0.9 (expected 1)".
std::string validate(const Hmm& m);

/// The scaled forward pass (Rabiner's scaling). alpha[t * N + i] = P(state_t = i | o_1..o_t) (the filtered
/// posterior, each row sums to 1) and scale[t] = c_t = P(o_t | o_1..o_{t-1}), so that
/// log P(o_1..o_T) = sum_t log c_t. Nothing underflows however long the sequence: every row is normalised.
struct ForwardPass {
    std::vector<double> alpha;
    std::vector<double> scale;
    /// sum_t log scale[t]; -infinity when the sequence is impossible or holds an out-of-range symbol.
    double log_likelihood = 0.0;
    /// False when a symbol is >= n_symbols or some c_t is 0; alpha/scale then stop at that step.
    bool ok = true;
};

/// Runs the scaled forward recursion over `obs` in O(T N^2).
ForwardPass forward(const Hmm& m, std::span<const Symbol> obs);

/// log P(obs | m) by the scaled forward pass; 0 for an empty sequence, -infinity when impossible or when a
/// symbol is out of range.
double forward_log_likelihood(const Hmm& m, std::span<const Symbol> obs);

/// The scaled backward pass matching `fw` (same c_t): beta[t * N + i] = P(o_{t+1}..o_T | state_t = i) /
/// prod_{s > t} c_s. Then gamma_t(i) = alpha[t][i] * beta[t][i]. Empty when !fw.ok.
std::vector<double> backward(const Hmm& m, std::span<const Symbol> obs, const ForwardPass& fw);

/// Forward-backward smoothed posteriors gamma[t * N + i] = P(state_t = i | o_1..o_T); each row sums to 1.
/// Empty when the sequence is impossible or holds an out-of-range symbol.
std::vector<double> posteriors(const Hmm& m, std::span<const Symbol> obs);

/// The most probable state path and its joint log-probability log P(path, obs).
struct ViterbiResult {
    std::vector<std::uint32_t> path;
    /// -infinity (and an empty path) when every path has probability 0 or a symbol is out of range.
    double log_probability = 0.0;
};

/// Log-space Viterbi in O(T N^2); ties go to the lowest state index, so the result is deterministic.
ViterbiResult viterbi(const Hmm& m, std::span<const Symbol> obs);

/// The online forward recursion for one key (one entity's stream): O(N^2) time and O(N) memory per event,
/// never a pass over history. After t events, posterior()[i] = P(state_t = i | o_1..o_t) and
/// log_likelihood() = log P(o_1..o_t), exactly what forward() computes in batch.
class HmmState {
public:
    HmmState() = default;
    /// A state for model `m` with no event seen yet.
    explicit HmmState(const Hmm& m) { reset(m); }

    /// Forgets every event (e.g. when the key's session ends).
    void reset(const Hmm& m);

    /// Folds one event in and returns log P(o_t | o_1..o_{t-1}) (the event's surprise, negated).
    /// An out-of-range symbol returns -infinity and leaves the state untouched. An impossible symbol
    /// (probability 0 under every predicted state) returns -infinity, makes log_likelihood() -infinity for
    /// good, and keeps the predicted distribution as the posterior so later events still filter.
    double update(const Hmm& m, Symbol symbol);

    /// The filtered posterior over states after the last event (pi before any event).
    std::span<const double> posterior() const { return alpha_; }
    /// log P(o_1..o_t) of the events folded so far (0 before any).
    double log_likelihood() const { return log_likelihood_; }
    /// How many events were folded in (out-of-range symbols are not counted).
    std::uint64_t count() const { return count_; }
    /// Sets the state to what posterior(), log_likelihood() and count() returned (checkpoint restore).
    void assign(std::vector<double> posterior, double log_likelihood, std::uint64_t count) {
        scratch_.assign(posterior.size(), 0.0);
        alpha_ = std::move(posterior);
        log_likelihood_ = log_likelihood;
        count_ = count;
    }

private:
    std::vector<double> alpha_;
    std::vector<double> scratch_;
    double log_likelihood_ = 0.0;
    std::uint64_t count_ = 0;
};

/// Current version of the payload written by serialize().
inline constexpr std::uint32_t kHmmPayloadVersion = 1;

/// The model as a flat little-endian payload (for the model-file container, which adds magic, checksum,
/// provenance). Layout: u32 payload version, u32 N, u32 M, then pi (N), A (N*N), B (N*M) as IEEE-754
/// binary64 (ByteWriter's encoding), 12 + 8 * (N + N*N + N*M) bytes in all. Fixed offsets, so a mapped file
/// can be read in place.
std::vector<std::uint8_t> serialize(const Hmm& m);

/// Parses serialize()'s payload. Refuses, with a message saying what and where, a truncated or oversized
/// payload, an unknown version, N or M of 0 or absurdly large, non-finite or out-of-range entries, and
/// rows not summing to 1 (validate()).
Expected<Hmm> deserialize(std::span<const std::uint8_t> bytes);

/// An HMM with the vocabulary its symbol ids come from: what an "hmm" model file holds.
struct HmmModel {
    Vocabulary vocabulary;
    Hmm hmm;
};

/// Writes an "hmm" model file (payload: the vocabulary, then serialize(hmm)). `meta` supplies provenance
/// and hyper-parameters (see hmm_hyper_params() in hmm_train.h); kind is set to "hmm" and an empty engine
/// version to kEngineVersion. Fails if the model is invalid or the vocabulary size is not n_symbols.
Status save_hmm_model(const std::string& path, const Vocabulary& vocabulary, const Hmm& hmm, ModelMeta meta);

/// Reads a file written by save_hmm_model(), refusing other kinds, invalid payloads and a vocabulary
/// whose size is not the model's n_symbols; errors name the file.
Expected<HmmModel> load_hmm_model(const std::string& path);

} // namespace ethogram::models
