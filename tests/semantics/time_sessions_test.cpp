// time_sessions_test.cpp: pins for docs/semantics.md §1 (time and order) and §2 (sessions).
#include "tests/semantics/semantics_harness.h"

#include <gtest/gtest.h>

namespace ethogram::semantics_test {
namespace {

using V = std::vector<uint64_t>;

std::string with(const std::string& body) {
    return prelude() + body;
}

// §1 "Before an event with time t is processed, every timer with deadline < t fires": the absence
// detection (deadline 5) comes out before the detection of the event at 6 that passes it.
TEST(SemanticsTime, TimersFireBeforeTheEventThatPassesThem) {
    Harness h(with(R"(
rule absent { label t; pattern a: A -> not n: C within 5s; }
rule each { label t; over last 1 events; on B; when count(B) >= 1; }
)"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 6);
    h.run();
    ASSERT_EQ(h.emitted().size(), 2u);
    EXPECT_EQ(h.rules().rules[h.emitted()[0].rule].name, "absent");
    EXPECT_EQ(Harness::sec(h.emitted()[0].time), 5.0);
    EXPECT_EQ(h.rules().rules[h.emitted()[1].rule].name, "each");
    EXPECT_EQ(Harness::sec(h.emitted()[1].time), 6.0);
}

// §1 "Before an event with time t ... every timer with deadline < t fires": strictly less, so a timer at
// exactly t has not fired and a C at exactly the deadline still kills the absence.
TEST(SemanticsTime, TimerAtExactlyTheEventTimeHasNotFired) {
    Harness h(with("rule absent { label t; pattern a: A -> not n: C within 5s; }\n"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 5);
    h.run();
    EXPECT_TRUE(h.emitted().empty());
}

// §1 "every key sees its events in event-time order, ties in arrival order": two events at the same
// instant match A -> B in arrival order, and not B -> A.
TEST(SemanticsTime, TiesInArrivalOrder) {
    Harness h(with(R"(
rule ab { label t; pattern a: A -> b: B; }
rule ba { label t; pattern b: B -> a: A; }
)"));
    h.ev("A", "u1", 1);
    h.ev("B", "u1", 1);
    h.run();
    ASSERT_EQ(h.of("ab").size(), 1u);
    EXPECT_TRUE(h.of("ba").empty());
}

// §1 "At end of input the watermark moves to +inf: every pending timer fires."
TEST(SemanticsTime, EndOfInputFiresPendingTimers) {
    Harness h(with(R"(
session s { gap 10s; }
rule absent { label t; pattern a: A -> not n: C within 1h; }
rule ended { label t; over session s; at session end; when count(any) >= 1; }
)"));
    h.ev("A", "u1", 0);
    h.run();
    ASSERT_EQ(h.of("absent").size(), 1u);
    EXPECT_EQ(Harness::sec(h.of("absent")[0].time), 3600.0);
    ASSERT_EQ(h.of("ended").size(), 1u);
    EXPECT_EQ(Harness::sec(h.of("ended")[0].time), 10.0);
}

// §2 "An event with t <= deadline joins the session (a gap of exactly gap stays inside)"; "the session
// closes when ... the watermark passes the deadline"; "the detection time is the deadline (timer close)".
TEST(SemanticsSessions, GapExactlyEqualStaysInside) {
    Harness h(with(R"(
session s { gap 30s; }
rule ended { label t; over session s; at session end; when count(any) >= 1; }
)"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 30);   // exactly gap: same session
    h.ev("A", "u1", 60.5); // 30.5s later: new session, the first closed at 30 + 30
    h.run();
    auto d = h.of("ended");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::sec(d[0].time), 60.0);
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 2}));
    EXPECT_EQ(Harness::sec(d[1].time), 90.5);
    EXPECT_EQ(Harness::seqs(d[1], "scope"), (V{3}));
    EXPECT_EQ(d[0].trigger, "session_end");
    // "the trigger binding is the session's last event"
    EXPECT_EQ(Harness::seqs(d[0], "trigger"), (V{2}));
}

// §2 "The open session's deadline is min(last + gap, start + max)": with max 10s an event at start + 10s
// joins, one at start + 10.5s opens a new session (the old one closed at start + max).
TEST(SemanticsSessions, MaximumLength) {
    Harness h(with(R"(
session s { gap 5s; max 10s; }
rule ended { label t; over session s; at session end; when count(any) >= 1; }
)"));
    h.ev("A", "u1", 0);
    h.ev("A", "u1", 5);
    h.ev("A", "u1", 10);   // deadline min(10, 10) = 10: joins
    h.ev("A", "u1", 10.5); // deadline min(15, 10) = 10 < 10.5: new session
    h.run();
    auto d = h.of("ended");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::sec(d[0].time), 10.0);
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 2, 3}));
    EXPECT_EQ(Harness::seqs(d[1], "scope"), (V{4}));
}

// §2 "An end on event joins the session and closes it immediately after it is processed"; "the detection
// time is ... the ending event's time (action close)"; per-event rules see the ending event inside.
TEST(SemanticsSessions, EndOnJoinsAndCloses) {
    Harness h(with(R"(
session s { gap 1h; end on B where x == 1; }
rule ended { label t; over session s; at session end; when count(any) >= 1; }
rule size { label t; over session s; on B; when session.events >= 3; }
)"));
    h.ev("A", "u1", 0);
    h.ev("B", "u1", 1, {{"x", int64_t{0}}}); // not an end: x != 1
    h.ev("B", "u1", 2, {{"x", int64_t{1}}}); // ends the session, after `size` saw it as the 3rd event
    h.ev("A", "u1", 3);                      // a new session
    h.run();
    auto d = h.of("ended");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(Harness::sec(d[0].time), 2.0);
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 2, 3}));
    EXPECT_EQ(Harness::seqs(d[1], "scope"), (V{4}));
    ASSERT_EQ(h.of("size").size(), 1u);
    EXPECT_EQ(Harness::sec(h.of("size")[0].time), 2.0);
}

// §2 "session.duration = last - start, session.events = number of member events so far"; only member
// types belong.
TEST(SemanticsSessions, DurationAndEventsCountMembersOnly) {
    Harness h(with(R"(
session s { gap 1h; events A, B; }
rule long { label t; over session s; at session end; when session.duration == 7s and session.events == 2; }
)"));
    h.ev("A", "u1", 0);
    h.ev("C", "u1", 3); // not a member
    h.ev("B", "u1", 7);
    h.ev("C", "u1", 9); // not a member: the session still lasts 7s
    h.run();
    auto d = h.of("long");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(Harness::seqs(d[0], "scope"), (V{1, 3}));
}

// §2 sessions are per key: another key's events neither join nor extend the session.
TEST(SemanticsSessions, PerKey) {
    Harness h(with(R"(
session s { gap 2s; }
rule ended { label t; over session s; at session end; when count(any) >= 1; }
)"));
    h.ev("A", "u1", 0);
    h.ev("A", "u2", 1);
    h.ev("A", "u2", 3);
    h.run();
    auto d = h.of("ended");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(h.key_name(d[0].key), "u1");
    EXPECT_EQ(Harness::sec(d[0].time), 2.0);
    EXPECT_EQ(h.key_name(d[1].key), "u2");
    EXPECT_EQ(Harness::sec(d[1].time), 5.0);
}

} // namespace
} // namespace ethogram::semantics_test
