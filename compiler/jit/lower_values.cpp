// lower_values.cpp: the Lowerer's functions (expression, test, dispatch), values and event fields.
#include "compiler/jit/lowerer.h"

#include "compiler/interp/expr_eval.h"
#include "compiler/interp/state.h"
#include "compiler/jit/runtime_abi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace ethogram::jit::detail {

// session_attr reads a SessionState at offsetof() positions.
static_assert(std::is_standard_layout_v<interp::SessionState>);

Lowerer::Lowerer(const ir::RuleSet& rs, llvm::Module& m) : rs_(rs), m_(m), c_(m.getContext()), b_(c_) {
    i1_ = llvm::Type::getInt1Ty(c_);
    i8_ = llvm::Type::getInt8Ty(c_);
    i32_ = llvm::Type::getInt32Ty(c_);
    i64_ = llvm::Type::getInt64Ty(c_);
    f64_ = llvm::Type::getDoubleTy(c_);
    ptr_ = llvm::PointerType::getUnqual(c_);
    auto decl = [&](const char* name, llvm::Type* ret, std::vector<llvm::Type*> args) {
        auto* fn = llvm::Function::Create(llvm::FunctionType::get(ret, args, false),
                                          llvm::Function::ExternalLinkage, name, m_);
        fn->setDoesNotThrow();
        return fn;
    };
    void_ = llvm::Type::getVoidTy(c_);
    rt_step_event_ = decl(kAbiStepEvent, ptr_, {ptr_, i32_});
    rt_aggregate_ = decl(kAbiAggregate, void_, {ptr_, ptr_, i32_, ptr_});
    rt_str_cmp_ = decl(kAbiStrCmp, i32_, {ptr_, i64_, i64_});
    rt_str_pred_ = decl(kAbiStrPred, i32_, {ptr_, i32_, i64_, i64_});
    rt_lower_ = decl(kAbiLower, i64_, {ptr_, i64_});
    rt_len_ = decl(kAbiLen, i64_, {ptr_, i64_});
    rt_llround_ = decl(kAbiLlround, i64_, {f64_});
    for (llvm::Function* f : {rt_step_event_, rt_str_cmp_, rt_str_pred_, rt_lower_, rt_len_, rt_llround_})
        f->setOnlyReadsMemory(); // pure as far as the generated code can tell (lower() interns)
    map_step_reads();
}

void Lowerer::map_step_reads() {
    constexpr int32_t kUnset = -2;
    step_at_.assign(rs_.exprs.size(), kUnset);
    std::vector<ir::ExprId> stack;
    std::vector<int32_t> at;
    for (const ir::Rule& r : rs_.rules) {
        if (r.kind != ir::RuleKind::Pattern) continue;
        const std::vector<ir::Step>& steps = r.pattern.steps;
        // A match binds the positive steps in order; a step of exactly one event before `s` cannot be
        // skipped (the candidate order passes only minimum-0 steps) and holds one event once passed.
        at.assign(steps.size(), -1);
        int32_t k = 0;
        bool fixed = true;
        for (uint32_t s = 0; s < steps.size(); ++s) {
            if (steps[s].kind != ir::StepKind::Positive) continue;
            if (fixed && !steps[s].collected()) at[s] = k;
            fixed = fixed && !steps[s].collected();
            ++k;
        }
        stack.clear();
        auto push = [&](ir::ExprId id) {
            if (id != ir::kNoExpr) stack.push_back(id);
        };
        push(r.confidence);
        for (const ir::Emit& em : r.emits) push(em.expr);
        for (const ir::Step& st : steps) push(st.pred);
        while (!stack.empty()) {
            const ir::ExprId id = stack.back();
            stack.pop_back();
            if (id >= rs_.exprs.size()) continue;
            const ir::Expr& e = rs_.exprs[id];
            if (e.kind == ir::ExprKind::Field && e.ref == ir::EventRef::Step) {
                const int32_t v = e.step < at.size() ? at[e.step] : -1;
                step_at_[id] = step_at_[id] == kUnset || step_at_[id] == v ? v : -1;
            }
            if (e.kind == ir::ExprKind::Aggregate && e.agg < rs_.aggregates.size()) {
                push(rs_.aggregates[e.agg].value);
                push(rs_.aggregates[e.agg].filter);
            }
            children(e, stack);
        }
    }
    for (int32_t& v : step_at_)
        if (v == kUnset) v = -1;
}

