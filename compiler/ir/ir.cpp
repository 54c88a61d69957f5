// ir.cpp: small queries over the IR and the string pool.
#include "compiler/ir/ir.h"
#include "compiler/ir/event.h"

#include <cassert>

namespace ethogram::ir {

std::string_view type_name(Type t) {
    switch (t) {
    case Type::Missing: return "missing";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::Enum: return "enum";
    case Type::Timestamp: return "timestamp";
    case Type::Duration: return "duration";
    }
    return "?";
}

std::string_view model_kind_name(ModelKind k) {
    switch (k) {
    case ModelKind::Markov: return "markov";
    case ModelKind::Hmm: return "hmm";
    case ModelKind::Classifier: return "classifier";
    }
    return "?";
}

std::string_view model_fn_name(ModelFn f) {
    switch (f) {
    case ModelFn::Evidence: return "evidence";
    case ModelFn::Confident: return "confident";
    case ModelFn::Surprise: return "surprise";
    case ModelFn::LogLik: return "loglik";
    case ModelFn::PredictNext: return "predict_next";
    case ModelFn::PredictProb: return "predict_prob";
    case ModelFn::NextProb: return "next_prob";
    case ModelFn::HiddenState: return "hidden_state";
    case ModelFn::StateProb: return "state_prob";
    case ModelFn::ClassProb: return "class_prob";
    case ModelFn::PredictedClass: return "predicted_class";
    }
    return "?";
}

std::string_view severity_name(Severity s) {
    switch (s) {
    case Severity::Info: return "info";
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
    }
    return "?";
}

std::string_view op_spelling(Op op) {
    switch (op) {
    case Op::None: return "none";
    case Op::Not: return "not";
    case Op::Neg: return "neg";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
    case Op::In: return "in";
    case Op::NotIn: return "not in";
    }
    return "?";
}

std::string_view aggregate_name(AggKind k) {
    static const char* names[] = {
        "count",       "sum",        "avg",        "min",     "max",        "distinct",
        "first",       "last",       "dwell_time", "entropy", "backtracks", "backtrack_rate",
        "transitions", "burstiness", "gap_mean",   "gap_std", "gap_min",    "gap_max"};
    return names[static_cast<size_t>(k)];
}

int RuleSet::find_event(std::string_view n) const {
    for (size_t i = 0; i < events.size(); ++i)
        if (events[i].name == n) return static_cast<int>(i);
    return -1;
}

int RuleSet::find_taxonomy(std::string_view path) const {
    for (size_t i = 0; i < taxonomy.size(); ++i)
        if (taxonomy[i].path == path) return static_cast<int>(i);
    return -1;
}

bool RuleSet::in_subtree(uint32_t n, uint32_t ancestor) const {
    for (int32_t cur = static_cast<int32_t>(n); cur >= 0; cur = taxonomy[cur].parent)
        if (static_cast<uint32_t>(cur) == ancestor) return true;
    return false;
}

uint32_t StringPool::intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    storage_.emplace_back(s);
    auto id = static_cast<uint32_t>(storage_.size() - 1);
    ids_.emplace(storage_.back(), id);
    return id;
}

uint32_t StringPool::find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? kNoString : it->second;
}

void seed_string_pool(const RuleSet& rs, StringPool& pool) {
    assert(pool.size() == 0 && "seed an empty pool");
    for (const auto& s : rs.strings) pool.intern(s);
}

} // namespace ethogram::ir
