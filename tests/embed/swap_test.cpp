// swap_test.cpp: hot deployment through the embedding API (Engine::swap_rules): a swap to the same rules
// changes nothing, byte for byte; unchanged rules keep their state across versions and changed ones start
// fresh; buffered events are decoded again from what was pushed; snapshots taken after a swap restore.
#include <ethogram/engine.h>
#include <ethogram/ethogram.h>

#include "tests/support/embed_fixtures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace {

using ethogram::Detection;
using ethogram::Engine;
using ethogram::EngineOptions;
using ethogram::SwapReport;
using ethogram::test_support::engines;
using ethogram::test_support::example_dir;
using ethogram::test_support::file_lines;

EngineOptions options(const std::string& engine, int64_t lateness_us) {
    EngineOptions o;
    o.engine = engine;
    o.jit_cache = false;
    o.allowed_lateness_us = lateness_us;
    return o;
}

std::vector<std::string> texts(const std::vector<Detection>& ds) {
    std::vector<std::string> out;
    for (const Detection& d : ds) out.push_back(d.json + (d.suppressed ? " (suppressed)" : ""));
    return out;
}

// The e-commerce example swapped to its own rules at several points, under each executor: the detections,
// suppressed ones included, and every counter equal a run without a swap.
TEST(Swap, ToTheSameRulesChangesNothing) {
    const std::string rules = example_dir("ecommerce") + "/rules";
    std::vector<std::string> lines;
    for (const std::string& l : file_lines(example_dir("ecommerce") + "/events.jsonl"))
        if (!l.empty()) lines.push_back(l);
    ASSERT_GT(lines.size(), 1000u);
    for (const std::string& engine : engines()) {
        SCOPED_TRACE(engine);
        const EngineOptions o = options(engine, ethogram::test_support::kExampleLatenessUs);
        std::string error;
        auto whole = Engine::from_files({rules}, o, &error);
        ASSERT_NE(whole, nullptr) << error;
        for (const std::string& l : lines) whole->push_json(l);
        whole->flush();
        const std::vector<std::string> expected = texts(whole->poll());
        ASSERT_GT(expected.size(), 100u);

        auto e = Engine::from_files({rules}, o, &error);
        ASSERT_NE(e, nullptr) << error;
        uint64_t buffered = 0;
        for (size_t i = 0; i < lines.size(); ++i) {
            if (i == lines.size() / 3 || i == 2 * lines.size() / 3) {
                SwapReport rep;
                ASSERT_TRUE(e->swap_rules(Engine::from_files({rules}, o, &error), &rep, &error)) << error;
                EXPECT_TRUE(rep.carried) << rep.why;
                EXPECT_TRUE(rep.fresh_rules.empty());
                EXPECT_FALSE(rep.carried_rules.empty());
                EXPECT_GT(rep.keys, 0u);
                EXPECT_TRUE(rep.refused.empty());
                EXPECT_EQ(rep.from, rep.to);
                buffered += rep.buffered;
                EXPECT_EQ(e->engine_name(), engine);
            }
            e->push_json(lines[i]);
        }
        EXPECT_GT(buffered, 0u); // the example allows 30 s of lateness: events were held at the swaps
        e->flush();
        EXPECT_EQ(texts(e->poll()), expected);
        const ethogram::EngineStats a = whole->stats(), b = e->stats();
        EXPECT_EQ(b.events_in, a.events_in);
        EXPECT_EQ(b.processed, a.processed);
        EXPECT_EQ(b.dead_letters, a.dead_letters);
        EXPECT_EQ(b.detections, a.detections);
        EXPECT_EQ(b.suppressed, a.suppressed);
    }
}

