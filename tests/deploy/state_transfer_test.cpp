// state_transfer_test.cpp: Executor::take_state against two references on random streams: after a swap,
// unchanged rules detect exactly what the new version run from the start detects, and changed or new rules
// exactly what the new version run from the swap on detects. String literals differ between versions.
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#ifdef ETHOGRAM_HAVE_JIT
#include "compiler/jit/jit.h"
#endif
#include "runtime/decoder.h"
#include "runtime/hot_swap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <tuple>

namespace ethogram {
namespace {

const char* kSchema = R"(
event click {
    key user: string;
    time ts: timestamp;
    button: string;
}
session visit {
    gap 20s;
    events click;
}
taxonomy { intent { purchase; } }
)";

// Rules present in both versions with the same text: buy_then_pay (pattern), buy_no_pay (absence timer),
// busy (window), quick (a narrower window, nested in busy's ring: engine.h ScopeGroup::holder), per_visit
// (session scope). help_clicks changes its literal; gone is removed; fresh_rule
// is new in v2 and, being first, puts its literal first in v2's string table.
const char* kCommon = R"(
rule buy_then_pay {
    label intent.purchase;
    pattern a: click where a.button == "buy" -> b: click where b.button == "pay" within 1m;
}
rule buy_no_pay {
    label intent.purchase;
    pattern a: click where a.button == "buy" -> not p: click where p.button == "pay" within 15s;
}
rule busy {
    label intent.purchase;
    over last 10s;
    on click;
    when count(click) >= 4;
}
rule quick {
    label intent.purchase;
    over last 5s;
    on click;
    when count(click) >= 2;
}
rule per_visit {
    label intent.purchase;
    over session visit;
    at session end;
    when count(click where button == "pay") >= 1;
    emit clicks = count(click);
}
)";

std::string v1() {
    return std::string("ruleset st version 1.0.0;\n") + kSchema + R"(
rule help_clicks {
    label intent.purchase;
    over last 10s;
    on click;
    when count(click where button == "help") >= 2;
}
rule gone {
    label intent.purchase;
    over last 5s;
    on click;
    when count(click where button == "other") >= 2;
}
)" + kCommon;
}

std::string v2() {
    return std::string("ruleset st version 2.0.0;\n") + kSchema + R"(
rule fresh_rule {
    label intent.purchase;
    over last 10s;
    on click;
    when count(click where button == "zzz-new") + count(click where button == "other") >= 2;
}
rule help_clicks {
    label intent.purchase;
    over last 10s;
    on click;
    when count(click where button == "support") >= 2;
}
)" + kCommon;
}

std::unique_ptr<ir::RuleSet> compile(const std::string& text) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("st.etho", text, diags);
    EXPECT_TRUE(res.ruleset && diags.error_count() == 0);
    return std::move(res.ruleset);
}

std::vector<std::string> stream(uint32_t seed, size_t n) {
    std::mt19937 rng(seed);
    const char* buttons[] = {"buy", "pay", "help", "support", "other", "zzz-new"};
    std::vector<std::string> lines;
    int64_t t = 1767225600; // 2026-01-01T00:00:00Z
    for (size_t i = 0; i < n; ++i) {
        t += static_cast<int64_t>(rng() % 6);
        lines.push_back("{\"type\":\"click\",\"user\":\"u" + std::to_string(rng() % 7) +
                        "\",\"ts\":" + std::to_string(t) + ",\"button\":\"" + buttons[rng() % 6] + "\"}");
    }
    return lines;
}

// What a detection is compared on: rule name, key, time, first matched time, id.
using Seen = std::tuple<std::string, std::string, int64_t, int64_t, uint64_t>;

struct Collect final : ir::DetectionSink {
    const ir::RuleSet* rs = nullptr;
    const ir::StringPool* pool = nullptr;
    std::multiset<Seen> got;
    void emit(ir::Detection&& d) override {
        got.emplace(rs->rules[d.rule].name, std::string(pool->view(d.key)), d.time, d.first_time, d.id);
    }
    void suppressed(ir::Detection&&) override {}
};

std::unique_ptr<ir::Executor> make(const std::string& engine, const ir::RuleSet& rs, ir::StringPool& pool) {
#ifdef ETHOGRAM_HAVE_JIT
    if (engine == "jit") {
        jit::JitOptions jo;
        jo.cache_dir = "";
        auto j = jit::make_jit_executor(rs, pool, {}, jo);
        EXPECT_TRUE(j) << j.error();
        if (j) return std::move(*j);
    }
#endif
    (void)engine;
    return interp::make_interpreter(rs, pool, {});
}

