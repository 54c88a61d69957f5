// lower.cpp: IR expressions -> LLVM IR, with the Missing / three-valued semantics of
// compiler/interp/expr_eval.cpp and value_ops.cpp, specialised on the static types of the operands.
#include "compiler/jit/lower.h"

#include "compiler/interp/expr_eval.h"
#include "compiler/interp/native_hooks.h"
#include "compiler/interp/state.h"
#include "compiler/jit/runtime_abi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <type_traits>

namespace ethogram::jit {

using ir::ExprKind;
using ir::Op;
using ir::Type;

namespace {

bool is_num(Type t) {
    return t == Type::Int || t == Type::Float;
}

bool known_type(Type t) {
    switch (t) {
    case Type::Missing:
    case Type::Bool:
    case Type::Int:
    case Type::Float:
    case Type::String:
    case Type::Enum:
    case Type::Timestamp:
    case Type::Duration: return true;
    default: return false;
    }
}

// Checks one expression node (not its children): "" when the lowering handles it.
std::string check_node(const ir::RuleSet& rs, const ir::Expr& e) {
    if (!known_type(e.type)) return "an expression of an unknown type";
    switch (e.kind) {
    case ExprKind::Const: return known_type(e.constant.type) ? "" : "a constant of an unknown type";
    case ExprKind::Field: return "";
    case ExprKind::SessionAttr:
        switch (e.attr) {
        case ir::SessionAttr::Duration:
        case ir::SessionAttr::Events:
        case ir::SessionAttr::Start:
        case ir::SessionAttr::Last: return "";
        default: return "an unknown session attribute";
        }
    case ExprKind::Unary: return e.op == Op::Not || e.op == Op::Neg ? "" : "an unknown unary operator";
    case ExprKind::Binary:
        switch (e.op) {
        case Op::And:
        case Op::Or:
        case Op::Eq:
        case Op::Ne:
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge:
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
        case Op::Div:
        case Op::Mod: return "";
        default: return "an unknown binary operator";
        }
    case ExprKind::InList:
        if (e.op != Op::In && e.op != Op::NotIn) return "an unknown list operator";
        for (const ir::Value& v : e.list)
            if (!known_type(v.type)) return "a list constant of an unknown type";
        return "";
    case ExprKind::Call:
        switch (e.fn) {
        case ir::Builtin::StartsWith:
        case ir::Builtin::EndsWith:
        case ir::Builtin::Contains:
        case ir::Builtin::Lower:
        case ir::Builtin::Len:
        case ir::Builtin::Has:
        case ir::Builtin::Abs: return "";
        default: return "builtin function #" + std::to_string(static_cast<int>(e.fn));
        }
    case ExprKind::Aggregate: return e.agg < rs.aggregates.size() ? "" : "an aggregate out of range";
    default: break;
    }
    // Kinds added to the IR after this lowering was written (e.g. model calls) land here.
    return "expression kind #" + std::to_string(static_cast<int>(e.kind));
}

void children(const ir::Expr& e, std::vector<ir::ExprId>& out) {
    if (e.a != ir::kNoExpr) out.push_back(e.a);
    if (e.b != ir::kNoExpr) out.push_back(e.b);
    for (ir::ExprId x : e.args) out.push_back(x);
}

// True when the tree under `id` calls a sequence model (ExprKind::Model). Model functions read the key's
// online model state, which lives in the interpreter's per-key state; such trees are left to the
// interpreter's evaluator (a null native hook), so a rule set with models still runs under the JIT.
bool calls_model(const ir::RuleSet& rs, ir::ExprId id) {
    if (id == ir::kNoExpr || id >= rs.exprs.size()) return false;
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ExprKind::Model) return true;
    std::vector<ir::ExprId> kids;
    children(e, kids);
    for (ir::ExprId k : kids)
        if (calls_model(rs, k)) return true;
    return false;
}

/// The compiled roots: `values` are read as values (ExprEvaluator::eval: emits, confidences, aggregate
/// values), `tests` as predicates (ExprEvaluator::test: step predicates, threshold conditions, session
/// ends, aggregate filters). Sorted, without duplicates; an expression may be in both.
struct Roots {
    std::vector<ir::ExprId> values, tests;
};

void sort_unique(std::vector<ir::ExprId>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

Roots collect_roots(const ir::RuleSet& rs) {
    Roots roots;
    auto add = [&](std::vector<ir::ExprId>& to, ir::ExprId id) {
        if (id != ir::kNoExpr && !calls_model(rs, id)) to.push_back(id);
    };
    for (const ir::Rule& r : rs.rules) {
        add(roots.values, r.confidence);
        for (const ir::Emit& em : r.emits) add(roots.values, em.expr);
        if (r.kind == ir::RuleKind::Threshold) add(roots.tests, r.threshold.cond);
        for (const ir::Step& s : r.pattern.steps) add(roots.tests, s.pred);
    }
    for (const ir::Session& s : rs.sessions)
        for (const ir::SessionEnd& end : s.ends) add(roots.tests, end.pred);
    for (const ir::Aggregate& a : rs.aggregates) {
        add(roots.values, a.value);
        add(roots.tests, a.filter);
    }
    sort_unique(roots.values);
    sort_unique(roots.tests);
    return roots;
}

// True when `id` reads nothing but the candidate event of pattern step `step` (so its value can be
// computed once per event): no other step's event, no session attribute, no aggregate.
bool current_only(const ir::RuleSet& rs, ir::ExprId id, uint32_t step) {
    if (id == ir::kNoExpr) return true;
    if (id >= rs.exprs.size()) return false;
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ExprKind::SessionAttr || e.kind == ExprKind::Aggregate || e.kind == ExprKind::Model)
        return false;
    if (e.kind == ExprKind::Field && e.ref == ir::EventRef::Step && e.step != step) return false;
    std::vector<ir::ExprId> kids;
    children(e, kids);
    for (ir::ExprId k : kids)
        if (!current_only(rs, k, step)) return false;
    return true;
}

// ---------------------------------------------------------------- code generation

/// A value during lowering: its static type (the only type it can have besides Missing), whether it is
/// present (i1), and its payload (i1 Bool, double Float, i64 otherwise). Static Missing: always absent.
struct Val {
    Type st = Type::Missing;
    llvm::Value* present = nullptr;
    llvm::Value* payload = nullptr;
};

class Lowerer {
public:
    Lowerer(const ir::RuleSet& rs, llvm::Module& m) : rs_(rs), m_(m), c_(m.getContext()), b_(c_) {
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
        rt_session_ = decl(kAbiSessionAttr, void_, {ptr_, i32_, ptr_});
        rt_aggregate_ = decl(kAbiAggregate, void_, {ptr_, ptr_, i32_, ptr_});
        rt_str_cmp_ = decl(kAbiStrCmp, i32_, {ptr_, i64_, i64_});
        rt_str_pred_ = decl(kAbiStrPred, i32_, {ptr_, i32_, i64_, i64_});
        rt_lower_ = decl(kAbiLower, i64_, {ptr_, i64_});
        rt_len_ = decl(kAbiLen, i64_, {ptr_, i64_});
        rt_llround_ = decl(kAbiLlround, i64_, {f64_});
        for (llvm::Function* f : {rt_step_event_, rt_str_cmp_, rt_str_pred_, rt_lower_, rt_len_, rt_llround_})
            f->setOnlyReadsMemory(); // pure as far as the generated code can tell (lower() interns)
    }