// Versions of a small shop. `abandon` (over carts and buys) is the same in all; version 2 changes `busy`'s
// threshold and adds `promo`. With `coupons`, `view` gains a required `page` and an optional `coupon`, which
// `promo` reads: a schema change (docs/governance.md: nothing is carried across one).
std::string shop(int version, bool coupons = false) {
    std::string s = "ruleset embed.swap version " + std::to_string(version) + ".0.0;\n";
    s += "event cart {\n    key user: string;\n    time ts: timestamp;\n}\n";
    s += "event buy {\n    key user: string;\n    time ts: timestamp;\n}\n";
    s += "event view {\n    key user: string;\n    time ts: timestamp;\n";
    if (coupons) s += "    page: string;\n    coupon: string?;\n";
    s += "}\ntaxonomy {\n    shop {\n        abandon;\n        busy;\n        promo;\n    }\n}\n";
    s += "rule abandon {\n    label shop.abandon;\n    pattern c: cart where c.user != \"bot\" -> not b: buy "
         "within "
         "10m;\n}\n";
    s += "rule busy {\n    label shop.busy;\n    over last 1h;\n    on cart;\n    when count(cart) >= " +
         std::string(version == 1 ? "3" : "2") + ";\n}\n";
    if (version == 2)
        s += "rule promo {\n    label shop.promo;\n    over last 1m;\n    on view;\n    when " +
             std::string(coupons ? "count(view where coupon == \"SPRING\") >= 1" : "count(view) >= 2") +
             ";\n}\n";
    return s;
}

std::string event(const std::string& type, const std::string& user, long s, const std::string& more = "") {
    return R"({"type":")" + type + R"(","user":")" + user + R"(","ts":)" + std::to_string(s * 1000) + more +
           "}";
}

// "rule key time" of every detection of `rules` (all when empty), sorted.
std::vector<std::string> of(const std::vector<Detection>& ds, const std::vector<std::string>& rules = {}) {
    std::vector<std::string> out;
    for (const Detection& d : ds)
        if (rules.empty() || std::find(rules.begin(), rules.end(), d.rule) != rules.end())
            out.push_back(d.rule + " " + d.key + " " + std::to_string(d.time_us));
    std::sort(out.begin(), out.end());
    return out;
}

bool has_prefix(const std::vector<std::string>& v, const std::string& prefix) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
}

// `text` from scratch over `lines`, flushed: its detections.
std::vector<Detection> run_from_scratch(const std::string& text, const EngineOptions& o,
                                        const std::vector<std::string>& lines) {
    std::string error;
    auto e = Engine::from_source("ref.etho", text, o, &error);
    EXPECT_NE(e, nullptr) << error;
    if (!e) return {};
    for (const std::string& l : lines) e->push_json(l);
    e->flush();
    return e->poll();
}

// A stream swapped between `before` and `after`; `held`: the events of `before` still buffered then.
struct Stream {
    std::vector<std::string> before, after;
    size_t held = 0;
    std::vector<std::string> whole() const {
        std::vector<std::string> v = before;
        v.insert(v.end(), after.begin(), after.end());
        return v;
    }
    std::vector<std::string> since_swap() const {
        std::vector<std::string> v(before.end() - static_cast<std::ptrdiff_t>(held), before.end());
        v.insert(v.end(), after.begin(), after.end());
        return v;
    }
};

// Events for version 1 and 2 (the same schemas).
Stream same_schema_stream() {
    Stream st;
    st.before = {event("cart", "u1", 0),   event("cart", "u1", 10),  event("cart", "u2", 20),
                 event("cart", "u9", 200), event("view", "u3", 230), event("view", "u3", 235),
                 event("buy", "u2", 240)};
    st.held = 4; // after the watermark at the swap (240 s - 60 s of lateness)
    st.after = {event("cart", "u1", 300), event("cart", "u1", 320), event("view", "u5", 330)};
    return st;
}

// Events for version 1 and version 2 with coupons (a schema change).
Stream coupon_stream() {
    Stream st;
    st.before = {
        event("cart", "u1", 0), event("cart", "u9", 200),
        event("view", "u3", 230, R"(,"page":"home","coupon":"SPRING")"), // coupon: unknown to version 1
        event("view", "u4", 235),                                        // no page: version 2 refuses it
        event("buy", "u2", 240)};
    st.held = 4;
    st.after = {event("cart", "u1", 300), event("view", "u5", 330, R"(,"page":"p","coupon":"SPRING")")};
    return st;
}

// Version 1 with the events before the swap pushed (null on a failure, reported).
std::unique_ptr<Engine> version_one(const Stream& st, const EngineOptions& o) {
    std::string error;
    auto e = Engine::from_source("v1.etho", shop(1), o, &error);
    EXPECT_NE(e, nullptr) << error;
    if (!e) return nullptr;
    for (const std::string& l : st.before) {
        if (!e->push_json(l, &error)) {
            ADD_FAILURE() << l << ": " << error;
            return nullptr;
        }
    }
    return e;
}

