// oracle_self_test.cpp: the oracle itself on small hand-built cases whose answers were derived by hand
// from docs/semantics.md (so the differential test compares against something checked).
#include "tests/oracle/oracle.h"
#include "tests/oracle/random_rules.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ethogram::oracle {
namespace {

constexpr int64_t kSec = ir::kMicrosPerSecond;
constexpr int64_t kT0 = 1000 * kSec;
constexpr uint16_t A = 0, B = 1, C = 2;

/// Three event types A, B, C with fields (uid key, ts time, x int); one key "k0" (string id 0).
struct Mini {
    ir::RuleSet rs;
    std::vector<ir::Event> events;

    Mini() {
        rs.strings = {"k0", "k1"};
        rs.taxonomy.push_back({"t", -1});
        for (const char* n : {"A", "B", "C"}) {
            ir::EventType et;
            et.name = n;
            et.fields = {{"uid", ir::Type::String, false, {}, {}},
                         {"ts", ir::Type::Timestamp, false, {}, {}},
                         {"x", ir::Type::Int, false, {}, {}}};
            et.key_field = 0;
            et.time_field = 1;
            rs.events.push_back(et);
        }
    }
    void ev(uint16_t type, int64_t sec, int64_t x = 0, uint32_t key = 0) {
        ir::Event e;
        e.type = type;
        e.key = key;
        e.time = kT0 + sec * kSec;
        e.seq = events.size() + 1;
        e.fields = {ir::Value::string(key), ir::Value::timestamp(e.time), ir::Value::integer(x)};
        events.push_back(e);
    }
    ir::ExprId add(ir::Expr e) {
        rs.exprs.push_back(e);
        return static_cast<ir::ExprId>(rs.exprs.size() - 1);
    }
    /// `count(types) >= n` over the scope.
    ir::ExprId count_ge(std::vector<uint16_t> types, int64_t n) {
        ir::Aggregate g;
        g.kind = ir::AggKind::Count;
        g.types = std::move(types);
        g.type = ir::Type::Int;
        rs.aggregates.push_back(g);
        ir::Expr agg;
        agg.kind = ir::ExprKind::Aggregate;
        agg.type = ir::Type::Int;
        agg.agg = static_cast<uint32_t>(rs.aggregates.size() - 1);
        ir::Expr c;
        c.type = ir::Type::Int;
        c.constant = ir::Value::integer(n);
        ir::Expr cmp;
        cmp.kind = ir::ExprKind::Binary;
        cmp.type = ir::Type::Bool;
        cmp.op = ir::Op::Ge;
        cmp.a = add(agg);
        cmp.b = add(c);
        return add(cmp);
    }
    ir::Rule& pattern(std::vector<ir::Step> steps, int64_t within_s = -1) {
        ir::Rule r;
        r.name = "r" + std::to_string(rs.rules.size());
        r.kind = ir::RuleKind::Pattern;
        r.pattern.steps = std::move(steps);
        r.pattern.within_us = within_s < 0 ? -1 : within_s * kSec;
        rs.rules.push_back(r);
        return rs.rules.back();
    }
    ir::Rule& threshold(ir::Threshold th) {
        ir::Rule r;
        r.name = "r" + std::to_string(rs.rules.size());
        r.kind = ir::RuleKind::Threshold;
        r.threshold = std::move(th);
        rs.rules.push_back(r);
        return rs.rules.back();
    }
    /// The oracle's detections, first/last times cleared (the expectations below do not spell them).
    std::vector<Tuple> run(uint32_t cap = UINT32_MAX) const {
        std::vector<Tuple> v = expected_detections(rs, events, cap);
        for (Tuple& t : v) t.first_time = t.last_time = 0;
        return v;
    }
};

ir::Step step(const char* alias, uint16_t type, uint32_t min = 1, uint32_t max = 1) {
    ir::Step s;
    s.alias = alias;
    s.types = {type};
    s.min = min;
    s.max = max;
    return s;
}

ir::Step special(ir::StepKind kind, const char* alias, uint16_t type, int64_t within_s = -1) {
    ir::Step s = step(alias, type);
    s.kind = kind;
    s.within_us = within_s < 0 ? -1 : within_s * kSec;
    return s;
}

Tuple det(uint32_t rule, int64_t sec, const char* trigger,
          std::vector<std::pair<std::string, std::vector<uint64_t>>> bindings, uint32_t key = 0) {
    std::sort(bindings.begin(), bindings.end());
    return Tuple{rule, key, kT0 + sec * kSec, trigger, std::move(bindings), {}, -1, 0, 0};
}

// §4 skip-till-next-match + consumption: A1 B2 B3 A4 B5 gives (1,2) and (4,5).
TEST(OracleSelf, FollowedByConsumes) {
    Mini m;
    m.pattern({step("a", A), step("b", B)});
    m.ev(A, 0), m.ev(B, 1), m.ev(B, 2), m.ev(A, 3), m.ev(B, 4);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 1, "event", {{"a", {1}}, {"b", {2}}}),
                                           det(0, 4, "event", {{"a", {4}}, {"b", {5}}})}));
}

