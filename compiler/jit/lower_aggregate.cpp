// lower_aggregate.cpp: count / sum / avg / min / max over a threshold scope as loops in generated code,
// with the semantics of eval_aggregate (compiler/interp/aggregates.cpp); over a long session, the
// evaluator's fold.
#include "compiler/jit/lowerer.h"

#include "compiler/interp/expr_eval.h"
#include "compiler/interp/state.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>

#include <cstddef>
#include <type_traits>

namespace ethogram::jit::detail {

// aggregate_loop reads a scope as one pointer to its Ring::Head and each slot as the StoredEvent pointer.
static_assert(sizeof(interp::EventBuffer) == sizeof(void*) && std::is_standard_layout_v<interp::EventBuffer>);
static_assert(sizeof(interp::EventPtr) == sizeof(void*) && std::is_standard_layout_v<interp::EventPtr>);

bool Lowerer::reads_element(ir::ExprId id) const {
    if (id == ir::kNoExpr) return true;
    if (id >= rs_.exprs.size()) return false;
    const ir::Expr& e = rs_.exprs[id];
    if (e.kind == ExprKind::Aggregate || e.kind == ExprKind::Model) return false;
    if (e.kind == ExprKind::Field && e.ref != ir::EventRef::Current) return false;
    std::vector<ir::ExprId> kids;
    children(e, kids);
    for (ir::ExprId k : kids)
        if (!reads_element(k)) return false;
    return true;
}

Type Lowerer::loop_type(const ir::Aggregate& agg) const {
    if (agg.source != ir::AggSource::Scope) return Type::Missing;
    if (agg.kind == ir::AggKind::Count) return Type::Int;
    if (agg.value == ir::kNoExpr || agg.value >= rs_.exprs.size()) return Type::Missing;
    const Type vt = rs_.exprs[agg.value].type;
    const bool number = vt == Type::Int || vt == Type::Float;
    const bool time = vt == Type::Duration || vt == Type::Timestamp;
    switch (agg.kind) {
    case ir::AggKind::Sum:
        // A float sum adds every value as a double; an int or duration sum keeps the values' type.
        if (agg.type == Type::Float && (number || time)) return Type::Float;
        if ((agg.type == Type::Int || agg.type == Type::Duration) && vt == agg.type) return vt;
        return Type::Missing;
    case ir::AggKind::Avg: return number ? Type::Float : time ? vt : Type::Missing;
    case ir::AggKind::Min:
    case ir::AggKind::Max: return number || time || vt == Type::Enum ? vt : Type::Missing;
    default: return Type::Missing;
    }
}

bool Lowerer::aggregate_loop(const ir::Expr& e, Val& out) {
    const ir::Aggregate& agg = rs_.aggregates[e.agg];
    const Type rt = loop_type(agg);
    if (rt == Type::Missing || rt != e.type || !reads_element(agg.filter) || !reads_element(agg.value))
        return false;
    using Buf = interp::EventBuffer;
    using SE = interp::StoredEvent;
    const ir::AggKind kind = agg.kind;
    const bool is_count = kind == ir::AggKind::Count, is_sum = kind == ir::AggKind::Sum;
    // avg and a float sum are exact sums rounded once (interp/exact_sum.h): avg is the evaluator's; a
    // float sum is read from its kept words when its scope keeps it, else the evaluator's.
    if (kind == ir::AggKind::Avg) return false;
    const bool exact_sum = is_sum && rt == Type::Float;
    const bool float_acc = (kind == ir::AggKind::Min || kind == ir::AggKind::Max) && rt == Type::Float;
    llvm::Type* acc_t = float_acc ? static_cast<llvm::Type*>(f64_) : i64_;
    llvm::BasicBlock* done = llvm::BasicBlock::Create(c_, "agg.done", fn_);
    llvm::BasicBlock* scan = llvm::BasicBlock::Create(c_, "agg.scan", fn_);
    // The result, from whichever path reaches `done`.
    llvm::Value* res_present = var(i1_);
    llvm::Type* res_t = rt == Type::Float ? static_cast<llvm::Type*>(f64_) : i64_;
    llvm::Value* res_payload = var(res_t);
    // The result from the runtime's evaluator (etho_rt_aggregate), then on to `done`.
    auto from_runtime = [&] {
        llvm::Value* s = slot();
        b_.CreateCall(rt_aggregate_, {ctx_, eval_, b_.getInt32(e.agg), s});
        const Val v = load_value(s, e.type);
        b_.CreateStore(v.present, res_present);
        b_.CreateStore(v.payload, res_payload);
        b_.CreateBr(done);
    };

    if (is_count || exact_sum) {
        // A kept aggregate (ScopeGroup::kept): its word(s) in the ring, when the scope keeps it.
        llvm::BasicBlock* not_kept = exact_sum ? llvm::BasicBlock::Create(c_, "agg.exact", fn_) : scan;
        llvm::Value* counts = load_at(ctx_, offsetof(interp::EvalContext, scope_counts), ptr_);
        llvm::Value* table = load_at(ctx_, offsetof(interp::EvalContext, scope_words), ptr_);
        llvm::BasicBlock* lookup = llvm::BasicBlock::Create(c_, "agg.lookup", fn_);
        llvm::BasicBlock* has_word = llvm::BasicBlock::Create(c_, "agg.kept", fn_);
        b_.CreateCondBr(b_.CreateAnd(b_.CreateIsNotNull(counts), b_.CreateIsNotNull(table)), lookup,
                        not_kept);
        b_.SetInsertPoint(lookup);
        llvm::Value* w = b_.CreateLoad(i32_, b_.CreateConstGEP1_64(i32_, table, e.agg));
        b_.CreateCondBr(b_.CreateICmpNE(w, b_.getInt32(interp::ExprEvaluator::kNoWord)), has_word, not_kept);
        b_.SetInsertPoint(has_word);
        llvm::Value* wp = b_.CreateGEP(i64_, counts, b_.CreateZExt(w, i64_));
        llvm::Value* word = b_.CreateLoad(i64_, wp);
        if (is_count) {
            b_.CreateStore(b_.getTrue(), res_present);
            b_.CreateStore(word, res_payload);
            b_.CreateBr(done);
        } else {
            // A kept float sum: its bits (exact_sum.h kept_sum), unless marked stale.
            llvm::Value* stale = b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i64_, wp, 1));
            llvm::BasicBlock* fresh = llvm::BasicBlock::Create(c_, "agg.fresh", fn_);
            b_.CreateCondBr(b_.CreateICmpEQ(stale, i64c(0)), fresh, not_kept);
            b_.SetInsertPoint(fresh);
            b_.CreateStore(b_.getTrue(), res_present);
            b_.CreateStore(b_.CreateBitCast(word, f64_), res_payload);
            b_.CreateBr(done);
            // Otherwise the evaluator: a float sum is exact, rounded once (interp/exact_sum.h), which a
            // loop of additions is not; a stale kept sum is rescanned there and kept again.
            b_.SetInsertPoint(not_kept);
            from_runtime();
            scan->eraseFromParent();
            b_.SetInsertPoint(done);
            out = Val{rt, b_.CreateLoad(i1_, res_present), b_.CreateLoad(res_t, res_payload)};
            return true;
        }
    } else {
        b_.CreateBr(scan);
    }

    // The scan: accumulators, then the ring (ctx->scope, one pointer to its Head; null: no elements) from
    // ctx->scope_from on.
    b_.SetInsertPoint(scan);
    llvm::Value* n = var(i64_);    // elements with a present value (count: elements)
    llvm::Value* acc = var(acc_t); // sum, or min / max so far
    b_.CreateStore(i64c(0), n);
    b_.CreateStore(float_acc ? f64c(0.0) : i64c(0), acc);
    llvm::BasicBlock* after = llvm::BasicBlock::Create(c_, "agg.after", fn_);
    llvm::BasicBlock* has_scope = llvm::BasicBlock::Create(c_, "agg.scope", fn_);
    llvm::BasicBlock* has_ring = llvm::BasicBlock::Create(c_, "agg.ring", fn_);
    llvm::Value* scope = load_at(ctx_, offsetof(interp::EvalContext, scope), ptr_);
    b_.CreateCondBr(b_.CreateIsNotNull(scope), has_scope, after);
    b_.SetInsertPoint(has_scope);
    llvm::Value* head_p = b_.CreateLoad(ptr_, scope);
    b_.CreateCondBr(b_.CreateIsNotNull(head_p), has_ring, after);
    b_.SetInsertPoint(has_ring);
    llvm::Value* cap = load_at(head_p, offsetof(Buf::Head, cap), i32_);
    llvm::Value* head = load_at(head_p, offsetof(Buf::Head, head), i32_);
    llvm::Value* size = load_at(head_p, offsetof(Buf::Head, size), i32_);
    llvm::Value* words = b_.CreateZExt(load_at(head_p, offsetof(Buf::Head, words), i32_), i64_);
    llvm::Value* slots = b_.CreateGEP(i64_, b_.CreateConstGEP1_64(i8_, head_p, sizeof(Buf::Head)), words);
    llvm::Value* mask = b_.CreateSub(cap, b_.getInt32(1));
    // A nested window's view starts at ctx->scope_from (0 for a whole ring).
    llvm::Value* from = load_at(ctx_, offsetof(interp::EvalContext, scope_from), i32_);
    if (interp::fold_kind(rs_, agg) != interp::ExprEvaluator::Foldable::No) {
        // A long session (the whole of its events, at least kFoldFrom) goes to the evaluator, which
        // continues its fold from the last evaluation (interp/aggregate_fold.cpp): a loop over the whole
        // session on every event made a long session quadratic. The same value either way.
        using interp::SessionState;
        llvm::BasicBlock* check = llvm::BasicBlock::Create(c_, "agg.session", fn_);
        llvm::BasicBlock* fold = llvm::BasicBlock::Create(c_, "agg.fold", fn_);
        llvm::BasicBlock* inline_loop = llvm::BasicBlock::Create(c_, "agg.inline", fn_);
        llvm::Value* long_view = b_.CreateAnd(
            b_.CreateICmpUGE(size, b_.getInt32(static_cast<uint32_t>(interp::ExprEvaluator::kFoldFrom))),
            b_.CreateICmpEQ(from, b_.getInt32(0)));
        llvm::Value* session = load_at(ctx_, offsetof(interp::EvalContext, session), ptr_);
        b_.CreateCondBr(b_.CreateAnd(long_view, b_.CreateIsNotNull(session)), check, inline_loop);
        b_.SetInsertPoint(check);
        llvm::Value* events = b_.CreateConstGEP1_64(i8_, session, offsetof(SessionState, events));
        b_.CreateCondBr(b_.CreateICmpEQ(scope, events), fold, inline_loop);
        b_.SetInsertPoint(fold);
        from_runtime();
        b_.SetInsertPoint(inline_loop);
    }
    llvm::BasicBlock* entry = b_.GetInsertBlock();
    llvm::BasicBlock* loop = llvm::BasicBlock::Create(c_, "agg.loop", fn_);
    llvm::BasicBlock* body = llvm::BasicBlock::Create(c_, "agg.body", fn_);
    llvm::BasicBlock* next = llvm::BasicBlock::Create(c_, "agg.next", fn_);
    b_.CreateBr(loop);
    b_.SetInsertPoint(loop);
    llvm::PHINode* i = b_.CreatePHI(i32_, 2);
    i->addIncoming(from, entry);
    b_.CreateCondBr(b_.CreateICmpULT(i, size), body, after);
    b_.SetInsertPoint(body);
    llvm::Value* idx = b_.CreateZExt(b_.CreateAnd(b_.CreateAdd(head, i), mask), i64_);
    llvm::Value* se = b_.CreateLoad(ptr_, b_.CreateGEP(ptr_, slots, idx)); // EventPtr: one pointer
    if (!agg.types.empty()) {
        llvm::Value* t = load_at(se, offsetof(SE, ev) + offsetof(SE::Ev, type), b_.getInt16Ty());
        llvm::Value* ok = b_.getFalse();
        for (uint16_t x : agg.types) ok = b_.CreateOr(ok, b_.CreateICmpEQ(t, b_.getInt16(x)));
        llvm::BasicBlock* typed = llvm::BasicBlock::Create(c_, "agg.typed", fn_);
        b_.CreateCondBr(ok, typed, next);
        b_.SetInsertPoint(typed);
    }
    // The filter and value read the element as `current` (is_element / values_of).
    llvm::Value* outer = cur_;
    const uint32_t outer_step = candidate_step_;
    cur_ = se;
    candidate_step_ = UINT32_MAX;
    if (agg.filter != ir::kNoExpr) {
        llvm::BasicBlock* passed = llvm::BasicBlock::Create(c_, "agg.passed", fn_);
        b_.CreateCondBr(test(lower(agg.filter)), passed, next);
        b_.SetInsertPoint(passed);
    }
    llvm::Value* count = b_.CreateLoad(i64_, n);
    if (is_count) {
        b_.CreateStore(b_.CreateAdd(count, i64c(1)), n);
    } else {
        const Val v = lower(agg.value);
        llvm::BasicBlock* add = llvm::BasicBlock::Create(c_, "agg.value", fn_);
        b_.CreateCondBr(v.present, add, next);
        b_.SetInsertPoint(add);
        b_.CreateStore(b_.CreateAdd(count, i64c(1)), n);
        llvm::Value* a = b_.CreateLoad(acc_t, acc);
        llvm::Value* x = float_acc ? to_double(v) : v.payload;
        llvm::Value* next_acc = nullptr;
        if (is_sum) {
            next_acc = b_.CreateAdd(a, x); // an int or duration sum (ints wrap, as apply_arithmetic's)
        } else {
            // min / max: the first value, then a strictly smaller (larger) one; NaN never compares.
            const bool want_max = kind == ir::AggKind::Max;
            llvm::Value* better = float_acc ? (want_max ? b_.CreateFCmpOGT(x, a) : b_.CreateFCmpOLT(x, a))
                                            : (want_max ? b_.CreateICmpSGT(x, a) : b_.CreateICmpSLT(x, a));
            next_acc = b_.CreateSelect(b_.CreateOr(b_.CreateICmpEQ(count, i64c(0)), better), x, a);
        }
        b_.CreateStore(next_acc, acc);
    }
    b_.CreateBr(next);
    cur_ = outer;
    candidate_step_ = outer_step;
    b_.SetInsertPoint(next);
    llvm::Value* i_next = b_.CreateAdd(i, b_.getInt32(1));
    i->addIncoming(i_next, next);
    b_.CreateBr(loop);

    // The result from the accumulators.
    b_.SetInsertPoint(after);
    llvm::Value* total = b_.CreateLoad(i64_, n);
    llvm::Value* a = b_.CreateLoad(acc_t, acc);
    llvm::Value* present = b_.getTrue();
    llvm::Value* payload = a;
    if (is_count) {
        payload = total;
    } else if (!is_sum) {
        present = b_.CreateICmpNE(total, i64c(0)); // min / max of no values: missing
    }
    b_.CreateStore(present, res_present);
    b_.CreateStore(payload, res_payload);
    b_.CreateBr(done);

    b_.SetInsertPoint(done);
    out = Val{rt, b_.CreateLoad(i1_, res_present), b_.CreateLoad(res_t, res_payload)};
    return true;
}

} // namespace ethogram::jit::detail
