// expr_eval.h: evaluation of ir::Expr trees against the events a rule sees.
#pragma once

#include "compiler/interp/native_hooks.h"
#include "compiler/interp/state.h"
#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace ethogram::interp {

class ModelRuntime; // models_eval.h
struct ModelKeyState;

/// What an expression can read. Every pointer may be null (the construct then reads as missing).
/// Standard layout: compiled code (native_hooks.h) reads it at offsetof() positions.
struct EvalContext {
    /// EventRef::Current: a step's candidate, an aggregate's element, a threshold's trigger.
    const StoredEvent* current = nullptr;
    /// Pattern rules: the match whose bound events (PartialMatch::step, by pattern step index) steps read
    /// (EventRef::Step, AggSource::Step).
    const PartialMatch* steps = nullptr;
    /// The step whose candidate `current` is: an EventRef::Step naming it reads `current`.
    uint32_t candidate_step = UINT32_MAX;
    /// With `scope`: its elements start at this index (a nested window's view of a wider window's ring,
    /// engine.h ScopeGroup::holder); 0 otherwise.
    uint32_t scope_from = 0;
    /// The rule's session (SessionAttr), when the rule scopes over a session that is open.
    const SessionState* session = nullptr;
    /// Threshold rules: the scope's events, oldest first (AggSource::Scope).
    const EventBuffer* scope = nullptr;
    /// Threshold rules over a shared scope: the aggregates it keeps (engine.h ScopeGroup::kept), or null.
    /// Writable: a stale float sum is rescanned once and kept again.
    int64_t* scope_counts = nullptr;
    /// With scope_counts: per aggregate, its first word there (ExprEvaluator::kNoWord: rescanned); the
    /// table ExprEvaluator::set_scope_words names, here for compiled code, which reads it inline.
    const uint32_t* scope_words = nullptr;
};

/// Evaluates expressions of one rule set. Missing-value rules (the reference reading of
/// docs/language.md):
///  - a comparison (==, !=, <, ...) or `in` / `not in` with a missing operand is false;
///  - arithmetic, unary minus, abs, len, lower on missing give missing;
///  - `and` / `or` short-circuit and read a missing operand as false;
///  - `not missing` is missing, and a predicate (where, when, a step's predicate) whose value is
///    missing does not hold: so `not x` and `not not x` are both false when x is missing;
///  - starts_with / ends_with / contains with a missing operand are false; has(x) is false on missing.
class ExprEvaluator {
public:
    /// `pool` receives the results of `lower(s)`.
    ExprEvaluator(const ir::RuleSet& rs, ir::StringPool& pool);

    /// The value of expression `id` (missing for kNoExpr). Compiled code (NativeHooks::exprs) reads `ctx`
    /// directly (no frame is built); without it, or when it bails out, interpreted.
    ir::Value eval(ir::ExprId id, const EvalContext& ctx);
    /// A predicate: kNoExpr holds; a missing or non-bool result does not. A compiled predicate
    /// (NativeHooks::tests) answers without a Value; without one, or when it bails out, through eval.
    bool test(ir::ExprId id, const EvalContext& ctx);

    const ir::RuleSet& ruleset() const { return rs_; }
    ir::StringPool& pool() { return pool_; }
    /// Compiled code for some expressions (compiler/jit); null (the default) interprets everything.
    void set_native(const NativeHooks* native) {
        native_ = native;
        nexprs_ = native ? native->exprs.size() : 0;
        ntests_ = native ? native->tests.size() : 0;
    }
    /// Per aggregate, its word in EvalContext::scope_counts (kNoWord: rescanned); null: every aggregate is.
    void set_scope_words(const std::vector<uint32_t>* words) { scope_words_ = words; }
    static constexpr uint32_t kNoWord = UINT32_MAX;
    /// The word of aggregate `agg` (an element of ruleset().aggregates) in EvalContext::scope_counts.
    uint32_t scope_word(const ir::Aggregate& agg) const {
        if (!scope_words_) return kNoWord;
        const auto i = static_cast<size_t>(&agg - rs_.aggregates.data());
        return i < scope_words_->size() ? (*scope_words_)[i] : kNoWord;
    }

    /// The memo of scope aggregates (eval_aggregate): while it is open, an aggregate's value over a scope is
    /// remembered, and an aggregate alike it (the same kind, source, types, filter, value and type) over
    /// the same scope, session and current event returns it. The caller opens it only while no scope,
    /// session, model or dwell can change (the threshold rules of one event after the scopes were updated,
    /// the `at session end` rules of one closing session), so that the remembered value is the one a rescan
    /// would compute: several rules of one scope often test the same feature, and an emit often repeats
    /// its condition's aggregate.
    struct AggMemo {
        uint64_t epoch = 0; ///< the opening it was computed in (0: never)
        const void* scope = nullptr;
        uint32_t from = 0; ///< EvalContext::scope_from: nested windows share a ring
        const void* session = nullptr;
        const void* current = nullptr;
        ir::Value value;
    };
    void open_memo() { memo_epoch_ = ++memo_openings_; }
    void close_memo() { memo_epoch_ = 0; }
    /// The memo entry of scope aggregate `agg` (an element of ruleset().aggregates) while the memo is open,
    /// else null.
    AggMemo* memo_of(const ir::Aggregate& agg) {
        if (memo_epoch_ == 0) return nullptr;
        const auto i = static_cast<size_t>(&agg - rs_.aggregates.data());
        return i < agg_class_.size() && agg_class_[i] != kNoWord ? &memo_[agg_class_[i]] : nullptr;
    }
    uint64_t memo_epoch() const { return memo_epoch_; }