void Lowerer::expr_function(ir::ExprId id) {
    llvm::Function* fn = new_function(expr_symbol(id), {ptr_, ptr_, ptr_}, 1);
    llvm::Value* out = fn->getArg(2);
    candidate_step_ = UINT32_MAX;
    Val v = lower(id);
    store_value(v, out);
    b_.CreateRet(b_.getInt32(0));
    finish();
}

void Lowerer::test_function(ir::ExprId id) {
    new_function(test_symbol(id), {ptr_, ptr_}, -1);
    candidate_step_ = UINT32_MAX;
    llvm::Value* holds = test(lower(id));
    b_.CreateRet(b_.CreateZExt(holds, i32_));
    finish();
}

void Lowerer::dispatch_function(uint32_t type, const Plan& plan) {
    llvm::Function* fn = new_function(dispatch_symbol(type), {ptr_, ptr_, ptr_}, 1);
    llvm::Value* bits = fn->getArg(2);
    for (uint32_t bit = 0; bit < plan.bits.size(); ++bit) {
        auto [rule, step] = plan.bits[bit];
        const ir::Step& s = rs_.rules[rule].pattern.steps[step];
        if (!s.types.empty() && std::find(s.types.begin(), s.types.end(), type) == s.types.end()) continue;
        candidate_step_ = step;
        llvm::Value* holds = s.pred == ir::kNoExpr ? b_.getTrue() : test(lower(s.pred));
        llvm::Value* word = b_.CreateConstGEP1_64(i64_, bits, bit >> 6);
        llvm::Value* old = b_.CreateLoad(i64_, word);
        llvm::Value* mask = b_.CreateShl(b_.CreateZExt(holds, i64_), bit & 63);
        b_.CreateStore(b_.CreateOr(old, mask), word);
    }
    b_.CreateRet(b_.getInt32(0));
    finish();
}

llvm::Function* Lowerer::new_function(const std::string& name, std::vector<llvm::Type*> args, int32_t bail) {
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(i32_, args, false),
                                      llvm::Function::ExternalLinkage, name, m_);
    fn->setDoesNotThrow();
    fn_ = fn;
    ctx_ = fn->getArg(0);
    eval_ = fn->getArg(1);
    entry_ = llvm::BasicBlock::Create(c_, "entry", fn);
    bail_ = llvm::BasicBlock::Create(c_, "bail", fn);
    body_ = llvm::BasicBlock::Create(c_, "body", fn);
    b_.SetInsertPoint(bail_);
    b_.CreateRet(b_.getInt32(static_cast<uint32_t>(bail)));
    b_.SetInsertPoint(body_);
    cur_ = load_at(ctx_, offsetof(interp::EvalContext, current), ptr_);
    return fn;
}

void Lowerer::finish() {
    // Allocas were put in the entry block; it falls through to the body.
    llvm::IRBuilder<> eb(entry_);
    eb.CreateBr(body_);
}

Val Lowerer::load_value(llvm::Value* p, Type st) {
    llvm::Value* tag = b_.CreateLoad(i8_, p);
    llvm::Value* is_st = b_.CreateICmpEQ(tag, b_.getInt8(static_cast<uint8_t>(st)));
    llvm::Value* is_missing = b_.CreateICmpEQ(tag, b_.getInt8(0));
    llvm::BasicBlock* ok = llvm::BasicBlock::Create(c_, "ok", fn_);
    b_.CreateCondBr(b_.CreateOr(is_st, is_missing), ok, bail_);
    b_.SetInsertPoint(ok);
    if (st == Type::Missing) return missing();
    llvm::Value* pp = b_.CreateConstGEP1_64(i8_, p, offsetof(ir::Value, i));
    llvm::Value* payload = nullptr;
    if (st == Type::Bool)
        payload = b_.CreateICmpNE(b_.CreateLoad(i8_, pp), b_.getInt8(0));
    else if (st == Type::Float)
        payload = b_.CreateLoad(f64_, pp);
    else
        payload = b_.CreateLoad(i64_, pp);
    return Val{st, is_st, payload};
}

