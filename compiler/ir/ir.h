// ir.h: the flat, typed intermediate representation of a compiled rule set (the contract between the
// front end and every executor: the reference interpreter now, the LLVM JIT later).
#pragma once

#include "compiler/ir/value.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::ir {

using ExprId = uint32_t;
constexpr ExprId kNoExpr = UINT32_MAX;
constexpr uint32_t kUnbounded = UINT32_MAX;
constexpr uint16_t kNoField = UINT16_MAX;
/// Pseudo-field slot: the `dwell` of an event (time to the next event of the same key).
constexpr uint16_t kFieldDwell = UINT16_MAX - 1;

/// Where a construct came from, for explanations and debugging.
struct SourceLoc {
    std::string file;
    uint32_t line = 0;
    uint32_t col = 0;
};

// ---------------------------------------------------------------- schemas

struct FieldDef {
    std::string name;
    Type type = Type::Missing;
    bool optional = false;
    std::vector<std::string> enum_values; ///< for Type::Enum: value index -> name
    std::vector<std::string> annotations; ///< e.g. "sensitive" (without '@')
};

struct EventType {
    std::string name;
    std::vector<FieldDef> fields; ///< slot i of Event::fields is fields[i]
    uint16_t key_field = kNoField;
    uint16_t time_field = kNoField;
    uint16_t id_field = kNoField; ///< optional `id` field
};

// ---------------------------------------------------------------- taxonomy

struct TaxonomyNode {
    std::string path; ///< full dotted path, e.g. "intent.purchase.abandonment"
    int32_t parent = -1;
};

// ---------------------------------------------------------------- expressions

enum class ExprKind : uint8_t {
    Const,       ///< `constant`
    Field,       ///< field `field` of the event named by `ref`/`step`
    SessionAttr, ///< session attribute `attr` of the rule's session scope
    Unary,       ///< `op` applied to `a`
    Binary,      ///< `op` applied to `a`, `b` (And/Or short-circuit)
    InList,      ///< `a` in the constants `list` (negated when op == NotIn)
    Call,        ///< builtin scalar function `fn` over `args`
    Aggregate,   ///< value of aggregates[`agg`]
    Model,       ///< model function `mfn` of models[`model`] for the current key (docs/semantics.md 7)
};

enum class Op : uint8_t {
    None,
    // unary
    Not,
    Neg,
    // binary
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    // InList
    In,
    NotIn,
};

/// Which event a Field expression reads.
enum class EventRef : uint8_t {
    Current, ///< the event being evaluated: a step's candidate, an aggregate's element, a threshold's trigger
    Step,    ///< the event bound to pattern step `step` (a single-event step)
};

enum class SessionAttr : uint8_t { Duration, Events, Start, Last };

enum class Builtin : uint8_t { StartsWith, EndsWith, Contains, Lower, Len, Has, Abs };

/// The model functions of the rule language (docs/language.md section 10).
enum class ModelFn : uint8_t {
    Evidence,       ///< int: events the key's model state has observed
    Confident,      ///< bool: evidence >= min_evidence
    Surprise,       ///< float: -log2 P of the latest observed event
    LogLik,         ///< float: mean ln P per observed event
    PredictNext,    ///< string: the `model_arg`-th most probable next symbol (1-based)
    PredictProb,    ///< float: its probability
    NextProb,       ///< float: P(next symbol = `constant`, a string)
    HiddenState,    ///< string: hmm, argmax of the filtered state posterior
    StateProb,      ///< float: hmm, posterior of state `model_arg`
    ClassProb,      ///< float: classifier, posterior of class `model_arg`
    PredictedClass, ///< string: classifier, the most probable class
};

