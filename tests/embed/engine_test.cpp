// engine_test.cpp: the public C++ embedding API (include/ethogram/engine.h) through libethogram only.
#include <ethogram/engine.h>
#include <ethogram/ethogram.h>

#include "tests/support/cli_harness.h"
#include "tests/support/embed_fixtures.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

const std::string kRules = ethogram::test_support::shop_rules("embed.test");

std::string cart(const std::string& user, long ms) {
    return R"({"type":"cart","user":")" + user + R"(","ts":)" + std::to_string(ms) + "}";
}

std::string buy(const std::string& user, long ms) {
    std::string s = R"({"type":"buy","user":")";
    s += user;
    s += R"(","ts":)";
    s += std::to_string(ms);
    s += "}";
    return s;
}

TEST(Engine, CompileErrorsAreReported) {
    std::string error;
    auto e = ethogram::Engine::from_source("bad.etho", "rule {", ethogram::EngineOptions{}, &error);
    EXPECT_EQ(e, nullptr);
    EXPECT_NE(error.find("bad.etho:1:"), std::string::npos) << error;
}

TEST(Engine, WatermarkFiresAbsenceAndPollReturnsIt) {
    std::string error;
    auto e = ethogram::test_support::engine_from_source(kRules);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->ruleset_name(), "embed.test");
    ASSERT_TRUE(e->push_json(cart("u1", 0), &error)) << error;
    EXPECT_TRUE(e->poll().empty());
    e->advance_watermark(10 * 60 * 1000000LL - 1); // the deadline itself: not yet
    EXPECT_TRUE(e->poll().empty());
    e->advance_watermark(10 * 60 * 1000000LL + 1);
    auto ds = e->poll();
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].rule, "abandon");
    EXPECT_EQ(ds[0].key, "u1");
    EXPECT_EQ(ds[0].time_us, 10 * 60 * 1000000LL);
    EXPECT_NE(ds[0].json.find("\"trigger\":\"absence\""), std::string::npos) << ds[0].json;
    // Below the watermark now: late.
    EXPECT_FALSE(e->push_json(cart("u2", 1000), &error));
    EXPECT_EQ(error.rfind("late:", 0), 0u) << error;
}

TEST(Engine, RefusedLinesSayWhyAndCountsAddUp) {
    std::string error;
    auto e = ethogram::test_support::engine_from_source(kRules);
    ASSERT_NE(e, nullptr);
    EXPECT_FALSE(e->push_json("{not json", &error));
    EXPECT_EQ(error.rfind("parse_error:", 0), 0u) << error;
    EXPECT_FALSE(e->push_json(R"({"type":"cart","ts":5})", &error));
    EXPECT_EQ(error.rfind("missing_field:", 0), 0u) << error;
    std::vector<ethogram::Detection> seen;
    e->on_detection([&](const ethogram::Detection& d) { seen.push_back(d); });
    EXPECT_TRUE(e->push_json(cart("a", 0)));
    EXPECT_TRUE(e->push_json(cart("b", 1000)));
    e->flush();
    EXPECT_EQ(seen.size(), 2u);
    EXPECT_FALSE(e->push_json(cart("c", 2000), &error)); // after flush
    const ethogram::EngineStats s = e->stats();
    EXPECT_EQ(s.events_in, 5u);
    EXPECT_EQ(s.events_in, s.processed + s.dead_letters + s.buffered);
    EXPECT_EQ(s.detections, 2u);
}

TEST(Engine, LatenessReordersWithinTheBound) {
    ethogram::EngineOptions o;
    o.allowed_lateness_us = 5 * 1000000LL;
    std::string error;
    auto e = ethogram::test_support::engine_from_source(kRules, o);
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->push_json(cart("a", 10000)));
    EXPECT_TRUE(e->push_json(cart("a", 7000)));          // 3 s late: within the bound
    EXPECT_FALSE(e->push_json(cart("a", 1000), &error)); // 9 s late
    EXPECT_EQ(e->stats().buffered, 2u);
    e->flush();
    EXPECT_EQ(e->stats().processed, 2u);
    EXPECT_EQ(e->poll().size(), 2u);
}

TEST(Engine, UnknownEngineIsRefused) {
    ethogram::EngineOptions o;
    o.engine = "fast";
    std::string error;
    EXPECT_EQ(ethogram::Engine::from_source("shop.etho", kRules, o, &error), nullptr);
    EXPECT_NE(error.find("unknown engine 'fast'"), std::string::npos) << error;
}