void Lowerer::store_value(const Val& v, llvm::Value* out) {
    llvm::Value* payload = i64c(0);
    llvm::Value* tag = b_.getInt8(0);
    if (v.st != Type::Missing) {
        if (v.st == Type::Bool)
            payload = b_.CreateZExt(v.payload, i64_);
        else if (v.st == Type::Float)
            payload = b_.CreateBitCast(v.payload, i64_);
        else
            payload = v.payload;
        payload = b_.CreateSelect(v.present, payload, i64c(0));
        tag = b_.CreateSelect(v.present, b_.getInt8(static_cast<uint8_t>(v.st)), b_.getInt8(0));
    }
    b_.CreateStore(tag, out);
    b_.CreateStore(payload, b_.CreateConstGEP1_64(i8_, out, offsetof(ir::Value, i)));
}

Val Lowerer::lower(ir::ExprId id) {
    if (id == ir::kNoExpr || id >= rs_.exprs.size()) return missing();
    const ir::Expr& e = rs_.exprs[id];
    std::string why = check_node(rs_, e);
    if (!why.empty()) {
        if (error.empty()) error = "expression " + std::to_string(id) + ": " + why;
        return missing();
    }
    switch (e.kind) {
    case ExprKind::Const: return constant(e.constant);
    case ExprKind::Field: return field(e);
    case ExprKind::SessionAttr: return session_attr(e);
    case ExprKind::Aggregate: {
        Val v;
        if (aggregate_loop(e, v)) return v;
        llvm::Value* s = slot();
        b_.CreateCall(rt_aggregate_, {ctx_, eval_, b_.getInt32(e.agg), s});
        return load_value(s, e.type);
    }
    case ExprKind::Unary: return unary(e);
    case ExprKind::Binary: return binary(e);
    case ExprKind::InList: return in_list(e);
    case ExprKind::Call: return call(e);
    default: break;
    }
    if (error.empty()) error = "expression " + std::to_string(id) + ": not supported";
    return missing();
}

Val Lowerer::constant(const ir::Value& v) {
    switch (v.type) {
    case Type::Missing: return missing();
    case Type::Bool: return present(Type::Bool, b_.getInt1(v.b));
    case Type::Float: return present(Type::Float, f64c(v.f));
    default: return present(v.type, i64c(v.i));
    }
}

Val Lowerer::session_attr(const ir::Expr& e) {
    using interp::SessionState;
    // ExprEvaluator::session_attr: missing without a session or while it is closed (no latest event).
    llvm::BasicBlock* from = b_.GetInsertBlock();
    llvm::BasicBlock* has = llvm::BasicBlock::Create(c_, "session", fn_);
    llvm::BasicBlock* open = llvm::BasicBlock::Create(c_, "session.open", fn_);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(c_, "session.done", fn_);
    llvm::Value* s = load_at(ctx_, offsetof(interp::EvalContext, session), ptr_);
    b_.CreateCondBr(b_.CreateIsNotNull(s), has, done);
    b_.SetInsertPoint(has);
    // EventPtr is one pointer (asserted in lower_aggregate.cpp): the StoredEvent itself.
    llvm::Value* last_ev = load_at(s, offsetof(SessionState, last_event), ptr_);
    b_.CreateCondBr(b_.CreateIsNotNull(last_ev), open, done);
    b_.SetInsertPoint(open);
    auto last = [&] {
        return load_at(last_ev, offsetof(interp::StoredEvent, ev) + offsetof(interp::StoredEvent::Ev, time),
                       i64_);
    };
    Type t = Type::Timestamp;
    llvm::Value* v = nullptr;
    switch (e.attr) {
    case ir::SessionAttr::Duration:
        t = Type::Duration;
        v = b_.CreateSub(last(), load_at(s, offsetof(SessionState, start), i64_));
        break;
    case ir::SessionAttr::Events:
        t = Type::Int;
        v = load_at(s, offsetof(SessionState, count), i64_);
        break;
    case ir::SessionAttr::Start: v = load_at(s, offsetof(SessionState, start), i64_); break;
    case ir::SessionAttr::Last: v = last(); break;
    }
    if (!v) { // check_node rejects unknown attributes; never reached
        b_.CreateBr(bail_);
        b_.SetInsertPoint(done);
        return missing();
    }
    llvm::BasicBlock* open_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode* present = b_.CreatePHI(i1_, 3);
    present->addIncoming(b_.getFalse(), from);
    present->addIncoming(b_.getFalse(), has);
    present->addIncoming(b_.getTrue(), open_end);
    llvm::PHINode* payload = b_.CreatePHI(i64_, 3);
    payload->addIncoming(i64c(0), from);
    payload->addIncoming(i64c(0), has);
    payload->addIncoming(v, open_end);
    return Val{t, present, payload};
}

