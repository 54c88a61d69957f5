// config_test.cpp: YAML configuration: defaults, every key, and clear errors.
#include "runtime/config.h"

#include "tests/runtime/test_schema.h"

#include <gtest/gtest.h>

namespace ethogram::runtime {
namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

TEST(Config, EmptyIsDefaults) {
    auto c = parse_config("", "c.yaml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->allowed_lateness_us, 0);
    EXPECT_EQ(c->epoch_unit, EpochUnit::Millis);
    EXPECT_EQ(c->type_field, "type");
    EXPECT_EQ(c->max_partial_matches, 1000u);
    EXPECT_EQ(c->max_scope_events, 100000u);
    EXPECT_FALSE(c->explain);
    EXPECT_EQ(c->max_events_per_alias, 1000u);
}

TEST(Config, EveryKey) {
    auto c = parse_config("time: { allowed_lateness: 30s }\n"
                          "input: { epoch_unit: s, type_field: kind, path: in.jsonl }\n"
                          "state:\n  max_partial_matches: 50\n  max_scope_events: 7\n"
                          "output: { explain: true, path: o.jsonl, dead_letter: d.jsonl, suppressed: s.jsonl,"
                          " summary_json: sum.json, max_events_per_alias: 25 }\n",
                          "c.yaml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->allowed_lateness_us, 30000000);
    EXPECT_EQ(c->epoch_unit, EpochUnit::Seconds);
    EXPECT_EQ(c->type_field, "kind");
    EXPECT_EQ(c->input_path, "in.jsonl");
    EXPECT_EQ(c->max_partial_matches, 50u);
    EXPECT_EQ(c->max_scope_events, 7u);
    EXPECT_TRUE(c->explain);
    EXPECT_EQ(c->output_path, "o.jsonl");
    EXPECT_EQ(c->dead_letter_path, "d.jsonl");
    EXPECT_EQ(c->suppressed_path, "s.jsonl");
    EXPECT_EQ(c->summary_json_path, "sum.json");
    EXPECT_EQ(c->max_events_per_alias, 25u);
}

TEST(Config, LatenessAsMillisNumber) {
    auto c = parse_config("time: { allowed_lateness: 1500 }", "c.yaml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->allowed_lateness_us, 1500000);
}

TEST(Config, UnknownKeysNameThePath) {
    auto top = parse_config("tme: { allowed_lateness: 5s }", "c.yaml");
    ASSERT_FALSE(top);
    EXPECT_TRUE(contains(top.error(), "c.yaml")) << top.error();
    EXPECT_TRUE(contains(top.error(), "'tme'")) << top.error();
    auto nested = parse_config("time: { allowed_latenes: 5s }", "c.yaml");
    ASSERT_FALSE(nested);
    EXPECT_TRUE(contains(nested.error(), "time.allowed_latenes")) << nested.error();
    EXPECT_TRUE(contains(nested.error(), "allowed_lateness")) << nested.error(); // what is expected
}

TEST(Config, BadValuesSayWhatIsExpected) {
    struct Case {
        const char* yaml;
        const char* path;
        const char* expected;
    };
    for (const Case& c :
         {Case{"time: { allowed_lateness: soon }", "time.allowed_lateness", "duration"},
          Case{"input: { epoch_unit: ns }", "input.epoch_unit", "'ms' or 's'"},
          Case{"state: { max_partial_matches: -3 }", "state.max_partial_matches", "positive integer"},
          Case{"state: { max_scope_events: 0 }", "state.max_scope_events", "positive integer"},
          Case{"output: { explain: maybe }", "output.explain", "true or false"},
          Case{"time: [1, 2]", "time", "mapping"}}) {
        auto r = parse_config(c.yaml, "cfg.yaml");
        ASSERT_FALSE(r) << c.yaml;
        EXPECT_TRUE(contains(r.error(), "cfg.yaml")) << r.error();
        EXPECT_TRUE(contains(r.error(), c.path)) << r.error();
        EXPECT_TRUE(contains(r.error(), c.expected)) << r.error();
    }
}

TEST(Config, InvalidYamlHasALocation) {
    auto r = parse_config("time: {allowed_lateness: 5s\n", "bad.yaml");
    ASSERT_FALSE(r);
    EXPECT_TRUE(contains(r.error(), "bad.yaml:")) << r.error();
    EXPECT_TRUE(contains(r.error(), "invalid YAML")) << r.error();
}

TEST(Config, LoadFromFile) {
    testing::TempDir dir;
    auto ok = load_config(dir.write("c.yaml", "time: { allowed_lateness: 2m }\n"));
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ(ok->allowed_lateness_us, 120000000);
    auto missing = load_config(dir.file("nope.yaml"));
    ASSERT_FALSE(missing);
    EXPECT_TRUE(contains(missing.error(), "nope.yaml")) << missing.error();
}

} // namespace
} // namespace ethogram::runtime