struct Expr {
    ExprKind kind = ExprKind::Const;
    Type type = Type::Missing; ///< result type, checked by sema (Bool for predicates)
    Op op = Op::None;
    EventRef ref = EventRef::Current;
    uint16_t field = kNoField;
    /// Field on an event that may be of several types (alternatives `a: T1 | T2`, `any` aggregates):
    /// the slot per event type index (kNoField where the type lacks it). Empty: `field` for every type.
    std::vector<uint16_t> field_by_type;
    uint32_t step = 0;
    SessionAttr attr = SessionAttr::Duration;
    Builtin fn = Builtin::Has;
    ExprId a = kNoExpr, b = kNoExpr;
    std::vector<ExprId> args; ///< Call
    std::vector<Value> list;  ///< InList
    uint32_t agg = 0;         ///< Aggregate
    Value constant;           ///< Const; Model NextProb: the symbol (a string constant)
    uint32_t model = 0;       ///< Model: index into RuleSet::models
    ModelFn mfn = ModelFn::Evidence;
    uint32_t model_arg = 0; ///< Model: rank (PredictNext/PredictProb, 1-based) or label index (StateProb...)
};

// ---------------------------------------------------------------- aggregates and features

enum class AggKind : uint8_t {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Distinct,
    First,
    Last,
    DwellTime,
    Entropy,
    Backtracks,
    BacktrackRate,
    Transitions,
    Burstiness,
    GapMean,
    GapStd,
    GapMin,
    GapMax,
};

enum class AggSource : uint8_t {
    Scope, ///< events of the threshold rule's scope whose type is in `types` (empty = any)
    Step,  ///< events collected by quantified pattern step `step`
};

/// One aggregate or behavioural feature. Elements are the source's events, in time order, that pass
/// `filter`; `value` (evaluated with EventRef::Current = the element) gives the element's value.
struct Aggregate {
    AggKind kind = AggKind::Count;
    AggSource source = AggSource::Scope;
    uint32_t step = 0;
    std::vector<uint16_t> types;
    ExprId value = kNoExpr;    ///< kNoExpr for Count and gap features
    ExprId filter = kNoExpr;   ///< kNoExpr = every element
    Type type = Type::Missing; ///< result type
};

// ---------------------------------------------------------------- sessions

struct SessionEnd {
    uint16_t type = 0;
    ExprId pred = kNoExpr; ///< over EventRef::Current; kNoExpr = any event of `type`
};

struct Session {
    std::string name;
    int64_t gap_us = 0;
    int64_t max_us = -1;          ///< -1 = no maximum length
    std::vector<uint16_t> types;  ///< member event types; empty = all
    std::vector<SessionEnd> ends; ///< action-based ends
};

// ---------------------------------------------------------------- models

enum class ModelKind : uint8_t { Markov, Hmm, Classifier };
/// "markov", "hmm", "classifier": the spelling of the language and of model file headers.
std::string_view model_kind_name(ModelKind k);
/// The language's name of a model function ("surprise", "class_prob"...).
std::string_view model_fn_name(ModelFn f);

/// An observed (event type, categorical field) pair of a model.
struct ModelSlot {
    uint16_t type = 0;
    uint16_t field = kNoField;
};

/// A model declared in the rule set (`model NAME: KIND { ... }`), verified at compile time. Executors
/// decode `image` (never the file: the file may change after compilation).
struct Model {
    std::string name;
    ModelKind kind = ModelKind::Markov;
    std::string path;                ///< the file as resolved at compile time (for messages)
    std::string hash;                ///< "blake2b:<64 hex>": BLAKE2b-256 of the file's bytes
    std::vector<ModelSlot> observe;  ///< events of these types feed the model the field's value
    int32_t session = -1;            ///< `per session S`: index of S (state resets per session); -1: per key
    uint32_t min_evidence = 1;       ///< below it the model is not confident (rules take their fallback)
    std::vector<std::string> labels; ///< hmm: state names; classifier: class names (model order)
    std::vector<uint8_t> image;      ///< the verified model file, byte for byte
    SourceLoc loc;
};

// ---------------------------------------------------------------- rules

enum class StepKind : uint8_t {
    Positive, ///< binds events
    Negation, ///< between two positive steps: an event matching it kills the partial match
    Absence,  ///< last step: the match completes when `within_us` passes with no such event
};

