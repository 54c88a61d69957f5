// typed_push_test.cpp: Engine::push (typed fields) against push_json: the same events give the same
// detections and the same refusals, on the examples' rule sets and on hand-made bad fields; and the C API's
// ethogram_push_event.
#include <ethogram/engine.h>
#include <ethogram/ethogram.h>

#include "tests/support/embed_fixtures.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

// A flat JSON object's members, enough for the examples' event lines: strings (with escapes), numbers,
// booleans and null. nullopt for anything else (arrays, nested objects, malformed text).
struct Member {
    std::string name;
    enum { Str, Int, Num, Bool, Null } kind;
    std::string s;
    int64_t i = 0;
    double d = 0;
};

std::optional<std::vector<Member>> parse_flat(const std::string& t) {
    size_t p = 0;
    auto ws = [&] {
        while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\r')) ++p;
    };
    auto str = [&](std::string& out) -> bool {
        if (p >= t.size() || t[p] != '"') return false;
        ++p;
        while (p < t.size() && t[p] != '"') {
            if (t[p] == '\\') {
                if (++p >= t.size()) return false;
                const char c = t[p];
                if (c == 'n')
                    out += '\n';
                else if (c == 't')
                    out += '\t';
                else if (c == '"' || c == '\\' || c == '/')
                    out += c;
                else
                    return false; // \u and the rest: not needed by the examples
            } else {
                out += t[p];
            }
            ++p;
        }
        if (p >= t.size()) return false;
        ++p;
        return true;
    };
    std::vector<Member> ms;
    ws();
    if (p >= t.size() || t[p++] != '{') return std::nullopt;
    ws();
    if (p < t.size() && t[p] == '}') return ms;
    while (true) {
        ws();
        Member m;
        if (!str(m.name)) return std::nullopt;
        ws();
        if (p >= t.size() || t[p++] != ':') return std::nullopt;
        ws();
        if (p >= t.size()) return std::nullopt;
        if (t[p] == '"') {
            m.kind = Member::Str;
            if (!str(m.s)) return std::nullopt;
        } else if (t.compare(p, 4, "true") == 0 || t.compare(p, 5, "false") == 0) {
            m.kind = Member::Bool;
            m.i = t[p] == 't';
            p += m.i ? 4 : 5;
        } else if (t.compare(p, 4, "null") == 0) {
            m.kind = Member::Null;
            p += 4;
        } else {
            const size_t b = p;
            while (p < t.size() && std::string("+-0123456789.eE").find(t[p]) != std::string::npos) ++p;
            const std::string num = t.substr(b, p - b);
            if (num.empty()) return std::nullopt;
            if (num.find_first_of(".eE") == std::string::npos) {
                m.kind = Member::Int;
                m.i = std::stoll(num);
            } else {
                m.kind = Member::Num;
                m.d = std::strtod(num.c_str(), nullptr);
            }
        }
        ms.push_back(std::move(m));
        ws();
        if (p < t.size() && t[p] == ',') {
            ++p;
            continue;
        }
        if (p < t.size() && t[p] == '}') {
            ++p;
            ws();
            return p == t.size() ? std::optional(ms) : std::nullopt;
        }
        return std::nullopt;
    }
}

// The JSON line as a TypedEvent: `ts` (epoch milliseconds) through time_us as a typed timestamp, the key
// field through key(), `event_id` through id(); the rest by name. nullopt when the line has no string type.
std::optional<ethogram::TypedEvent> to_typed(const std::string& line, const std::string& key_field) {
    auto ms = parse_flat(line);
    if (!ms) return std::nullopt;
    const Member* type = nullptr;
    for (const Member& m : *ms)
        if (m.name == "type") type = &m;
    if (!type || type->kind != Member::Str) return std::nullopt;
    ethogram::TypedEvent ev(type->s);
    for (const Member& m : *ms) {
        if (&m == type) continue;
        if (m.name == "ts" && m.kind == Member::Int) {
            ev.time_us(m.i * 1000);
        } else if (m.name == key_field && m.kind == Member::Str) {
            ev.key(m.s);
        } else if (m.name == key_field && m.kind == Member::Int) {
            ev.key(m.i);
        } else if (m.name == "event_id" && m.kind == Member::Str) {
            ev.id(m.s);
        } else {
            switch (m.kind) {
            case Member::Str: ev.set_string(m.name, m.s); break;
            case Member::Int: ev.set_int(m.name, m.i); break;
            case Member::Num: ev.set_float(m.name, m.d); break;
            case Member::Bool: ev.set_bool(m.name, m.i != 0); break;
            case Member::Null: ev.set_null(m.name); break;
            }
        }
    }
    return ev;
}

std::string reason(const std::string& error) {
    return error.substr(0, error.find(':'));
}

