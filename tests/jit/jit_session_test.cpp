// jit_session_test.cpp: the session attributes the JIT reads inline (session.duration, .events, .start,
// .last at fixed offsets of the context's SessionState) against the evaluator's session_attr, in values
// and predicates: without a session (missing), with a closed one (missing: no latest event), and with open
// ones of one or more events, short and long, including a duration that does not fit a comparison's
// threshold on either side. A compiled read that disagrees with the interpreter fails here. And the
// aggregates over a long session, which the compiled loops hand to the evaluator's fold, run side by side
// with the interpreter.
#include "compiler/interp/expr_eval.h"
#include "compiler/jit/jit.h"
#include "tests/jit/engine_pair.h"
#include "tests/jit/jit_fixture.h"

#include <gtest/gtest.h>

#include <random>
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

const char* kFoldRules = R"(ruleset session_fold_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int?; y: float?; d: duration?; page: string?; }
event B { key u: string; time ts: timestamp; x: int?; }
session s { gap 10s; }
rule tenth { label t; over session s; on A; when count(A) % 10 == 0;
             emit c = count(A), cb = count(B where x > 1), cd = count(A where dwell > 1s),
                  si = sum(A.x), sy = sum(A.y where x > 0), sd = sum(A.d), ai = avg(A.x), ad = avg(A.d),
                  mi = min(A.x), xy = max(A.y), xd = max(A.dwell where page == "a"),
                  di = distinct(A.page), tr = transitions(A.page), fp = first(A.page), lx = last(A.x); }
rule ended { label t; over session s; at session end; when count(A) > 0;
             emit c = count(A), cd = count(A where dwell > 1s), sy = sum(A.y), ad = avg(A.d),
                  xd = max(A.dwell where page == "a"), di = distinct(A.page); }
)";

// Long sessions (a few hundred events of a key, at most 2 s apart, with a gap of 10 s) through both
// engines: the JIT's loops take the evaluator's fold past ExprEvaluator::kFoldFrom events, and every
// detection must equal the interpreter's byte for byte (at the 10th, 20th, ... event, and at the end).
TEST(JitSessionFold, LongSessionsAgreeWithTheInterpreter) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("session_fold_test.etho", kFoldRules, diags);
    ASSERT_TRUE(res.ruleset) << diags.render();
    const ir::RuleSet& rs = *res.ruleset;
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    std::string error;
    auto pair = jit_test::EnginePair::make(rs, pool, {}, error);
    ASSERT_TRUE(pair) << error;
    struct Count : ir::DetectionSink {
        void emit(ir::Detection&& d) override { long_ones += d.fields[0].i >= 32; }
        void suppressed(ir::Detection&&) override {}
        uint64_t long_ones = 0;
    } sink;
    std::mt19937_64 rng(20261202);
    const uint32_t keys[] = {pool.intern("k0"), pool.intern("k1")};
    const uint32_t pages[] = {pool.intern("a"), pool.intern("b"), pool.intern("c")};
    auto field = [&](const ir::EventType& et, const char* name) {
        for (size_t i = 0; i < et.fields.size(); ++i)
            if (et.fields[i].name == name) return i;
        ADD_FAILURE() << "no field " << name;
        return size_t{0};
    };
    auto maybe = [&](ir::Value v) { return rng() % 5 == 0 ? ir::Value::missing() : v; };
    int64_t t = 1'700'000'000 * ir::kMicrosPerSecond;
    for (uint64_t seq = 1; seq <= 4000; ++seq) {
        t += rng() % 300 == 0 ? 30 * ir::kMicrosPerSecond : static_cast<int64_t>(rng() % 2001) * 1000;
        ir::Event e;
        e.type = rng() % 5 == 0 ? 1 : 0;
        const ir::EventType& et = rs.events[e.type];
        e.key = keys[rng() % 2];
        e.time = t;
        e.seq = e.line = seq;
        e.fields.assign(et.fields.size(), ir::Value::missing());
        e.fields[field(et, "u")] = ir::Value::string(e.key);
        e.fields[field(et, "ts")] = ir::Value::timestamp(t);
        e.fields[field(et, "x")] = maybe(ir::Value::integer(static_cast<int64_t>(rng() % 9) - 4));
        if (e.type == 0) {
            e.fields[field(et, "y")] = maybe(ir::Value::real(static_cast<double>(rng() % 1000) / 8.0 - 60.0));
            e.fields[field(et, "d")] = maybe(ir::Value::duration(static_cast<int64_t>(rng() % 5000) * 1000));
            e.fields[field(et, "page")] = maybe(ir::Value::string(pages[rng() % 3]));
        }
        pair->advance_watermark(t, sink);
        pair->on_event(e, sink);
    }
    pair->advance_watermark(ir::kTimeInfinity, sink);
    EXPECT_EQ(pair->mismatch(), "");
    EXPECT_GT(pair->compared(), 200u);
    EXPECT_GT(sink.long_ones, 100u); // detections over sessions the engines folded
}

} // namespace
} // namespace ethogram::jit_test