// Feeds lines [from, to) (decoded by `rs` over `pool`, seq = line index) through `exec`.
void feed(ir::Executor& exec, const ir::RuleSet& rs, ir::StringPool& pool,
          const std::vector<std::string>& lines, size_t from, size_t to, ir::DetectionSink& sink) {
    runtime::Decoder dec(rs, pool, runtime::DecoderOptions{"type", runtime::EpochUnit::Seconds});
    for (size_t i = from; i < to; ++i) {
        ir::Event e;
        ASSERT_TRUE(dec.decode(lines[i], i + 1, e)) << dec.error().detail;
        e.seq = i;
        exec.advance_watermark(e.time, sink);
        exec.on_event(e, sink);
    }
}

std::multiset<Seen> only(const std::multiset<Seen>& s, const std::set<std::string>& rules) {
    std::multiset<Seen> out;
    for (const Seen& x : s)
        if (rules.count(std::get<0>(x))) out.insert(x);
    return out;
}

class StateTransferTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StateTransferTest, UnchangedRulesContinueChangedRulesStartFresh) {
    const std::set<std::string> carried = {"buy_then_pay", "buy_no_pay", "busy", "quick", "per_visit"};
    const std::set<std::string> fresh = {"fresh_rule", "help_clicks"};
    const uint32_t seeds = GetParam() == "jit" ? 2 : 6; // each JIT run compiles three rule sets
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
        SCOPED_TRACE(seed);
        // Fresh rule sets per run: bind_strings re-binds a rule set once, to one pool.
        auto a = compile(v1());
        auto b1 = compile(v2()), b2 = compile(v2()), b3 = compile(v2());
        ASSERT_TRUE(a && b1 && b2 && b3);
        const auto lines = stream(seed, 400);
        const size_t k = 150 + seed * 17;

        // The swap: v1 on [0, k), then v2 takes its state, on [k, n).
        ir::StringPool pool;
        ir::seed_string_pool(*a, pool);
        auto old = make(GetParam(), *a, pool);
        Collect before;
        before.rs = a.get();
        before.pool = &pool;
        feed(*old, *a, pool, lines, 0, k, before);
        ASSERT_FALSE(runtime::bind_strings(*b1, pool)); // "zzz-new" comes first in v2: ids re-bound
        auto next = make(GetParam(), *b1, pool);
        ir::StateTransfer tr;
        ASSERT_TRUE(next->take_state(*old, tr)) << tr.error;
        old.reset();
        EXPECT_EQ(std::set<std::string>(tr.carried_rules.begin(), tr.carried_rules.end()), carried);
        EXPECT_EQ(std::set<std::string>(tr.fresh_rules.begin(), tr.fresh_rules.end()), fresh);
        // A snapshot right after the swap restores into a fresh v2 executor: the scope rings the swap keeps
        // apart (busy's carried ring, fresh_rule's and help_clicks' fresh one, all `last 10s`) stay apart.
        std::string snap;
        ASSERT_TRUE(next->save_state(snap).ok());
        auto restored = make(GetParam(), *b1, pool);
        ASSERT_TRUE(restored->restore_state(snap).ok());
        Collect after;
        after.rs = b1.get();
        after.pool = &pool;
        feed(*next, *b1, pool, lines, k, lines.size(), after);
        next->advance_watermark(ir::kTimeInfinity, after);
        EXPECT_EQ(next->stats().events, lines.size());
        Collect after_restore;
        after_restore.rs = b1.get();
        after_restore.pool = &pool;
        feed(*restored, *b1, pool, lines, k, lines.size(), after_restore);
        restored->advance_watermark(ir::kTimeInfinity, after_restore);
        EXPECT_EQ(after_restore.got, after.got);

        // Reference 1: v2 from the start; what it emits from event k on, for the unchanged rules.
        ir::StringPool p2;
        ir::seed_string_pool(*b2, p2);
        auto whole = make(GetParam(), *b2, p2);
        Collect head, tail;
        head.rs = tail.rs = b2.get();
        head.pool = tail.pool = &p2;
        feed(*whole, *b2, p2, lines, 0, k, head);
        feed(*whole, *b2, p2, lines, k, lines.size(), tail);
        whole->advance_watermark(ir::kTimeInfinity, tail);
        EXPECT_EQ(only(after.got, carried), only(tail.got, carried));
        EXPECT_FALSE(only(tail.got, carried).empty());

