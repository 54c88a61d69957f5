// jit_aggregate_test.cpp: the aggregates the JIT compiles as loops over the scope (count, sum, avg, min,
// max; with and without a filter; int, float and duration values) against the evaluator's
// eval_aggregate: on random scopes (empty ones and no scope at all among them) of events whose fields are
// present, missing or of another type than declared (the native code then bails out, and the evaluator
// interprets), on views of a ring's last elements (a nested window's scope: EvalContext::scope_from), and
// with the scope's kept words (engine.h ScopeGroup::kept): a kept count, a fresh kept float sum and a
// stale one, which both engines rescan and write back alike.
#include "compiler/interp/exact_sum.h"
#include "compiler/interp/expr_eval.h"
#include "compiler/jit/jit.h"
#include "tests/jit/jit_fixture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ethogram::jit_test {
namespace {

using interp::EvalContext;
using interp::EventPtr;
using interp::ExprEvaluator;
using ir::Type;
using ir::Value;

const char* kRules = R"(ruleset agg_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int?; y: float?; d: duration?; f: bool?; }
event B { key u: string; time ts: timestamp; x: int?; y: float?; d: duration?; f: bool?; }
rule th { label t; over last 5m; on A; when count(A) >= 0;
          emit c = count(A), cf = count(A where f), cb = count(B where x > 1),
               si = sum(A.x), sif = sum(A.x where x > 1), sy = sum(A.y), syf = sum(A.y where f), sd = sum(A.d),
               ai = avg(A.x), ay = avg(A.y where not f), ad = avg(A.d),
               mi = min(A.x), xi = max(B.x where f), my = min(A.y), xy = max(A.y), md = max(A.d where x > 1); }
)";

class JitAggregates : public CompiledRules {
protected:
    void SetUp() override {
        compile("agg_test.etho", kRules);
        if (HasFatalFailure()) return;
        for (const ir::Emit& em : rs->rules[0].emits) {
            ASSERT_EQ(rs->exprs[em.expr].kind, ir::ExprKind::Aggregate) << em.name;
            aggs.push_back(em.expr);
        }
    }

    /// A random reading of field `name`: present (of its type), missing, or (rarely) of another type.
    Value reading(const std::string& name, std::mt19937& rng, bool& wrong) {
        const int r = static_cast<int>(rng() % 10);
        if (r < 2) return Value::missing();
        if (r == 9) {
            wrong = true;
            return name == "x" ? Value::real(2.5) : Value::integer(2);
        }
        if (name == "x") return Value::integer(static_cast<int64_t>(rng() % 7) - 2);
        if (name == "d") return Value::duration(static_cast<int64_t>(rng() % 5'000'000));
        if (name == "f") return Value::boolean(rng() % 2 == 0);
        // Floats whose sums rounded at each addition depend on the order, and a NaN now and then (min / max
        // skip it).
        if (r == 8) return Value::real(std::numeric_limits<double>::quiet_NaN());
        static const double fs[] = {0.1, 0.2, 1e16, -1e16, 3.3, -0.0, 7.25};
        return Value::real(fs[rng() % std::size(fs)]);
    }

    EventPtr event(uint16_t type, std::mt19937& rng, uint64_t ord, bool& wrong) {
        ir::Event in = blank_event(type, ord);
        for (const char* f : {"x", "y", "d", "f"}) in.fields[slot(type, f)] = reading(f, rng, wrong);
        return interp::make_event(in, ord);
    }

    std::vector<ir::ExprId> aggs;
};