// §4 consumption: "earliest start wins" discards the partial started by A2; keep all emits both.
TEST(OracleSelf, KeepAllVersusConsumption) {
    Mini m;
    m.pattern({step("a", A), step("b", B)});
    m.pattern({step("a", A), step("b", B)}).keep_all = true;
    m.ev(A, 0), m.ev(A, 1), m.ev(B, 2);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 2, "event", {{"a", {1}}, {"b", {3}}}),
                                           det(1, 2, "event", {{"a", {1}}, {"b", {3}}}),
                                           det(1, 2, "event", {{"a", {2}}, {"b", {3}}})}));
}

// §4 window: "within 5s" admits a gap of exactly 5s and not 6s.
TEST(OracleSelf, WindowIsInclusive) {
    Mini m;
    m.pattern({step("a", A), step("b", B)}, 5);
    m.ev(A, 0), m.ev(B, 5), m.ev(A, 10), m.ev(B, 16);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 5, "event", {{"a", {1}}, {"b", {2}}})}));
}

// §4 trailing absence: an N at exactly the deadline kills; otherwise detection time = deadline.
TEST(OracleSelf, TrailingAbsence) {
    Mini m;
    m.pattern({step("a", A), special(ir::StepKind::Absence, "n", B, 5)});
    m.ev(A, 0), m.ev(B, 5), m.ev(A, 10), m.ev(B, 16), m.ev(A, 20);
    EXPECT_EQ(m.run(),
              (std::vector<Tuple>{det(0, 15, "absence", {{"a", {3}}}), det(0, 25, "absence", {{"a", {5}}})}));
}

// §4 trailing absence without its own within: deadline = first + pattern within.
TEST(OracleSelf, TrailingAbsenceUsesPatternWithin) {
    Mini m;
    m.pattern({step("a", A), step("b", B), special(ir::StepKind::Absence, "n", C)}, 4);
    m.ev(A, 0), m.ev(B, 3), m.ev(C, 5);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 4, "absence", {{"a", {1}}, {"b", {2}}})}));
}

// §4 order of candidates: a Kleene step takes events until the following step fires; a trailing {2,}
// completes with exactly 2 events.
TEST(OracleSelf, KleeneTakesUntilNextStep) {
    Mini m;
    m.pattern({step("a", A, 1, ir::kUnbounded), step("b", B, 2, ir::kUnbounded)});
    m.ev(A, 0), m.ev(A, 1), m.ev(B, 2), m.ev(A, 3), m.ev(B, 4), m.ev(B, 5);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 4, "event", {{"a", {1, 2}}, {"b", {3, 5}}})}));
}

// §4 strict next kills on any unconsumed event; negation kills on N between the steps.
TEST(OracleSelf, StrictAndNegation) {
    Mini m;
    ir::Step b = step("b", B);
    b.strict = true;
    m.pattern({step("a", A), b});
    m.pattern({step("a", A), special(ir::StepKind::Negation, "n", C), step("b", B)});
    m.ev(A, 0), m.ev(C, 1), m.ev(B, 2), m.ev(A, 3), m.ev(B, 4);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 4, "event", {{"a", {4}}, {"b", {5}}}),
                                           det(1, 4, "event", {{"a", {4}}, {"b", {5}}})}));
}

// §3 window [t - D, t] is inclusive, edge-triggered: fires at 2 (A0, A2), stays true at 3, false at 10,
// fires again at 11.
TEST(OracleSelf, WindowThresholdEdge) {
    Mini m;
    ir::Threshold th;
    th.scope = ir::ScopeKind::Window;
    th.window_us = 2 * kSec;
    th.cond = m.count_ge({A}, 2);
    m.threshold(th);
    m.ev(A, 0), m.ev(A, 2), m.ev(A, 3), m.ev(A, 10), m.ev(A, 11);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 2, "event", {{"scope", {1, 2}}, {"trigger", {2}}}),
                                           det(0, 11, "event", {{"scope", {4, 5}}, {"trigger", {5}}})}));
}

