// coverage.cpp: the coverage counters: sized from the rule set (branches of conditions and step
// predicates), merged, and the branch counting the hooks call.
#include "compiler/interp/coverage.h"

#include "compiler/interp/expr_eval.h"

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

Branches branches_of(const ir::RuleSet& rs, ir::ExprId id) {
    Branches b;
    if (id == ir::kNoExpr || id >= rs.exprs.size()) return b;
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ir::ExprKind::Binary && (e.op == ir::Op::And || e.op == ir::Op::Or)) {
        b.op = e.op;
        flatten(rs, id, e.op, b.exprs);
    } else {
        b.exprs.push_back(id);
    }
    b.held.assign(b.exprs.size(), 0);
    b.failed.assign(b.exprs.size(), 0);
    return b;
}

void merge_branches(Branches& a, const Branches& b) {
    for (size_t i = 0; i < a.held.size() && i < b.held.size(); ++i) {
        a.held[i] += b.held[i];
        a.failed[i] += b.failed[i];
    }
}

} // namespace

Coverage::Coverage(const ir::RuleSet& rs) : rules(rs.rules.size()) {
    for (size_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        RuleCoverage& rc = rules[r];
        if (rule.kind == ir::RuleKind::Pattern) {
            rc.step_hits.assign(rule.pattern.steps.size(), 0);
            for (const ir::Step& st : rule.pattern.steps)
                rc.step_branches.push_back(branches_of(rs, st.pred));
            continue;
        }
        rc.cond = branches_of(rs, rule.threshold.cond);
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
        for (size_t i = 0; i < a.step_branches.size() && i < b.step_branches.size(); ++i)
            merge_branches(a.step_branches[i], b.step_branches[i]);
        merge_branches(a.cond, b.cond);
    }
}

void count_branches(Branches& b, ExprEvaluator& eval, const EvalContext& ctx) {
    for (size_t i = 0; i < b.exprs.size(); ++i) ++(eval.test(b.exprs[i], ctx) ? b.held[i] : b.failed[i]);
}

} // namespace ethogram::interp
