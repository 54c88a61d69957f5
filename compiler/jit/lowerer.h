// lowerer.h: the Lowerer, which turns IR expressions into LLVM IR (private to compiler/jit: lower.cpp
// drives it, lower_values.cpp, lower_ops.cpp and lower_aggregate.cpp hold its parts).
#pragma once

#include "compiler/ir/ir.h"
#include "compiler/jit/lower.h"

#include <llvm/IR/IRBuilder.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::jit::detail {

using ir::ExprKind;
using ir::Op;
using ir::Type;

inline bool is_num(Type t) {
    return t == Type::Int || t == Type::Float;
}

/// Why expression node `e` cannot be lowered (an unknown kind, type, operator or builtin), or empty.
std::string check_node(const ir::RuleSet& rs, const ir::Expr& e);

/// Appends the operands of `e` to `out`.
void children(const ir::Expr& e, std::vector<ir::ExprId>& out);

/// A value during lowering: its static type (the only type it can have besides Missing), whether it is
/// present (i1), and its payload (i1 Bool, double Float, i64 otherwise). Static Missing: always absent.
struct Val {
    Type st = Type::Missing;
    llvm::Value* present = nullptr;
    llvm::Value* payload = nullptr;
};

/// Lowers the expressions of one rule set into functions of one module, with the Missing / three-valued
/// semantics of compiler/interp/expr_eval.cpp and value_ops.cpp, specialised on the operands' static types.
class Lowerer {
public:
    Lowerer(const ir::RuleSet& rs, llvm::Module& m);

    /// int32 fn(const EvalContext*, ExprEvaluator*, Value* out): 0 = done, 1 = bail out to the
    /// interpreter (NativeExprFn).
    void expr_function(ir::ExprId id);

    /// int32 fn(const EvalContext*, ExprEvaluator*): the predicate's reading without a Value (present,
    /// Bool and true: 1, else 0); -1 = bail out to the interpreter (NativeTestFn).
    void test_function(ir::ExprId id);

    /// int32 fn(const EvalContext*, ExprEvaluator*, uint64_t* bits): sets the bits of the step tests that
    /// hold for an event (`current`) of type `type`; 1 = bail out (the caller then ignores the bits).
    void dispatch_function(uint32_t type, const Plan& plan);

    /// The first construct that could not be lowered (empty: none); lower() then fails.
    std::string error;

private:
    /// A function whose first two arguments are the EvalContext and the ExprEvaluator; its bail-out block
    /// returns `bail`. The current event is loaded once: the context does not change during a call.
    llvm::Function* new_function(const std::string& name, std::vector<llvm::Type*> args, int32_t bail);
    void finish();

    llvm::Value* slot() {
        llvm::IRBuilder<> eb(entry_);
        return eb.CreateAlloca(llvm::ArrayType::get(i64_, 2));
    }

    llvm::Value* load_at(llvm::Value* base, size_t offset, llvm::Type* t) {
        return b_.CreateLoad(t, b_.CreateConstGEP1_64(i8_, base, static_cast<int64_t>(offset)));
    }

    llvm::Value* i64c(int64_t v) { return llvm::ConstantInt::get(i64_, static_cast<uint64_t>(v), true); }

    llvm::Value* f64c(double v) { return llvm::ConstantFP::get(f64_, v); }

    static Val missing() { return Val{}; }

    Val present(Type t, llvm::Value* payload) { return Val{t, b_.getTrue(), payload}; }

    /// Loads a Value stored at `p` whose type must be `st` or Missing; any other type bails out.
    Val load_value(llvm::Value* p, Type st);
    void store_value(const Val& v, llvm::Value* out);

    /// A predicate's reading: present, Bool and true.
    llvm::Value* test(const Val& v) {
        if (v.st != Type::Bool) return b_.getFalse();
        return b_.CreateAnd(v.present, v.payload);
    }

    Val lower(ir::ExprId id);
    Val constant(const ir::Value& v);
    Val field(const ir::Expr& e);
    /// The event `e` (a Field reading another pattern step) reads, as interp::step_event finds it: the
    /// candidate when the context's candidate step is that step, else the step's single bound event of the
    /// context's match, else null. Inline when the event's index in a match is fixed (step_at_), else a
    /// runtime call.
    llvm::Value* step_event(const ir::Expr& e);
    /// Fills step_at_ from the rules' patterns and the expressions each rule reads.
    void map_step_reads();
    /// Session attribute `e` of the context's session, read at fixed offsets of its SessionState (missing
    /// without a session or while it is closed), as ExprEvaluator::session_attr computes it.
    Val session_attr(const ir::Expr& e);

