// model_state.h: the per-key online state of one declared model (docs/semantics.md section 7).
#pragma once

#include "models/hmm.h"
#include "models/markov.h"

#include <cstdint>
#include <variant>
#include <vector>

namespace ethogram::interp {

/// What one key's events have taught one model so far. Updating it costs O(k) lookups (Markov chain of
/// order k), O(N^2) (HMM with N states) or O(C k) (classifier with C classes): never a pass over history.
struct ModelKeyState {
    /// The state proper, by the model's kind: a chain's context, an HMM's filtered posterior, or one chain
    /// state per class (monostate when the model did not decode).
    std::variant<std::monostate, models::MarkovState, models::HmmState, std::vector<models::MarkovState>> st;
    uint64_t count = 0;         ///< events observed: the model's evidence for this key
    double sum_log_prob = 0.0;  ///< sum of ln P(x_t | x_<t) over the observed events
    double last_log_prob = 0.0; ///< ln P of the latest observed event
    uint64_t session_gen = 0;   ///< `per session` models: the session generation this state belongs to
};

} // namespace ethogram::interp