        // Reference 2: v2 from the swap on; what the changed and new rules emit.
        ir::StringPool p3;
        ir::seed_string_pool(*b3, p3);
        auto late = make(GetParam(), *b3, p3);
        Collect from_k;
        from_k.rs = b3.get();
        from_k.pool = &p3;
        feed(*late, *b3, p3, lines, k, lines.size(), from_k);
        late->advance_watermark(ir::kTimeInfinity, from_k);
        EXPECT_EQ(only(after.got, fresh), only(from_k.got, fresh));
        EXPECT_FALSE(only(from_k.got, fresh).empty());
        // Nothing else: the removed rule is gone.
        EXPECT_EQ(after.got.size(), only(after.got, carried).size() + only(after.got, fresh).size());
    }
}

TEST_P(StateTransferTest, ASchemaChangeStartsEverythingFresh) {
    auto a = compile(v1());
    std::string text = v2();
    text.replace(text.find("button: string;"), 15, "button: string;\n    extra: int?;");
    auto b = compile(text);
    ASSERT_TRUE(a && b);
    const auto lines = stream(7, 100);
    ir::StringPool pool;
    ir::seed_string_pool(*a, pool);
    auto old = make(GetParam(), *a, pool);
    Collect sink;
    sink.rs = a.get();
    sink.pool = &pool;
    feed(*old, *a, pool, lines, 0, 50, sink);
    runtime::bind_strings(*b, pool);
    auto next = make(GetParam(), *b, pool);
    ir::StateTransfer tr;
    ASSERT_TRUE(next->take_state(*old, tr)) << tr.error;
    EXPECT_TRUE(tr.carried_rules.empty());
    EXPECT_EQ(tr.fresh_rules.size(), b->rules.size());
    EXPECT_EQ(tr.keys, 0u);
    EXPECT_EQ(next->stats().live_keys, 0u);
}

// Rules of one scope share a scope ring. After a swap, a carried rule keeps its history and a new rule of
// the same scope starts with an empty scope, as if each had its own ring; a snapshot keeps them apart.
TEST_P(StateTransferTest, CarriedAndFreshRulesOfOneScopeKeepTheirOwnScopes) {
    const char* busy = R"(
rule busy {
    label intent.purchase;
    over last 1m;
    on click;
    when count(click) == 4;
}
rule busy_n {
    label intent.purchase;
    over last 5 events;
    on click;
    when count(click) == 4;
}
)";
    const char* fresh = R"(
rule fresh_busy {
    label intent.purchase;
    over last 1m;
    on click;
    when count(click) == 1;
}
rule fresh_n {
    label intent.purchase;
    over last 5 events;
    on click;
    when count(click) == 1;
}
)";
    auto a = compile(std::string("ruleset st version 1.0.0;\n") + kSchema + busy);
    auto b = compile(std::string("ruleset st version 2.0.0;\n") + kSchema + fresh + busy);
    ASSERT_TRUE(a && b);
    std::vector<std::string> lines;
    for (int i = 0; i < 4; ++i)
        lines.push_back("{\"type\":\"click\",\"user\":\"u1\",\"ts\":" + std::to_string(1767225600 + i) +
                        ",\"button\":\"buy\"}");
    ir::StringPool pool;
    ir::seed_string_pool(*a, pool);
    auto old = make(GetParam(), *a, pool);
    Collect before;
    before.rs = a.get();
    before.pool = &pool;
    feed(*old, *a, pool, lines, 0, 3, before);
    EXPECT_TRUE(before.got.empty());
    runtime::bind_strings(*b, pool);
    auto next = make(GetParam(), *b, pool);
    ir::StateTransfer tr;
    ASSERT_TRUE(next->take_state(*old, tr)) << tr.error;
    ASSERT_EQ(tr.carried_rules.size(), 2u);
    std::string snap;
    ASSERT_TRUE(next->save_state(snap).ok());
    auto restored = make(GetParam(), *b, pool);
    ASSERT_TRUE(restored->restore_state(snap).ok());
    for (ir::Executor* x : {next.get(), restored.get()}) {
        Collect after;
        after.rs = b.get();
        after.pool = &pool;
        feed(*x, *b, pool, lines, 3, 4, after);
        std::multiset<std::string> rules;
        for (const Seen& d : after.got) rules.insert(std::get<0>(d));
        EXPECT_EQ(rules, (std::multiset<std::string>{"busy", "busy_n", "fresh_busy", "fresh_n"}));
    }
}