struct ExampleRun {
    std::vector<std::string> detections;
    std::vector<std::string> refusals; ///< per line: the reason code, or "" when accepted
    size_t typed = 0;                  ///< lines pushed as typed events
};

ExampleRun run_example(const std::string& example, const std::string& key_field, bool use_typed) {
    auto e = ethogram::test_support::example_engine(example);
    ExampleRun r;
    if (!e) return r;
    e->on_detection([&](const ethogram::Detection& d) { r.detections.push_back(d.json); });
    std::string error;
    for (const std::string& line :
         ethogram::test_support::file_lines(ethogram::test_support::example_dir(example) + "/events.jsonl")) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::optional<ethogram::TypedEvent> ev = use_typed ? to_typed(line, key_field) : std::nullopt;
        bool ok = false;
        error.clear();
        if (ev) {
            ok = e->push(*ev, &error);
            ++r.typed;
        } else {
            ok = e->push_json(line, &error); // not a flat object with a type: the JSON path, same numbering
        }
        r.refusals.push_back(ok ? std::string() : reason(error));
    }
    e->flush();
    return r;
}

class TypedExamples : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(TypedExamples, SameDetectionsAndRefusalsAsJson) {
    const auto [example, key_field] = GetParam();
    const ExampleRun json = run_example(example, key_field, false);
    const ExampleRun typed = run_example(example, key_field, true);
    ASSERT_FALSE(json.detections.empty());
    EXPECT_GT(typed.typed, json.refusals.size() * 9 / 10) << "most lines go through the typed push";
    ASSERT_EQ(json.refusals.size(), typed.refusals.size());
    for (size_t i = 0; i < json.refusals.size(); ++i)
        EXPECT_EQ(json.refusals[i], typed.refusals[i]) << "event " << i + 1;
    ASSERT_EQ(json.detections.size(), typed.detections.size());
    for (size_t i = 0; i < json.detections.size(); ++i)
        ASSERT_EQ(json.detections[i], typed.detections[i]) << "detection " << i;
}

INSTANTIATE_TEST_SUITE_P(Examples, TypedExamples,
                         ::testing::Values(std::pair{"ecommerce", "user_id"},
                                           std::pair{"fraud", "account_id"},
                                           std::pair{"support", "visitor_id"}));

const std::string kRules = ethogram::test_support::shop_rules("typed.test", R"(    id eid: string?;
    qty: int;
    price: float?;
    kind: enum(gift, normal)?;
    express: bool?;
    wait: duration?;
    seen: timestamp?;
)");

std::unique_ptr<ethogram::Engine> make() {
    return ethogram::test_support::engine_from_source(kRules, {}, "typed.etho");
}

TEST(TypedPush, EveryValueKindMatchesItsJsonCounterpart) {
    auto j = make();
    auto t = make();
    ASSERT_TRUE(j && t);
    std::string error;
    ASSERT_TRUE(j->push_json(R"({"type":"cart","user":"u1","ts":1000,"eid":"e-1","qty":2,"price":3,)"
                             R"("kind":"gift","express":true,"wait":"1500ms","seen":"1970-01-01T00:00:02Z"})",
                             &error))
        << error;
    ethogram::TypedEvent ev("cart");
    ev.key("u1").time_us(1000000).id("e-1").set_int("qty", 2).set_int("price", 3).set_string("kind", "gift");
    ev.set_bool("express", true).set_duration_us("wait", 1500000).set_timestamp_us("seen", 2000000);
    ASSERT_TRUE(t->push(ev, &error)) << error;
    // An int key for a string key field, a duration as milliseconds, a timestamp as an RFC 3339 string.
    ASSERT_TRUE(j->push_json(R"({"type":"cart","user":7,"ts":2000,"qty":1,"wait":250,"seen":null})", &error));
    ethogram::TypedEvent ev2("cart");
    ev2.key(int64_t{7}).set_string("ts", "1970-01-01T00:00:02Z").set_int("qty", 1).set_int("wait", 250);
    ev2.set_null("seen").set_string("not_a_field", "ignored");
    ASSERT_TRUE(t->push(ev2, &error)) << error;
    j->flush();
    t->flush();
    const auto dj = j->poll();
    const auto dt = t->poll();
    ASSERT_EQ(dj.size(), 2u);
    ASSERT_EQ(dt.size(), 2u);
    for (size_t i = 0; i < dj.size(); ++i) EXPECT_EQ(dj[i].json, dt[i].json);
    EXPECT_EQ(t->stats().events_in, 2u);
    EXPECT_EQ(t->stats().processed, 2u);
}

