// jit_entry_test.cpp: the native entry points called one by one against the interpreter's evaluator:
// compiled predicates (NativeHooks::tests) answer exactly ExprEvaluator::test on true, false, missing and
// wrong-type values (a wrong type bails out, and the evaluator then interprets), compiled values
// (NativeHooks::exprs) equal ExprEvaluator::eval, and the per-type dispatch sets exactly the bits the
// interpreted step tests hold for. Every entry reads the EvalContext and its StoredEvent directly.
#include "compiler/interp/expr_eval.h"
#include "compiler/jit/jit.h"
#include "tests/jit/jit_fixture.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace ethogram::jit_test {
namespace {

using interp::EvalContext;
using interp::EventPtr;
using interp::ExprEvaluator;
using ir::Type;
using ir::Value;

// Predicates over booleans (true / false / missing), `not` on missing, comparisons with missing operands,
// a string builtin, the dwell, another step's field (bound, and the candidate's own), aggregates with
// filters and values, session-free threshold conditions, emits.
const char* kRules = R"(ruleset entry_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int?; f: bool?; s: string?; }
event B { key u: string; time ts: timestamp; x: int?; f: bool?; s: string?; }
rule p1 { label t; pattern a: A where a.f -> b: B where b.x < a.x and not b.f within 10s; emit ax = a.x; }
rule p2 { label t; pattern a: A where not a.f or a.x >= 2 -> b: B where b.f or a.x > b.x within 10s; }
rule p3 { label t; pattern a: A where starts_with(a.s, "ab") and a.x != 3 -> b: B where not (b.x in [1, 2]) within 10s; }
rule th { label t; over last 5m; on A; when count(A where f) >= 1 and sum(A.x where not f) > 2;
          emit n = count(A where x > 1), m = sum(A.x), mx = max(A.dwell), slow = count(A where dwell > 1s); }
)";

class JitEntries : public CompiledRules {
protected:
    void SetUp() override {
        compile("entry_test.etho", kRules);
        if (HasFatalFailure()) return;
        for (const ir::Rule& r : rs->rules) {
            for (const ir::Step& s : r.pattern.steps)
                if (s.pred != ir::kNoExpr) preds.push_back(s.pred);
            if (r.kind == ir::RuleKind::Threshold) preds.push_back(r.threshold.cond);
            for (const ir::Emit& em : r.emits) values.push_back(em.expr);
        }
        for (const ir::Aggregate& a : rs->aggregates) {
            if (a.filter != ir::kNoExpr) preds.push_back(a.filter);
            if (a.value != ir::kNoExpr) values.push_back(a.value);
        }
    }

    /// An event of `type` with x, f, s as given (Missing where so), its dwell when `dwell_us` >= 0.
    EventPtr event(uint16_t type, Value x, Value f, Value s, int64_t dwell_us, uint64_t ord) {
        ir::Event in = blank_event(type, ord);
        in.fields[slot(type, "x")] = x;
        in.fields[slot(type, "f")] = f;
        in.fields[slot(type, "s")] = s;
        EventPtr e = interp::make_event(in, ord);
        if (dwell_us >= 0) e->set_dwell(dwell_us);
        return e;
    }

    std::vector<ir::ExprId> preds, values;
};

// Every combination of the fields' readings: present of the declared type (two values), missing, and a
// value of another type (which the native code was not specialised for).
struct Variant {
    Value x, f, s;
    int64_t dwell;
    bool wrong_type;
};

