// etho_test.cpp: the interpreter on rule sets compiled from .etho text by the front end.
#include "compiler/driver/compile.h"
#include "tests/interp/ir_builder.h"

#include <gtest/gtest.h>

#include <map>

namespace ethogram::interp::testing {
namespace {

using ir::Value;

constexpr const char* kSchema = R"(
ruleset test.interp version 1.0.0;

event page_view {
    key user_id: string;
    time ts: timestamp;
    page: enum(home, product, cart, checkout);
    sku: string?;
}
event add_to_cart {
    key user_id: string;
    time ts: timestamp;
    sku: string;
    price: float;
}
event purchase {
    key user_id: string;
    time ts: timestamp;
    total: float;
}
event login_failed {
    key user_id: string;
    time ts: timestamp;
    ip: string;
}
event login_ok {
    key user_id: string;
    time ts: timestamp;
}

taxonomy {
    intent { purchase { abandonment; high_intent; } }
    risk { ato; }
}

session web {
    gap 30m;
    events page_view, add_to_cart, purchase;
    end on purchase;
}
)";

/// Compiles the schema plus `rules`; fails the test on any diagnostic error.
std::unique_ptr<ir::RuleSet> compile(const std::string& rules) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("test.etho", std::string(kSchema) + rules, diags);
    EXPECT_EQ(diags.error_count(), 0u) << diags.render();
    return std::move(res.ruleset);
}

/// Feeds events described by field name to an interpreter over a compiled rule set.
class EthoRunner {
public:
    explicit EthoRunner(const ir::RuleSet& rs) : rs_(rs), r_(rs) {}

    uint64_t ev(const std::string& type, const std::string& key, int64_t t,
                const std::map<std::string, Value>& named = {}) {
        int ti = rs_.find_event(type);
        EXPECT_GE(ti, 0) << type;
        const ir::EventType& et = rs_.events[static_cast<size_t>(ti)];
        std::vector<Value> fields(et.fields.size());
        for (const auto& [name, v] : named) {
            size_t slot = 0;
            while (slot < et.fields.size() && et.fields[slot].name != name) ++slot;
            EXPECT_LT(slot, et.fields.size()) << name;
            if (slot < fields.size()) fields[slot] = v;
        }
        // Runner::ev puts key and time in slots 0 and 1 and the rest after: give it slots 2.. in order,
        // after checking the schema keeps key and time first (as written above).
        EXPECT_EQ(et.key_field, 0);
        EXPECT_EQ(et.time_field, 1);
        return r_.ev(static_cast<uint16_t>(ti), key, t, std::vector<Value>(fields.begin() + 2, fields.end()));
    }
    Value str(const std::string& s) { return r_.str(s); }
    Value enum_value(const std::string& type, const std::string& field, const std::string& value) {
        const auto& et = rs_.events[static_cast<size_t>(rs_.find_event(type))];
        for (const auto& f : et.fields)
            if (f.name == field)
                for (size_t i = 0; i < f.enum_values.size(); ++i)
                    if (f.enum_values[i] == value) return Value::enumeration(static_cast<int64_t>(i));
        ADD_FAILURE() << "no enum value " << value;
        return Value::missing();
    }
    void end() { r_.end(); }
    const std::vector<ir::Detection>& out() const { return r_.sink.out; }
    std::string_view view(const Value& v) const { return r_.view(v); }

private:
    const ir::RuleSet& rs_;
    Runner r_;
};

TEST(Etho, CartAbandonmentWithTrailingAbsence) {
    auto rs = compile(R"(
rule cart_abandonment {
    label intent.purchase.abandonment;
    severity medium;
    confidence 0.7;
    pattern v: page_view where v.page == product
         -> c: add_to_cart where c.sku == v.sku
         -> not p: purchase within 30m;
    emit sku = c.sku, value = c.price;
}
)");
    ASSERT_TRUE(rs);
    EthoRunner r(*rs);
    auto product = r.enum_value("page_view", "page", "product");
    // u1: views product s1, adds s1, never buys: detection at 10m + 30m.
    r.ev("page_view", "u1", 0, {{"page", product}, {"sku", r.str("s1")}});
    r.ev("add_to_cart", "u1", 10 * kMin, {{"sku", r.str("s1")}, {"price", Value::real(9.5)}});
    // u2: adds a different sku than viewed: no match; u3 buys within 30m: killed.
    r.ev("page_view", "u2", 0, {{"page", product}, {"sku", r.str("s1")}});
    r.ev("add_to_cart", "u2", 11 * kMin, {{"sku", r.str("s2")}, {"price", Value::real(1.0)}});
    r.ev("page_view", "u3", 12 * kMin, {{"page", product}, {"sku", r.str("s3")}});
    r.ev("add_to_cart", "u3", 13 * kMin, {{"sku", r.str("s3")}, {"price", Value::real(2.0)}});
    r.ev("purchase", "u3", 43 * kMin, {{"total", Value::real(2.0)}}); // exactly at the deadline: kills
    r.end();
    ASSERT_EQ(r.out().size(), 1u);
    const auto& d = r.out()[0];
    EXPECT_EQ(r.view(Value::string(d.key)), "u1");
    EXPECT_EQ(d.trigger, "absence");
    EXPECT_EQ(d.time, 40 * kMin);
    EXPECT_DOUBLE_EQ(d.confidence, 0.7);
    ASSERT_EQ(d.fields.size(), 2u);
    EXPECT_EQ(r.view(d.fields[0]), "s1");
    EXPECT_DOUBLE_EQ(d.fields[1].f, 9.5);
}

