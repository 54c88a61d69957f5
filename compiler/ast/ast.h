// ast.h: the plain abstract syntax tree of one rule file (ANTLR-free; built by compiler/parse).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ethogram::ast {

/// A source range: file id (DiagnosticEngine's source manager), 1-based line/col of the first character,
/// length in characters on that line, and byte offsets [begin, end) into the file text.
struct Span {
    uint32_t file = 0;
    uint32_t line = 0;
    uint32_t col = 0;
    uint32_t length = 0;
    uint32_t begin = 0;
    uint32_t end = 0;
};

/// A name with where it was written.
struct Ident {
    std::string text;
    Span span;
};

// ---------------------------------------------------------------- expressions

enum class ExprKind : uint8_t {
    Int,
    Float,
    String,
    Duration,
    Bool,     ///< literals
    Name,     ///< a bare identifier: field, alias, event type, enum value, `any`
    Member,   ///< `name.member`
    Call,     ///< `name(args)`
    Filtered, ///< an aggregate argument `value where pred` (children[0], children[1])
    Unary,    ///< `op` children[0]: "-" or "not"
    Binary,   ///< children[0] `op` children[1]
    InList,   ///< children[0] (not) in [children[1..]]
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind = ExprKind::Int;
    Span span;
    std::string op;        ///< Unary/Binary operator as written; InList: "in" or "not in"
    Ident name;            ///< Name, Member (the object), Call (the function)
    Ident member;          ///< Member: the field after the dot
    int64_t int_value = 0; ///< Int; Duration in microseconds; Bool as 0/1
    double float_value = 0;
    std::string str_value; ///< String (unescaped)
    std::vector<ExprPtr> children;
};

// ---------------------------------------------------------------- declarations

struct Field {
    Ident name;
    std::vector<Ident> annotations; ///< without '@'
    std::string modifier;           ///< "", "key", "time" or "id"
    Span modifier_span;
    Ident type; ///< "string", "int", ... or "enum"
    std::vector<Ident> enum_values;
    bool optional = false;
    Span span;
};

struct EventDecl {
    Ident name;
    std::vector<Field> fields;
    Span span;
};

struct TaxNode {
    Ident name;
    std::vector<TaxNode> children;
};

struct TaxonomyDecl {
    std::vector<Ident> base; ///< `taxonomy a.b { ... }`: extended node path (empty: the root)
    Span base_span;
    std::vector<TaxNode> nodes;
    Span span;
};

/// A duration as written: value in microseconds; `has_unit` false for a bare number.
struct DurationLit {
    int64_t us = 0;
    bool has_unit = true;
    Span span;
};

struct SessionEnd {
    Ident type;
    ExprPtr pred;
};

struct SessionDecl {
    Ident name;
    std::vector<DurationLit> gaps;
    std::vector<DurationLit> maxes;
    std::vector<SessionEnd> ends;
    std::vector<Ident> events;
    bool has_events = false;
    Span span;
};

enum class ScopeKind : uint8_t { None, Session, Window, LastN };

struct Scope {
    ScopeKind kind = ScopeKind::None;
    Ident session;
    DurationLit window;
    int64_t last_n = 0;
    Span span;
};

struct Step {
    bool negated = false;
    Ident alias;
    std::vector<Ident> types;
    bool has_quant = false;
    uint32_t min = 1, max = 1; ///< max == UINT32_MAX: unbounded
    Span quant_span;
    ExprPtr pred;
    bool has_within = false;
    DurationLit within;
    bool strict = false; ///< connector before this step is `=>`
    Span span;
};

struct Emit {
    Ident name;
    ExprPtr value;
};

/// `fallback when EXPR;` or `fallback none;` (then `when` is null).
struct Fallback {
    ExprPtr when;
    Span span;
};

/// `model NAME: KIND { path "..."; hash "..."; observe T.f, ...; per session S; min_evidence N;
/// states a, b; }`. Clauses may repeat in the source (sema reports it), so each is kept with its span.
struct ModelDecl {
    Ident name;
    Ident kind;                                    ///< "markov", "hmm", "classifier" (checked by sema)
    std::vector<Ident> paths;                      ///< text = the unescaped path, span = the string
    std::vector<Ident> hashes;                     ///< text = the unescaped hash, span = the string
    std::vector<std::pair<Ident, Ident>> observes; ///< (event type, field)
    int observe_clauses = 0;
    std::vector<Ident> per_sessions;
    std::vector<std::pair<int64_t, Span>> min_evidences;
    std::vector<std::vector<Ident>> states; ///< one list per `states` clause
    std::vector<Span> states_spans;
    Span span;
};

/// One rule; clauses may repeat in the source (sema reports duplicates), so each is kept with its span.
struct RuleDecl {
    Ident name;
    std::vector<Ident> labels; ///< dotted path, one entry per `label` clause (text = full path)
    std::vector<Ident> severities;
    std::vector<ExprPtr> confidences;
    std::vector<Scope> scopes;
    std::vector<Ident> on_types;
    bool has_on = false;
    bool at_session_end = false;
    Span at_end_span;
    std::vector<ExprPtr> whens;
    bool has_pattern = false;
    int pattern_count = 0;
    std::vector<Step> steps;
    bool has_pattern_within = false;
    int pattern_within_count = 0; ///< `pattern ... within D` plus `within D;` clauses
    DurationLit pattern_within;
    Span pattern_span;
    bool keep_all = false;
    std::vector<Emit> emits;
    std::vector<Fallback> fallbacks;
    Span span;
};

struct GroupMember {
    bool is_label = false;
    Ident name; ///< rule name, or the label path
    int64_t priority = 0;
};

struct ExclusiveDecl {
    Ident name;
    std::vector<GroupMember> members;
    Span span;
};

struct Header {
    Ident name;
    Ident version;
    bool version_is_semver = false;
    Span span;
};

struct Import {
    std::string path;
    Span span;
};

/// One parsed file, declarations in source order per kind.
struct File {
    uint32_t id = 0;
    std::vector<Header> headers;
    std::vector<Import> imports;
    std::vector<EventDecl> events;
    std::vector<TaxonomyDecl> taxonomies;
    std::vector<SessionDecl> sessions;
    std::vector<RuleDecl> rules;
    std::vector<ExclusiveDecl> groups;
    std::vector<ModelDecl> models;
};

/// Stable, indented, human-readable dump of a file's AST (`--dump-ast`).
std::string dump(const File& f);

} // namespace ethogram::ast
