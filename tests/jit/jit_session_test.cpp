// jit_session_test.cpp: the session attributes the JIT reads inline (session.duration, .events, .start,
// .last at fixed offsets of the context's SessionState) against the evaluator's session_attr, in values
// and predicates: without a session (missing), with a closed one (missing: no latest event), and with open
// ones of one or more events, short and long, including a duration that does not fit a comparison's
// threshold on either side. A compiled read that disagrees with the interpreter fails here.
#include "compiler/interp/expr_eval.h"
#include "compiler/jit/jit.h"
#include "tests/jit/jit_fixture.h"

#include <gtest/gtest.h>

#include <vector>

namespace ethogram::jit_test {
namespace {

using interp::EvalContext;
using interp::ExprEvaluator;
using interp::SessionState;
using ir::Value;

const char* kRules = R"(ruleset session_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int?; }
session s { gap 30m; }
rule r { label t; over session s; on A;
         when session.duration > 5m and session.events >= 3 or not (session.start < session.last);
         emit d = session.duration, n = session.events, st = session.start, la = session.last,
              span = session.last - session.start, mins = session.duration / 1m,
              more = session.events + 1, long = session.duration >= 10m, none = not (session.duration > 0s); }
)";

class JitSessions : public CompiledRules {
protected:
    void SetUp() override {
        compile("session_test.etho", kRules);
        if (HasFatalFailure()) return;
        const ir::Rule& r = rs->rules[0];
        preds.push_back(r.threshold.cond);
        for (const ir::Emit& em : r.emits) values.push_back(em.expr);
    }

    std::vector<ir::ExprId> preds, values;
};

TEST_F(JitSessions, CompiledAttributesAgreeWithTheEvaluator) {
    const interp::NativeHooks& h = code->hooks();
    ExprEvaluator plain(*rs, pool);
    // Starts and latest-event times (µs); the count is independent of them (as in a real session, where
    // it counts member events only).
    const int64_t starts[] = {0, 1'000'000, 1'700'000'000'000'000};
    const int64_t spans[] = {0, 1, 59'999'999, 300'000'000, 300'000'001, 600'000'000, 7'200'000'000};
    const uint64_t counts[] = {0, 1, 2, 3, 1000};
    int compared = 0, present = 0, absent = 0;
    auto check = [&](const EvalContext& ctx, bool open) {
        for (ir::ExprId id : values) {
            ASSERT_NE(h.exprs[id], nullptr) << "expression " << id;
            const Value want = plain.eval(id, ctx);
            Value got;
            ASSERT_EQ(h.exprs[id](&ctx, &plain, &got), 0) << "expression " << id << " bailed out";
            EXPECT_TRUE(same_value(got, want)) << "expression " << id << " open " << open;
            (want.is_missing() ? absent : present) += 1;
            ++compared;
        }
        for (ir::ExprId id : preds) {
            ASSERT_NE(h.tests[id], nullptr) << "predicate " << id;
            const int got = h.tests[id](&ctx, &plain);
            EXPECT_EQ(got, plain.test(id, ctx) ? 1 : 0) << "predicate " << id << " open " << open;
            ++compared;
        }
    };

    EvalContext none; // no session at all
    check(none, false);

    SessionState closed; // a session that is not open (no latest event): every attribute is missing
    closed.start = 5;
    closed.count = 7;
    EvalContext ctx;
    ctx.session = &closed;
    check(ctx, false);

    for (int64_t start : starts)
        for (int64_t span : spans)
            for (uint64_t n : counts) {
                SessionState s;
                s.start = start;
                s.count = n;
                ir::Event in = blank_event(0, 1);
                in.time = start + span;
                s.last_event = interp::make_event(in, 1);
                EvalContext c;
                c.session = &s;
                c.current = s.last_event.get();
                check(c, true);
            }
    EXPECT_GT(compared, 1000);
    EXPECT_GT(present, 500);
    // Without a session and with a closed one, the seven non-Bool values are missing (a comparison with a
    // missing operand is false, not missing).
    EXPECT_EQ(absent, 14);
}

} // namespace
} // namespace ethogram::jit_test
