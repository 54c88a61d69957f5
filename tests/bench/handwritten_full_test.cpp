// handwritten_full_test.cpp: bench/handwritten_full.h, a third executor of bench/rules/three.etho, gives
// exactly the interpreter's (and the JIT's) detections on generated workloads: every field of every
// detection, in the same order, not only their number or a digest.
#include "bench/handwritten_full.h"
#include "bench/workload.h"
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "runtime/decoder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

using namespace ethogram;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// three.etho with its import / ruleset lines replaced by the schema (as etho bench and matcher_profile do).
std::unique_ptr<ir::RuleSet> three_rules() {
    const std::string dir = std::string(ETHOGRAM_SOURCE_DIR) + "/bench/rules";
    std::string text = "ruleset bench.three version 1.0.0;\n" + read_file(dir + "/schema.etho") + "\n";
    std::istringstream in(read_file(dir + "/three.etho"));
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("import ") && !line.starts_with("ruleset ")) text += line + "\n";
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("three.etho", text, diags);
    if (diags.error_count() > 0) diags.print(std::cerr);
    return std::move(res.ruleset);
}

std::vector<ir::Event> decode(const ir::RuleSet& rs, ir::StringPool& pool, const std::string& jsonl) {
    runtime::Decoder dec(rs, pool);
    std::vector<ir::Event> out;
    std::istringstream in(jsonl);
    uint64_t line = 0;
    for (std::string text; std::getline(in, text);) {
        ir::Event e;
        if (dec.decode(text, ++line, e)) {
            e.seq = line;
            out.push_back(std::move(e));
        }
    }
    return out;
}

struct Collect : ir::DetectionSink {
    std::vector<ir::Detection> emitted;
    size_t suppressed_count = 0;
    void emit(ir::Detection&& d) override { emitted.push_back(std::move(d)); }
    void suppressed(ir::Detection&&) override { ++suppressed_count; }
};

/// Drives an executor or HandWrittenFull as matcher_profile and etho bench do.
template <class Ex>
void run(Ex& ex, const std::vector<ir::Event>& events, ir::DetectionSink& sink) {
    for (const ir::Event& e : events) {
        ex.advance_watermark(e.time, sink);
        ex.on_event(e, sink);
    }
    ex.advance_watermark(ir::kTimeInfinity, sink);
}

/// Every field of `a` and `b` equal; the message names the first that differs.
void expect_same(const ir::Detection& a, const ir::Detection& b, size_t i) {
    SCOPED_TRACE("detection " + std::to_string(i));
    ASSERT_EQ(a.rule, b.rule);
    ASSERT_EQ(a.key, b.key);
    ASSERT_EQ(a.time, b.time);
    ASSERT_EQ(a.first_time, b.first_time);
    ASSERT_EQ(a.last_time, b.last_time);
    ASSERT_EQ(a.confidence, b.confidence);
    ASSERT_EQ(a.id, b.id);
    ASSERT_EQ(a.suppressed_by, b.suppressed_by);
    ASSERT_EQ(a.trigger, b.trigger);
    ASSERT_EQ(a.decision, b.decision);
    ASSERT_EQ(a.models.size(), b.models.size());
    ASSERT_EQ(a.fields.size(), b.fields.size());
    for (size_t f = 0; f < a.fields.size(); ++f) {
        ASSERT_EQ(a.fields[f].type, b.fields[f].type);
        ASSERT_EQ(a.fields[f].i, b.fields[f].i);
    }
    ASSERT_EQ(a.bindings.size(), b.bindings.size());
    for (size_t k = 0; k < a.bindings.size(); ++k) {
        const ir::Binding &x = a.bindings[k], &y = b.bindings[k];
        ASSERT_EQ(x.alias, y.alias) << "binding " << k;
        ASSERT_EQ(x.step, y.step) << "binding " << k;
        ASSERT_EQ(x.events.size(), y.events.size()) << "binding " << k;
        for (size_t j = 0; j < x.events.size(); ++j) {
            ASSERT_EQ(x.events[j].seq, y.events[j].seq) << "binding " << k << " event " << j;
            ASSERT_EQ(x.events[j].line, y.events[j].line) << "binding " << k << " event " << j;
            ASSERT_EQ(x.events[j].time, y.events[j].time) << "binding " << k << " event " << j;
            ASSERT_EQ(x.events[j].id, y.events[j].id) << "binding " << k << " event " << j;
            ASSERT_EQ(x.events[j].type, y.events[j].type) << "binding " << k << " event " << j;
        }
    }
}

class HandWrittenFullTest : public ::testing::TestWithParam<bench::WorkloadOptions> {};

TEST_P(HandWrittenFullTest, SameDetectionsAsTheEngines) {
    auto rs = three_rules();
    ASSERT_TRUE(rs);
    ir::StringPool pool;
    ir::seed_string_pool(*rs, pool);
    const std::vector<ir::Event> events = decode(*rs, pool, bench::generate_workload(GetParam()));
    ASSERT_EQ(events.size(), GetParam().events);

    Collect interp_out, jit_out, hand_out;
    {
        auto ex = interp::make_interpreter(*rs, pool, ir::ExecutorOptions{});
        run(*ex, events, interp_out);
    }
    auto code = jit::compile_rule_set(*rs, jit::JitOptions{});
    ASSERT_TRUE(code) << code.error();
    {
        auto ex = interp::make_interpreter(*rs, pool, ir::ExecutorOptions{}, &(*code)->hooks());
        run(*ex, events, jit_out);
    }
    {
        bench::HandWrittenFull hw(*rs, pool);
        run(hw, events, hand_out);
    }

    // The workload exercises every rule and both triggers (a search burst, a cart then a purchase, an
    // absence fired by the watermark).
    std::vector<size_t> per_rule(rs->rules.size(), 0);
    size_t absences = 0;
    for (const ir::Detection& d : interp_out.emitted) {
        ++per_rule[d.rule];
        absences += d.trigger == "absence";
    }
    for (size_t r = 0; r < per_rule.size(); ++r) EXPECT_GT(per_rule[r], 0u) << rs->rules[r].name;
    EXPECT_GT(absences, 0u);

    EXPECT_EQ(interp_out.suppressed_count, 0u);
    EXPECT_EQ(hand_out.suppressed_count, 0u);
    ASSERT_EQ(hand_out.emitted.size(), interp_out.emitted.size());
    ASSERT_EQ(jit_out.emitted.size(), interp_out.emitted.size());
    for (size_t i = 0; i < interp_out.emitted.size(); ++i) {
        expect_same(hand_out.emitted[i], interp_out.emitted[i], i);
        expect_same(jit_out.emitted[i], interp_out.emitted[i], i);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

bench::WorkloadOptions workload(uint64_t events, uint32_t users, uint64_t seed) {
    bench::WorkloadOptions o;
    o.events = events;
    o.users = users;
    o.seed = seed;
    return o;
}

// The benchmark's seed at a small size; other seeds; few users (long histories per key, bursts of
// searches, many carts waiting on one key).
INSTANTIATE_TEST_SUITE_P(Workloads, HandWrittenFullTest,
                         ::testing::Values(workload(50000, 5000, 20261129), workload(40000, 2000, 7),
                                           workload(30000, 30, 1234)));

} // namespace