    /// Field `e` of the StoredEvent at `ev` (null: missing), read at fixed offsets as read_field does:
    /// the fields follow the StoredEvent in its allocation; the dwell is `has_dwell` + `dwell_us`.
    Val event_field(llvm::Value* ev, const ir::Expr& e);

    // lower_aggregate.cpp: aggregates over a threshold scope as loops.

    /// Whether `id` reads, besides constants, only the event it is evaluated on: then an aggregate's
    /// filter or value can be lowered inline with that event as `current` (no other step's event, whose
    /// lookup depends on the context's candidate step; no nested aggregate or model).
    bool reads_element(ir::ExprId id) const;

    /// The result type of aggregate `agg` compiled as a loop (aggregate_loop), Missing when it is not:
    /// count, and sum / avg / min / max of a value whose static type fixes the result's type the way
    /// eval_aggregate (compiler/interp/aggregates.cpp) would compute it.
    Type loop_type(const ir::Aggregate& agg) const;

    /// A variable of the generated function (an alloca in the entry block; promoted to a register).
    llvm::Value* var(llvm::Type* t) {
        llvm::IRBuilder<> eb(entry_);
        return eb.CreateAlloca(t);
    }

    /// Aggregate `e` over the threshold scope as a loop in the generated code (false: not compiled, the
    /// runtime's eval_aggregate evaluates it). eval_aggregate's semantics: a kept count or fresh kept float
    /// sum (ScopeGroup::kept) is read from the scope's words; a float sum otherwise (the exact sum rounded
    /// once, interp/exact_sum.h) is the runtime's, and so is every avg; otherwise the ring is walked oldest
    /// first, each element of the right type that passes the filter (read as a predicate) contributing its
    /// value when present. A value of another type than its static one bails out (the interpreter then
    /// evaluates the whole expression; nothing was written yet).
    bool aggregate_loop(const ir::Expr& e, Val& out);

    // lower_ops.cpp: operators, comparisons and builtins.

    Val unary(const ir::Expr& e);
    Val binary(const ir::Expr& e);
    llvm::Value* to_double(const Val& v);

    /// values_equal(a, b) for two present values of static types a.st, b.st.
    llvm::Value* equal(const Val& a, const Val& b);
    llvm::Value* compare(Op op, const Val& a, const Val& b);
    llvm::Value* int_cmp(Op op, llvm::Value* x, llvm::Value* y, bool is_signed);

    /// A value present when `present` and `ok` (ok = false is a missing result, e.g. division by zero).
    Val result(Type t, llvm::Value* present, llvm::Value* ok, llvm::Value* payload);

    /// Integer division / modulo with the interpreter's rules (b == 0 missing, b == -1 wraps / is 0).
    /// The divisor is replaced by 1 where the result is unused, so the division itself never traps.
    llvm::Value* int_divmod(bool div, llvm::Value* x, llvm::Value* y);

    /// micros(t, us): nearest µs, missing when not finite or out of range.
    Val micros(Type t, llvm::Value* present, llvm::Value* us);
    Val arithmetic(Op op, const Val& a, const Val& b);
    Val duration_by_number(Op op, const Val& d, const Val& n, llvm::Value* both);
    Val in_list(const ir::Expr& e);
    Val call(const ir::Expr& e);

    const ir::RuleSet& rs_;
    llvm::Module& m_;
    llvm::LLVMContext& c_;
    llvm::IRBuilder<> b_;
    llvm::Type *void_, *i1_, *i8_, *i32_, *i64_, *f64_;
    llvm::PointerType* ptr_;
    llvm::Function *rt_step_event_, *rt_aggregate_, *rt_str_cmp_, *rt_str_pred_, *rt_lower_, *rt_len_,
        *rt_llround_;
    llvm::Function* fn_ = nullptr;
    llvm::Value *ctx_ = nullptr, *eval_ = nullptr, *cur_ = nullptr;
    llvm::BasicBlock *entry_ = nullptr, *bail_ = nullptr, *body_ = nullptr;
    uint32_t candidate_step_ = UINT32_MAX;
    /// Per expression: for a Field reading another pattern step whose event, once bound, is always at the
    /// same index of a match's flat array (PartialMatch::events: the step binds one event and every
    /// positive step before it binds exactly one, so that it cannot be skipped either), that index; -1 for
    /// any other expression (and for one read by rules that disagree).
    std::vector<int32_t> step_at_;
};

} // namespace ethogram::jit::detail
