// model_spec.h: the YAML training spec of `etho train` (model kind, events, sequences, validation split).
#pragma once

#include "models/expected.h"
#include "models/hmm_train.h"
#include "models/markov.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::tools {

/// Which model `etho train` builds.
enum class ModelKind { Markov, Hmm, Classifier };

/// "markov", "hmm", "classifier".
std::string_view kind_name(ModelKind k);

/// A parsed training spec. docs/models.md ("Training") documents every key; unknown keys are errors.
struct TrainSpec {
    std::string text; ///< the YAML as given (stored in the model so that `etho eval --folds` can retrain)

    ModelKind kind = ModelKind::Markov;
    models::MarkovConfig chain;   ///< markov and classifier: order, discount, estimate_discount
    models::BaumWelchOptions hmm; ///< hmm: states, restarts, seed, max_iterations, tolerance, pseudo_count
    std::vector<std::string> classes;  ///< classifier: class names in order (empty: the labels' sorted)
    std::string positive;              ///< classifier: the class scored by AUC/calibration (default: last)
    std::vector<double> priors;        ///< classifier: per class, in `classes` order (empty: estimated)
    std::vector<double> class_weights; ///< classifier: per class (empty: 1, or balanced)
    bool balanced_weights = false;     ///< class_weights: balanced (N / (C n_c), computed from training data)

    std::vector<std::string> event_types; ///< events.types: kept event types (empty: every type)
    std::string field;                    ///< events.field: the categorical field (required)
    std::string type_field = "type";      ///< events.type_field (the runtime's input.type_field default)
    std::string key_field;                ///< events.key: the field grouping events into sequences (required)
    std::string time_field = "ts";        ///< events.time: RFC 3339 string or epoch number
    bool epoch_seconds = false;           ///< events.epoch_unit: ms (default) or s

    int64_t gap_us = 0;      ///< sequences.gap: a longer pause starts a new sequence of the key (0: none)
    uint64_t max_length = 0; ///< sequences.max_length: longer sequences are cut into pieces (0: none)

    double fraction = 0.2; ///< validation.fraction: share of sequences held out, in [0, 1)
    uint32_t folds = 0;    ///< validation.folds: k-fold cross-validation instead (0: use fraction)
    uint64_t seed = 1;     ///< validation.seed: the split's shuffle
};

/// Parses and validates a spec; `name` (the file) starts every error: "spec.yaml:3:9: error: ...".
models::Expected<TrainSpec> parse_spec(std::string_view text, const std::string& name);
/// Reads and parses a spec file.
models::Expected<TrainSpec> load_spec(const std::string& path);

} // namespace ethogram::tools
