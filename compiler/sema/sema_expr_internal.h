// sema_expr_internal.h: the expression lowering visitor, split over sema_expr.cpp and sema_calls.cpp.
#pragma once

#include "compiler/sema/sema_internal.h"

namespace ethogram::sema {

struct ExprLowering {
    Sema& s;

    Typed lower(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* hint);
    Typed constant(ir::Value v, const ir::FieldDef* enum_def);
    bool names_field(const ExprCtx& ctx, const std::string& n) const;
    bool literalish(const ast::Expr& e, const ExprCtx& ctx) const;
    Typed enum_value(const ast::Expr& e, const std::string& v, const ir::FieldDef* def);
    /// Field `f` of an event of one of `types` (empty: any type); `partial_ok` allows types lacking it.
    Typed field(const std::vector<uint16_t>& types, const ast::Ident& f, ir::EventRef ref, uint32_t step,
                const ExprCtx& ctx, const std::string& owner, bool partial_ok);
    Typed name(const ast::Expr& e, ExprCtx& ctx, const ir::FieldDef* hint);
    Typed member(const ast::Expr& e, ExprCtx& ctx);
    Typed session_attr(const ast::Expr& e, ExprCtx& ctx);
    Typed unary(const ast::Expr& e, ExprCtx& ctx);
    Typed binary(const ast::Expr& e, ExprCtx& ctx);
    Typed in_list(const ast::Expr& e, ExprCtx& ctx);
    // sema_calls.cpp
    Typed call(const ast::Expr& e, ExprCtx& ctx);
    Typed scalar_call(const ast::Expr& e, ExprCtx& ctx, ir::Builtin fn);
    Typed aggregate(const ast::Expr& e, ExprCtx& ctx, ir::AggKind kind, bool takes_field);
    // sema_models.cpp
    /// Lowers `e` when it calls a model function (`handled` set); otherwise leaves `handled` false.
    Typed model_call(const ast::Expr& e, ExprCtx& ctx, bool& handled);
};

} // namespace ethogram::sema
