// lower.cpp: the JIT's plan for a rule set (what is compiled, which step tests are precomputed per event)
// and the driver that lowers it to one LLVM module; the Lowerer (lowerer.h) does the expressions.
#include "compiler/jit/lower.h"

#include "compiler/interp/expr_eval.h"
#include "compiler/interp/native_hooks.h"
#include "compiler/interp/state.h"
#include "compiler/jit/lowerer.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace ethogram::jit {

using ir::ExprKind;
using ir::Op;
using ir::Type;

namespace {

bool known_type(Type t) {
    switch (t) {
    case Type::Missing:
    case Type::Bool:
    case Type::Int:
    case Type::Float:
    case Type::String:
    case Type::Enum:
    case Type::Timestamp:
    case Type::Duration: return true;
    default: return false;
    }
}

} // namespace

namespace detail {

// Checks one expression node (not its children): "" when the lowering handles it.
std::string check_node(const ir::RuleSet& rs, const ir::Expr& e) {
    if (!known_type(e.type)) return "an expression of an unknown type";
    switch (e.kind) {
    case ExprKind::Const: return known_type(e.constant.type) ? "" : "a constant of an unknown type";
    case ExprKind::Field: return "";
    case ExprKind::SessionAttr:
        switch (e.attr) {
        case ir::SessionAttr::Duration:
        case ir::SessionAttr::Events:
        case ir::SessionAttr::Start:
        case ir::SessionAttr::Last: return "";
        default: return "an unknown session attribute";
        }
    case ExprKind::Unary: return e.op == Op::Not || e.op == Op::Neg ? "" : "an unknown unary operator";
    case ExprKind::Binary:
        switch (e.op) {
        case Op::And:
        case Op::Or:
        case Op::Eq:
        case Op::Ne:
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge:
        case Op::Add:
        case Op::Sub:
        case Op::Mul:
        case Op::Div:
        case Op::Mod: return "";
        default: return "an unknown binary operator";
        }
    case ExprKind::InList:
        if (e.op != Op::In && e.op != Op::NotIn) return "an unknown list operator";
        for (const ir::Value& v : e.list)
            if (!known_type(v.type)) return "a list constant of an unknown type";
        return "";
    case ExprKind::Call:
        switch (e.fn) {
        case ir::Builtin::StartsWith:
        case ir::Builtin::EndsWith:
        case ir::Builtin::Contains:
        case ir::Builtin::Lower:
        case ir::Builtin::Len:
        case ir::Builtin::Has:
        case ir::Builtin::Abs: return "";
        default: return "builtin function #" + std::to_string(static_cast<int>(e.fn));
        }
    case ExprKind::Aggregate: return e.agg < rs.aggregates.size() ? "" : "an aggregate out of range";
    default: break;
    }
    // Kinds added to the IR after this lowering was written (e.g. model calls) land here.
    return "expression kind #" + std::to_string(static_cast<int>(e.kind));
}

void children(const ir::Expr& e, std::vector<ir::ExprId>& out) {
    if (e.a != ir::kNoExpr) out.push_back(e.a);
    if (e.b != ir::kNoExpr) out.push_back(e.b);
    for (ir::ExprId x : e.args) out.push_back(x);
}
} // namespace detail

using detail::check_node;
using detail::children;

namespace {

// True when the tree under `id` calls a sequence model (ExprKind::Model). Model functions read the key's
// online model state, which lives in the interpreter's per-key state; such trees are left to the
// interpreter's evaluator (a null native hook), so a rule set with models still runs under the JIT.
bool calls_model(const ir::RuleSet& rs, ir::ExprId id) {
    if (id == ir::kNoExpr || id >= rs.exprs.size()) return false;
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ExprKind::Model) return true;
    std::vector<ir::ExprId> kids;
    children(e, kids);
    for (ir::ExprId k : kids)
        if (calls_model(rs, k)) return true;
    return false;
}

/// The compiled roots: `values` are read as values (ExprEvaluator::eval: emits, confidences, aggregate
/// values), `tests` as predicates (ExprEvaluator::test: step predicates, threshold conditions, session
/// ends, aggregate filters). Sorted, without duplicates; an expression may be in both.
struct Roots {
    std::vector<ir::ExprId> values, tests;
};

