// lower_ops.cpp: unary and binary operators, comparisons, list membership and builtin calls, each with
// the interpreter's Missing / three-valued semantics (compiler/interp/value_ops.cpp).
#include "compiler/jit/lowerer.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Intrinsics.h>

#include <string>

namespace ethogram::jit::detail {

Val Lowerer::unary(const ir::Expr& e) {
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

Val Lowerer::binary(const ir::Expr& e) {
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

llvm::Value* Lowerer::to_double(const Val& v) {
    return v.st == Type::Float ? v.payload : b_.CreateSIToFP(v.payload, f64_);
}

llvm::Value* Lowerer::equal(const Val& a, const Val& b) {
    if (is_num(a.st) && is_num(b.st)) {
        if (a.st == Type::Int && b.st == Type::Int) return b_.CreateICmpEQ(a.payload, b.payload);
        return b_.CreateFCmpOEQ(to_double(a), to_double(b));
    }
    if (a.st != b.st) return b_.getFalse();
    return b_.CreateICmpEQ(a.payload, b.payload); // Bool (i1), ids, indices, times
}

llvm::Value* Lowerer::compare(Op op, const Val& a, const Val& b) {
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

llvm::Value* Lowerer::int_cmp(Op op, llvm::Value* x, llvm::Value* y, bool is_signed) {
    switch (op) {
    case Op::Lt: return is_signed ? b_.CreateICmpSLT(x, y) : b_.CreateICmpULT(x, y);
    case Op::Le: return is_signed ? b_.CreateICmpSLE(x, y) : b_.CreateICmpULE(x, y);
    case Op::Gt: return is_signed ? b_.CreateICmpSGT(x, y) : b_.CreateICmpUGT(x, y);
    default: return is_signed ? b_.CreateICmpSGE(x, y) : b_.CreateICmpUGE(x, y);
    }
}

Val Lowerer::result(Type t, llvm::Value* present, llvm::Value* ok, llvm::Value* payload) {
    return Val{t, ok ? b_.CreateAnd(present, ok) : present, payload};
}

llvm::Value* Lowerer::int_divmod(bool div, llvm::Value* x, llvm::Value* y) {
    llvm::Value* special = b_.CreateOr(b_.CreateICmpEQ(y, i64c(0)), b_.CreateICmpEQ(y, i64c(-1)));
    llvm::Value* safe_y = b_.CreateSelect(special, i64c(1), y);
    llvm::Value* q = div ? b_.CreateSDiv(x, safe_y) : b_.CreateSRem(x, safe_y);
    llvm::Value* minus_one = div ? b_.CreateSub(i64c(0), x) : i64c(0);
    return b_.CreateSelect(b_.CreateICmpEQ(y, i64c(-1)), minus_one, q);
}

Val Lowerer::micros(Type t, llvm::Value* present, llvm::Value* us) {
    llvm::Value* ok = b_.CreateAnd(b_.CreateFCmpOLT(us, f64c(9.2e18)), b_.CreateFCmpOGT(us, f64c(-9.2e18)));
    llvm::Value* safe = b_.CreateSelect(ok, us, f64c(0.0));
    return result(t, present, ok, b_.CreateCall(rt_llround_, {safe}));
}

Val Lowerer::arithmetic(Op op, const Val& a, const Val& b) {
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
                return result(Type::Int, both, b_.CreateICmpNE(y, i64c(0)), int_divmod(op == Op::Div, x, y));
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
        if (a_ts && b_ts) return result(Type::Duration, both, nullptr, b_.CreateSub(a.payload, b.payload));
        if (a_ts && b_d) return result(Type::Timestamp, both, nullptr, b_.CreateSub(a.payload, b.payload));
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

Val Lowerer::duration_by_number(Op op, const Val& d, const Val& n, llvm::Value* both) {
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

Val Lowerer::in_list(const ir::Expr& e) {
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

Val Lowerer::call(const ir::Expr& e) {
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
        llvm::Value* r = b_.CreateCall(e.fn == ir::Builtin::Lower ? rt_lower_ : rt_len_, {eval_, s.payload});
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
            return Val{x.st, x.present, b_.CreateSelect(neg, b_.CreateSub(i64c(0), x.payload), x.payload)};
        }
        return missing();
    }
    default: break;
    }
    if (error.empty())
        error = "builtin function #" + std::to_string(static_cast<int>(e.fn)) + " not supported";
    return missing();
}

} // namespace ethogram::jit::detail