// The references of docs/governance.md ("Hot deployment"): after a swap, an unchanged rule detects what the
// new version run from the start of the stream detects; changed and new rules what it detects run from the
// swap on (the events processed after it: those held then, and the later ones).
TEST(Swap, UnchangedRulesCarryChangedAndNewOnesStartFresh) {
    const Stream st = same_schema_stream();
    for (const std::string& engine : engines()) {
        SCOPED_TRACE(engine);
        const EngineOptions o = options(engine, 60'000'000); // one minute of lateness: events are held
        std::string error;
        std::unique_ptr<Engine> e = version_one(st, o);
        ASSERT_NE(e, nullptr);
        EXPECT_TRUE(e->poll().empty());

        SwapReport rep;
        ASSERT_TRUE(e->swap_rules(Engine::from_source("v2.etho", shop(2), o, &error), &rep, &error)) << error;
        EXPECT_EQ(rep.from, "embed.swap@1.0.0");
        EXPECT_EQ(rep.to, "embed.swap@2.0.0");
        EXPECT_TRUE(rep.carried) << rep.why;
        EXPECT_EQ(rep.carried_rules, std::vector<std::string>{"abandon"});
        EXPECT_EQ(rep.fresh_rules, (std::vector<std::string>{"busy", "promo"}));
        EXPECT_GE(rep.keys, 2u);
        EXPECT_GE(rep.partial_matches, 3u); // u1's two carts, u2's and u9's
        EXPECT_GE(rep.timers, 1u);
        EXPECT_EQ(rep.buffered, st.held);
        EXPECT_TRUE(rep.refused.empty());
        EXPECT_EQ(e->ruleset_version(), "2.0.0");

        for (const std::string& l : st.after) ASSERT_TRUE(e->push_json(l, &error)) << error;
        e->flush();
        const std::vector<Detection> ds = e->poll();
        for (const Detection& d : ds)
            EXPECT_NE(d.json.find("\"version\":\"2.0.0\""), std::string::npos) << d.json;
        const std::vector<std::string> carried = of(run_from_scratch(shop(2), o, st.whole()), {"abandon"});
        const std::vector<std::string> fresh =
            of(run_from_scratch(shop(2), o, st.since_swap()), {"busy", "promo"});
        EXPECT_EQ(of(ds, {"abandon"}), carried);
        EXPECT_EQ(of(ds, {"busy", "promo"}), fresh);
        // Not vacuous: carts before the swap are abandoned (carried partial matches and timers), the new
        // rule fires on held events, the changed one counts from the swap on.
        EXPECT_TRUE(has_prefix(carried, "abandon u1 600000000")) << carried.size();
        EXPECT_TRUE(has_prefix(fresh, "promo u3 "));
        EXPECT_TRUE(has_prefix(fresh, "busy u1 "));
    }
}

// A schema change: every rule starts fresh, and held events are decoded again from what was pushed: a
// member version 1 ignored is a field of version 2, a line version 2 refuses is reported and counted. A
// snapshot taken after the swap restores into a fresh engine of version 2 (its string pool began with
// version 1's strings).
TEST(Swap, ASchemaChangeDecodesHeldEventsAgain) {
    const Stream st = coupon_stream();
    for (const std::string& engine : engines()) {
        SCOPED_TRACE(engine);
        const EngineOptions o = options(engine, 60'000'000); // one minute of lateness: events are held
        std::string error;
        std::unique_ptr<Engine> e = version_one(st, o);
        ASSERT_NE(e, nullptr);

        SwapReport rep;
        ASSERT_TRUE(e->swap_rules(Engine::from_source("v2.etho", shop(2, true), o, &error), &rep, &error))
            << error;
        EXPECT_TRUE(rep.carried_rules.empty());
        EXPECT_EQ(rep.fresh_rules, (std::vector<std::string>{"abandon", "busy", "promo"}));
        EXPECT_EQ(rep.buffered, st.held);
        ASSERT_EQ(rep.refused.size(), 1u);
        EXPECT_EQ(rep.refused[0].line, 4u);
        EXPECT_EQ(rep.refused[0].reason, "missing_field: view.page: missing required field");
        EXPECT_EQ(rep.refused[0].json, st.before[3]); // the line as it was pushed
        EXPECT_FALSE(rep.refused[0].typed.has_value());
        EXPECT_EQ(e->stats().dead_letters, 1u);
        const std::string snap = e->snapshot();
        ASSERT_FALSE(snap.empty());

        for (const std::string& l : st.after) ASSERT_TRUE(e->push_json(l, &error)) << error;
        e->flush();
        const std::vector<Detection> ds = e->poll();
        const std::vector<std::string> want = of(run_from_scratch(shop(2, true), o, st.since_swap()));
        EXPECT_EQ(of(ds), want);
        EXPECT_TRUE(has_prefix(want, "promo u3 ")); // the coupon, read again from the held line
        const ethogram::EngineStats s = e->stats();
        EXPECT_EQ(s.events_in, s.processed + s.dead_letters + s.buffered);

        auto r = Engine::from_source("v2.etho", shop(2, true), o, &error);
        ASSERT_NE(r, nullptr) << error;
        ASSERT_TRUE(r->restore(snap, &error)) << error;
        for (const std::string& l : st.after) ASSERT_TRUE(r->push_json(l, &error)) << error;
        r->flush();
        EXPECT_EQ(texts(r->poll()), texts(ds));
    }
}