struct Step {
    StepKind kind = StepKind::Positive;
    std::string alias;
    std::vector<uint16_t> types; ///< alternatives (at least one)
    ExprId pred = kNoExpr;       ///< kNoExpr = true
    std::string pred_text;       ///< the predicate's source text, for --explain
    uint32_t min = 1, max = 1;   ///< quantifier; max == kUnbounded for + and *
    bool strict = false;         ///< the connector before this step is `=>` (strict next)
    int64_t within_us = -1;      ///< Absence: its own bound (-1: use the pattern's `within`)
    bool collected() const { return !(min == 1 && max == 1); }
};

struct Pattern {
    std::vector<Step> steps; ///< in source order, negations included
    int64_t within_us = -1;  ///< -1 = unbounded
};

enum class ScopeKind : uint8_t { Window, LastN, Session };

struct Threshold {
    ScopeKind scope = ScopeKind::Window;
    int64_t window_us = 0;          ///< Window
    uint32_t last_n = 0;            ///< LastN
    uint32_t session = 0;           ///< Session: index into RuleSet::sessions
    std::vector<uint16_t> on_types; ///< trigger types; empty = all
    bool at_session_end = false;
    ExprId cond = kNoExpr;
};

enum class RuleKind : uint8_t { Threshold, Pattern };
enum class Severity : uint8_t { Info, Low, Medium, High, Critical };
std::string_view severity_name(Severity s);
/// The language's spelling of an operator ("and", "==", "not in"...).
std::string_view op_spelling(Op op);
/// The language's name of an aggregate or feature ("count", "gap_max"...).
std::string_view aggregate_name(AggKind k);

struct Emit {
    std::string name;
    ExprId expr = kNoExpr;
};

struct Rule {
    std::string name;
    RuleKind kind = RuleKind::Threshold;
    uint32_t label = 0; ///< index into RuleSet::taxonomy
    Severity severity = Severity::Medium;
    ExprId confidence = kNoExpr; ///< kNoExpr = 1.0
    std::vector<Emit> emits;
    bool keep_all = false;
    int32_t group = -1; ///< exclusive group index, -1 = none
    int32_t priority = 0;
    Pattern pattern;     ///< RuleKind::Pattern
    Threshold threshold; ///< RuleKind::Threshold
    SourceLoc loc;
    std::string hash; ///< content hash of the rule's canonical text (hex)
    /// Models the rule's decision needs (those called in `when` or in step predicates), sorted: the
    /// decision is "model" when each has min_evidence for the key, else "fallback" (docs/semantics.md 7).
    std::vector<uint32_t> gate;
    /// Threshold rules with a gate: `fallback when EXPR` (the condition below the gate); kNoExpr = no
    /// decision.
    ExprId fallback = kNoExpr;
    /// Every model the rule calls (gate, confidence, emits), sorted: their scores explain a detection.
    std::vector<uint32_t> models;
};

struct Group {
    std::string name;
    std::vector<uint32_t> rules; ///< resolved members (rule indices)
};

// ---------------------------------------------------------------- the rule set

struct RuleSet {
    std::string name;
    std::string version;      ///< semantic version, "1.4.0"
    std::string content_hash; ///< BLAKE2b-256 (hex) of every source file, in load order
    std::vector<std::string> sources;
    std::vector<EventType> events;
    std::vector<TaxonomyNode> taxonomy;
    std::vector<Session> sessions;
    std::vector<Rule> rules;
    std::vector<Group> groups;
    std::vector<Expr> exprs;
    std::vector<Aggregate> aggregates;
    std::vector<Model> models;
    std::vector<std::string> strings; ///< string constants: Value::string(id) indexes here; executors
                                      ///< seed their StringPool with these first so ids coincide

    int find_event(std::string_view name) const;
    int find_taxonomy(std::string_view path) const;
    /// True when node `n` is `ancestor` or lies below it.
    bool in_subtree(uint32_t n, uint32_t ancestor) const;
};

} // namespace ethogram::ir

namespace ethogram::ir {
class StringPool;
/// Interns the rule set's string constants into an empty pool so that constant ids equal pool ids.
/// Every executor's pool must be seeded this way before any event is decoded.
void seed_string_pool(const RuleSet& rs, StringPool& pool);
} // namespace ethogram::ir