// The engine asked for is the one that runs (the JIT when the library has it), and both give the same
// detections for the same pushes, late and malformed lines included.
TEST(Engine, JitAndInterpreterGiveTheSameDetections) {
    std::vector<std::vector<std::string>> outs;
    for (const char* name : {"interp", "jit"}) {
        ethogram::EngineOptions o;
        o.engine = name;
        o.allowed_lateness_us = 2 * 1000000LL;
        auto e = ethogram::test_support::engine_from_source(kRules, o);
        ASSERT_NE(e, nullptr);
#ifdef ETHOGRAM_HAVE_JIT
        EXPECT_EQ(e->engine_name(), name);
        EXPECT_EQ(e->engine_warning(), "");
#else
        EXPECT_EQ(e->engine_name(), "interp");
        if (std::string(name) == "jit") EXPECT_NE(e->engine_warning(), "");
#endif
        std::vector<std::string> got;
        e->on_detection([&](const ethogram::Detection& d) { got.push_back(d.json); });
        for (int i = 0; i < 40; ++i) {
            std::string user = "u"; // appended, not `"u" + ...`: GCC 12 warns -Wrestrict on that here
            user += std::to_string(i % 7);
            std::string error;
            e->push_json(cart(user, i * 97000L), &error);
            if (i % 5 == 0) e->push_json(buy(user, i * 97000L + 500));
            if (i % 11 == 0) e->push_json("{broken", &error);
        }
        e->flush();
        EXPECT_GT(got.size(), 0u);
        outs.push_back(got);
    }
    EXPECT_EQ(outs[0], outs[1]);
}

TEST(Engine, CApiNamesItsEngine) {
    char* error = nullptr;
    ethogram_engine* e = ethogram_engine_from_source("shop.etho", kRules.c_str(), 0, &error);
    ASSERT_NE(e, nullptr) << (error ? error : "");
#ifdef ETHOGRAM_HAVE_JIT
    EXPECT_STREQ(ethogram_engine_name(e), "jit");
    EXPECT_EQ(ethogram_engine_warning(e), nullptr);
#else
    EXPECT_STREQ(ethogram_engine_name(e), "interp");
    char* w = ethogram_engine_warning(e);
    EXPECT_NE(w, nullptr);
    ethogram_free(w);
#endif
    ethogram_engine_free(e);
}

using ethogram::test_support::detection_id;
using ethogram::test_support::json_string;

// Every line of the e-commerce example pushed and flushed under `o`: the delivered detections.
std::vector<ethogram::Detection> ecommerce(ethogram::EngineOptions o, ethogram::EngineStats* st = nullptr) {
    o.allowed_lateness_us = ethogram::test_support::kExampleLatenessUs;
    o.engine = "interp";
    std::string error;
    auto e = ethogram::Engine::from_files({ethogram::test_support::example_dir("ecommerce") + "/rules"}, o,
                                          &error);
    EXPECT_NE(e, nullptr) << error;
    if (!e) return {};
    for (const std::string& l : ethogram::test_support::file_lines(
             ethogram::test_support::example_dir("ecommerce") + "/events.jsonl"))
        if (!l.empty()) e->push_json(l);
    e->flush();
    if (st) *st = e->stats();
    return e->poll();
}

TEST(Engine, OnlyKeepsATaxonomySubtreeAndCountsTheRest) {
    ethogram::EngineStats all_st, only_st;
    const std::vector<ethogram::Detection> all = ecommerce({}, &all_st);
    ethogram::EngineOptions o;
    o.only = "intent.purchase";
    const std::vector<ethogram::Detection> some = ecommerce(o, &only_st);
    // Every delivered detection names its behaviour, as its JSON does.
    std::vector<std::string> expected;
    for (const ethogram::Detection& d : all) {
        EXPECT_EQ(d.behaviour, json_string(d.json, "behaviour")) << d.json;
        if (d.behaviour.rfind("intent.purchase.", 0) == 0 || d.behaviour == "intent.purchase")
            expected.push_back(d.json);
    }
    std::vector<std::string> got;
    for (const ethogram::Detection& d : some) got.push_back(d.json);
    ASSERT_FALSE(expected.empty());
    ASSERT_LT(expected.size(), all.size());
    EXPECT_EQ(got, expected);
    // Nothing lost from the counts: delivered + filtered = all.
    EXPECT_EQ(all_st.filtered, 0u);
    EXPECT_EQ(only_st.detections + only_st.suppressed + only_st.filtered,
              all_st.detections + all_st.suppressed);
    EXPECT_EQ(only_st.detections, expected.size());

    // A node the rules do not declare.
    o.only = "intent.nothing";
    std::string error;
    EXPECT_EQ(ethogram::Engine::from_files({ethogram::test_support::example_dir("ecommerce") + "/rules"}, o,
                                           &error),
              nullptr);
    EXPECT_NE(error.find("unknown taxonomy node 'intent.nothing'"), std::string::npos) << error;
    EXPECT_NE(error.find("intent.purchase.abandonment"), std::string::npos) << error;
}

TEST(Engine, MaxEventsPerAliasBoundsTheLineNotTheId) {
    const std::vector<ethogram::Detection> all = ecommerce({});
    ethogram::EngineOptions o;
    o.max_events_per_alias = 1;
    const std::vector<ethogram::Detection> bounded = ecommerce(o);
    ASSERT_EQ(bounded.size(), all.size());
    size_t shortened = 0;
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(detection_id(bounded[i].json), detection_id(all[i].json));
        EXPECT_EQ(detection_id(all[i].json).size(), 16u) << all[i].json;
        if (bounded[i].json.find("\"omitted\"") != std::string::npos) {
            ++shortened;
            EXPECT_LT(bounded[i].json.size(), all[i].json.size());
        } else {
            EXPECT_EQ(bounded[i].json, all[i].json);
        }
    }
    EXPECT_GT(shortened, 0u); // the example has detections that bind several events to one alias
}

} // namespace