// Events held when a snapshot was taken have no pushed text or fields after a restore: a swap then
// validates them again from their decoded fields. Exact while the schemas stay (the same detections as a
// swap of the engine that never stopped); across a schema change, a member the old schema ignored is not
// there to be read (docs/embedding.md).
TEST(Swap, AfterARestoreHeldEventsAreValidatedFromTheirFields) {
    for (const std::string& engine : engines()) {
        SCOPED_TRACE(engine);
        const EngineOptions o = options(engine, 60'000'000);
        for (const bool coupons : {false, true}) {
            SCOPED_TRACE(coupons ? "schema change" : "same schemas");
            const Stream st = coupons ? coupon_stream() : same_schema_stream();
            std::string error;
            std::unique_ptr<Engine> live = version_one(st, o);
            ASSERT_NE(live, nullptr);
            const std::string snap = live->snapshot();
            auto restored = Engine::from_source("v1.etho", shop(1), o, &error);
            ASSERT_NE(restored, nullptr) << error;
            ASSERT_TRUE(restored->restore(snap, &error)) << error;

            SwapReport a, b;
            ASSERT_TRUE(
                live->swap_rules(Engine::from_source("v2.etho", shop(2, coupons), o, &error), &a, &error))
                << error;
            ASSERT_TRUE(
                restored->swap_rules(Engine::from_source("v2.etho", shop(2, coupons), o, &error), &b, &error))
                << error;
            EXPECT_EQ(b.buffered, a.buffered);
            EXPECT_EQ(b.carried_rules, a.carried_rules);
            for (Engine* e : {live.get(), restored.get()}) {
                for (const std::string& l : st.after) ASSERT_TRUE(e->push_json(l, &error)) << error;
                e->flush();
            }
            const std::vector<Detection> from_text = live->poll(), from_fields = restored->poll();
            if (!coupons) {
                EXPECT_TRUE(a.refused.empty());
                EXPECT_TRUE(b.refused.empty());
                EXPECT_EQ(texts(from_fields), texts(from_text));
                continue;
            }
            // u3's view carried its page and coupon only in its text: from its fields it lacks the page
            // version 2 requires, and is refused with u4's; u3's promotion is not detected.
            ASSERT_EQ(a.refused.size(), 1u);
            ASSERT_EQ(b.refused.size(), 2u);
            EXPECT_EQ(b.refused[0].line, 3u);
            EXPECT_EQ(b.refused[1].line, 4u);
            for (const ethogram::RefusedEvent& r : b.refused) {
                EXPECT_EQ(r.reason, "missing_field: view.page: missing required field");
                EXPECT_TRUE(r.typed.has_value()); // its decoded fields, given back
            }
            // Written as JSON from the fields version 1 decoded (the coupon it ignored is not among them).
            EXPECT_EQ(b.refused[0].json, R"({"type":"view","user":"u3","ts":"1970-01-01T00:03:50.000Z"})");
            EXPECT_EQ(b.refused[1].json, R"({"type":"view","user":"u4","ts":"1970-01-01T00:03:55.000Z"})");
            EXPECT_TRUE(has_prefix(of(from_text), "promo u3 "));
            EXPECT_FALSE(has_prefix(of(from_fields), "promo u3 "));
            EXPECT_TRUE(
                has_prefix(of(from_fields), "abandon u9 ")); // a held cart, decoded again from its fields
        }
    }
}

