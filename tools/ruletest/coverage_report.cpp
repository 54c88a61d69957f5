// coverage_report.cpp: what the tests never exercised, from the interpreter's coverage counters.
#include "runtime/json_writer.h"
#include "tools/ruletest/report.h"

#include <fmt/format.h>

namespace ethogram::ruletest {

namespace {

const char* step_kind(ir::StepKind k) {
    return k == ir::StepKind::Positive ? "step" : k == ir::StepKind::Negation ? "negation" : "absence";
}

const char* never_step(ir::StepKind k) {
    return k == ir::StepKind::Positive ? "never bound an event"
                                       : "never stopped a partial match (no test has the event it forbids)";
}

struct Gap {
    std::string rule, where, what;
};

// Everything not exercised in one rule set, and the counts.
std::vector<Gap> gaps(const CompiledRules& cr, CoverageSummary& s) {
    std::vector<Gap> out;
    const ir::RuleSet& rs = *cr.rs;
    for (size_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        const interp::RuleCoverage& rc = cr.coverage.rules[r];
        const std::string where = fmt::format("{}:{}", rule.loc.file, rule.loc.line);
        ++s.rules;
        if (rc.detections > 0)
            ++s.rules_hit;
        else
            out.push_back({rule.name, where, "never fired"});
        // Each branch of a condition or step predicate should be seen both holding and failing.
        auto branches = [&](const interp::Branches& b, const std::string& what, int32_t step) {
            for (size_t i = 0; i < b.exprs.size(); ++i) {
                s.outcomes += 2;
                s.outcomes_hit += (b.held[i] > 0) + (b.failed[i] > 0);
                const std::string which =
                    b.exprs.size() == 1 ? what
                                        : fmt::format("{} branch {} of {}", what, i + 1, b.exprs.size());
                const std::string text = expr_text(rs, rule, b.exprs[i], step);
                if (b.held[i] == 0 && b.failed[i] == 0)
                    out.push_back({rule.name, where, fmt::format("{} `{}`: never evaluated", which, text)});
                else if (b.held[i] == 0)
                    out.push_back({rule.name, where, fmt::format("{} `{}`: never true", which, text)});
                else if (b.failed[i] == 0)
                    out.push_back({rule.name, where, fmt::format("{} `{}`: never false", which, text)});
            }
        };
        if (rule.kind == ir::RuleKind::Pattern) {
            for (size_t i = 0; i < rule.pattern.steps.size(); ++i) {
                const ir::Step& st = rule.pattern.steps[i];
                ++s.steps;
                if (i < rc.step_hits.size() && rc.step_hits[i] > 0)
                    ++s.steps_hit;
                else
                    out.push_back(
                        {rule.name, where,
                         fmt::format("{} {}: {}", step_kind(st.kind), st.alias, never_step(st.kind))});
                if (i < rc.step_branches.size())
                    branches(rc.step_branches[i],
                             fmt::format("{} {} predicate", step_kind(st.kind), st.alias),
                             static_cast<int32_t>(i));
            }
            continue;
        }
        branches(rc.cond, "condition", -1);
    }
    return out;
}

std::string paths_of(const CompiledRules& cr) {
    std::string p;
    for (const auto& x : cr.paths) {
        p += p.empty() ? "" : " ";
        p += x;
    }
    return p;
}

} // namespace

CoverageSummary coverage_summary(const std::vector<const CompiledRules*>& sets) {
    CoverageSummary s;
    for (const CompiledRules* cr : sets)
        if (cr->rs) gaps(*cr, s);
    return s;
}

std::string coverage_text(const std::vector<const CompiledRules*>& sets) {
    std::string out;
    for (const CompiledRules* cr : sets) {
        if (!cr->rs) continue;
        CoverageSummary s;
        std::vector<Gap> g = gaps(*cr, s);
        out += fmt::format("coverage of {} {} ({}), {} case(s):\n", cr->rs->name, cr->rs->version,
                           paths_of(*cr), cr->cases);
        out += fmt::format("  rules fired {}/{}, pattern steps {}/{}, branch outcomes {}/{}\n", s.rules_hit,
                           s.rules, s.steps_hit, s.steps, s.outcomes_hit, s.outcomes);
        if (g.empty()) out += "  everything was exercised\n";
        for (const Gap& x : g) out += fmt::format("  {} {}: {}\n", x.where, x.rule, x.what);
    }
    return out;
}

std::string coverage_json(const std::vector<const CompiledRules*>& sets) {
    using runtime::append_json_string;
    std::string out = "[";
    bool first = true;
    for (const CompiledRules* cr : sets) {
        if (!cr->rs) continue;
        CoverageSummary s;
        std::vector<Gap> g = gaps(*cr, s);
        out += first ? "{\"ruleset\":" : ",{\"ruleset\":";
        first = false;
        append_json_string(out, cr->rs->name);
        out += ",\"paths\":";
        append_json_string(out, paths_of(*cr));
        out += fmt::format(
            ",\"cases\":{},\"rules\":{},\"rules_fired\":{},\"steps\":{},\"steps_hit\":{},\"outcomes\":{},"
            "\"outcomes_hit\":{},\"uncovered\":[",
            cr->cases, s.rules, s.rules_hit, s.steps, s.steps_hit, s.outcomes, s.outcomes_hit);
        for (size_t i = 0; i < g.size(); ++i) {
            out += i ? ",{\"rule\":" : "{\"rule\":";
            append_json_string(out, g[i].rule);
            out += ",\"where\":";
            append_json_string(out, g[i].where);
            out += ",\"what\":";
            append_json_string(out, g[i].what);
            out.push_back('}');
        }
        out += "]}";
    }
    return out + "]";
}

} // namespace ethogram::ruletest
