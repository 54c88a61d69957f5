// sema_rules.cpp: checks and lowers rules: clauses, scopes, thresholds, patterns and emits.
#include "compiler/sema/sema.h"
#include "compiler/sema/sema_internal.h"

#include <sodium.h>

#include <algorithm>
#include <set>

namespace ethogram::sema {

using compiler::suggest;

std::string blake2b_hex(std::string_view bytes) {
    static const bool ready = sodium_init() >= 0;
    (void)ready;
    unsigned char out[32];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       nullptr, 0);
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned char c : out) {
        s += hex[c >> 4];
        s += hex[c & 15];
    }
    return s;
}

namespace {

const std::vector<std::string> kSeverities = {"info", "low", "medium", "high", "critical"};

/// Reports every occurrence after the first of a clause that may appear once.
template <typename T>
void once(Sema& s, const std::vector<T>& items, const char* clause, const ast::RuleDecl& r,
          ast::Span (*span_of)(const T&)) {
    for (size_t i = 1; i < items.size(); ++i)
        s.diags.error("E0607", span_of(items[i]),
                      "rule `" + r.name.text + "` has more than one `" + clause + "`");
}

ast::Span ident_span(const ast::Ident& i) {
    return i.span;
}
ast::Span expr_span(const ast::ExprPtr& e) {
    return e->span;
}
ast::Span scope_span(const ast::Scope& s) {
    return s.span;
}

/// `confident(m1) and ... and pred`: a step predicate that calls models holds only while each of them has
/// its minimum evidence for the key (docs/semantics.md section 7).
ir::ExprId gate_predicate(Sema& s, std::vector<uint32_t> models, ir::ExprId pred) {
    std::sort(models.begin(), models.end());
    models.erase(std::unique(models.begin(), models.end()), models.end());
    ir::ExprId acc = ir::kNoExpr;
    for (uint32_t m : models) {
        ir::Expr c;
        c.kind = ir::ExprKind::Model;
        c.type = ir::Type::Bool;
        c.model = m;
        c.mfn = ir::ModelFn::Confident;
        ir::ExprId id = s.add(std::move(c));
        if (acc == ir::kNoExpr) {
            acc = id;
            continue;
        }
        ir::Expr a;
        a.kind = ir::ExprKind::Binary;
        a.type = ir::Type::Bool;
        a.op = ir::Op::And;
        a.a = acc;
        a.b = id;
        acc = s.add(std::move(a));
    }
    ir::Expr a;
    a.kind = ir::ExprKind::Binary;
    a.type = ir::Type::Bool;
    a.op = ir::Op::And;
    a.a = acc;
    a.b = pred;
    return s.add(std::move(a));
}

void sort_unique(std::vector<uint32_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

void lower_pattern(Sema& s, const ast::RuleDecl& r, ir::Rule& out,
                   std::map<std::string, AliasInfo>& aliases) {
    const auto& steps = r.steps;
    // Aliases first, so that "used before bound" can be told apart from "unknown".
    for (uint32_t i = 0; i < steps.size(); ++i) {
        const auto& st = steps[i];
        AliasInfo info;
        info.step = i;
        info.negated = st.negated;
        info.collected = !(st.min == 1 && st.max == 1);
        for (const auto& t : st.types) {
            int idx = s.find_event(t);
            if (idx >= 0) info.types.push_back(static_cast<uint16_t>(idx));
        }
        if (!aliases.emplace(st.alias.text, info).second) {
            auto& d = s.diags.error("E0402", st.alias.span, "duplicate alias `" + st.alias.text + "`");
            d.notes.push_back({"previously bound here", steps[aliases[st.alias.text].step].alias.span});
        }
    }
    if (steps.front().negated)
        s.diags.error("E0407", steps.front().span, "a pattern cannot start with a negation");
    else if (steps.front().min == 0)
        s.diags.error("E0407", steps.front().quant_span, "a pattern cannot start with an optional step");
    if (!steps.back().negated && steps.back().min == 0)
        s.diags.error("E0407", steps.back().quant_span, "a pattern cannot end with an optional step");

    // Strict next is defined between two positive steps that each bind at least one event; next to an
    // optional step or a negation "the very next event" would have two readings (docs/semantics.md).
    for (uint32_t i = 1; i < steps.size(); ++i) {
        const auto& prev = steps[i - 1];
        const auto& st = steps[i];
        if (!st.strict) continue;
        if (prev.negated || st.negated)
            s.diags.error("E0414", st.span, "strict next `=>` cannot join a negated step");
        else if (prev.min == 0 || st.min == 0)
            s.diags.error("E0414", st.span, "strict next `=>` cannot join an optional step");
    }

    if (r.has_pattern_within) out.pattern.within_us = s.duration(r.pattern_within, "pattern window");
    for (uint32_t i = 0; i < steps.size(); ++i) {
        const auto& st = steps[i];
        ir::Step step;
        step.alias = st.alias.text;
        step.strict = st.strict;
        step.min = st.min;
        step.max = st.max;
        const bool last = i + 1 == steps.size();
        step.kind = !st.negated ? ir::StepKind::Positive
                    : last      ? ir::StepKind::Absence
                                : ir::StepKind::Negation;
        if (st.has_quant && st.max != UINT32_MAX && (st.min > st.max || st.max == 0))
            s.diags.error("E0410", st.quant_span,
                          st.max == 0 ? "quantifier matches no event"
                                      : "quantifier minimum is greater than its maximum");
        for (const auto& t : st.types) {
            int idx = s.find_event(t, false);
            if (idx >= 0) step.types.push_back(static_cast<uint16_t>(idx));
        }
        if (st.has_within) {
            if (!last)
                s.diags.error("E0411", st.within.span,
                              "`within` on a negation applies only to a trailing absence");
            else
                step.within_us = s.duration(st.within, "absence window");
        }
        if (step.kind == ir::StepKind::Absence && !st.has_within && !r.has_pattern_within)
            s.diags.error(
                "E0408", st.span,
                "trailing absence `" + st.alias.text +
                    "` has no bound: add `within D` to the step, or a `within D;` clause to the rule");
        if (st.pred) {
            ExprCtx ctx;
            ctx.kind = CtxKind::Step;
            ctx.has_current = true;
            ctx.current_types = step.types;
            ctx.current_name = st.alias.text;
            ctx.bare_fields = true;
            ctx.aliases = &aliases;
            ctx.bound_before = i;
            if (st.negated) ctx.own_negated = st.alias.text;
            ctx.aggregates_allowed = true;
            std::vector<uint32_t> step_models;
            ctx.models_seen = &step_models;
            step.pred = s.lower_bool(*st.pred, ctx, "step condition").id;
            step.pred_text = span_text(s.diags, st.pred->span);
            if (!step_models.empty() && step.pred != ir::kNoExpr) {
                step.pred = gate_predicate(s, step_models, step.pred);
                out.gate.insert(out.gate.end(), step_models.begin(), step_models.end());
            }
        }
        out.pattern.steps.push_back(std::move(step));
    }
}

} // namespace

void Sema::declare_rule(const ast::RuleDecl& r) {
    if (auto it = rule_index.find(r.name.text); it != rule_index.end()) {
        auto& d = diags.error("E0601", r.name.span, "duplicate rule `" + r.name.text + "`");
        d.notes.push_back({"previously declared here", rule_spans[it->second]});
        return;
    }
    ir::Rule out;
    out.name = r.name.text;
    out.loc = {diags.file_name(r.span.file), r.span.line, r.span.col};
    out.hash = blake2b_hex(span_text(diags, r.span));
    out.keep_all = r.keep_all;

    once(*this, r.labels, "label", r, ident_span);
    once(*this, r.severities, "severity", r, ident_span);
    once(*this, r.confidences, "confidence", r, expr_span);
    once(*this, r.scopes, "over", r, scope_span);
    once(*this, r.whens, "when", r, expr_span);
    if (r.pattern_within_count > 1)
        diags.error("E0607", r.pattern_within.span,
                    "rule `" + r.name.text + "` bounds its pattern with `within` more than once");
    if (r.pattern_count > 1)
        diags.error("E0607", r.pattern_span, "rule `" + r.name.text + "` has more than one `pattern`");

    if (r.labels.empty()) {
        diags.error("E0605", r.name.span, "rule `" + r.name.text + "` has no `label`");
    } else {
        int node = rs.find_taxonomy(r.labels[0].text);
        if (node < 0) {
            auto& d =
                diags.error("E0302", r.labels[0].span, "unknown taxonomy node `" + r.labels[0].text + "`");
            suggest(d, r.labels[0].text, taxonomy_paths());
        } else {
            out.label = static_cast<uint32_t>(node);
        }
    }
    if (!r.severities.empty()) {
        const auto& sv = r.severities[0];
        size_t i = 0;
        while (i < kSeverities.size() && kSeverities[i] != sv.text) ++i;
        if (i == kSeverities.size()) {
            auto& d = diags.error("E0608", sv.span,
                                  "unknown severity `" + sv.text + "` (info, low, medium, high or critical)");
            suggest(d, sv.text, kSeverities);
        } else {
            out.severity = static_cast<ir::Severity>(i);
        }
    }

    const bool is_pattern = r.has_pattern;
    if (is_pattern && !r.whens.empty())
        diags.error("E0606", r.whens[0]->span, "a rule has either `when` or `pattern`, not both");
    if (!is_pattern && r.whens.empty())
        diags.error("E0606", r.name.span, "rule `" + r.name.text + "` has neither `when` nor `pattern`");

    std::map<std::string, AliasInfo> aliases;
    ExprCtx out_ctx; // for confidence and emits
    std::vector<uint32_t> gate_models, other_models;
    out_ctx.models_seen = &gate_models;
    if (is_pattern) {
        out.kind = ir::RuleKind::Pattern;
        if (!r.scopes.empty())
            diags.error("E0612", r.scopes[0].span, "`over` applies to threshold rules, not patterns");
        if (r.has_on)
            diags.error("E0612", r.on_types.front().span, "`on` applies to threshold rules, not patterns");
        if (r.at_session_end)
            diags.error("E0612", r.at_end_span, "`at session end` applies to threshold rules, not patterns");
        lower_pattern(*this, r, out, aliases);
        out_ctx.kind = CtxKind::PatternOutput;
        out_ctx.aliases = &aliases;
        out_ctx.bound_before = static_cast<uint32_t>(r.steps.size());
        out_ctx.aggregates_allowed = true;
    } else {
        out.kind = ir::RuleKind::Threshold;
        if (r.keep_all)
            diags.error("E0612", r.name.span, "`keep all` applies to pattern rules, not thresholds");
        if (r.has_pattern_within)
            diags.error("E0612", r.pattern_within.span, "`within` applies to pattern rules, not thresholds");
        auto& th = out.threshold;
        out_ctx.kind = CtxKind::Threshold;
        out_ctx.aggregates_allowed = true;
        if (r.scopes.empty()) {
            // No scope: the trigger alone.
            th.scope = ir::ScopeKind::LastN;
            th.last_n = 1;
        } else {
            const auto& sc = r.scopes[0];
            switch (sc.kind) {
            case ast::ScopeKind::Session: {
                th.scope = ir::ScopeKind::Session;
                auto it = session_index.find(sc.session.text);
                if (it == session_index.end()) {
                    auto& d =
                        diags.error("E0311", sc.session.span, "unknown session `" + sc.session.text + "`");
                    std::vector<std::string> names;
                    for (const auto& s : rs.sessions) names.push_back(s.name);
                    suggest(d, sc.session.text, names);
                } else {
                    th.session = it->second;
                }
                out_ctx.session_scope = true;
                break;
            }
            case ast::ScopeKind::Window:
                th.scope = ir::ScopeKind::Window;
                th.window_us = duration(sc.window, "window");
                break;
            case ast::ScopeKind::LastN:
                th.scope = ir::ScopeKind::LastN;
                if (sc.last_n <= 0 || sc.last_n >= static_cast<int64_t>(UINT32_MAX))
                    diags.error("E0609", sc.span, "`last N events` needs 1 <= N < 2^32");
                else
                    th.last_n = static_cast<uint32_t>(sc.last_n);
                break;
            case ast::ScopeKind::None: break;
            }
        }
        const bool known_session = out_ctx.session_scope && session_index.count(r.scopes[0].session.text) > 0;
        for (const auto& t : r.on_types) {
            int idx = find_event(t);
            if (idx < 0) continue;
            th.on_types.push_back(static_cast<uint16_t>(idx));
            // An `over session` rule is evaluated after its trigger joined the session's scope
            // (docs/semantics.md section 3): a trigger type the session never takes in cannot be.
            if (known_session && !r.at_session_end) check_session_member(rs.sessions[th.session], t, idx);
        }
        if (r.at_session_end) {
            th.at_session_end = true;
            if (!out_ctx.session_scope)
                diags.error("E0604", r.at_end_span, "`at session end` needs `over session NAME`");
            if (r.has_on)
                diags.error("E0612", r.on_types.front().span, "`on` does not apply with `at session end`");
        }
        out_ctx.on_types = th.on_types;
        if (!th.at_session_end && th.on_types.size() == 1) {
            out_ctx.has_current = true;
            out_ctx.current_types = th.on_types;
            out_ctx.current_name = rs.events[th.on_types[0]].name;
        }
        if (!r.whens.empty()) th.cond = lower_bool(*r.whens[0], out_ctx, "`when` condition").id;
        out.gate = gate_models;
    }
    sort_unique(out.gate);
    out_ctx.models_seen = &other_models;
    for (size_t i = 1; i < r.fallbacks.size(); ++i)
        diags.error("E0607", r.fallbacks[i].span, "rule `" + r.name.text + "` has more than one `fallback`");
    if (!r.fallbacks.empty()) {
        const ast::Fallback& fb = r.fallbacks[0];
        if (is_pattern)
            diags.error("E0816", fb.span,
                        "`fallback` applies to threshold rules (a pattern step that calls a model never "
                        "holds below its evidence)");
        else if (out.gate.empty() && !r.whens.empty())
            diags.error("E0816", fb.span, "`fallback` without a model call in the `when` condition");
        else if (fb.when)
            out.fallback = lower_bool(*fb.when, out_ctx, "`fallback` condition").id;
    }
    if (!r.confidences.empty()) {
        Typed c = lower(*r.confidences[0], out_ctx);
        if (c.ok && c.type != ir::Type::Float && c.type != ir::Type::Int) {
            diags.error("E0501", r.confidences[0]->span,
                        "confidence must be a number, found `" + std::string(ir::type_name(c.type)) + "`");
        } else if (c.ok) {
            ir::Expr& ce = rs.exprs[c.id];
            if (ce.kind == ir::ExprKind::Const) {
                double v =
                    ce.constant.type == ir::Type::Int ? static_cast<double>(ce.constant.i) : ce.constant.f;
                if (v < 0 || v > 1)
                    diags.error("E0610", r.confidences[0]->span, "confidence must lie in [0, 1]");
                // `confidence 1;` is the float 1.0: executors read a constant confidence as a float.
                ce.constant = ir::Value::real(v);
                ce.type = ir::Type::Float;
            }
            out.confidence = c.id;
        }
    }
    std::set<std::string> emit_names;
    for (const auto& e : r.emits) {
        if (!emit_names.insert(e.name.text).second)
            diags.error("E0603", e.name.span, "duplicate emit `" + e.name.text + "`");
        Typed t = lower(*e.value, out_ctx);
        out.emits.push_back({e.name.text, t.id});
    }
    out.models = out.gate;
    out.models.insert(out.models.end(), other_models.begin(), other_models.end());
    sort_unique(out.models);
    rule_index.emplace(out.name, static_cast<uint32_t>(rs.rules.size()));
    rule_spans.push_back(r.name.span);
    rs.rules.push_back(std::move(out));
}

} // namespace ethogram::sema
