// expr_test.cpp: expression evaluation: arithmetic, comparisons, missing values, builtins.
#include "compiler/interp/expr_eval.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

namespace ethogram::interp::testing {
namespace {

using ir::Builtin;
using ir::Op;
using ir::Type;
using ir::Value;

class Expr : public ::testing::Test {
protected:
    IrBuilder b;
    uint16_t T = b.event("T", {{"n", Type::Int}, {"s", Type::String}, {"flag", Type::Bool}});
    ir::StringPool pool;
    EventPtr ev;

    /// Evaluates `e` against an event with n = `n` (missing when absent) and s = `s`.
    Value eval(ir::ExprId e, Value n = Value::missing(), const std::string& s = "Hello",
               Value flag = Value::missing()) {
        // A fresh pool per evaluation: constants added since the last one get their seeded ids.
        pool = ir::StringPool{};
        ir::seed_string_pool(b.rs, pool);
        ir::Event in;
        in.type = T;
        in.fields = {Value::string(pool.intern("k")), Value::timestamp(0), n, Value::string(pool.intern(s)),
                     flag};
        ev = make_event(in, 0);
        ExprEvaluator x(b.rs, pool);
        EvalContext ctx;
        ctx.current = ev.get();
        return x.eval(e, ctx);
    }
    ir::ExprId n() { return b.fld(T, "n"); }
};

TEST_F(Expr, IntegerDivisionTruncatesAndByZeroIsMissing) {
    Value q = eval(b.bin(Op::Div, b.i(-7), b.i(2)));
    EXPECT_EQ(q.type, Type::Int);
    EXPECT_EQ(q.i, -3);
    EXPECT_EQ(eval(b.bin(Op::Mod, b.i(-7), b.i(2))).i, -1);
    EXPECT_TRUE(eval(b.bin(Op::Div, b.i(1), b.i(0))).is_missing());
    EXPECT_TRUE(eval(b.bin(Op::Mod, b.i(1), b.i(0))).is_missing());
    EXPECT_TRUE(eval(b.bin(Op::Div, b.f(1.0), b.f(0.0))).is_missing());
    Value f = eval(b.bin(Op::Div, b.i(7), b.f(2.0)));
    EXPECT_EQ(f.type, Type::Float);
    EXPECT_DOUBLE_EQ(f.f, 3.5);
}

TEST_F(Expr, TemporalArithmetic) {
    Value d = eval(b.bin(Op::Sub, b.ts(10 * kSec), b.ts(4 * kSec)));
    EXPECT_EQ(d.type, Type::Duration);
    EXPECT_EQ(d.i, 6 * kSec);
    Value t = eval(b.bin(Op::Add, b.ts(10 * kSec), b.dur(kSec)));
    EXPECT_EQ(t.type, Type::Timestamp);
    EXPECT_EQ(t.i, 11 * kSec);
    Value m = eval(b.bin(Op::Mul, b.dur(3 * kSec), b.i(2)));
    EXPECT_EQ(m.type, Type::Duration);
    EXPECT_EQ(m.i, 6 * kSec);
    Value r = eval(b.bin(Op::Div, b.dur(3 * kSec), b.dur(2 * kSec)));
    EXPECT_EQ(r.type, Type::Float);
    EXPECT_DOUBLE_EQ(r.f, 1.5);
    EXPECT_TRUE(eval(b.bin(Op::Gt, b.dur(kMin), b.dur(30 * kSec))).b);
}

TEST_F(Expr, MissingPropagatesThroughArithmeticAndFailsComparisons) {
    EXPECT_TRUE(eval(b.bin(Op::Add, n(), b.i(1))).is_missing());
    EXPECT_TRUE(eval(b.un(Op::Neg, n())).is_missing());
    for (Op op : {Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge}) {
        Value v = eval(b.bin(op, n(), b.i(1)));
        EXPECT_EQ(v.type, Type::Bool);
        EXPECT_FALSE(v.b);
    }
    EXPECT_FALSE(eval(b.in(n(), {Value::integer(1)})).b);
    EXPECT_FALSE(eval(b.in(n(), {Value::integer(1)}, true)).b);
    // and/or read missing as false; not(missing) is missing, so neither it nor its negation holds.
    ir::ExprId flag = b.fld(T, "flag");
    EXPECT_FALSE(eval(b.bin(Op::Or, flag, b.b(false))).b);
    EXPECT_TRUE(eval(b.bin(Op::Or, flag, b.b(true))).b);
    EXPECT_TRUE(eval(b.un(Op::Not, flag)).is_missing());
    EXPECT_TRUE(eval(b.un(Op::Not, b.un(Op::Not, flag))).is_missing());
    EXPECT_FALSE(eval(b.bin(Op::Or, b.un(Op::Not, flag), b.b(false))).b);
    EXPECT_TRUE(eval(b.un(Op::Not, flag), Value::missing(), "x", Value::boolean(false)).b);
    EXPECT_FALSE(eval(b.call(Builtin::Has, {n()})).b);
    EXPECT_TRUE(eval(b.call(Builtin::Has, {n()}), Value::integer(0)).b);
}

TEST_F(Expr, ComparisonsMixNumbersAndOrderStringsByContent) {
    EXPECT_TRUE(eval(b.bin(Op::Eq, b.i(2), b.f(2.0))).b);
    EXPECT_TRUE(eval(b.bin(Op::Lt, n(), b.f(2.5)), Value::integer(2)).b);
    // "Hello" < "abc" by bytes ('H' < 'a') whatever the pool ids are.
    EXPECT_TRUE(eval(b.bin(Op::Lt, b.fld(T, "s"), b.s("abc"))).b);
    EXPECT_TRUE(eval(b.bin(Op::Gt, b.s("abd"), b.s("abc"))).b);
    EXPECT_TRUE(eval(b.in(n(), {Value::integer(1), Value::integer(5)}), Value::integer(5)).b);
    EXPECT_TRUE(eval(b.in(n(), {Value::integer(1)}, true), Value::integer(5)).b);
}

TEST_F(Expr, StringBuiltins) {
    ir::ExprId s = b.fld(T, "s");
    EXPECT_TRUE(eval(b.call(Builtin::StartsWith, {s, b.s("He")})).b);
    EXPECT_FALSE(eval(b.call(Builtin::StartsWith, {s, b.s("he")})).b);
    EXPECT_TRUE(eval(b.call(Builtin::EndsWith, {s, b.s("llo")})).b);
    EXPECT_TRUE(eval(b.call(Builtin::Contains, {s, b.s("ell")})).b);
    EXPECT_EQ(eval(b.call(Builtin::Len, {s})).i, 5);
    // lower() interns its result, so it equals the constant "hello" by id.
    ir::ExprId low = b.call(Builtin::Lower, {s});
    EXPECT_TRUE(eval(b.bin(Op::Eq, low, b.s("hello"))).b);
    Value l = eval(low, Value::missing(), "MiXeD");
    EXPECT_EQ(pool.view(static_cast<uint32_t>(l.i)), "mixed");
    EXPECT_EQ(eval(b.call(Builtin::Abs, {n()}), Value::integer(-4)).i, 4);
    EXPECT_DOUBLE_EQ(eval(b.call(Builtin::Abs, {b.f(-1.5)})).f, 1.5);
    EXPECT_TRUE(eval(b.call(Builtin::Len, {n()})).is_missing());
}

TEST_F(Expr, IntegerOverflowWrapsInsteadOfUndefinedBehaviour) {
    Value v = eval(b.bin(Op::Div, b.i(INT64_MIN), b.i(-1)));
    EXPECT_EQ(v.type, Type::Int);
    EXPECT_EQ(v.i, INT64_MIN);
    EXPECT_EQ(eval(b.bin(Op::Mod, b.i(INT64_MIN), b.i(-1))).i, 0);
}

} // namespace
} // namespace ethogram::interp::testing
