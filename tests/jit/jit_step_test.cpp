// jit_step_test.cpp: fields of another pattern step read by compiled code (Lowerer::step_event) against
// the evaluator's step_event, in values and predicates: inline at a fixed index of the match (steps after
// single-event steps only) and through the runtime (a step after a collected one), with no match, a match
// that has not reached the step, inline matches and matches whose events are in a heap block, and with
// the step as the context's candidate. A compiled read that disagrees with the interpreter fails here.
#include "compiler/interp/expr_eval.h"
#include "compiler/jit/jit.h"
#include "tests/jit/jit_fixture.h"

#include <gtest/gtest.h>

#include <vector>

namespace ethogram::jit_test {
namespace {

using interp::EvalContext;
using interp::EventPtr;
using interp::ExprEvaluator;
using interp::PartialMatch;
using ir::Value;

// Steps: a (0), b (1) at fixed indices 0 and 1; c (2) collected; d (3) after it, found by the runtime.
const char* kRules = R"(ruleset step_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int?; }
rule r { label t;
         pattern a: A where a.x > 0
             -> b: A where b.x > a.x
             -> c: A{2,} where c.x > b.x
             -> d: A where d.x > b.x and d.x != a.x within 10m;
         emit ax = a.x, bx = b.x, dx = d.x, s = a.x + b.x, late = d.x - a.x; }
)";

class JitSteps : public CompiledRules {
protected:
    void SetUp() override {
        compile("step_test.etho", kRules);
        if (HasFatalFailure()) return;
        const ir::Rule& r = rs->rules[0];
        for (const ir::Step& s : r.pattern.steps) preds.push_back(s.pred);
        for (const ir::Emit& em : r.emits) values.push_back(em.expr);
    }

    std::vector<ir::ExprId> preds, values;
};

TEST_F(JitSteps, CompiledStepReadsAgreeWithTheEvaluator) {
    const interp::NativeHooks& h = code->hooks();
    ExprEvaluator plain(*rs, pool);
    std::vector<EventPtr> events;
    for (uint64_t i = 0; i < 8; ++i) {
        ir::Event in = blank_event(0, i + 1);
        // Event 5 has no x: its reads are missing.
        if (i != 5) in.fields[slot(0, "x")] = Value::integer(static_cast<int64_t>(i * 3 + 1));
        events.push_back(interp::make_event(in, i + 1));
    }
    // Bindings as tags in binding order: none, a, a b, a b c, a b c c (heap), a b c c c d (heap).
    const std::vector<std::vector<uint32_t>> shapes = {{},        {0},          {0, 1},
                                                       {0, 1, 2}, {0, 1, 2, 2}, {0, 1, 2, 2, 2, 3}};
    int compared = 0, present = 0;
    auto check = [&](const EvalContext& ctx, const char* what) {
        for (ir::ExprId id : values) {
            ASSERT_NE(h.exprs[id], nullptr) << "expression " << id;
            const Value want = plain.eval(id, ctx);
            Value got;
            ASSERT_EQ(h.exprs[id](&ctx, &plain, &got), 0) << "expression " << id << " bailed out";
            EXPECT_TRUE(same_value(got, want)) << "expression " << id << " " << what;
            present += want.is_missing() ? 0 : 1;
            ++compared;
        }
        for (ir::ExprId id : preds) {
            ASSERT_NE(h.tests[id], nullptr) << "predicate " << id;
            EXPECT_EQ(h.tests[id](&ctx, &plain), plain.test(id, ctx) ? 1 : 0)
                << "predicate " << id << " " << what;
            ++compared;
        }
    };
    for (size_t first = 0; first < 3; ++first)
        for (const std::vector<uint32_t>& shape : shapes) {
            PartialMatch m;
            for (size_t i = 0; i < shape.size(); ++i)
                m.push(events[(first + i) % events.size()].get(), shape[i]);
            // PartialMatch::single is PartialMatch::step's single event.
            for (uint32_t s = 0; s < 5; ++s) {
                const interp::StepEvents bound = m.step(s);
                EXPECT_EQ(m.single(s), bound.size() == 1 ? bound.front() : nullptr) << "step " << s;
            }
            EvalContext ctx;
            ctx.steps = &m;
            check(ctx, "no candidate");
            for (uint32_t cand = 0; cand < 4; ++cand)
                for (size_t e = 0; e < events.size(); e += 3) {
                    EvalContext c;
                    c.steps = &m;
                    c.current = events[e].get();
                    c.candidate_step = cand;
                    check(c, "candidate");
                }
        }
    EvalContext none; // no match: every other step reads missing
    check(none, "no match");
    EXPECT_GT(compared, 1000);
    EXPECT_GT(present, 300);
}

} // namespace
} // namespace ethogram::jit_test