    /// How an aggregate can be folded: not (its filter or value reads more than the element, or its kind
    /// needs the whole list: gap_std, burstiness), over all of the session's events, or (its filter or value
    /// reads the dwell, known only once the key's next event arrived) over those whose dwell is known, the
    /// rest added to a copy on each evaluation. Kinds that count values are not folded when they read the
    /// dwell (their state would be copied).
    enum class Foldable : uint8_t { No, Whole, KnownDwell };
    Foldable foldable(const ir::Aggregate& agg) const {
        const auto a = static_cast<size_t>(&agg - rs_.aggregates.data());
        return a < foldable_.size() ? foldable_[a] : Foldable::No;
    }
    /// Sessions shorter than this are rescanned: a walk of a few events costs less than finding a fold,
    /// and the JIT's loops over a short session stay inline.
    static constexpr size_t kFoldFrom = 32;
    /// The fold of aggregate `agg` over session `st` (its events' folds, created on first use: a fresh
    /// fold has n == 0), or null when `agg` cannot be folded or the session keeps no events. Alike
    /// aggregates (the memo's classes: the same kind, types, filter, value and type) share one fold.
    Fold* fold_of(const ir::Aggregate& agg, const SessionState& st);

    /// Model functions (ExprKind::Model) read `models` for the key whose states are set by
    /// set_key_models: the interpreter sets them before it processes an event or a timer of a key.
    void attach_models(const ModelRuntime* models) { models_ = models; }
    void set_key_models(const ModelStates* states) { key_models_ = states; }
    const ModelStates* key_models() const { return key_models_; }

private:
    /// test() and eval() interpreted (operands have no compiled code: only roots do).
    bool holds(ir::ExprId id, const EvalContext& ctx);
    [[gnu::noinline]] ir::Value interpret(ir::ExprId id, const EvalContext& ctx);
    static bool holds_value(const ir::Value& v) { return v.type == ir::Type::Bool && v.b; }
    /// test() and eval() with the compiled code of `id` (id < the table's size), interpreted on bail-out.
    [[gnu::noinline]] bool test_native(ir::ExprId id, const EvalContext& ctx);
    [[gnu::noinline]] ir::Value eval_native(ir::ExprId id, const EvalContext& ctx);
    ir::Value field(const ir::Expr& e, const EvalContext& ctx) const;
    ir::Value call(const ir::Expr& e, const EvalContext& ctx);
    ir::Value unary(const ir::Expr& e, const EvalContext& ctx);
    ir::Value binary(const ir::Expr& e, const EvalContext& ctx);
    ir::Value in_list(const ir::Expr& e, const EvalContext& ctx);
    ir::Value session_attr(const ir::Expr& e, const EvalContext& ctx) const;

    const ir::RuleSet& rs_;
    ir::StringPool& pool_;
    const ModelRuntime* models_ = nullptr;
    const ModelStates* key_models_ = nullptr;
    const NativeHooks* native_ = nullptr;
    size_t nexprs_ = 0, ntests_ = 0; ///< the sizes of native_'s tables (0 without native code)
    const std::vector<uint32_t>* scope_words_ = nullptr;
    /// Per aggregate: its memo entry (the first aggregate alike it), kNoWord for step aggregates.
    std::vector<uint32_t> agg_class_;
    std::vector<AggMemo> memo_;
    uint64_t memo_epoch_ = 0, memo_openings_ = 0;
    /// Per aggregate: whether and how it folds over a session (foldable()).
    std::vector<Foldable> foldable_;
};

static_assert(std::is_standard_layout_v<EvalContext> && std::is_standard_layout_v<StoredEvent>,
              "compiled code reads EvalContext and StoredEvent at offsetof() positions");

/// The value of `field` (or `field_by_type`) of a stored event: kFieldDwell reads the dwell.
ir::Value read_field(const ir::Expr& e, const StoredEvent& ev);
/// Whether expression `id` (kNoExpr: yes) reads nothing but the event it is evaluated on (EventRef::Current)
/// and constants: not its dwell (set later, when the key's next event arrives), no session, other step,
/// aggregate or model; so its value for an event never changes.
bool element_only(const ir::RuleSet& rs, ir::ExprId id);
/// element_only, but the dwell may be read too: then `*dwell` is set.
bool element_or_dwell(const ir::RuleSet& rs, ir::ExprId id, bool* dwell);
/// How scope aggregate `agg` of `rs` folds over a session (ExprEvaluator::foldable; shared with the JIT,
/// whose loops over a long session call the evaluator instead).
ExprEvaluator::Foldable fold_kind(const ir::RuleSet& rs, const ir::Aggregate& agg);
/// The event pattern step `step` names in `ctx`: the candidate when it is that step, else the step's single
/// bound event, else null (its fields read as missing). Shared with the JIT's runtime ABI. A single-event
/// step holds one event; reading a collected step directly is rejected by sema (E0405), so any other count
/// reads as missing.
inline const StoredEvent* step_event(const EvalContext& ctx, uint32_t step) {
    if (step == ctx.candidate_step) return ctx.current;
    return ctx.steps ? ctx.steps->single(step) : nullptr;
}

} // namespace ethogram::interp
