// models_eval.h: the models a rule set declares, decoded once per executor, their per-key online
// updates and the model functions of the rule language (docs/semantics.md section 7).
#pragma once

#include "compiler/interp/state.h"
#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include "models/any_model.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ethogram::interp {

/// One declared model, decoded from its IR image.
struct RuntimeModel {
    const ir::Model* decl = nullptr;
    models::Vocabulary vocab;
    std::optional<models::MarkovChain> markov;
    std::optional<models::Hmm> hmm;
    std::optional<models::SequenceClassifier> classifier;
    std::vector<uint16_t> slot_by_type;              ///< per event type: observed field, kNoField: none
    std::vector<std::vector<uint32_t>> enum_symbols; ///< per event type: enum index -> symbol id
    std::vector<uint32_t> symbol_strings;            ///< symbol id -> StringPool id
    std::vector<uint32_t> label_strings;             ///< state / class index -> StringPool id
    bool ok = false;                                 ///< false: the image did not decode (see error)
    std::string error;
};

/// Every model of a rule set: decoding, per-key updates, and evaluation of ExprKind::Model.
class ModelRuntime {
public:
    /// Decodes every model image; interns symbol and label names into `pool` (after the rule set's
    /// constants: call it once the pool is seeded). A model whose image does not decode (a hand-built
    /// IR; the front end verifies every file) logs an error and reads as missing everywhere.
    ModelRuntime(const ir::RuleSet& rs, ir::StringPool& pool);

    bool empty() const { return models_.empty(); }
    size_t size() const { return models_.size(); }
    const RuntimeModel& model(size_t i) const { return models_[i]; }

    /// Fresh per-key states, one per model.
    void make_states(ModelStates& out) const;

    /// Folds event `se` into `ks.models` (after the key's sessions have seen it): a `per session S` model
    /// first resets when S has opened a new session since its last update, and observes only events that
    /// joined S; every model observing the event's type reads the field (missing: not observed) and updates.
    void on_event(KeyState& ks, const StoredEvent& se) const;

    /// Evaluates a model function for the key whose states are `states` (null: missing).
    ir::Value eval(const ir::Expr& x, const ModelStates* states) const;

    /// True when every model in `gate` has at least its min_evidence for the key.
    bool confident(const std::vector<uint32_t>& gate, const ModelStates* states) const;

    /// The scores of `ids` for a detection's explanation.
    std::vector<ir::ModelScore> scores(const std::vector<uint32_t>& ids, const ModelStates* states) const;

private:
    void reset(size_t i, ModelKeyState& s) const;
    uint32_t symbol_of(const RuntimeModel& m, const StoredEvent& e) const;
    /// P(next symbol) for every symbol id (size V), from the key's state.
    void next_distribution(const RuntimeModel& m, const ModelKeyState& s, std::vector<double>& out) const;
    /// The posterior over states (hmm) or classes (classifier).
    void posterior(const RuntimeModel& m, const ModelKeyState& s, std::vector<double>& out) const;

    const ir::RuleSet& rs_;
    ir::StringPool& pool_;
    std::vector<RuntimeModel> models_;
};

} // namespace ethogram::interp