// §2 a gap of exactly `gap` stays inside; the session closes at the deadline (detection time) or at
// an `end on` event (its time); the max length caps the deadline.
TEST(OracleSelf, SessionEnds) {
    Mini m;
    ir::Session s;
    s.name = "s";
    s.gap_us = 2 * kSec;
    s.max_us = 5 * kSec;
    s.ends.push_back({C, ir::kNoExpr});
    m.rs.sessions.push_back(s);
    ir::Threshold th;
    th.scope = ir::ScopeKind::Session;
    th.at_session_end = true;
    th.cond = m.count_ge({}, 1);
    m.threshold(th);
    m.ev(A, 0), m.ev(A, 2), m.ev(A, 5), m.ev(A, 20), m.ev(C, 21), m.ev(A, 22), m.ev(A, 24), m.ev(A, 26),
        m.ev(A, 27);
    // "the trigger binding is the session's last event". {0,2} closes at 4; {5} at 7; {20,21} by end on at
    // 21; {22,24,26,27}: max 5 -> deadline 27 (22+5), 27 joins (t <= deadline), closes at 27 at end of input.
    EXPECT_EQ(m.run(),
              (std::vector<Tuple>{det(0, 4, "session_end", {{"scope", {1, 2}}, {"trigger", {2}}}),
                                  det(0, 7, "session_end", {{"scope", {3}}, {"trigger", {3}}}),
                                  det(0, 21, "session_end", {{"scope", {4, 5}}, {"trigger", {5}}}),
                                  det(0, 27, "session_end", {{"scope", {6, 7, 8, 9}}, {"trigger", {9}}})}));
}

// §3 session edge memory resets with each new session.
TEST(OracleSelf, SessionEdgeMemoryResets) {
    Mini m;
    ir::Session s;
    s.name = "s";
    s.gap_us = 2 * kSec;
    m.rs.sessions.push_back(s);
    ir::Threshold th;
    th.scope = ir::ScopeKind::Session;
    th.cond = m.count_ge({A}, 1);
    m.threshold(th);
    m.ev(A, 0), m.ev(A, 1), m.ev(A, 10);
    EXPECT_EQ(m.run(), (std::vector<Tuple>{det(0, 0, "event", {{"scope", {1}}, {"trigger", {1}}}),
                                           det(0, 10, "event", {{"scope", {3}}, {"trigger", {3}}})}));
}

// §4 bounded state: with a cap of 2, the third A drops the oldest partial (started by A1).
TEST(OracleSelf, BoundedStateDropsOldest) {
    Mini m;
    m.pattern({step("a", A), step("b", B)}).keep_all = true;
    m.ev(A, 0), m.ev(A, 1), m.ev(A, 2), m.ev(B, 3);
    EXPECT_EQ(m.run(2), (std::vector<Tuple>{det(0, 3, "event", {{"a", {2}}, {"b", {4}}}),
                                            det(0, 3, "event", {{"a", {3}}, {"b", {4}}})}));
}

// §5 exclusive groups: on one event the higher priority wins, a tie goes to the rule declared first;
// on another event the rules do not compete.
TEST(OracleSelf, ExclusiveGroup) {
    Mini m;
    for (int i = 0; i < 3; ++i) {
        ir::Threshold th;
        th.scope = ir::ScopeKind::LastN;
        th.last_n = 1;
        th.on_types = {static_cast<uint16_t>(i == 2 ? B : A)};
        th.cond = m.count_ge({}, 1);
        m.threshold(th).group = 0;
    }
    m.rs.rules[0].priority = 1;
    m.rs.rules[1].priority = 1;
    m.rs.rules[2].priority = 5;
    m.rs.groups.push_back({"g", {0, 1, 2}});
    m.ev(A, 0), m.ev(B, 1);
    std::vector<Tuple> got = m.run();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].rule, 0u);
    EXPECT_EQ(got[0].suppressed_by, -1);
    EXPECT_EQ(got[1].rule, 1u);
    EXPECT_EQ(got[1].suppressed_by, 0);
    EXPECT_EQ(got[2].rule, 2u);
    EXPECT_EQ(got[2].suppressed_by, -1);
}

// The generator: deterministic, time-ordered, and every family yields some detections.
TEST(OracleSelf, GeneratorIsDeterministicAndProductive) {
    for (Family f : all_families()) {
        size_t with = 0;
        for (uint64_t i = 0; i < 200; ++i) {
            Case a = generate_case(f, i), b = generate_case(f, i);
            ASSERT_EQ(dump_rules(a.rs), dump_rules(b.rs));
            ASSERT_EQ(dump_events(a.rs, a.events), dump_events(b.rs, b.events));
            for (size_t j = 1; j < a.events.size(); ++j) ASSERT_LE(a.events[j - 1].time, a.events[j].time);
            with += !expected_detections(a.rs, a.events).empty();
        }
        EXPECT_GE(with, 20u) << family_name(f);
    }
}

} // namespace
} // namespace ethogram::oracle