Val Lowerer::field(const ir::Expr& e) {
    const bool current = e.ref == ir::EventRef::Current || e.step == candidate_step_;
    return event_field(current ? cur_ : step_event(e), e);
}

llvm::Value* Lowerer::step_event(const ir::Expr& e) {
    using interp::EvalContext;
    using interp::PartialMatch;
    const int32_t k = step_at_[static_cast<size_t>(&e - rs_.exprs.data())];
    // Not at a fixed index: the runtime finds it (the candidate, or the step's single bound event).
    if (k < 0) return b_.CreateCall(rt_step_event_, {ctx_, b_.getInt32(e.step)});
    llvm::Value* null = llvm::ConstantPointerNull::get(ptr_);
    llvm::BasicBlock* from = b_.GetInsertBlock();
    llvm::BasicBlock* bound = llvm::BasicBlock::Create(c_, "step.bound", fn_);
    llvm::BasicBlock* match = llvm::BasicBlock::Create(c_, "step.match", fn_);
    llvm::BasicBlock* held = llvm::BasicBlock::Create(c_, "step.held", fn_);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(c_, "step.done", fn_);
    llvm::Value* cand = load_at(ctx_, offsetof(EvalContext, candidate_step), i32_);
    b_.CreateCondBr(b_.CreateICmpEQ(cand, b_.getInt32(e.step)), done, bound);
    b_.SetInsertPoint(bound);
    llvm::Value* m = load_at(ctx_, offsetof(EvalContext, steps), ptr_);
    b_.CreateCondBr(b_.CreateIsNull(m), done, match);
    b_.SetInsertPoint(match);
    llvm::Value* n = load_at(m, offsetof(PartialMatch, n_), i32_);
    b_.CreateCondBr(b_.CreateICmpUGT(n, b_.getInt32(static_cast<uint32_t>(k))), held, done);
    // Index k exists: inline (cap_ 0) in tags_ / in_.ev, else in the heap block (cap_ event pointers,
    // then cap_ tags). The tag is the step: the match has passed the steps before it.
    b_.SetInsertPoint(held);
    llvm::Value* cap = load_at(m, offsetof(PartialMatch, cap_), i32_);
    llvm::Value* heap = load_at(m, offsetof(PartialMatch, in_), ptr_);
    llvm::Value* inline_ = b_.CreateICmpEQ(cap, b_.getInt32(0));
    llvm::Value* evs =
        b_.CreateSelect(inline_, b_.CreateConstGEP1_64(i8_, m, offsetof(PartialMatch, in_)), heap);
    llvm::Value* heap_tags =
        b_.CreateGEP(i8_, heap, b_.CreateMul(b_.CreateZExt(cap, i64_), i64c(sizeof(interp::StoredEvent*))));
    llvm::Value* tags =
        b_.CreateSelect(inline_, b_.CreateConstGEP1_64(i8_, m, offsetof(PartialMatch, tags_)), heap_tags);
    llvm::Value* tag = b_.CreateLoad(i32_, b_.CreateConstGEP1_64(i32_, tags, static_cast<uint64_t>(k)));
    llvm::Value* ev = b_.CreateLoad(ptr_, b_.CreateConstGEP1_64(ptr_, evs, static_cast<uint64_t>(k)));
    llvm::Value* found = b_.CreateSelect(b_.CreateICmpEQ(tag, b_.getInt32(e.step)), ev, null);
    llvm::BasicBlock* held_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode* out = b_.CreatePHI(ptr_, 4);
    out->addIncoming(cur_, from);
    out->addIncoming(null, bound);
    out->addIncoming(null, match);
    out->addIncoming(found, held_end);
    return out;
}

