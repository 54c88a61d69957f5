// hmm_train.h: Baum-Welch training of discrete-emission HMMs with scaling, smoothing and random restarts.
#pragma once

#include "models/expected.h"
#include "models/hmm.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace ethogram::models {

/// Hyper-parameters of train_hmm(). The defaults suit a few states over a small alphabet.
struct BaumWelchOptions {
    std::size_t n_states = 2;
    std::size_t n_symbols = 2;
    /// EM iterations per restart at most.
    std::size_t max_iterations = 500;
    /// Stop a restart once |LL_new - LL_old| <= tolerance * |LL_old| (relative change of the total
    /// training log-likelihood between two iterations).
    double tolerance = 1e-9;
    /// Independent random starting points; the run with the best final log-likelihood is kept.
    std::size_t restarts = 5;
    /// Seeds the std::mt19937_64 that draws every starting point: same data + options, same model.
    std::uint64_t seed = 0x5eed'0f'e7'40'6a'6dULL;
    /// Added to every expected count (pi, each A cell, each B cell) before normalising, i.e. a symmetric
    /// Dirichlet(1 + pseudo_count) prior giving the MAP re-estimate. It keeps every probability strictly
    /// positive, so a transition or symbol unseen in training never scores as impossible later. Must be
    /// > 0; make it small next to the data's counts (the default barely moves a model fitted on 1000s
    /// of events).
    double pseudo_count = 1e-3;
};

/// The options as ModelMeta::hyper_params: states, symbols, max_iterations, tolerance, restarts, seed and
/// pseudo_count (doubles in shortest round-trip form, so the file says exactly what was used).
std::map<std::string, std::string> hmm_hyper_params(const BaumWelchOptions& options);

/// One line of the training log: the log-likelihood of the training data under the parameters that
/// iteration `iteration` of restart `restart` started from (EM never decreases it, up to the smoothing).
struct TrainingStep {
    std::size_t restart = 0;
    std::size_t iteration = 0;
    double log_likelihood = 0.0;
};

/// What train_hmm() returns.
struct TrainingResult {
    Hmm model;
    /// Log-likelihood of all training sequences under `model`.
    double log_likelihood = 0.0;
    /// Which restart produced `model` and whether it met the tolerance before max_iterations.
    std::size_t best_restart = 0;
    bool converged = false;
    /// Every iteration of every restart, in order.
    std::vector<TrainingStep> log;
};

/// Trains from `restarts` random starting points (each row drawn uniformly on the simplex) and keeps the
/// best. Refuses empty data, zero dimensions or restarts, a non-positive pseudo-count, and symbols outside
/// [0, n_symbols). Empty sequences are skipped. Cost: O(iterations * restarts * total length * N^2).
Expected<TrainingResult> train_hmm(std::span<const std::vector<Symbol>> sequences,
                                   const BaumWelchOptions& options);

/// Runs EM from the given starting model only (no restarts; options.n_states/n_symbols/restarts/seed are
/// ignored): for refining a known model or reproducing a run.
Expected<TrainingResult> train_hmm_from(const Hmm& start, std::span<const std::vector<Symbol>> sequences,
                                        const BaumWelchOptions& options);

} // namespace ethogram::models
