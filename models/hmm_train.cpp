// hmm_train.cpp: Baum-Welch (EM) over many sequences with Rabiner scaling, pseudo-counts and restarts.
#include "models/hmm_train.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace ethogram::models {

namespace {

// Expected counts gathered by one E-step over every sequence.
struct Counts {
    std::vector<double> pi, a, b;
    double log_likelihood = 0.0;
};

// Fills p[0..n) with a point drawn uniformly on the probability simplex (normalised Exp(1) draws), so
// restarts explore starting points without favouring any corner.
void random_distribution(std::mt19937_64& rng, double* p, std::size_t n) {
    std::exponential_distribution<double> exp1(1.0);
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k) sum += p[k] = exp1(rng) + 1e-12;
    for (std::size_t k = 0; k < n; ++k) p[k] /= sum;
}

Hmm random_model(std::mt19937_64& rng, std::size_t n, std::size_t m) {
    Hmm h;
    h.n_states = n;
    h.n_symbols = m;
    h.pi.resize(n);
    h.a.resize(n * n);
    h.b.resize(n * m);
    random_distribution(rng, h.pi.data(), n);
    for (std::size_t i = 0; i < n; ++i) random_distribution(rng, &h.a[i * n], n);
    for (std::size_t i = 0; i < n; ++i) random_distribution(rng, &h.b[i * m], m);
    return h;
}

// E-step: accumulates gamma and xi over all sequences using the scaled passes. With alpha-hat normalised
// and beta-hat sharing the same c_t, gamma_t(i) = alpha_t(i) beta_t(i) and
// xi_t(i, j) = alpha_t(i) a_ij b_j(o_{t+1}) beta_{t+1}(j) / c_{t+1}, with no per-sequence normaliser.
bool expected_counts(const Hmm& h, std::span<const std::vector<Symbol>> seqs, Counts& c) {
    const std::size_t n = h.n_states, m = h.n_symbols;
    c.pi.assign(n, 0.0);
    c.a.assign(n * n, 0.0);
    c.b.assign(n * m, 0.0);
    c.log_likelihood = 0.0;
    std::vector<double> w(n); // b_j(o_{t+1}) beta_{t+1}(j) / c_{t+1}, shared by every i
    for (const auto& seq : seqs) {
        if (seq.empty()) continue;
        const ForwardPass fw = forward(h, seq);
        if (!fw.ok) return false;
        const std::vector<double> beta = backward(h, seq, fw);
        c.log_likelihood += fw.log_likelihood;
        for (std::size_t t = 0; t < seq.size(); ++t) {
            const double* al = &fw.alpha[t * n];
            const double* be = &beta[t * n];
            for (std::size_t i = 0; i < n; ++i) {
                const double g = al[i] * be[i];
                if (t == 0) c.pi[i] += g;
                c.b[i * m + seq[t]] += g;
            }
            if (t + 1 == seq.size()) continue;
            const Symbol o = seq[t + 1];
            const double inv_c = 1.0 / fw.scale[t + 1];
            const double* be_next = &beta[(t + 1) * n];
            for (std::size_t j = 0; j < n; ++j) w[j] = h.emit(j, o) * be_next[j] * inv_c;
            for (std::size_t i = 0; i < n; ++i) {
                for (std::size_t j = 0; j < n; ++j) c.a[i * n + j] += al[i] * h.trans(i, j) * w[j];
            }
        }
    }
    return true;
}

// M-step: normalises each row of counts + pseudo-count into a distribution.
void normalise_rows(const std::vector<double>& counts, std::vector<double>& out, std::size_t rows,
                    std::size_t cols, double pseudo) {
    out.resize(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) {
        double sum = 0.0;
        for (std::size_t k = 0; k < cols; ++k) sum += counts[r * cols + k] + pseudo;
        for (std::size_t k = 0; k < cols; ++k) out[r * cols + k] = (counts[r * cols + k] + pseudo) / sum;
    }
}

struct RunResult {
    Hmm model;
    double log_likelihood = 0.0;
    bool converged = false;
};