Val Lowerer::event_field(llvm::Value* ev, const ir::Expr& e) {
    using SE = interp::StoredEvent;
    constexpr size_t kEv = offsetof(SE, ev);
    llvm::Value* s = slot();
    b_.CreateStore(b_.getInt8(0), s); // missing unless found below
    b_.CreateStore(i64c(0), b_.CreateConstGEP1_64(i8_, s, offsetof(ir::Value, i)));
    llvm::BasicBlock* done = llvm::BasicBlock::Create(c_, "field.done", fn_);
    llvm::BasicBlock* has_ev = llvm::BasicBlock::Create(c_, "event", fn_);
    b_.CreateCondBr(b_.CreateIsNotNull(ev), has_ev, done);
    b_.SetInsertPoint(has_ev);
    auto read_slot = [&](uint16_t slot_no) {
        if (slot_no == ir::kFieldDwell) {
            llvm::Value* has = load_at(ev, kEv + offsetof(SE::Ev, has_dwell), i8_);
            llvm::Value* known = b_.CreateICmpNE(has, b_.getInt8(0));
            llvm::Value* us = load_at(ev, offsetof(SE, dwell_us), i64_);
            b_.CreateStore(
                b_.CreateSelect(known, b_.getInt8(static_cast<uint8_t>(Type::Duration)), b_.getInt8(0)), s);
            b_.CreateStore(b_.CreateSelect(known, us, i64c(0)),
                           b_.CreateConstGEP1_64(i8_, s, offsetof(ir::Value, i)));
            b_.CreateBr(done);
            return;
        }
        llvm::BasicBlock* has = llvm::BasicBlock::Create(c_, "field", fn_);
        llvm::Value* nfields = load_at(ev, kEv + offsetof(SE::Ev, fields) + offsetof(SE::Fields, n), i32_);
        b_.CreateCondBr(b_.CreateICmpULT(b_.getInt32(slot_no), nfields), has, done);
        b_.SetInsertPoint(has);
        llvm::Value* src = b_.CreateConstGEP1_64(
            i8_, ev, static_cast<int64_t>(sizeof(SE)) + int64_t{slot_no} * int64_t{sizeof(ir::Value)});
        b_.CreateMemCpy(s, llvm::MaybeAlign(8), src, llvm::MaybeAlign(8), sizeof(ir::Value));
        b_.CreateBr(done);
    };
    if (e.field_by_type.empty()) {
        read_slot(e.field);
    } else {
        // Alternatives: the slot depends on the event's type (a switch, no lookup).
        llvm::Value* type = b_.CreateZExt(load_at(ev, kEv + offsetof(SE::Ev, type), b_.getInt16Ty()), i32_);
        llvm::SwitchInst* sw = b_.CreateSwitch(type, done);
        for (uint32_t t = 0; t < e.field_by_type.size(); ++t) {
            if (e.field_by_type[t] == ir::kNoField) continue;
            llvm::BasicBlock* bb = llvm::BasicBlock::Create(c_, "type", fn_);
            sw->addCase(b_.getInt32(t), bb);
            b_.SetInsertPoint(bb);
            read_slot(e.field_by_type[t]);
        }
    }
    b_.SetInsertPoint(done);
    return load_value(s, e.type);
}

} // namespace ethogram::jit::detail
