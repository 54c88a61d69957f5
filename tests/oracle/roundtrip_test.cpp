// roundtrip_test.cpp: generated rule sets printed as .etho, compiled by the front end and run by the
// interpreter, must detect what the oracle expects from the generated IR (tests sema and lowering).
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "tests/oracle/diff_harness.h"
#include "tests/oracle/etho_print.h"
#include "tests/oracle/oracle.h"
#include "tests/oracle/random_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

namespace ethogram::oracle {
namespace {

class Collect : public ir::DetectionSink {
public:
    void emit(ir::Detection&& d) override { out.push_back(std::move(d)); }
    void suppressed(ir::Detection&& d) override { out.push_back(std::move(d)); }
    std::vector<ir::Detection> out;
};

/// The case's events re-encoded for the compiled rule set (type, field slots, strings and enums by name).
std::vector<ir::Event> reencode(const Case& c, const ir::RuleSet& to, ir::StringPool& pool) {
    std::vector<ir::Event> out;
    for (const ir::Event& e : c.events) {
        const ir::EventType& src = c.rs.events[e.type];
        ir::Event n = e;
        n.type = static_cast<uint16_t>(to.find_event(src.name));
        const ir::EventType& dst = to.events[n.type];
        n.key = pool.intern(c.rs.strings[e.key]);
        n.fields.assign(dst.fields.size(), ir::Value::missing());
        for (size_t i = 0; i < src.fields.size(); ++i) {
            size_t j = 0;
            while (j < dst.fields.size() && dst.fields[j].name != src.fields[i].name) ++j;
            ir::Value v = e.fields[i];
            if (v.type == ir::Type::String) v = ir::Value::string(pool.intern(c.rs.strings[v.i]));
            if (v.type == ir::Type::Enum) {
                const auto& names = dst.fields[j].enum_values;
                v.i = std::find(names.begin(), names.end(), src.fields[i].enum_values[v.i]) - names.begin();
            }
            n.fields[j] = v;
        }
        out.push_back(std::move(n));
    }
    return out;
}

/// Tuples with keys and rules as names, emitted values dropped (string ids differ between the pools;
/// the IR-level differential test compares values).
std::vector<std::string> normalise(const std::vector<Tuple>& ts, const ir::RuleSet& rs,
                                   const ir::StringPool& pool) {
    std::vector<std::string> out;
    for (Tuple t : ts) {
        t.fields.clear();
        out.push_back(format_tuple(rs, pool, t));
    }
    std::sort(out.begin(), out.end());
    return out;
}

class RoundTrip : public ::testing::TestWithParam<Family> {};

TEST_P(RoundTrip, CompiledTextAgreesWithTheOracle) {
    const uint64_t cases = env_u64("ETHOGRAM_DIFF_CASES", kDefaultCases) / 4;
    const uint64_t base = env_u64("ETHOGRAM_DIFF_SEED", 20261129);
    const Family f = GetParam();
    uint64_t compared = 0, inexpressible = 0, failures = 0;
    for (uint64_t i = 0; i < cases; ++i) {
        uint64_t seed = base * 7ULL + static_cast<uint64_t>(f) * 1000003ULL + i;
        Case c = generate_case(f, seed);
        std::optional<std::string> text = to_etho(c.rs);
        if (!text) {
            ++inexpressible;
            continue;
        }
        compiler::Diagnostics diags;
        auto res = compiler::compile_source("random.etho", *text, diags);
        if (!res.ruleset) {
            if (++failures <= 3)
                ADD_FAILURE() << "seed " << seed << ": does not compile:\n" << diags.render() << *text;
            continue;
        }
        ir::StringPool pool;
        ir::seed_string_pool(*res.ruleset, pool);
        std::vector<ir::Event> events = reencode(c, *res.ruleset, pool);
        Collect sink;
        ir::ExecutorOptions opts;
        opts.max_partial_matches = std::min<uint32_t>(c.max_partial_matches, opts.max_partial_matches);
        auto exec = interp::make_interpreter(*res.ruleset, pool, opts);
        for (const ir::Event& e : events) {
            exec->advance_watermark(e.time, sink);
            exec->on_event(e, sink);
        }
        exec->advance_watermark(ir::kTimeInfinity, sink);
        std::vector<Tuple> actual;
        for (const ir::Detection& d : sink.out) actual.push_back(to_tuple(d, *res.ruleset));
        ir::StringPool gen_pool;
        ir::seed_string_pool(c.rs, gen_pool);
        auto want = normalise(expected_detections(c.rs, c.events, c.max_partial_matches), c.rs, gen_pool);
        auto got = normalise(actual, *res.ruleset, pool);
        ++compared;
        if (want != got && ++failures <= 3) {
            std::string w, g;
            for (auto& s : want) w.append("    ").append(s).append("\n");
            for (auto& s : got) g.append("    ").append(s).append("\n");
            ADD_FAILURE() << "seed " << seed << ": compiled rules disagree with the oracle\n"
                          << *text << "--- stream\n"
                          << dump_events(c.rs, c.events) << "--- expected\n"
                          << w << "--- actual\n"
                          << g;
        }
    }
    std::cout << family_name(f) << ": " << compared << " compared, " << inexpressible << " not expressible\n";
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(compared, cases / 2);
}

INSTANTIATE_TEST_SUITE_P(Families, RoundTrip, ::testing::ValuesIn(all_families()),
                         [](const ::testing::TestParamInfo<Family>& info) {
                             return std::string(family_name(info.param));
                         });

} // namespace
} // namespace ethogram::oracle