void sort_unique(std::vector<ir::ExprId>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

Roots collect_roots(const ir::RuleSet& rs) {
    Roots roots;
    auto add = [&](std::vector<ir::ExprId>& to, ir::ExprId id) {
        if (id != ir::kNoExpr && !calls_model(rs, id)) to.push_back(id);
    };
    for (const ir::Rule& r : rs.rules) {
        add(roots.values, r.confidence);
        for (const ir::Emit& em : r.emits) add(roots.values, em.expr);
        if (r.kind == ir::RuleKind::Threshold) add(roots.tests, r.threshold.cond);
        for (const ir::Step& s : r.pattern.steps) add(roots.tests, s.pred);
    }
    for (const ir::Session& s : rs.sessions)
        for (const ir::SessionEnd& end : s.ends) add(roots.tests, end.pred);
    for (const ir::Aggregate& a : rs.aggregates) {
        add(roots.values, a.value);
        add(roots.tests, a.filter);
    }
    sort_unique(roots.values);
    sort_unique(roots.tests);
    return roots;
}

// True when `id` reads nothing but the candidate event of pattern step `step` (so its value can be
// computed once per event): no other step's event, no session attribute, no aggregate.
bool current_only(const ir::RuleSet& rs, ir::ExprId id, uint32_t step) {
    if (id == ir::kNoExpr) return true;
    if (id >= rs.exprs.size()) return false;
    const ir::Expr& e = rs.exprs[id];
    if (e.kind == ExprKind::SessionAttr || e.kind == ExprKind::Aggregate || e.kind == ExprKind::Model)
        return false;
    if (e.kind == ExprKind::Field && e.ref == ir::EventRef::Step && e.step != step) return false;
    std::vector<ir::ExprId> kids;
    children(e, kids);
    for (ir::ExprId k : kids)
        if (!current_only(rs, k, step)) return false;
    return true;
}

} // namespace

namespace {

/// The sizes and offsets the generated code reads at (event_field, session_attr, aggregate_loop, the
/// context's `current`, a bound step's event in the context's match, a Value's type and payload), and the
/// Value type numbers it tests: part of the object cache's key through Plan::fingerprint, so that code cached
/// by a build with another layout is never loaded (the ABI version string is bumped by hand and could be
/// forgotten; a stale offset would read the wrong bytes).
std::string layout_key() {
    using SE = interp::StoredEvent;
    const size_t parts[] = {sizeof(ir::Value),
                            offsetof(ir::Value, type),
                            offsetof(ir::Value, i),
                            sizeof(SE),
                            offsetof(SE, ev),
                            offsetof(SE::Ev, has_dwell),
                            offsetof(SE, dwell_us),
                            offsetof(SE::Ev, fields),
                            offsetof(SE::Fields, n),
                            offsetof(SE::Ev, type),
                            offsetof(interp::EvalContext, current),
                            offsetof(interp::EvalContext, scope),
                            offsetof(interp::EvalContext, scope_from),
                            offsetof(interp::EvalContext, scope_counts),
                            offsetof(interp::EvalContext, scope_words),
                            offsetof(interp::EvalContext, session),
                            offsetof(interp::EvalContext, steps),
                            offsetof(interp::EvalContext, candidate_step),
                            offsetof(interp::PartialMatch, n_),
                            offsetof(interp::PartialMatch, cap_),
                            offsetof(interp::PartialMatch, tags_),
                            offsetof(interp::PartialMatch, in_),
                            sizeof(interp::StoredEvent*),
                            offsetof(interp::SessionState, start),
                            offsetof(interp::SessionState, count),
                            offsetof(interp::SessionState, last_event),
                            offsetof(interp::SessionState, events),
                            interp::ExprEvaluator::kFoldFrom,
                            offsetof(SE::Ev, time),
                            sizeof(interp::EventPtr),
                            sizeof(interp::EventBuffer::Head),
                            offsetof(interp::EventBuffer::Head, cap),
                            offsetof(interp::EventBuffer::Head, head),
                            offsetof(interp::EventBuffer::Head, size),
                            offsetof(interp::EventBuffer::Head, words),
                            static_cast<size_t>(ir::Type::Bool),
                            static_cast<size_t>(ir::Type::Int),
                            static_cast<size_t>(ir::Type::Float),
                            static_cast<size_t>(ir::Type::Duration),
                            static_cast<size_t>(ir::Type::Timestamp)};
    std::string out = "|layout";
    for (size_t p : parts) out.append(":").append(std::to_string(p));
    return out;
}

} // namespace