// A long session's aggregates are folds kept with its events (state.h SessionEvents), named by the rule
// set's aggregate classes: a swap to a version whose classes are numbered otherwise (a new rule first)
// must not continue them. One key, one session of 600 events; the carried rule's emitted counts after
// the swap equal those of v2 run from the start.
TEST_P(StateTransferTest, CarriedSessionAggregatesAreNotContinuedFromTheOldFolds) {
    const std::string common = R"(
rule every_fifth_buy {
    label intent.purchase;
    over session visit;
    on click;
    when count(click where button == "buy") % 5 == 0;
    emit buys = count(click where button == "buy"), pays = count(click where button == "pay"),
         kinds = distinct(click.button);
}
)";
    const std::string one = std::string("ruleset st version 1.0.0;\n") + kSchema + common;
    const std::string two = std::string("ruleset st version 2.0.0;\n") + kSchema + R"(
rule helpers {
    label intent.purchase;
    over session visit;
    on click;
    when count(click where button == "help") > 1000000 and count(click) > 1000000;
}
)" + common;
    auto a = compile(one);
    auto b = compile(two), b2 = compile(two);
    ASSERT_TRUE(a && b && b2);
    std::mt19937 rng(7);
    const char* buttons[] = {"buy", "pay", "help", "other"};
    std::vector<std::string> lines;
    int64_t t = 1767225600;
    for (int i = 0; i < 600; ++i) {
        t += static_cast<int64_t>(rng() % 3);
        lines.push_back("{\"type\":\"click\",\"user\":\"u\",\"ts\":" + std::to_string(t) + ",\"button\":\"" +
                        buttons[rng() % 4] + "\"}");
    }
    struct Fields final : ir::DetectionSink {
        const ir::RuleSet* rs = nullptr;
        std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> got; // time, buys, pays, kinds
        void emit(ir::Detection&& d) override {
            if (rs->rules[d.rule].name == "every_fifth_buy")
                got.emplace_back(d.time, d.fields[0].i, d.fields[1].i, d.fields[2].i);
        }
        void suppressed(ir::Detection&&) override {}
    };
    const size_t k = 300;
    ir::StringPool pool;
    ir::seed_string_pool(*a, pool);
    auto old = make(GetParam(), *a, pool);
    Fields before;
    before.rs = a.get();
    feed(*old, *a, pool, lines, 0, k, before);
    runtime::bind_strings(*b, pool);
    auto next = make(GetParam(), *b, pool);
    ir::StateTransfer tr;
    ASSERT_TRUE(next->take_state(*old, tr)) << tr.error;
    old.reset();
    Fields after;
    after.rs = b.get();
    feed(*next, *b, pool, lines, k, lines.size(), after);

    ir::StringPool p2;
    ir::seed_string_pool(*b2, p2);
    auto whole = make(GetParam(), *b2, p2);
    Fields head, tail;
    head.rs = tail.rs = b2.get();
    feed(*whole, *b2, p2, lines, 0, k, head);
    feed(*whole, *b2, p2, lines, k, lines.size(), tail);
    EXPECT_EQ(before.got, head.got);
    EXPECT_EQ(after.got, tail.got);
    ASSERT_GT(tail.got.size(), 5u);
    EXPECT_GT(std::get<1>(tail.got.back()), 100); // past ExprEvaluator::kFoldFrom: the folds were used
}

TEST(StateTransfer, RefusedWithoutASharedPoolOrWhenNotFresh) {
    auto a = compile(v1()), b = compile(v2());
    ir::StringPool p1, p2;
    ir::seed_string_pool(*a, p1);
    ir::seed_string_pool(*b, p2);
    auto old = interp::make_interpreter(*a, p1, {});
    auto next = interp::make_interpreter(*b, p2, {});
    ir::StateTransfer tr;
    EXPECT_FALSE(next->take_state(*old, tr));
    EXPECT_NE(tr.error.find("string pool"), std::string::npos);
}

#ifdef ETHOGRAM_HAVE_JIT
INSTANTIATE_TEST_SUITE_P(Engines, StateTransferTest, ::testing::Values("interp", "jit"));
#else
INSTANTIATE_TEST_SUITE_P(Engines, StateTransferTest, ::testing::Values("interp"));
#endif

} // namespace
} // namespace ethogram