TEST_F(JitAggregates, CompiledLoopsAgreeWithTheEvaluator) {
    const interp::NativeHooks& h = code->hooks();
    ExprEvaluator plain(*rs, pool);
    ExprEvaluator native(*rs, pool);
    native.set_native(&h);
    std::mt19937 rng(12345);
    int compared = 0, bailed = 0, empty = 0, missing = 0, from_views = 0;
    for (int round = 0; round < 3000; ++round) {
        interp::EventBuffer scope;
        bool wrong = false;
        const size_t n = rng() % 9; // 0: an empty scope
        for (size_t k = 0; k < n; ++k) scope.push_back(event(rng() % 4 == 0 ? 1 : 0, rng, k + 1, wrong));
        empty += n == 0;
        EvalContext ctx;
        ctx.current = n ? scope.back().get() : nullptr;
        ctx.scope = round % 50 == 7 ? nullptr : &scope; // no scope at all: nothing to aggregate
        // A nested window's view (engine.h ScopeGroup::holder): the ring's elements from scope_from on.
        if (ctx.scope && round % 3 == 1) ctx.scope_from = static_cast<uint32_t>(rng() % (n + 1));
        from_views += ctx.scope_from > 0;
        for (ir::ExprId id : aggs) {
            ASSERT_NE(h.exprs[id], nullptr) << "expression " << id;
            const Value want = plain.eval(id, ctx);
            missing += want.is_missing();
            Value got;
            if (h.exprs[id](&ctx, &native, &got) == 0) {
                EXPECT_TRUE(same_value(got, want)) << "expression " << id << " round " << round;
            } else {
                EXPECT_TRUE(wrong) << "expression " << id << " bailed out on well-typed values";
                ++bailed;
            }
            EXPECT_TRUE(same_value(native.eval(id, ctx), want)) << "expression " << id;
            ++compared;
        }
    }
    EXPECT_GT(compared, 10000);
    EXPECT_GT(bailed, 100);
    EXPECT_GT(empty, 100);
    EXPECT_GT(missing, 1000);
    EXPECT_GT(from_views, 500);
}

TEST_F(JitAggregates, KeptWordsAreReadAndKeptAgainAlike) {
    const interp::NativeHooks& h = code->hooks();
    // Words for the counts and the float sums (what ScopeGroup::kept keeps); the others are rescanned.
    std::vector<uint32_t> table(rs->aggregates.size(), ExprEvaluator::kNoWord);
    uint32_t nwords = 0;
    for (uint32_t a = 0; a < rs->aggregates.size(); ++a) {
        const ir::Aggregate& agg = rs->aggregates[a];
        if (agg.kind == ir::AggKind::Count) {
            table[a] = nwords++;
        } else if (agg.kind == ir::AggKind::Sum && agg.type == Type::Float) {
            table[a] = nwords;
            nwords += interp::kept_sum::kWords;
        }
    }
    ExprEvaluator plain(*rs, pool);
    ExprEvaluator native(*rs, pool);
    plain.set_scope_words(&table);
    native.set_scope_words(&table);
    native.set_native(&h);
    std::mt19937 rng(777);
    int kept_read = 0, rescanned = 0;
    for (int round = 0; round < 500; ++round) {
        interp::EventBuffer scope;
        bool wrong = false;
        const size_t n = 1 + rng() % 6;
        for (size_t k = 0; k < n; ++k) scope.push_back(event(0, rng, k + 1, wrong));
        if (wrong) continue; // a bail-out leaves the words to the evaluator: covered above
        std::vector<int64_t> words(nwords);
        for (uint32_t w = 0; w < nwords; ++w) words[w] = static_cast<int64_t>(rng() % 1000);
        for (uint32_t a = 0; a < rs->aggregates.size(); ++a) // float sums: fresh bits or stale
            if (rs->aggregates[a].kind == ir::AggKind::Sum && table[a] != ExprEvaluator::kNoWord) {
                const double s = 0.5 * static_cast<double>(rng() % 100);
                std::memcpy(&words[table[a]], &s, sizeof s);
                words[table[a] + 1] = static_cast<int64_t>(rng() % 2);
                for (uint32_t p = 2; p < interp::kept_sum::kWords; ++p) words[table[a] + p] = 0;
            }
        std::vector<int64_t> plain_words = words, native_words = words;
        EvalContext pc, nc;
        pc.current = nc.current = scope.back().get();
        pc.scope = nc.scope = &scope;
        pc.scope_counts = plain_words.data();
        nc.scope_counts = native_words.data();
        pc.scope_words = nc.scope_words = table.data();
        for (ir::ExprId id : aggs) {
            const ir::Aggregate& agg = rs->aggregates[rs->exprs[id].agg];
            const uint32_t w = table[rs->exprs[id].agg];
            const bool stale =
                w != ExprEvaluator::kNoWord && agg.kind == ir::AggKind::Sum && words[w + 1] != 0;
            const Value want = plain.eval(id, pc);
            Value got;
            ASSERT_EQ(h.exprs[id](&nc, &native, &got), 0) << "expression " << id;
            EXPECT_TRUE(same_value(got, want)) << "expression " << id << " round " << round;
            kept_read += w != ExprEvaluator::kNoWord && !stale;
            rescanned += stale;
        }
        EXPECT_EQ(plain_words, native_words) << "round " << round;
    }
    EXPECT_GT(kept_read, 500);
    EXPECT_GT(rescanned, 100);
}

} // namespace
} // namespace ethogram::jit_test