    /// int32 fn(const EvalContext*, ExprEvaluator*, Value* out): 0 = done, 1 = bail out to the
    /// interpreter (NativeExprFn).
    void expr_function(ir::ExprId id) {
        llvm::Function* fn = new_function(expr_symbol(id), {ptr_, ptr_, ptr_}, 1);
        llvm::Value* out = fn->getArg(2);
        candidate_step_ = UINT32_MAX;
        Val v = lower(id);
        store_value(v, out);
        b_.CreateRet(b_.getInt32(0));
        finish();
    }

    /// int32 fn(const EvalContext*, ExprEvaluator*): the predicate's reading without a Value (present,
    /// Bool and true: 1, else 0); -1 = bail out to the interpreter (NativeTestFn).
    void test_function(ir::ExprId id) {
        new_function(test_symbol(id), {ptr_, ptr_}, -1);
        candidate_step_ = UINT32_MAX;
        llvm::Value* holds = test(lower(id));
        b_.CreateRet(b_.CreateZExt(holds, i32_));
        finish();
    }

    /// int32 fn(const EvalContext*, ExprEvaluator*, uint64_t* bits): sets the bits of the step tests that
    /// hold for an event (`current`) of type `type`; 1 = bail out (the caller then ignores the bits).
    void dispatch_function(uint32_t type, const Plan& plan) {
        llvm::Function* fn = new_function(dispatch_symbol(type), {ptr_, ptr_, ptr_}, 1);
        llvm::Value* bits = fn->getArg(2);
        for (uint32_t bit = 0; bit < plan.bits.size(); ++bit) {
            auto [rule, step] = plan.bits[bit];
            const ir::Step& s = rs_.rules[rule].pattern.steps[step];
            if (!s.types.empty() && std::find(s.types.begin(), s.types.end(), type) == s.types.end())
                continue;
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

    std::string error;

private:
    /// A function whose first two arguments are the EvalContext and the ExprEvaluator; its bail-out block
    /// returns `bail`. The current event is loaded once: the context does not change during a call.
    llvm::Function* new_function(const std::string& name, std::vector<llvm::Type*> args, int32_t bail) {
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

    void finish() {
        // Allocas were put in the entry block; it falls through to the body.
        llvm::IRBuilder<> eb(entry_);
        eb.CreateBr(body_);
    }

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
    Val load_value(llvm::Value* p, Type st) {
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

    void store_value(const Val& v, llvm::Value* out) {
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

    /// A predicate's reading: present, Bool and true.
    llvm::Value* test(const Val& v) {
        if (v.st != Type::Bool) return b_.getFalse();
        return b_.CreateAnd(v.present, v.payload);
    }

    Val lower(ir::ExprId id) {
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
        case ExprKind::SessionAttr: {
            static constexpr Type kTypes[] = {Type::Duration, Type::Int, Type::Timestamp, Type::Timestamp};
            llvm::Value* s = slot();
            b_.CreateCall(rt_session_, {ctx_, b_.getInt32(static_cast<uint32_t>(e.attr)), s});
            return load_value(s, kTypes[static_cast<int>(e.attr)]);
        }
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

    Val constant(const ir::Value& v) {
        switch (v.type) {
        case Type::Missing: return missing();
        case Type::Bool: return present(Type::Bool, b_.getInt1(v.b));
        case Type::Float: return present(Type::Float, f64c(v.f));
        default: return present(v.type, i64c(v.i));
        }
    }

    Val field(const ir::Expr& e) {
        const bool current = e.ref == ir::EventRef::Current || e.step == candidate_step_;
        // Another step's event: the runtime finds it (the candidate, or the step's single bound event).
        llvm::Value* ev = current ? cur_ : b_.CreateCall(rt_step_event_, {ctx_, b_.getInt32(e.step)});
        return event_field(ev, e);
    }

    /// Field `e` of the StoredEvent at `ev` (null: missing), read at fixed offsets as read_field does:
    /// the fields follow the StoredEvent in its allocation; the dwell is `has_dwell` + `dwell_us`.
    Val event_field(llvm::Value* ev, const ir::Expr& e) {
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
                    b_.CreateSelect(known, b_.getInt8(static_cast<uint8_t>(Type::Duration)), b_.getInt8(0)),
                    s);
                b_.CreateStore(b_.CreateSelect(known, us, i64c(0)),
                               b_.CreateConstGEP1_64(i8_, s, offsetof(ir::Value, i)));
                b_.CreateBr(done);
                return;
            }
            llvm::BasicBlock* has = llvm::BasicBlock::Create(c_, "field", fn_);
            llvm::Value* nfields =
                load_at(ev, kEv + offsetof(SE::Ev, fields) + offsetof(SE::Fields, n), i32_);
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
            llvm::Value* type =
                b_.CreateZExt(load_at(ev, kEv + offsetof(SE::Ev, type), b_.getInt16Ty()), i32_);
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

    /// Whether `id` reads, besides constants, only the event it is evaluated on: then an aggregate's
    /// filter or value can be lowered inline with that event as `current` (no other step's event, whose
    /// lookup depends on the context's candidate step; no nested aggregate or model).
    bool reads_element(ir::ExprId id) const {
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

    /// The result type of aggregate `agg` compiled as a loop (aggregate_loop), Missing when it is not:
    /// count, and sum / avg / min / max of a value whose static type fixes the result's type the way
    /// eval_aggregate (compiler/interp/aggregates.cpp) would compute it.
    Type loop_type(const ir::Aggregate& agg) const {
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

    /// A variable of the generated function (an alloca in the entry block; promoted to a register).
    llvm::Value* var(llvm::Type* t) {
        llvm::IRBuilder<> eb(entry_);
        return eb.CreateAlloca(t);
    }

    /// Aggregate `e` over the threshold scope as a loop in the generated code (false: not compiled, the
    /// runtime's eval_aggregate evaluates it). eval_aggregate's semantics: a kept count or fresh kept float
    /// sum (ScopeGroup::kept) is read from the scope's words; otherwise the ring is walked oldest first,
    /// each element of the right type that passes the filter (read as a predicate) contributes its value
    /// when present, and a stale kept float sum is kept again. A value of another type than its static
    /// one bails out (the interpreter then evaluates the whole expression; nothing was written yet).
    bool aggregate_loop(const ir::Expr& e, Val& out) {
        const ir::Aggregate& agg = rs_.aggregates[e.agg];
        const Type rt = loop_type(agg);
        if (rt == Type::Missing || rt != e.type || !reads_element(agg.filter) || !reads_element(agg.value))
            return false;
        using Buf = interp::EventBuffer;
        using SE = interp::StoredEvent;
        const ir::AggKind kind = agg.kind;
        const bool is_count = kind == ir::AggKind::Count, is_sum = kind == ir::AggKind::Sum;
        const bool float_acc = kind == ir::AggKind::Avg || (is_sum && rt == Type::Float) ||
                               ((kind == ir::AggKind::Min || kind == ir::AggKind::Max) && rt == Type::Float);
        llvm::Type* acc_t = float_acc ? static_cast<llvm::Type*>(f64_) : i64_;
        llvm::BasicBlock* done = llvm::BasicBlock::Create(c_, "agg.done", fn_);
        llvm::BasicBlock* scan = llvm::BasicBlock::Create(c_, "agg.scan", fn_);
        // The result, from whichever path reaches `done`.
        llvm::Value* res_present = var(i1_);
        llvm::Type* res_t = rt == Type::Float ? static_cast<llvm::Type*>(f64_) : i64_;
        llvm::Value* res_payload = var(res_t);
        llvm::Value* kept = var(ptr_); // a stale kept float sum's words, else null
        b_.CreateStore(llvm::ConstantPointerNull::get(ptr_), kept);

        if (is_count || (is_sum && rt == Type::Float)) {
            llvm::Value* counts = load_at(ctx_, offsetof(interp::EvalContext, scope_counts), ptr_);
            llvm::Value* table = load_at(ctx_, offsetof(interp::EvalContext, scope_words), ptr_);
            llvm::BasicBlock* lookup = llvm::BasicBlock::Create(c_, "agg.lookup", fn_);
            llvm::BasicBlock* has_word = llvm::BasicBlock::Create(c_, "agg.kept", fn_);
            b_.CreateCondBr(b_.CreateAnd(b_.CreateIsNotNull(counts), b_.CreateIsNotNull(table)), lookup,
                            scan);
            b_.SetInsertPoint(lookup);
            llvm::Value* w = b_.CreateLoad(i32_, b_.CreateConstGEP1_64(i32_, table, e.agg));
            b_.CreateCondBr(b_.CreateICmpNE(w, b_.getInt32(interp::ExprEvaluator::kNoWord)), has_word, scan);
            b_.SetInsertPoint(has_word);
            llvm::Value* wp = b_.CreateGEP(i64_, counts, b_.CreateZExt(w, i64_));
            llvm::Value* word = b_.CreateLoad(i64_, wp);
            if (is_count) {
                b_.CreateStore(b_.getTrue(), res_present);
                b_.CreateStore(word, res_payload);
                b_.CreateBr(done);
            } else {
                // A kept float sum: its bits, unless marked stale (then rescanned and kept again).
                llvm::Value* stale = b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i64_, wp, 1));
                llvm::BasicBlock* fresh = llvm::BasicBlock::Create(c_, "agg.fresh", fn_);
                llvm::BasicBlock* rescan = llvm::BasicBlock::Create(c_, "agg.rescan", fn_);
                b_.CreateCondBr(b_.CreateICmpEQ(stale, i64c(0)), fresh, rescan);
                b_.SetInsertPoint(fresh);
                b_.CreateStore(b_.getTrue(), res_present);
                b_.CreateStore(b_.CreateBitCast(word, f64_), res_payload);
                b_.CreateBr(done);
                b_.SetInsertPoint(rescan);
                b_.CreateStore(wp, kept);
                b_.CreateBr(scan);
            }
        } else {
            b_.CreateBr(scan);
        }

        // The scan: accumulators, then the ring (ctx->scope, one pointer to its Head; null: no elements).
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
        llvm::BasicBlock* loop = llvm::BasicBlock::Create(c_, "agg.loop", fn_);
        llvm::BasicBlock* body = llvm::BasicBlock::Create(c_, "agg.body", fn_);
        llvm::BasicBlock* next = llvm::BasicBlock::Create(c_, "agg.next", fn_);
        b_.CreateBr(loop);
        b_.SetInsertPoint(loop);
        llvm::PHINode* i = b_.CreatePHI(i32_, 2);
        i->addIncoming(b_.getInt32(0), has_ring);
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
            if (is_sum || kind == ir::AggKind::Avg) {
                // In ring order from zero: the rescan's additions, bit for bit.
                next_acc = float_acc ? b_.CreateFAdd(a, x) : b_.CreateAdd(a, x);
            } else {
                // min / max: the first value, then a strictly smaller (larger) one; NaN never compares.
                const bool want_max = kind == ir::AggKind::Max;
                llvm::Value* better = float_acc
                                          ? (want_max ? b_.CreateFCmpOGT(x, a) : b_.CreateFCmpOLT(x, a))
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
        } else if (kind == ir::AggKind::Avg) {
            present = b_.CreateICmpNE(total, i64c(0)); // no values: missing
            llvm::Value* mean = b_.CreateFDiv(a, b_.CreateSIToFP(total, f64_));
            payload = rt == Type::Float ? mean : b_.CreateCall(rt_llround_, {mean});
        } else if (!is_sum) {
            present = b_.CreateICmpNE(total, i64c(0)); // min / max of no values: missing
        } else if (rt == Type::Float) {
            // A stale kept sum is kept again (eval_aggregate does the same).
            llvm::Value* kp = b_.CreateLoad(ptr_, kept);
            llvm::BasicBlock* store = llvm::BasicBlock::Create(c_, "agg.keep", fn_);
            llvm::BasicBlock* stored = llvm::BasicBlock::Create(c_, "agg.kept.again", fn_);
            b_.CreateCondBr(b_.CreateIsNotNull(kp), store, stored);
            b_.SetInsertPoint(store);
            b_.CreateStore(b_.CreateBitCast(a, i64_), kp);
            b_.CreateStore(i64c(0), b_.CreateConstGEP1_64(i64_, kp, 1));
            b_.CreateBr(stored);
            b_.SetInsertPoint(stored);
        }
        b_.CreateStore(present, res_present);
        b_.CreateStore(payload, res_payload);
        b_.CreateBr(done);

        b_.SetInsertPoint(done);
        out = Val{rt, b_.CreateLoad(i1_, res_present), b_.CreateLoad(res_t, res_payload)};
        return true;
    }

    Val unary(const ir::Expr& e) {
        Val a = lower(e.a);
        if (e.op == Op::Not) {
            if (a.st != Type::Bool) return missing(); // not(non-bool) is missing
            return Val{Type::Bool, a.present, b_.CreateNot(a.payload)};
        }
        switch (a.st) {
        case Type::Int:
        case Type::Duration: return Val{a.st, a.present, b_.CreateSub(i64c(0), a.payload)};
        case Type::Float: return Val{a.st, a.present, b_.CreateFNeg(a.payload)};
        default: return missing();
        }
    }

    Val binary(const ir::Expr& e) {
        if (e.op == Op::And || e.op == Op::Or) {
            // Short-circuit exactly like the interpreter: the right side is evaluated only when needed.
            Val a = lower(e.a);
            llvm::Value* ta = test(a);
            llvm::BasicBlock* from = b_.GetInsertBlock();
            llvm::BasicBlock* rhs = llvm::BasicBlock::Create(c_, "rhs", fn_);
            llvm::BasicBlock* join = llvm::BasicBlock::Create(c_, "join", fn_);
            if (e.op == Op::And)
                b_.CreateCondBr(ta, rhs, join);
            else
                b_.CreateCondBr(ta, join, rhs);
            b_.SetInsertPoint(rhs);
            llvm::Value* tb = test(lower(e.b));
            llvm::BasicBlock* rhs_end = b_.GetInsertBlock();
            b_.CreateBr(join);
            b_.SetInsertPoint(join);
            llvm::PHINode* phi = b_.CreatePHI(i1_, 2);
            phi->addIncoming(e.op == Op::And ? b_.getFalse() : b_.getTrue(), from);
            phi->addIncoming(tb, rhs_end);
            return present(Type::Bool, phi);
        }
        Val a = lower(e.a);
        Val b = lower(e.b);
        switch (e.op) {
        case Op::Eq:
        case Op::Ne:
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge: return present(Type::Bool, compare(e.op, a, b));
        default: return arithmetic(e.op, a, b);
        }
    }

    llvm::Value* to_double(const Val& v) {
        return v.st == Type::Float ? v.payload : b_.CreateSIToFP(v.payload, f64_);
    }

    /// values_equal(a, b) for two present values of static types a.st, b.st.
    llvm::Value* equal(const Val& a, const Val& b) {
        if (is_num(a.st) && is_num(b.st)) {
            if (a.st == Type::Int && b.st == Type::Int) return b_.CreateICmpEQ(a.payload, b.payload);
            return b_.CreateFCmpOEQ(to_double(a), to_double(b));
        }
        if (a.st != b.st) return b_.getFalse();
        return b_.CreateICmpEQ(a.payload, b.payload); // Bool (i1), ids, indices, times
    }

    llvm::Value* compare(Op op, const Val& a, const Val& b) {
        if (a.st == Type::Missing || b.st == Type::Missing) return b_.getFalse();
        llvm::Value* both = b_.CreateAnd(a.present, b.present);
        llvm::Value* r = nullptr;
        if (op == Op::Eq) {
            r = equal(a, b);
        } else if (op == Op::Ne) {
            r = b_.CreateNot(equal(a, b));
        } else if (is_num(a.st) && is_num(b.st)) {
            if (a.st == Type::Int && b.st == Type::Int) {
                r = int_cmp(op, a.payload, b.payload, true);
            } else {
                // Ordered comparisons: NaN compares false, as compare_values' nullopt does.
                llvm::Value *x = to_double(a), *y = to_double(b);
                r = op == Op::Lt   ? b_.CreateFCmpOLT(x, y)
                    : op == Op::Le ? b_.CreateFCmpOLE(x, y)
                    : op == Op::Gt ? b_.CreateFCmpOGT(x, y)
                                   : b_.CreateFCmpOGE(x, y);
            }
        } else if (a.st != b.st) {
            r = b_.getFalse();
        } else if (a.st == Type::Bool) {
            r = int_cmp(op, a.payload, b.payload, false); // false < true
        } else if (a.st == Type::Enum || a.st == Type::Timestamp || a.st == Type::Duration) {
            r = int_cmp(op, a.payload, b.payload, true);
        } else if (a.st == Type::String) {
            // Order by content; the runtime call happens only when both are present and differ.
            llvm::BasicBlock* from = b_.GetInsertBlock();
            llvm::BasicBlock* call = llvm::BasicBlock::Create(c_, "strcmp", fn_);
            llvm::BasicBlock* join = llvm::BasicBlock::Create(c_, "strcmp.join", fn_);
            llvm::Value* same = b_.CreateICmpEQ(a.payload, b.payload);
            b_.CreateCondBr(b_.CreateAnd(both, b_.CreateNot(same)), call, join);
            b_.SetInsertPoint(call);
            llvm::Value* c = b_.CreateCall(rt_str_cmp_, {eval_, a.payload, b.payload});
            b_.CreateBr(join);
            b_.SetInsertPoint(join);
            llvm::PHINode* phi = b_.CreatePHI(i32_, 2);
            phi->addIncoming(b_.getInt32(0), from);
            phi->addIncoming(c, call);
            r = int_cmp(op, phi, b_.getInt32(0), true);
        } else {
            r = b_.getFalse();
        }
        return b_.CreateAnd(both, r);
    }

    llvm::Value* int_cmp(Op op, llvm::Value* x, llvm::Value* y, bool is_signed) {
        switch (op) {
        case Op::Lt: return is_signed ? b_.CreateICmpSLT(x, y) : b_.CreateICmpULT(x, y);
        case Op::Le: return is_signed ? b_.CreateICmpSLE(x, y) : b_.CreateICmpULE(x, y);
        case Op::Gt: return is_signed ? b_.CreateICmpSGT(x, y) : b_.CreateICmpUGT(x, y);
        default: return is_signed ? b_.CreateICmpSGE(x, y) : b_.CreateICmpUGE(x, y);
        }
    }

    /// A value present when `present` and `ok` (ok = false is a missing result, e.g. division by zero).
    Val result(Type t, llvm::Value* present, llvm::Value* ok, llvm::Value* payload) {
        return Val{t, ok ? b_.CreateAnd(present, ok) : present, payload};
    }

    /// Integer division / modulo with the interpreter's rules (b == 0 missing, b == -1 wraps / is 0).
    /// The divisor is replaced by 1 where the result is unused, so the division itself never traps.
    llvm::Value* int_divmod(bool div, llvm::Value* x, llvm::Value* y) {
        llvm::Value* special = b_.CreateOr(b_.CreateICmpEQ(y, i64c(0)), b_.CreateICmpEQ(y, i64c(-1)));
        llvm::Value* safe_y = b_.CreateSelect(special, i64c(1), y);
        llvm::Value* q = div ? b_.CreateSDiv(x, safe_y) : b_.CreateSRem(x, safe_y);
        llvm::Value* minus_one = div ? b_.CreateSub(i64c(0), x) : i64c(0);
        return b_.CreateSelect(b_.CreateICmpEQ(y, i64c(-1)), minus_one, q);
    }

    /// micros(t, us): nearest µs, missing when not finite or out of range.
    Val micros(Type t, llvm::Value* present, llvm::Value* us) {
        llvm::Value* ok =
            b_.CreateAnd(b_.CreateFCmpOLT(us, f64c(9.2e18)), b_.CreateFCmpOGT(us, f64c(-9.2e18)));
        llvm::Value* safe = b_.CreateSelect(ok, us, f64c(0.0));
        return result(t, present, ok, b_.CreateCall(rt_llround_, {safe}));
    }

    Val arithmetic(Op op, const Val& a, const Val& b) {
        if (a.st == Type::Missing || b.st == Type::Missing) return missing();
        llvm::Value* both = b_.CreateAnd(a.present, b.present);
        if (is_num(a.st) && is_num(b.st)) {
            if (a.st == Type::Int && b.st == Type::Int) {
                llvm::Value *x = a.payload, *y = b.payload;
                switch (op) {
                case Op::Add: return result(Type::Int, both, nullptr, b_.CreateAdd(x, y));
                case Op::Sub: return result(Type::Int, both, nullptr, b_.CreateSub(x, y));
                case Op::Mul: return result(Type::Int, both, nullptr, b_.CreateMul(x, y));
                case Op::Div:
                case Op::Mod:
                    return result(Type::Int, both, b_.CreateICmpNE(y, i64c(0)),
                                  int_divmod(op == Op::Div, x, y));
                default: return missing();
                }
            }
            llvm::Value *x = to_double(a), *y = to_double(b);
            llvm::Value* nonzero = b_.CreateFCmpUNE(y, f64c(0.0)); // y == 0.0 (not NaN) is missing
            switch (op) {
            case Op::Add: return result(Type::Float, both, nullptr, b_.CreateFAdd(x, y));
            case Op::Sub: return result(Type::Float, both, nullptr, b_.CreateFSub(x, y));
            case Op::Mul: return result(Type::Float, both, nullptr, b_.CreateFMul(x, y));
            case Op::Div: return result(Type::Float, both, nonzero, b_.CreateFDiv(x, y));
            case Op::Mod: return result(Type::Float, both, nonzero, b_.CreateFRem(x, y));
            default: return missing();
            }
        }
        const Type ta = a.st, tb = b.st;
        const bool a_ts = ta == Type::Timestamp, b_ts = tb == Type::Timestamp;
        const bool a_d = ta == Type::Duration, b_d = tb == Type::Duration;
        switch (op) {
        case Op::Add:
            if ((a_ts && b_d) || (a_d && b_ts))
                return result(Type::Timestamp, both, nullptr, b_.CreateAdd(a.payload, b.payload));
            if (a_d && b_d) return result(Type::Duration, both, nullptr, b_.CreateAdd(a.payload, b.payload));
            return missing();
        case Op::Sub:
            if (a_ts && b_ts)
                return result(Type::Duration, both, nullptr, b_.CreateSub(a.payload, b.payload));
            if (a_ts && b_d)
                return result(Type::Timestamp, both, nullptr, b_.CreateSub(a.payload, b.payload));
            if (a_d && b_d) return result(Type::Duration, both, nullptr, b_.CreateSub(a.payload, b.payload));
            return missing();
        case Op::Mul:
            if (a_d && is_num(tb)) return duration_by_number(op, a, b, both);
            if (b_d && is_num(ta)) return duration_by_number(op, b, a, both);
            return missing();
        case Op::Div:
            if (a_d && b_d) {
                llvm::Value* q =
                    b_.CreateFDiv(b_.CreateSIToFP(a.payload, f64_), b_.CreateSIToFP(b.payload, f64_));
                return result(Type::Float, both, b_.CreateICmpNE(b.payload, i64c(0)), q);
            }
            if (a_d && is_num(tb)) return duration_by_number(op, a, b, both);
            return missing();
        case Op::Mod:
            if (a_d && b_d)
                return result(Type::Duration, both, b_.CreateICmpNE(b.payload, i64c(0)),
                              int_divmod(false, a.payload, b.payload));
            return missing();
        default: return missing();
        }
    }

    Val duration_by_number(Op op, const Val& d, const Val& n, llvm::Value* both) {
        if (op == Op::Mul) {
            if (n.st == Type::Int)
                return result(Type::Duration, both, nullptr, b_.CreateMul(d.payload, n.payload));
            return micros(Type::Duration, both, b_.CreateFMul(b_.CreateSIToFP(d.payload, f64_), n.payload));
        }
        if (n.st == Type::Int)
            return result(Type::Duration, both, b_.CreateICmpNE(n.payload, i64c(0)),
                          int_divmod(true, d.payload, n.payload));
        llvm::Value* nonzero = b_.CreateFCmpUNE(n.payload, f64c(0.0));
        Val m = micros(Type::Duration, both, b_.CreateFDiv(b_.CreateSIToFP(d.payload, f64_), n.payload));
        return Val{m.st, b_.CreateAnd(m.present, nonzero), m.payload};
    }

    Val in_list(const ir::Expr& e) {
        Val a = lower(e.a);
        if (a.st == Type::Missing) return present(Type::Bool, b_.getFalse());
        llvm::Value* found = b_.getFalse();
        for (const ir::Value& c : e.list) {
            if (c.type == Type::Missing) continue;
            found = b_.CreateOr(found, equal(a, constant(c)));
        }
        if (e.op == Op::NotIn) found = b_.CreateNot(found);
        return present(Type::Bool, b_.CreateAnd(a.present, found));
    }

    Val call(const ir::Expr& e) {
        std::vector<Val> args;
        for (ir::ExprId x : e.args) args.push_back(lower(x));
        auto arg = [&](size_t i) { return i < args.size() ? args[i] : missing(); };
        switch (e.fn) {
        case ir::Builtin::StartsWith:
        case ir::Builtin::EndsWith:
        case ir::Builtin::Contains: {
            Val s = arg(0), p = arg(1);
            if (s.st != Type::String || p.st != Type::String) return present(Type::Bool, b_.getFalse());
            llvm::Value* both = b_.CreateAnd(s.present, p.present);
            llvm::BasicBlock* from = b_.GetInsertBlock();
            llvm::BasicBlock* callbb = llvm::BasicBlock::Create(c_, "strpred", fn_);
            llvm::BasicBlock* join = llvm::BasicBlock::Create(c_, "strpred.join", fn_);
            b_.CreateCondBr(both, callbb, join);
            b_.SetInsertPoint(callbb);
            llvm::Value* r = b_.CreateCall(
                rt_str_pred_, {eval_, b_.getInt32(static_cast<uint32_t>(e.fn)), s.payload, p.payload});
            b_.CreateBr(join);
            b_.SetInsertPoint(join);
            llvm::PHINode* phi = b_.CreatePHI(i32_, 2);
            phi->addIncoming(b_.getInt32(0), from);
            phi->addIncoming(r, callbb);
            return present(Type::Bool, b_.CreateICmpNE(phi, b_.getInt32(0)));
        }
        case ir::Builtin::Lower:
        case ir::Builtin::Len: {
            Val s = arg(0);
            if (s.st != Type::String) return missing();
            llvm::BasicBlock* from = b_.GetInsertBlock();
            llvm::BasicBlock* callbb = llvm::BasicBlock::Create(c_, "str", fn_);
            llvm::BasicBlock* join = llvm::BasicBlock::Create(c_, "str.join", fn_);
            b_.CreateCondBr(s.present, callbb, join);
            b_.SetInsertPoint(callbb);
            llvm::Value* r =
                b_.CreateCall(e.fn == ir::Builtin::Lower ? rt_lower_ : rt_len_, {eval_, s.payload});
            b_.CreateBr(join);
            b_.SetInsertPoint(join);
            llvm::PHINode* phi = b_.CreatePHI(i64_, 2);
            phi->addIncoming(i64c(0), from);
            phi->addIncoming(r, callbb);
            return Val{e.fn == ir::Builtin::Lower ? Type::String : Type::Int, s.present, phi};
        }
        case ir::Builtin::Has: {
            Val x = arg(0);
            return present(Type::Bool, x.st == Type::Missing ? b_.getFalse() : x.present);
        }
        case ir::Builtin::Abs: {
            Val x = arg(0);
            if (x.st == Type::Float) {
                llvm::Value* neg = b_.CreateFCmpOLT(x.payload, f64c(0.0));
                return Val{x.st, x.present, b_.CreateSelect(neg, b_.CreateFNeg(x.payload), x.payload)};
            }
            if (x.st == Type::Int || x.st == Type::Duration) {
                llvm::Value* neg = b_.CreateICmpSLT(x.payload, i64c(0));
                return Val{x.st, x.present,
                           b_.CreateSelect(neg, b_.CreateSub(i64c(0), x.payload), x.payload)};
            }
            return missing();
        }
        default: break;
        }
        if (error.empty())
            error = "builtin function #" + std::to_string(static_cast<int>(e.fn)) + " not supported";
        return missing();
    }

    const ir::RuleSet& rs_;
    llvm::Module& m_;
    llvm::LLVMContext& c_;
    llvm::IRBuilder<> b_;
    llvm::Type *void_, *i1_, *i8_, *i32_, *i64_, *f64_;
    llvm::PointerType* ptr_;
    llvm::Function *rt_step_event_, *rt_session_, *rt_aggregate_, *rt_str_cmp_, *rt_str_pred_, *rt_lower_,
        *rt_len_, *rt_llround_;
    llvm::Function* fn_ = nullptr;
    llvm::Value *ctx_ = nullptr, *eval_ = nullptr, *cur_ = nullptr;
    llvm::BasicBlock *entry_ = nullptr, *bail_ = nullptr, *body_ = nullptr;
    uint32_t candidate_step_ = UINT32_MAX;
};

} // namespace

namespace {

// aggregate_loop reads a scope as one pointer to its Ring::Head and each slot as the StoredEvent pointer.
static_assert(sizeof(interp::EventBuffer) == sizeof(void*) && std::is_standard_layout_v<interp::EventBuffer>);
static_assert(sizeof(interp::EventPtr) == sizeof(void*) && std::is_standard_layout_v<interp::EventPtr>);

/// The sizes and offsets the generated code reads at (event_field, the context's `current`, a Value's type
/// and payload), and the Value type numbers it tests: part of the object cache's key through
/// Plan::fingerprint, so that code cached by a build with another layout is never loaded (the ABI version
/// string is bumped by hand and could be forgotten; a stale offset would read the wrong bytes).
std::string layout_key() {
    using SE = interp::StoredEvent;
    const size_t parts[] = {sizeof(ir::Value),
                            offsetof(ir::Value, type),
                            offsetof(ir::Value, i),
                            sizeof(SE),
                            offsetof(SE, ev),
                            offsetof(SE::Ev, has_dwell),
                            offsetof(SE, dwell_us),
                            offsetof(SE::Ev, fields),
                            offsetof(SE::Fields, n),
                            offsetof(SE::Ev, type),
                            offsetof(interp::EvalContext, current),
                            offsetof(interp::EvalContext, scope),
                            offsetof(interp::EvalContext, scope_counts),
                            offsetof(interp::EvalContext, scope_words),
                            sizeof(interp::EventBuffer::Head),
                            offsetof(interp::EventBuffer::Head, cap),
                            offsetof(interp::EventBuffer::Head, head),
                            offsetof(interp::EventBuffer::Head, size),
                            offsetof(interp::EventBuffer::Head, words),
                            static_cast<size_t>(ir::Type::Bool),
                            static_cast<size_t>(ir::Type::Int),
                            static_cast<size_t>(ir::Type::Float),
                            static_cast<size_t>(ir::Type::Duration)};
    std::string out = "|layout";
    for (size_t p : parts) out.append(":").append(std::to_string(p));
    return out;
}

} // namespace

std::string Plan::fingerprint() const {
    // Appends only: GCC 12 warns (-Wrestrict, falsely) on `"x" + std::to_string(...)` here.
    std::string out = "roots";
    for (ir::ExprId id : roots) out.append(":").append(std::to_string(id));
    out.append("|tests");
    for (ir::ExprId id : tests) out.append(":").append(std::to_string(id));
    out.append("|bits");
    for (auto [r, s] : bits) out.append(":").append(std::to_string(r)).append(".").append(std::to_string(s));
    out.append("|dispatch");
    for (bool d : dispatch) out.append(d ? "1" : "0");
    out.append(layout_key());
    return out;
}

std::string unsupported_reason(const ir::RuleSet& rs) {
    Roots roots = collect_roots(rs);
    std::vector<ir::ExprId> all = roots.values;
    all.insert(all.end(), roots.tests.begin(), roots.tests.end());
    sort_unique(all);
    for (ir::ExprId root : all) {
        std::vector<ir::ExprId> stack{root};
        while (!stack.empty()) {
            ir::ExprId id = stack.back();
            stack.pop_back();
            if (id >= rs.exprs.size()) return "expression " + std::to_string(id) + " is out of range";
            const ir::Expr& e = rs.exprs[id];
            std::string why = check_node(rs, e);
            if (!why.empty())
                return "the JIT does not support " + why + " (expression " + std::to_string(id) + ")";
            children(e, stack);
        }
    }
    return "";
}

Plan make_plan(const ir::RuleSet& rs) {
    Plan p;
    Roots roots = collect_roots(rs);
    p.roots = std::move(roots.values);
    p.tests = std::move(roots.tests);
    p.step_bit.resize(rs.rules.size());
    p.dispatch.assign(rs.events.size(), false);
    for (uint32_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        p.step_bit[r].assign(rule.pattern.steps.size(), interp::kNoBit);
        if (rule.kind != ir::RuleKind::Pattern) continue;
        for (uint32_t s = 0; s < rule.pattern.steps.size(); ++s) {
            const ir::Step& step = rule.pattern.steps[s];
            if (!current_only(rs, step.pred, s)) continue;
            p.step_bit[r][s] = static_cast<uint32_t>(p.bits.size());
            p.bits.emplace_back(r, s);
            for (uint32_t t = 0; t < rs.events.size(); ++t)
                if (step.types.empty() ||
                    std::find(step.types.begin(), step.types.end(), t) != step.types.end())
                    p.dispatch[t] = true;
        }
    }
    return p;
}

std::string expr_symbol(ir::ExprId id) {
    return "etho_expr_" + std::to_string(id);
}

std::string test_symbol(ir::ExprId id) {
    return "etho_test_" + std::to_string(id);
}

std::string dispatch_symbol(uint32_t type) {
    return "etho_dispatch_" + std::to_string(type);
}

Expected<std::unique_ptr<llvm::Module>> lower(const ir::RuleSet& rs, const Plan& plan,
                                              llvm::LLVMContext& ctx) {
    std::string why = unsupported_reason(rs);
    if (!why.empty()) return Error{why};
    auto m = std::make_unique<llvm::Module>("ethogram_rules", ctx);
    Lowerer lw(rs, *m);
    for (ir::ExprId id : plan.roots) lw.expr_function(id);
    for (ir::ExprId id : plan.tests) lw.test_function(id);
    for (uint32_t t = 0; t < plan.dispatch.size(); ++t)
        if (plan.dispatch[t]) lw.dispatch_function(t, plan);
    if (!lw.error.empty()) return Error{lw.error};
    std::string verify;
    llvm::raw_string_ostream os(verify);
    if (llvm::verifyModule(*m, &os))
        return Error{"internal error: the generated LLVM IR is invalid: " + os.str()};
    return m;
}

} // namespace ethogram::jit