TEST(Etho, KleeneLoginFailuresWithinWindow) {
    auto rs = compile(R"(
rule brute_force {
    label risk.ato;
    severity high;
    pattern f: login_failed{3,} -> s: login_ok within 10m;
    emit attempts = count(f), ips = distinct(f.ip);
}
)");
    ASSERT_TRUE(rs);
    EthoRunner r(*rs);
    r.ev("login_failed", "u", 0, {{"ip", r.str("1.1.1.1")}});
    r.ev("login_failed", "u", 1 * kMin, {{"ip", r.str("2.2.2.2")}});
    r.ev("login_failed", "u", 2 * kMin, {{"ip", r.str("1.1.1.1")}});
    r.ev("login_failed", "u", 3 * kMin, {{"ip", r.str("3.3.3.3")}});
    r.ev("login_ok", "u", 10 * kMin); // exactly first + 10m: inside
    ASSERT_EQ(r.out().size(), 1u);
    // The first match holds all four failures (f takes every one until s fires): 4 attempts, 3 ips.
    EXPECT_EQ(r.out()[0].fields[0].i, 4);
    EXPECT_EQ(r.out()[0].fields[1].i, 3);
}

TEST(Etho, SessionEndThresholdAndEndOn) {
    auto rs = compile(R"(
rule cart_left_in_session {
    label intent.purchase.abandonment;
    severity low;
    over session web;
    at session end;
    when count(add_to_cart) > 0 and count(purchase) == 0;
    emit items = count(add_to_cart), value = sum(add_to_cart.price), n = session.events;
}
)");
    ASSERT_TRUE(rs);
    EthoRunner r(*rs);
    auto home = r.enum_value("page_view", "page", "home");
    // Session 1 ends with a purchase (action close): condition false.
    r.ev("add_to_cart", "u", 0, {{"sku", r.str("a")}, {"price", Value::real(1.0)}});
    r.ev("purchase", "u", 1 * kMin, {{"total", Value::real(1.0)}});
    // Session 2: two carts, then 30m of silence.
    r.ev("page_view", "u", 2 * kMin, {{"page", home}});
    r.ev("add_to_cart", "u", 3 * kMin, {{"sku", r.str("b")}, {"price", Value::real(2.5)}});
    r.ev("add_to_cart", "u", 4 * kMin, {{"sku", r.str("c")}, {"price", Value::real(4.0)}});
    r.end();
    ASSERT_EQ(r.out().size(), 1u);
    const auto& d = r.out()[0];
    EXPECT_EQ(d.trigger, "session_end");
    EXPECT_EQ(d.time, 34 * kMin);
    EXPECT_EQ(d.fields[0].i, 2);
    EXPECT_DOUBLE_EQ(d.fields[1].f, 6.5);
    EXPECT_EQ(d.fields[2].i, 3);
}

TEST(Etho, WindowThresholdWithFilterIsEdgeTriggered) {
    auto rs = compile(R"(
rule many_products {
    label intent.purchase.high_intent;
    severity info;
    over last 10m;
    on page_view;
    when count(page_view where page == product) >= 2;
    emit n = count(page_view);
}
)");
    ASSERT_TRUE(rs);
    EthoRunner r(*rs);
    auto product = r.enum_value("page_view", "page", "product");
    auto home = r.enum_value("page_view", "page", "home");
    r.ev("page_view", "u", 0, {{"page", product}});
    r.ev("page_view", "u", 1 * kMin, {{"page", home}});
    r.ev("page_view", "u", 10 * kMin, {{"page", product}}); // 0 is still in [0, 10m]: fires, n = 3
    r.ev("page_view", "u", 11 * kMin, {{"page", product}}); // still true: no
    ASSERT_EQ(r.out().size(), 1u);
    EXPECT_EQ(r.out()[0].time, 10 * kMin);
    EXPECT_EQ(r.out()[0].fields[0].i, 3);
}

} // namespace
} // namespace ethogram::interp::testing
