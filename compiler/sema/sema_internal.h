// sema_internal.h: the checker's shared state and helpers (private to compiler/sema).
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/ir.h"

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace ethogram::sema {

/// A pattern alias as seen by expressions.
struct AliasInfo {
    uint32_t step = 0;
    bool negated = false;
    bool collected = false;
    std::vector<uint16_t> types;
};

enum class CtxKind : uint8_t { SessionEnd, Threshold, Step, PatternOutput };

/// What names mean where an expression is checked.
struct ExprCtx {
    CtxKind kind = CtxKind::Threshold;
    /// The "current" event (EventRef::Current): its possible types and the name that denotes it.
    bool has_current = false;
    std::vector<uint16_t> current_types; ///< empty with has_current: any type
    std::string current_name;            ///< alias or type name that refers to the current event
    bool bare_fields = false;            ///< bare identifiers may be fields of the current event
    // Patterns.
    const std::map<std::string, AliasInfo>* aliases = nullptr;
    uint32_t bound_before = 0; ///< steps with index < bound_before are bound
    std::string own_negated;   ///< a negated step's own alias (usable in its own predicate only)
    // Thresholds.
    std::vector<uint16_t> on_types;
    bool session_scope = false;
    bool aggregates_allowed = false;
    bool in_aggregate = false;
    /// Models: where model calls are collected (null: model calls are not allowed here).
    std::vector<uint32_t>* models_seen = nullptr;
};

/// A checked expression: its IR id, result type and, for enum-typed values, the field defining the enum.
struct Typed {
    ir::ExprId id = ir::kNoExpr;
    ir::Type type = ir::Type::Missing;
    const ir::FieldDef* enum_def = nullptr;
    bool ok = false;
};

struct Sema {
    explicit Sema(compiler::DiagnosticEngine& d) : diags(d) {}

    compiler::DiagnosticEngine& diags;
    ir::RuleSet rs;
    std::unordered_map<std::string, uint16_t> event_index;
    std::vector<ast::Span> event_spans;
    std::unordered_map<std::string, ast::Span> taxonomy_spans;
    std::unordered_map<std::string, uint32_t> session_index;
    std::unordered_map<std::string, uint32_t> rule_index;
    std::vector<ast::Span> rule_spans;
    std::unordered_map<std::string, uint32_t> string_ids;
    std::unordered_map<std::string, uint32_t> model_index;
    std::vector<ast::Span> model_spans;

    // sema_decls.cpp
    void declare_event(const ast::EventDecl& e);
    void declare_taxonomy(const ast::TaxonomyDecl& t);
    void declare_session(const ast::SessionDecl& s);
    /// E0613: an `over session` rule's `on` type `type` (event index `idx`) must be a member of `s`.
    void check_session_member(const ir::Session& s, const ast::Ident& type, int idx);
    void declare_group(const ast::ExclusiveDecl& g, std::vector<ast::Span>& group_spans);

    // sema_models.cpp
    void declare_model(const ast::ModelDecl& m);

    // sema_rules.cpp
    void declare_rule(const ast::RuleDecl& r);

    // sema_expr.cpp
    Typed lower(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* enum_hint = nullptr);
    /// Lowers a condition, reporting E0502 when it is not bool.
    Typed lower_bool(const ast::Expr& e, ExprCtx& ctx, const char* what);

    // helpers
    ir::ExprId add(ir::Expr e);
    uint32_t intern(const std::string& s);
    int64_t duration(const ast::DurationLit& d, const char* what, bool allow_zero = false);
    std::vector<std::string> event_names() const;
    int find_event(const ast::Ident& name, bool report = true);
    std::vector<std::string> taxonomy_paths() const;
    /// Slot of `field` in event type `type`, kNoField if absent.
    uint16_t field_slot(uint16_t type, const std::string& field) const;
};

/// Source text of a span.
std::string span_text(const compiler::DiagnosticEngine& d, const ast::Span& s);

} // namespace ethogram::sema