// Every value kind of a cart, all optional: version 2 adds a required `note`, which no held cart has.
std::string kind_rules(bool with_note) {
    return ethogram::test_support::shop_rules("embed.refused", std::string(R"(    id eid: string?;
    qty: int?;
    price: float?;
    kind: enum(gift, normal)?;
    express: bool?;
    wait: duration?;
    seen: timestamp?;
)") + (with_note ? "    note: string;\n" : ""));
}

// Events the new rules refuse at a swap are given back whole, to be dead-lettered: a pushed line as it was
// pushed; a typed event as pushed, and as JSON that the schema which accepted it decodes back to the same
// event (every value kind, a name set twice, a member that is not a field). In C, through a callback.
TEST(Swap, RefusedEventsAreGivenBackWhole) {
    const EngineOptions o = options("interp", 60'000'000); // held: every event is after the watermark
    const std::string line = R"({"type":"cart","user":"u1","ts":1000,"qty":1})";
    ethogram::TypedEvent every("cart");
    every.key("u2").time_us(2'000'000).id("e-2").set_int("qty", 5).set_float("price", 2.0);
    every.set_string("kind", "gift").set_bool("express", false).set_duration_us("wait", 1'500'001);
    every.set_timestamp_us("seen", 2'000'123).set_string("not_a_field", "x\"y").set_int("qty", 2);
    ethogram::TypedEvent int_key("cart");
    int_key.key(int64_t{7}).time_us(3'000'000).set_float("price", 1e300).set_null("kind");

    std::string error;
    auto e = ethogram::test_support::engine_from_source(kind_rules(false), o);
    ASSERT_NE(e, nullptr);
    ASSERT_TRUE(e->push_json(line, &error)) << error;
    ASSERT_TRUE(e->push(every, &error)) << error;
    ASSERT_TRUE(e->push(int_key, &error)) << error;
    SwapReport rep;
    ASSERT_TRUE(e->swap_rules(Engine::from_source("v2.etho", kind_rules(true), o, &error), &rep, &error))
        << error;
    ASSERT_EQ(rep.refused.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(rep.refused[i].line, i + 1);
        EXPECT_EQ(rep.refused[i].reason, "missing_field: cart.note: missing required field");
    }
    EXPECT_EQ(e->stats().dead_letters, 3u);
    EXPECT_EQ(rep.refused[0].json, line);
    EXPECT_FALSE(rep.refused[0].typed.has_value());
    ASSERT_TRUE(rep.refused[1].typed.has_value());
    EXPECT_EQ(rep.refused[1].typed->fields().size(), every.fields().size());
    EXPECT_EQ(rep.refused[1].json,
              R"({"type":"cart","user":"u2","ts":"1970-01-01T00:00:02.000Z","eid":"e-2",)"
              R"("price":2.0,"kind":"gift","express":false,"wait":"1500001us",)"
              R"("seen":"1970-01-01T00:00:02.000123Z","not_a_field":"x\"y","qty":2})");
    EXPECT_EQ(rep.refused[2].json,
              R"({"type":"cart","user":7,"ts":"1970-01-01T00:00:03.000Z","price":1e+300,"kind":null})");

    // The JSON decodes back to the events pushed: two version-1 engines, one given the typed events and one
    // their JSON, hold the same state.
    auto typed = ethogram::test_support::engine_from_source(kind_rules(false), o);
    auto json = ethogram::test_support::engine_from_source(kind_rules(false), o);
    ASSERT_TRUE(typed && json);
    for (const ethogram::TypedEvent* t : {&every, &int_key}) ASSERT_TRUE(typed->push(*t, &error)) << error;
    for (size_t i = 1; i < 3; ++i) ASSERT_TRUE(json->push_json(rep.refused[i].json, &error)) << error;
    EXPECT_EQ(json->snapshot(), typed->snapshot());

    // C: the refused events reach the callback.
    char* err = nullptr;
    const std::string v1 = kind_rules(false), v2 = kind_rules(true);
    ethogram_engine* c = ethogram_engine_from_source("v1.etho", v1.c_str(), 60'000'000, &err);
    ASSERT_NE(c, nullptr) << err;
    ASSERT_EQ(ethogram_push_json(c, line.data(), line.size(), &err), 1) << err;
    ethogram_event* ev = ethogram_event_new("cart");
    ethogram_event_key(ev, "u3");
    ethogram_event_time_us(ev, 4'000'000);
    ethogram_event_set_int(ev, "qty", 4);
    ASSERT_EQ(ethogram_push_event(c, ev, &err), 1) << err;
    ethogram_event_free(ev);
    std::vector<std::string> got;
    ASSERT_EQ(ethogram_swap_rules_refused(
                  c, ethogram_engine_from_source("v2.etho", v2.c_str(), 60'000'000, &err),
                  [](void* user, uint64_t n, const char* reason, const char* text, size_t len) {
                      static_cast<std::vector<std::string>*>(user)->push_back(
                          std::to_string(n) + " " + reason + " " + std::string(text, len));
                  },
                  &got, &err),
              1)
        << err;
    EXPECT_EQ(got, (std::vector<std::string>{
                       "1 missing_field: cart.note: missing required field " + line,
                       R"(2 missing_field: cart.note: missing required field {"type":"cart","user":"u3",)"
                       R"("ts":"1970-01-01T00:00:04.000Z","qty":4})"}));
    ethogram_engine_free(c);
}