RunResult run_em(Hmm h, std::span<const std::vector<Symbol>> seqs, const BaumWelchOptions& opt,
                 std::size_t restart, std::vector<TrainingStep>& log) {
    const std::size_t n = h.n_states, m = h.n_symbols;
    Counts c;
    RunResult res;
    double prev = -std::numeric_limits<double>::infinity();
    for (std::size_t it = 0; it < opt.max_iterations; ++it) {
        if (!expected_counts(h, seqs, c)) {
            // Only reachable from a caller-supplied start that gives the data probability 0: stop with it.
            res.log_likelihood = -std::numeric_limits<double>::infinity();
            break;
        }
        log.push_back({restart, it, c.log_likelihood});
        res.log_likelihood = c.log_likelihood;
        if (std::isfinite(prev) && std::fabs(c.log_likelihood - prev) <= opt.tolerance * std::fabs(prev)) {
            res.converged = true;
            break;
        }
        prev = c.log_likelihood;
        normalise_rows(c.pi, h.pi, 1, n, opt.pseudo_count);
        normalise_rows(c.a, h.a, n, n, opt.pseudo_count);
        normalise_rows(c.b, h.b, n, m, opt.pseudo_count);
    }
    // When max_iterations ran out the last M-step's model has not been scored yet: score it so that
    // log_likelihood always describes the returned model.
    if (!res.converged && std::isfinite(res.log_likelihood)) {
        double ll = 0.0;
        for (const auto& seq : seqs) ll += forward_log_likelihood(h, seq);
        res.log_likelihood = ll;
    }
    res.model = std::move(h);
    return res;
}

std::string check_inputs(std::span<const std::vector<Symbol>> seqs, std::size_t n, std::size_t m,
                         const BaumWelchOptions& opt) {
    if (n == 0 || m == 0) return "an HMM needs at least one state and one symbol";
    if (!(opt.pseudo_count > 0.0) || !std::isfinite(opt.pseudo_count))
        return "pseudo_count must be a positive finite number (it keeps every probability above 0)";
    if (!(opt.tolerance >= 0.0)) return "tolerance must be >= 0";
    if (opt.max_iterations == 0) return "max_iterations must be at least 1";
    std::size_t events = 0;
    for (std::size_t s = 0; s < seqs.size(); ++s) {
        for (std::size_t t = 0; t < seqs[s].size(); ++t) {
            if (seqs[s][t] >= m)
                return "sequence " + std::to_string(s) + ", position " + std::to_string(t) + ": symbol " +
                       std::to_string(seqs[s][t]) + " is outside the alphabet of " + std::to_string(m);
        }
        events += seqs[s].size();
    }
    if (events == 0) return "no training events (every sequence is empty)";
    return {};
}

} // namespace

std::map<std::string, std::string> hmm_hyper_params(const BaumWelchOptions& options) {
    auto shortest = [](double d) {
        char buf[32];
        const auto res = std::to_chars(buf, buf + sizeof buf, d);
        return std::string(buf, res.ptr);
    };
    return {{"states", std::to_string(options.n_states)},
            {"symbols", std::to_string(options.n_symbols)},
            {"max_iterations", std::to_string(options.max_iterations)},
            {"tolerance", shortest(options.tolerance)},
            {"restarts", std::to_string(options.restarts)},
            {"seed", std::to_string(options.seed)},
            {"pseudo_count", shortest(options.pseudo_count)}};
}

Expected<TrainingResult> train_hmm(std::span<const std::vector<Symbol>> sequences,
                                   const BaumWelchOptions& options) {
    if (options.restarts == 0) return Error{"hmm training: restarts must be at least 1"};
    if (auto e = check_inputs(sequences, options.n_states, options.n_symbols, options); !e.empty())
        return Error{"hmm training: " + e};
    std::mt19937_64 rng(options.seed);
    TrainingResult best;
    best.log_likelihood = -std::numeric_limits<double>::infinity();
    bool have = false;
    for (std::size_t r = 0; r < options.restarts; ++r) {
        // Every starting point is strictly positive, so every E-step is well defined.
        Hmm start = random_model(rng, options.n_states, options.n_symbols);
        RunResult run = run_em(std::move(start), sequences, options, r, best.log);
        if (!have || run.log_likelihood > best.log_likelihood) {
            have = true;
            best.model = std::move(run.model);
            best.log_likelihood = run.log_likelihood;
            best.best_restart = r;
            best.converged = run.converged;
        }
    }
    return best;
}

Expected<TrainingResult> train_hmm_from(const Hmm& start, std::span<const std::vector<Symbol>> sequences,
                                        const BaumWelchOptions& options) {
    if (auto e = validate(start); !e.empty()) return Error{"hmm training: starting model: " + e};
    if (auto e = check_inputs(sequences, start.n_states, start.n_symbols, options); !e.empty())
        return Error{"hmm training: " + e};
    TrainingResult res;
    RunResult run = run_em(start, sequences, options, 0, res.log);
    if (!std::isfinite(run.log_likelihood))
        return Error{"hmm training: the starting model gives the training data probability 0"};
    res.model = std::move(run.model);
    res.log_likelihood = run.log_likelihood;
    res.converged = run.converged;
    return res;
}

} // namespace ethogram::models
