// any_model.h: decodes an in-memory model file of any kind (what the rule language embeds in its IR).
#pragma once

#include "models/classifier.h"
#include "models/expected.h"
#include "models/hmm.h"
#include "models/markov.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ethogram::models {

/// A verified model file of any kind: its metadata, its vocabulary and exactly one of the three models
/// (the one `meta.kind` names).
struct AnyModel {
    ModelMeta meta;
    Vocabulary vocabulary;
    std::optional<MarkovChain> markov;            ///< kind "markov"
    std::optional<Hmm> hmm;                       ///< kind "hmm"
    std::optional<SequenceClassifier> classifier; ///< kind "classifier"
};

/// Verifies the container (decode_model_file) and decodes the payload of the kind its header names, with
/// the same checks as load_markov_model / load_hmm_model / load_classifier_model. Errors start with `name`.
Expected<AnyModel> decode_any_model(std::span<const uint8_t> bytes, const std::string& name);

} // namespace ethogram::models