std::vector<Variant> variants(ir::StringPool& pool) {
    const Value xs[] = {Value::integer(1), Value::integer(3), Value::missing(), Value::real(2.5)};
    const Value fs[] = {Value::boolean(true), Value::boolean(false), Value::missing(), Value::integer(1)};
    const Value ss[] = {Value::string(pool.intern("abc")), Value::missing(), Value::integer(7)};
    const int64_t dwells[] = {-1, 500'000, 2'000'000};
    std::vector<Variant> out;
    for (size_t i = 0; i < std::size(xs); ++i)
        for (size_t j = 0; j < std::size(fs); ++j)
            for (size_t k = 0; k < std::size(ss); ++k)
                for (int64_t d : dwells) out.push_back({xs[i], fs[j], ss[k], d, i == 3 || j == 3 || k == 2});
    return out;
}

TEST_F(JitEntries, CompiledPredicatesAgreeWithTheEvaluator) {
    const interp::NativeHooks& h = code->hooks();
    ExprEvaluator plain(*rs, pool); // the interpreter: no native code
    ExprEvaluator native(*rs, pool);
    native.set_native(&h);
    for (ir::ExprId id : preds) {
        ASSERT_LT(id, h.tests.size());
        ASSERT_NE(h.tests[id], nullptr) << "expression " << id << " has no compiled predicate";
    }
    const std::vector<Variant> vs = variants(pool);
    int held = 0, failed = 0, bailed = 0, missing_read = 0;
    // Pattern step predicates: the candidate of step 1 (`b`) against a match holding step 0 (`a`), and
    // step 0's own candidate; threshold conditions and aggregate filters over a scope of both events.
    const uint16_t A = 0, B = 1;
    for (const Variant& va : vs)
        for (const Variant& vb : {vs[0], vs[7], vs[20], vs[vs.size() - 1]}) {
            EventPtr a = event(A, va.x, va.f, va.s, va.dwell, 1);
            EventPtr b = event(B, vb.x, vb.f, vb.s, vb.dwell, 2);
            interp::PartialMatch m;
            m.push(a.get(), 0);
            interp::EventBuffer scope;
            scope.push_back(a);
            scope.push_back(b);
            EvalContext on_b;
            on_b.current = b.get();
            on_b.steps = &m;
            on_b.candidate_step = 1;
            on_b.scope = &scope;
            EvalContext on_a;
            on_a.current = a.get();
            on_a.candidate_step = 0;
            on_a.scope = &scope;
            for (const EvalContext* ctx : {&on_a, &on_b})
                for (ir::ExprId id : preds) {
                    const bool want = plain.test(id, *ctx);
                    const Value v = plain.eval(id, *ctx);
                    if (v.is_missing()) ++missing_read;
                    const int32_t r = h.tests[id](ctx, &native);
                    if (r < 0) {
                        // Only a value of an unexpected type may make the native code bail out.
                        EXPECT_TRUE(va.wrong_type || vb.wrong_type) << "expression " << id;
                        ++bailed;
                    } else {
                        EXPECT_EQ(r, want ? 1 : 0) << "expression " << id;
                    }
                    // Through the evaluator: the native answer, or the interpreted one after a bail-out.
                    EXPECT_EQ(native.test(id, *ctx), want) << "expression " << id;
                    ++(want ? held : failed);
                }
        }
    // The variants exercise every reading: true, false (missing among them) and bail-outs.
    EXPECT_GT(held, 100);
    EXPECT_GT(failed, 100);
    EXPECT_GT(missing_read, 10);
    EXPECT_GT(bailed, 10);
    EXPECT_TRUE(native.test(ir::kNoExpr, EvalContext{})); // no predicate holds
}

TEST_F(JitEntries, CompiledValuesAndDispatchAgreeWithTheEvaluator) {
    const interp::NativeHooks& h = code->hooks();
    ExprEvaluator plain(*rs, pool);
    ExprEvaluator native(*rs, pool);
    native.set_native(&h);
    const std::vector<Variant> vs = variants(pool);
    int compared = 0, bits_compared = 0;
    for (const Variant& va : vs) {
        EventPtr a = event(0, va.x, va.f, va.s, va.dwell, 1);
        EventPtr b = event(1, va.x, va.f, va.s, va.dwell, 2);
        interp::PartialMatch m;
        m.push(a.get(), 0);
        m.push(b.get(), 1);
        interp::EventBuffer scope;
        scope.push_back(a);
        scope.push_back(b);
        EvalContext ctx;
        ctx.current = b.get();
        ctx.steps = &m;
        ctx.scope = &scope;
        for (ir::ExprId id : values) {
            ASSERT_NE(h.exprs[id], nullptr) << "expression " << id;
            const Value want = plain.eval(id, ctx);
            Value got;
            if (h.exprs[id](&ctx, &native, &got) == 0)
                EXPECT_TRUE(same_value(got, want)) << "expression " << id;
            else
                EXPECT_TRUE(va.wrong_type) << "expression " << id;
            EXPECT_TRUE(same_value(native.eval(id, ctx), want)) << "expression " << id;
            ++compared;
        }
        // Dispatch: per event type, the bits of the step tests that depend on the current event only.
        for (const EventPtr* e : {&a, &b}) {
            const uint16_t type = (*e)->ev.type;
            if (type >= h.dispatch.size() || !h.dispatch[type]) continue;
            std::vector<uint64_t> bits((h.nbits + 63) / 64, 0);
            EvalContext cur;
            cur.current = e->get();
            if (h.dispatch[type](&cur, &native, bits.data()) != 0) {
                EXPECT_TRUE(va.wrong_type);
                continue;
            }
            for (uint32_t r = 0; r < rs->rules.size(); ++r)
                for (uint32_t s = 0; s < h.step_bit[r].size(); ++s) {
                    const uint32_t bit = h.step_bit[r][s];
                    if (bit == interp::kNoBit) continue;
                    const ir::Step& step = rs->rules[r].pattern.steps[s];
                    EvalContext c;
                    c.current = e->get();
                    c.candidate_step = s;
                    const bool type_ok = step.types.empty() || std::find(step.types.begin(), step.types.end(),
                                                                         type) != step.types.end();
                    const bool want = type_ok && plain.test(step.pred, c);
                    EXPECT_EQ(((bits[bit >> 6] >> (bit & 63)) & 1) != 0, want)
                        << "rule " << r << " step " << s;
                    ++bits_compared;
                }
        }
    }
    EXPECT_GT(compared, 100);
    EXPECT_GT(bits_compared, 100);
}

} // namespace
} // namespace ethogram::jit_test