TEST(Swap, RefusedSwapsLeaveTheRunningRules) {
    const EngineOptions o = options("interp", 0);
    std::string error;
    auto e = Engine::from_source("v1.etho", shop(1), o, &error);
    ASSERT_NE(e, nullptr) << error;
    ASSERT_TRUE(e->push_json(event("cart", "u1", 0), &error)) << error;

    EXPECT_FALSE(e->swap_rules(nullptr, nullptr, &error));
    EXPECT_NE(error.find("no engine given"), std::string::npos) << error;

    auto used = Engine::from_source("v2.etho", shop(2), o, &error);
    ASSERT_NE(used, nullptr);
    used->push_json(event("cart", "u5", 0));
    EXPECT_FALSE(e->swap_rules(std::move(used), nullptr, &error));
    EXPECT_NE(error.find("has been used"), std::string::npos) << error;

    EXPECT_FALSE(e->swap_rules(Engine::from_source("v2.etho", shop(2), options("interp", 5'000'000), &error),
                               nullptr, &error));
    EXPECT_NE(error.find("allowed lateness"), std::string::npos) << error;

    // Still version 1, and it still runs: u1's cart is abandoned.
    EXPECT_EQ(e->ruleset_version(), "1.0.0");
    e->flush();
    const std::vector<Detection> ds = e->poll();
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].rule, "abandon");
    EXPECT_FALSE(e->swap_rules(Engine::from_source("v2.etho", shop(2), o, &error), nullptr, &error));
    EXPECT_NE(error.find("flush() was called"), std::string::npos) << error;
}

// The C API's swap: `next` is consumed whether or not the swap happens.
TEST(Swap, CApi) {
    char* error = nullptr;
    const std::string v1 = shop(1), v2 = shop(2);
    ethogram_engine* e = ethogram_engine_from_source("v1.etho", v1.c_str(), 0, &error);
    ASSERT_NE(e, nullptr) << error;
    const std::string line = event("cart", "u1", 0);
    ASSERT_EQ(ethogram_push_json(e, line.data(), line.size(), &error), 1) << error;
    ethogram_engine* next = ethogram_engine_from_source("v2.etho", v2.c_str(), 0, &error);
    ASSERT_NE(next, nullptr) << error;
    ASSERT_EQ(ethogram_swap_rules(e, next, &error), 1) << error;
    EXPECT_EQ(ethogram_swap_rules(e, nullptr, &error), 0);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(error).find("no engine given"), std::string::npos) << error;
    ethogram_free(error);
    ethogram_flush(e);
    const std::vector<std::string> got = ethogram::test_support::poll_c(e);
    ASSERT_EQ(got.size(), 1u); // u1's cart, carried into version 2 and abandoned there
    EXPECT_NE(got[0].find("\"rule\":\"abandon\""), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("\"version\":\"2.0.0\""), std::string::npos) << got[0];
    ethogram_engine_free(e);
}

} // namespace
