// random_rules.cpp: the random rule-set and stream generator for the differential test.
#include "tests/oracle/random_rules.h"

#include "tests/oracle/random_exprs.h"

#include <algorithm>

#include <fmt/format.h>

namespace ethogram::oracle {

std::vector<Family> all_families() {
    return {Family::FollowedBy,   Family::Strict,     Family::Kleene,     Family::Optional,
            Family::Alternatives, Family::Negation,   Family::AbsenceOwn, Family::AbsenceWithin,
            Family::Within,       Family::KeepAll,    Family::Window,     Family::LastN,
            Family::Session,      Family::SessionEnd, Family::Groups,     Family::Overflow,
            Family::Mixed};
}

std::string_view family_name(Family f) {
    switch (f) {
    case Family::FollowedBy: return "FollowedBy";
    case Family::Strict: return "Strict";
    case Family::Kleene: return "Kleene";
    case Family::Optional: return "Optional";
    case Family::Alternatives: return "Alternatives";
    case Family::Negation: return "Negation";
    case Family::AbsenceOwn: return "AbsenceOwn";
    case Family::AbsenceWithin: return "AbsenceWithin";
    case Family::Within: return "Within";
    case Family::KeepAll: return "KeepAll";
    case Family::Window: return "Window";
    case Family::LastN: return "LastN";
    case Family::Session: return "Session";
    case Family::SessionEnd: return "SessionEnd";
    case Family::Groups: return "Groups";
    case Family::Overflow: return "Overflow";
    case Family::Mixed: return "Mixed";
    }
    return "?";
}

namespace {

constexpr int64_t kSec = ir::kMicrosPerSecond;

bool is_pattern_family(Family f) {
    return f != Family::Window && f != Family::LastN && f != Family::Session && f != Family::SessionEnd;
}

/// What a family switches on. Mixed flips a coin for each.
struct Knobs {
    bool strict = false, kleene = false, optional = false, alternatives = false, negation = false;
    bool absence_own = false, absence_within = false, within = false, keep_all = false;
};

Knobs knobs_for(Family f, Rng& rng) {
    Knobs k;
    switch (f) {
    case Family::Strict: k.strict = true; break;
    case Family::Kleene: k.kleene = true; break;
    case Family::Optional: k.optional = true; break;
    case Family::Alternatives: k.alternatives = true; break;
    case Family::Negation: k.negation = true; break;
    case Family::AbsenceOwn: k.absence_own = true; break;
    case Family::AbsenceWithin: k.absence_within = true; break;
    case Family::Within: k.within = true; break;
    case Family::KeepAll: k.keep_all = true; break;
    case Family::Mixed:
        k.strict = rng.chance(0.3);
        k.kleene = rng.chance(0.4);
        k.optional = rng.chance(0.3);
        k.alternatives = rng.chance(0.3);
        k.negation = rng.chance(0.3);
        k.within = rng.chance(0.4);
        if (rng.chance(0.3)) (k.within ? k.absence_within : k.absence_own) = true;
        k.keep_all = rng.chance(0.3);
        break;
    default: break;
    }
    return k;
}

std::vector<uint16_t> random_types(Builder& b, bool alternatives) {
    auto n = static_cast<uint16_t>(b.rs.events.size());
    auto t = static_cast<uint16_t>(b.rng.below(n));
    std::vector<uint16_t> v{t};
    if (alternatives && b.rng.chance(0.6)) {
        auto u = static_cast<uint16_t>((t + 1 + b.rng.below(n - 1)) % n);
        v.push_back(u);
    }
    return v;
}

// Constraints kept so that every generated rule has one reading under docs/semantics.md: first and last
// positive steps have min >= 1 (E0407); a strict step and the step before it have min >= 1 (whether a
// skipped optional step is "complete" for strict next is not stated); a negation follows a positive step
// and is never followed by a strict step.
void make_pattern_rule(Builder& b, ir::Rule& rule, Family f) {
    Knobs k = knobs_for(f, b.rng);
    rule.kind = ir::RuleKind::Pattern;
    rule.keep_all = k.keep_all;
    ir::Pattern& p = rule.pattern;
    uint32_t positives = (k.absence_own || k.absence_within) ? 1 + b.rng.below(3) : 1 + b.rng.below(4);
    if (positives == 1 && (k.strict || k.negation || k.optional)) positives = 2;
    if (k.optional && positives < 3) positives = 3;
    // "A match already waiting out a trailing absence that has its own within runs to that deadline,
    // even past first + W": own and pattern `within` together are generated too.
    bool both = k.absence_own && b.rng.chance(0.3);
    if (k.within || k.absence_within || both) p.within_us = (1 + b.rng.below(6)) * kSec;
    uint32_t alias_no = 0;
    for (uint32_t i = 0; i < positives; ++i) {
        bool first = i == 0, last = i + 1 == positives;
        ir::Step s;
        s.alias = fmt::format("a{}", alias_no++);
        s.types = random_types(b, k.alternatives);
        if (k.kleene && b.rng.chance(0.5)) {
            if (b.rng.chance(0.5)) {
                s.min = 1;
                s.max = ir::kUnbounded;
            } else {
                s.min = 1 + b.rng.below(3);
                s.max = b.rng.chance(0.3) ? ir::kUnbounded : s.min + b.rng.below(3);
            }
        }
        if (k.optional && !first && !last && b.rng.chance(0.7)) {
            s.min = 0;
            s.max = b.rng.chance(0.6) ? 1 : ir::kUnbounded;
        }
        const ir::Step* prev = p.steps.empty() ? nullptr : &p.steps.back();
        bool prev_ok = prev && prev->kind == ir::StepKind::Positive && prev->min >= 1;
        if (k.strict && prev_ok && s.min >= 1 && b.rng.chance(0.6)) s.strict = true;
        if (b.rng.chance(0.6)) s.pred = b.step_predicate(rule, p.steps.size(), s.types);
        // A negation goes before this step when both neighbours have min >= 1 and this is not strict.
        bool prev_positive = prev && prev->kind == ir::StepKind::Positive;
        if (k.negation && prev_positive && !s.strict && b.rng.chance(0.7)) {
            ir::Step n;
            n.kind = ir::StepKind::Negation;
            n.alias = fmt::format("n{}", alias_no++);
            n.types = random_types(b, k.alternatives);
            if (b.rng.chance(0.5)) n.pred = b.step_predicate(rule, p.steps.size(), n.types);
            p.steps.push_back(std::move(n));
        }
        p.steps.push_back(std::move(s));
    }
    if (k.absence_own || k.absence_within) {
        ir::Step n;
        n.kind = ir::StepKind::Absence;
        n.alias = fmt::format("n{}", alias_no++);
        n.types = random_types(b, k.alternatives);
        if (b.rng.chance(0.5)) n.pred = b.step_predicate(rule, p.steps.size(), n.types);
        if (k.absence_own) n.within_us = (1 + b.rng.below(4)) * kSec; // E0609: positive;
        p.steps.push_back(std::move(n));
    }
}

uint32_t make_session(Builder& b) {
    if (!b.rs.sessions.empty() && b.rng.chance(0.6))
        return static_cast<uint32_t>(b.rng.below(b.rs.sessions.size()));
    ir::Session s;
    s.name = fmt::format("s{}", b.rs.sessions.size());
    s.gap_us = (1 + b.rng.below(4)) * kSec;
    if (b.rng.chance(0.4)) s.max_us = s.gap_us + b.rng.below(5) * kSec; // E0609: max >= gap
    if (b.rng.chance(0.3)) {
        s.types = random_types(b, true);
        std::sort(s.types.begin(), s.types.end());
    }
    if (b.rng.chance(0.4)) {
        ir::SessionEnd end;
        end.type = s.types.empty() ? static_cast<uint16_t>(b.rng.below(b.rs.events.size()))
                                   : s.types[b.rng.below(s.types.size())];
        if (b.rng.chance(0.5)) end.pred = b.field_cmp_const({end.type});
        s.ends.push_back(end);
    }
    b.rs.sessions.push_back(std::move(s));
    return static_cast<uint32_t>(b.rs.sessions.size() - 1);
}

void make_threshold_rule(Builder& b, ir::Rule& rule, Family f) {
    rule.kind = ir::RuleKind::Threshold;
    ir::Threshold& th = rule.threshold;
    if (f == Family::Mixed) {
        static constexpr Family kinds[] = {Family::Window, Family::LastN, Family::Session,
                                           Family::SessionEnd};
        f = kinds[b.rng.below(4)];
    }
    std::vector<uint16_t> members; // types allowed as triggers
    if (f == Family::Window) {
        th.scope = ir::ScopeKind::Window;
        th.window_us = (1 + b.rng.below(5)) * kSec;
    } else if (f == Family::LastN) {
        th.scope = ir::ScopeKind::LastN;
        th.last_n = 1 + b.rng.below(5);
    } else {
        th.scope = ir::ScopeKind::Session;
        th.session = make_session(b);
        members = b.rs.sessions[th.session].types;
        th.at_session_end = f == Family::SessionEnd;
    }
    if (!th.at_session_end && (b.rng.chance(0.5) || !members.empty())) {
        th.on_types = members.empty() ? random_types(b, true) : members;
        if (th.on_types.size() > 1 && b.rng.chance(0.5)) th.on_types.pop_back();
        std::sort(th.on_types.begin(), th.on_types.end());
    }
    th.cond = b.threshold_condition(th);
}

ir::Event make_event(Builder& b, uint64_t seq, int64_t time, uint32_t nkeys) {
    ir::Event e;
    e.type = static_cast<uint16_t>(b.rng.below(b.rs.events.size()));
    e.key = b.key_ids[b.rng.below(nkeys)];
    e.time = time;
    e.seq = seq;
    e.line = seq;
    const ir::EventType& et = b.rs.events[e.type];
    e.fields.resize(et.fields.size());
    for (size_t i = 0; i < et.fields.size(); ++i) {
        const ir::FieldDef& fd = et.fields[i];
        if (i == et.key_field)
            e.fields[i] = ir::Value::string(e.key);
        else if (i == et.time_field)
            e.fields[i] = ir::Value::timestamp(time);
        else if (fd.name == "x")
            e.fields[i] = ir::Value::integer(static_cast<int64_t>(b.rng.below(4)));
        else if (fd.name == "k")
            e.fields[i] = ir::Value::enumeration(static_cast<int64_t>(b.rng.below(3)));
        else if (fd.name == "s")
            e.fields[i] = ir::Value::string(b.string_ids[b.rng.below(b.string_ids.size())]);
        else if (fd.name == "o" && !b.rng.chance(0.3))
            e.fields[i] = ir::Value::integer(static_cast<int64_t>(b.rng.below(4)));
    }
    return e;
}

/// An exclusive group over at least two of the rules, with priorities that often tie.
void make_group(Builder& b) {
    ir::Group g;
    g.name = "g";
    for (uint32_t r = 0; r < b.rs.rules.size(); ++r)
        if (b.rng.chance(0.8)) g.rules.push_back(r);
    for (uint32_t r = 0; g.rules.size() < 2; ++r)
        if (std::find(g.rules.begin(), g.rules.end(), r) == g.rules.end()) g.rules.insert(g.rules.begin(), r);
    std::sort(g.rules.begin(), g.rules.end());
    for (uint32_t r : g.rules) {
        b.rs.rules[r].group = 0;
        b.rs.rules[r].priority = static_cast<int32_t>(b.rng.below(3));
    }
    b.rs.groups.push_back(std::move(g));
}

} // namespace

Case generate_case(Family f, uint64_t seed) {
    Builder b(seed);
    b.make_schema(2 + static_cast<uint16_t>(b.rng.below(2)));
    bool groups = f == Family::Groups, overflow = f == Family::Overflow;
    if (groups) f = Family::Mixed;
    if (overflow) f = b.rng.chance(0.5) ? Family::KeepAll : Family::Kleene;
    uint32_t nrules = groups ? 2 + b.rng.below(3) : 1 + b.rng.below(f == Family::Mixed ? 3 : 2);
    for (uint32_t r = 0; r < nrules; ++r) {
        ir::Rule rule;
        rule.name = fmt::format("r{}", r);
        rule.label = 0;
        bool pattern = is_pattern_family(f) && (f != Family::Mixed || b.rng.chance(0.6));
        if (pattern)
            make_pattern_rule(b, rule, f);
        else
            make_threshold_rule(b, rule, f);
        b.add_emits(rule);
        b.rs.rules.push_back(std::move(rule));
    }
    if (groups) make_group(b);
    Case c;
    if (overflow) c.max_partial_matches = 1 + static_cast<uint32_t>(b.rng.below(3));
    uint32_t nkeys = 1 + b.rng.below(4);
    uint32_t nevents = 4 + b.rng.below(26);
    static constexpr int64_t kSteps[] = {0, 0, 1, 1, 1, 1, 2, 2, 3, 4, 5};
    // With a rule over a session, now and then a long stream of few keys and short steps: sessions past
    // ExprEvaluator::kFoldFrom events, whose aggregates the engines fold (interp/aggregate_fold.cpp).
    bool session_rule = false;
    for (const ir::Rule& r : b.rs.rules)
        session_rule = session_rule ||
                       (r.kind == ir::RuleKind::Threshold && r.threshold.scope == ir::ScopeKind::Session);
    static constexpr int64_t kLongSteps[] = {0, 0, 0, 1, 1, 1, 1, 2};
    const bool long_stream = session_rule && b.rng.chance(0.3);
    if (long_stream) {
        nkeys = 1 + b.rng.below(2);
        nevents = 60 + b.rng.below(140);
    }
    int64_t t = 1'700'000'000 * kSec;
    for (uint32_t i = 0; i < nevents; ++i) {
        t += (long_stream ? kLongSteps[b.rng.below(std::size(kLongSteps))]
                          : kSteps[b.rng.below(std::size(kSteps))]) *
             kSec;
        c.events.push_back(make_event(b, i + 1, t, nkeys));
    }
    c.rs = std::move(b.rs);
    return c;
}

} // namespace ethogram::oracle