TEST(TypedPush, BadFieldsAreRefusedWithTheJsonReasons) {
    auto e = make();
    ASSERT_TRUE(e);
    std::string error;
    auto refused = [&](const ethogram::TypedEvent& ev) {
        error.clear();
        EXPECT_FALSE(e->push(ev, &error));
        return error;
    };
    auto base = [](const char* type = "cart") {
        ethogram::TypedEvent ev(type);
        ev.key("u").time_us(5).set_int("qty", 1);
        return ev;
    };
    EXPECT_EQ(refused(ethogram::TypedEvent("")).rfind("missing_type:", 0), 0u) << error;
    EXPECT_EQ(refused(base("nope")), "unknown_type: unknown event type \"nope\"");
    EXPECT_EQ(refused(ethogram::TypedEvent("cart").key("u").time_us(5)),
              "missing_field: cart.qty: missing required field");
    EXPECT_EQ(refused(base().set_null("qty")), "missing_field: cart.qty: required field is null");
    EXPECT_EQ(refused(base().set_float("qty", 1.5)), "bad_field: cart.qty: expected int, got float");
    EXPECT_EQ(refused(base().set_string("price", "3")).rfind("bad_field: cart.price: expected float", 0), 0u)
        << error;
    EXPECT_EQ(refused(base().set_string("kind", "rare")).rfind("bad_field: cart.kind: \"rare\" is not", 0),
              0u)
        << error;
    EXPECT_EQ(refused(base().set_int("express", 1)).rfind("bad_field: cart.express: expected bool", 0), 0u);
    EXPECT_EQ(refused(base().set_string("wait", "soon")).rfind("bad_field: cart.wait:", 0), 0u) << error;
    EXPECT_EQ(refused(base().set_duration_us("wait", -5)),
              "bad_field: cart.wait: duration -5 us is negative");
    EXPECT_EQ(refused(base().set_timestamp_us("wait", 5)).rfind("bad_field: cart.wait: expected duration", 0),
              0u)
        << error;
    EXPECT_EQ(refused(base().set_string("seen", "yesterday")).rfind("bad_time: cart.seen:", 0), 0u) << error;
    EXPECT_EQ(refused(base().set_bool("seen", true)).rfind("bad_time: cart.seen: expected timestamp", 0), 0u)
        << error;
    EXPECT_EQ(refused(base().set_bool("user", true)).rfind("bad_field: cart.user: expected the key", 0), 0u)
        << error;
    EXPECT_EQ(refused(base().set_null("user")), "missing_field: cart.user: the key is null");
    EXPECT_EQ(refused(base("buy").id("x")), "bad_field: buy: the event has no id field");
    // Every refusal is counted and numbered; nothing reached the executor.
    const ethogram::EngineStats s = e->stats();
    EXPECT_EQ(s.events_in, 16u);
    EXPECT_EQ(s.dead_letters, 16u);
    EXPECT_EQ(s.processed + s.buffered, 0u);
    // Late and ended, as push_json.
    EXPECT_TRUE(e->push(base().time_us(10 * 60 * 1000000LL)));
    EXPECT_EQ(refused(base().time_us(0)).rfind("late:", 0), 0u) << error;
    e->flush();
    EXPECT_EQ(refused(base()).rfind("ended:", 0), 0u) << error;
}

TEST(TypedPush, CApiPushesTypedEvents) {
    char* error = nullptr;
    ethogram_engine* e = ethogram_engine_from_source("typed.etho", kRules.c_str(), 0, &error);
    ASSERT_NE(e, nullptr) << (error ? error : "");
    ethogram_event* ev = ethogram_event_new("cart");
    ethogram_event_key(ev, "u1");
    ethogram_event_time_us(ev, 1000);
    ethogram_event_id(ev, "e-9");
    ethogram_event_set_int(ev, "qty", 3);
    ethogram_event_set_float(ev, "price", 2.5);
    ethogram_event_set_string(ev, "kind", "normalXX", 6);
    ethogram_event_set_bool(ev, "express", 0);
    ethogram_event_set_duration_us(ev, "wait", 7);
    ethogram_event_set_timestamp_us(ev, "seen", 9);
    EXPECT_EQ(ethogram_push_event(e, ev, &error), 1) << (error ? error : "");
    ethogram_event_reset(ev, "cart");
    ethogram_event_key_int(ev, 42);
    ethogram_event_time_us(ev, 2000);
    ethogram_event_set_string(ev, "qty", "3", 1);
    EXPECT_EQ(ethogram_push_event(e, ev, &error), 0);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(std::string(error), "bad_field: cart.qty: expected int, got string");
    ethogram_free(error);
    ethogram_event_set_null(ev, "qty");
    EXPECT_EQ(ethogram_push_event(e, ev, nullptr), 0);
    ethogram_event_free(ev);
    ethogram_flush(e);
    const std::vector<std::string> got = ethogram::test_support::poll_c(e);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("\"key\":\"u1\""), std::string::npos) << got[0];
    ethogram_stats s;
    ethogram_get_stats(e, &s);
    EXPECT_EQ(s.events_in, 3u);
    EXPECT_EQ(s.dead_letters, 2u);
    ethogram_engine_free(e);
}

} // namespace
