// model_card.h: the model card written beside a trained model (model.card.md and model.card.json).
#pragma once

#include "models/expected.h"
#include "tools/event_log.h"
#include "tools/model_pipeline.h"

#include <map>
#include <string>
#include <vector>

namespace ethogram::tools {

/// Everything a card says, gathered by `etho train`.
struct CardInfo {
    std::string model_path, events_path, labels_path;
    std::string spec_text;
    std::string validation; ///< how the metrics were obtained, e.g. "holdout: 20% of sequences, seed 7"
    int64_t created_unix = 0;
    const EventLog* log = nullptr;
    uint64_t train_sequences = 0, validation_sequences = 0, train_events = 0;
    std::string training_data_hash;
    std::map<std::string, uint64_t> class_counts; ///< training sequences per class (classifier)
    uint64_t singleton_symbols = 0;               ///< vocabulary symbols seen once in training
    bool hmm_converged = true;
    const EvalReport* report = nullptr;
    std::string baseline_source; ///< where the drift baseline's scores come from
};

/// "<out without .etm>.card.md" and ".card.json".
std::string card_base(const std::string& model_path);

/// Writes both card files; fails naming the file that cannot be written.
models::Status write_model_card(const AnyModel& m, const CardInfo& info);

} // namespace ethogram::tools
