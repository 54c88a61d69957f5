// coverage.cpp: sizing the coverage counters from the rule set (branches of threshold conditions).
#include "compiler/interp/coverage.h"

namespace ethogram::interp {

namespace {

// Flattens a chain of one operator (`a and (b and c)`) into its operands, left to right.
void flatten(const ir::RuleSet& rs, ir::ExprId id, ir::Op op, std::vector<ir::ExprId>& out) {
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ir::ExprKind::Binary && e.op == op) {
        flatten(rs, e.a, op, out);
        flatten(rs, e.b, op, out);
        return;
    }
    out.push_back(id);
}

} // namespace

Coverage::Coverage(const ir::RuleSet& rs) : rules(rs.rules.size()) {
    for (size_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        RuleCoverage& rc = rules[r];
        if (rule.kind == ir::RuleKind::Pattern) {
            rc.step_hits.assign(rule.pattern.steps.size(), 0);
            continue;
        }
        const ir::ExprId cond = rule.threshold.cond;
        if (cond == ir::kNoExpr || cond >= rs.exprs.size()) continue;
        const ir::Expr& e = rs.exprs[cond];
        if (e.kind == ir::ExprKind::Binary && (e.op == ir::Op::And || e.op == ir::Op::Or)) {
            rc.branch_op = e.op;
            flatten(rs, cond, e.op, rc.branches);
        } else {
            rc.branches.push_back(cond);
        }
        rc.branch_true.assign(rc.branches.size(), 0);
        rc.branch_false.assign(rc.branches.size(), 0);
    }
}

void Coverage::merge(const Coverage& o) {
    for (size_t r = 0; r < rules.size() && r < o.rules.size(); ++r) {
        RuleCoverage& a = rules[r];
        const RuleCoverage& b = o.rules[r];
        a.detections += b.detections;
        a.cond_true += b.cond_true;
        a.cond_false += b.cond_false;
        for (size_t i = 0; i < a.step_hits.size() && i < b.step_hits.size(); ++i)
            a.step_hits[i] += b.step_hits[i];
        for (size_t i = 0; i < a.branch_true.size() && i < b.branch_true.size(); ++i) {
            a.branch_true[i] += b.branch_true[i];
            a.branch_false[i] += b.branch_false[i];
        }
    }
}

} // namespace ethogram::interp