std::string Plan::fingerprint() const {
    // Appends only: GCC 12 warns (-Wrestrict, falsely) on `"x" + std::to_string(...)` here.
    std::string out = "roots";
    for (ir::ExprId id : roots) out.append(":").append(std::to_string(id));
    out.append("|tests");
    for (ir::ExprId id : tests) out.append(":").append(std::to_string(id));
    out.append("|bits");
    for (auto [r, s] : bits) out.append(":").append(std::to_string(r)).append(".").append(std::to_string(s));
    out.append("|dispatch");
    for (bool d : dispatch) out.append(d ? "1" : "0");
    out.append(layout_key());
    return out;
}

std::string unsupported_reason(const ir::RuleSet& rs) {
    Roots roots = collect_roots(rs);
    std::vector<ir::ExprId> all = roots.values;
    all.insert(all.end(), roots.tests.begin(), roots.tests.end());
    sort_unique(all);
    for (ir::ExprId root : all) {
        std::vector<ir::ExprId> stack{root};
        while (!stack.empty()) {
            ir::ExprId id = stack.back();
            stack.pop_back();
            if (id >= rs.exprs.size()) return "expression " + std::to_string(id) + " is out of range";
            const ir::Expr& e = rs.exprs[id];
            std::string why = check_node(rs, e);
            if (!why.empty())
                return "the JIT does not support " + why + " (expression " + std::to_string(id) + ")";
            children(e, stack);
        }
    }
    return "";
}

Plan make_plan(const ir::RuleSet& rs) {
    Plan p;
    Roots roots = collect_roots(rs);
    p.roots = std::move(roots.values);
    p.tests = std::move(roots.tests);
    p.step_bit.resize(rs.rules.size());
    p.dispatch.assign(rs.events.size(), false);
    for (uint32_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        p.step_bit[r].assign(rule.pattern.steps.size(), interp::kNoBit);
        if (rule.kind != ir::RuleKind::Pattern) continue;
        for (uint32_t s = 0; s < rule.pattern.steps.size(); ++s) {
            const ir::Step& step = rule.pattern.steps[s];
            if (!current_only(rs, step.pred, s)) continue;
            p.step_bit[r][s] = static_cast<uint32_t>(p.bits.size());
            p.bits.emplace_back(r, s);
            for (uint32_t t = 0; t < rs.events.size(); ++t)
                if (step.types.empty() ||
                    std::find(step.types.begin(), step.types.end(), t) != step.types.end())
                    p.dispatch[t] = true;
        }
    }
    return p;
}

std::string expr_symbol(ir::ExprId id) {
    return "etho_expr_" + std::to_string(id);
}

std::string test_symbol(ir::ExprId id) {
    return "etho_test_" + std::to_string(id);
}

std::string dispatch_symbol(uint32_t type) {
    return "etho_dispatch_" + std::to_string(type);
}

Expected<std::unique_ptr<llvm::Module>> lower(const ir::RuleSet& rs, const Plan& plan,
                                              llvm::LLVMContext& ctx) {
    std::string why = unsupported_reason(rs);
    if (!why.empty()) return Error{why};
    auto m = std::make_unique<llvm::Module>("ethogram_rules", ctx);
    detail::Lowerer lw(rs, *m);
    for (ir::ExprId id : plan.roots) lw.expr_function(id);
    for (ir::ExprId id : plan.tests) lw.test_function(id);
    for (uint32_t t = 0; t < plan.dispatch.size(); ++t)
        if (plan.dispatch[t]) lw.dispatch_function(t, plan);
    if (!lw.error.empty()) return Error{lw.error};
    std::string verify;
    llvm::raw_string_ostream os(verify);
    if (llvm::verifyModule(*m, &os))
        return Error{"internal error: the generated LLVM IR is invalid: " + os.str()};
    return m;
}

} // namespace ethogram::jit
