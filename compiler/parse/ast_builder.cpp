// ast_builder.cpp: converts ANTLR's parse tree into the plain AST (literal decoding included).
#include "compiler/parse/parse_internal.h"

#include <cmath>
#include <limits>

namespace ethogram::parse {

namespace {

using P = ethogram_grammar::EthogramParser;

constexpr int kMaxExprDepth = 200;

class Builder {
public:
    Builder(const SourceMap& map, compiler::DiagnosticEngine& diags) : map_(map), diags_(diags) {}

    ast::File file(P::FileContext* ctx) {
        ast::File f;
        f.id = map_.file;
        if (ctx->header()) f.headers.push_back(header(ctx->header()));
        for (auto* i : ctx->importDecl()) f.imports.push_back(import(i));
        for (auto* d : ctx->decl()) {
            if (d->header())
                f.headers.push_back(header(d->header()));
            else if (d->importDecl())
                f.imports.push_back(import(d->importDecl()));
            else if (d->eventDecl())
                f.events.push_back(event(d->eventDecl()));
            else if (d->taxonomyDecl())
                f.taxonomies.push_back(taxonomy(d->taxonomyDecl()));
            else if (d->sessionDecl())
                f.sessions.push_back(session(d->sessionDecl()));
            else if (d->ruleDecl())
                f.rules.push_back(rule(d->ruleDecl()));
            else if (d->exclusiveDecl())
                f.groups.push_back(group(d->exclusiveDecl()));
            else if (d->modelDecl())
                f.models.push_back(model(d->modelDecl()));
        }
        return f;
    }

private:
    ast::Ident ident(antlr4::ParserRuleContext* ctx) { return {ctx->getText(), map_.ctx_span(ctx)}; }
    ast::Ident ident(antlr4::tree::TerminalNode* t) {
        return {t->getSymbol()->getText(), map_.token_span(t->getSymbol())};
    }
    ast::Ident dotted(P::DottedNameContext* ctx) {
        // getText() concatenates the tokens without the hidden channel: exactly "a.b.c".
        return {ctx->getText(), map_.ctx_span(ctx)};
    }

    ast::Header header(P::HeaderContext* ctx) {
        ast::Header h;
        h.name = dotted(ctx->dottedName());
        h.version = {ctx->version->getText(), map_.token_span(ctx->version)};
        h.version_is_semver = ctx->SEMVER() != nullptr;
        h.span = map_.ctx_span(ctx);
        return h;
    }

    ast::Import import(P::ImportDeclContext* ctx) {
        ast::Import i;
        auto* tok = ctx->STRING()->getSymbol();
        i.path = unescape(tok->getText(), map_.token_span(tok));
        i.span = map_.token_span(tok);
        return i;
    }

    ast::EventDecl event(P::EventDeclContext* ctx) {
        ast::EventDecl e;
        e.name = ident(ctx->name());
        e.span = map_.ctx_span(ctx);
        for (auto* fc : ctx->fieldDecl()) {
            ast::Field f;
            f.name = ident(fc->name());
            f.span = map_.ctx_span(fc);
            for (auto* a : fc->ANNOTATION()) {
                ast::Ident id = ident(a);
                id.text = id.text.substr(1);
                f.annotations.push_back(id);
            }
            if (fc->modifier) {
                f.modifier = fc->modifier->getText();
                f.modifier_span = map_.token_span(fc->modifier);
            }
            auto* t = fc->typeRef();
            if (t->ENUM()) {
                f.type = ident(t->ENUM());
                for (auto* n : t->name()) f.enum_values.push_back(ident(n));
            } else {
                f.type = ident(t->name(0));
            }
            f.optional = fc->QUESTION() != nullptr;
            e.fields.push_back(std::move(f));
        }
        return e;
    }

    ast::ModelDecl model(P::ModelDeclContext* ctx) {
        ast::ModelDecl m;
        m.name = ident(ctx->name(0));
        m.kind = ident(ctx->name(1));
        m.span = map_.ctx_span(ctx);
        auto str = [&](antlr4::tree::TerminalNode* t) {
            ast::Span sp = map_.token_span(t->getSymbol());
            return ast::Ident{unescape(t->getText(), sp), sp};
        };
        for (auto* item : ctx->modelItem()) {
            if (auto* p = dynamic_cast<P::ModelPathContext*>(item))
                m.paths.push_back(str(p->STRING()));
            else if (auto* h = dynamic_cast<P::ModelHashContext*>(item))
                m.hashes.push_back(str(h->STRING()));
            else if (auto* o = dynamic_cast<P::ModelObserveContext*>(item)) {
                ++m.observe_clauses;
                for (auto* f : o->fieldRef()) m.observes.emplace_back(ident(f->name()), ident(f->anyName()));
            } else if (auto* ps = dynamic_cast<P::ModelPerSessionContext*>(item))
                m.per_sessions.push_back(ident(ps->name()));
            else if (auto* me = dynamic_cast<P::ModelMinEvidenceContext*>(item)) {
                ast::Span sp = map_.token_span(me->INT()->getSymbol());
                m.min_evidences.emplace_back(integer(me->INT()->getText(), sp), sp);
            } else if (auto* st = dynamic_cast<P::ModelStatesContext*>(item)) {
                std::vector<ast::Ident> names;
                for (auto* n : st->name()) names.push_back(ident(n));
                m.states.push_back(std::move(names));
                m.states_spans.push_back(map_.ctx_span(st));
            }
        }
        return m;
    }

    ast::TaxNode tax_node(P::TaxNodeContext* ctx) {
        ast::TaxNode n;
        n.name = ident(ctx->name());
        for (auto* c : ctx->taxNode()) n.children.push_back(tax_node(c));
        return n;
    }

    ast::TaxonomyDecl taxonomy(P::TaxonomyDeclContext* ctx) {
        ast::TaxonomyDecl t;
        t.span = map_.ctx_span(ctx);
        if (auto* d = ctx->dottedName()) {
            t.base_span = map_.ctx_span(d);
            for (auto* child : d->children) {
                auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child);
                if (term && term->getSymbol()->getType() == P::DOT) continue;
                auto* rc = dynamic_cast<antlr4::ParserRuleContext*>(child);
                if (rc) t.base.push_back(ident(rc));
            }
        }
        for (auto* c : ctx->taxNode()) t.nodes.push_back(tax_node(c));
        return t;
    }

    ast::DurationLit duration(P::DurationContext* ctx) {
        ast::DurationLit d;
        d.span = map_.ctx_span(ctx);
        bool neg = ctx->MINUS() != nullptr;
        if (auto* t = ctx->DURATION()) {
            std::string s = t->getText();
            size_t digits = s.find_first_not_of("0123456789");
            std::string unit = s.substr(digits);
            int64_t mult = unit == "ms"  ? 1000
                           : unit == "s" ? 1000000
                           : unit == "m" ? 60LL * 1000000
                           : unit == "h" ? 3600LL * 1000000
                                         : 86400LL * 1000000;
            int64_t v = integer(s.substr(0, digits), d.span);
            if (v > std::numeric_limits<int64_t>::max() / mult) {
                diags_.error("E0004", d.span, "duration `" + s + "` is too large");
                v = 0;
            }
            d.us = v * mult;
        } else {
            d.has_unit = false;
            d.us = ctx->INT() ? integer(ctx->INT()->getText(), d.span) : 0;
        }
        if (neg) d.us = -d.us;
        return d;
    }

    ast::SessionDecl session(P::SessionDeclContext* ctx) {
        ast::SessionDecl s;
        s.name = ident(ctx->name());
        s.span = map_.ctx_span(ctx);
        for (auto* item : ctx->sessionItem()) {
            if (auto* g = dynamic_cast<P::SessionGapContext*>(item))
                s.gaps.push_back(duration(g->duration()));
            else if (auto* m = dynamic_cast<P::SessionMaxContext*>(item))
                s.maxes.push_back(duration(m->duration()));
            else if (auto* e = dynamic_cast<P::SessionEndContext*>(item))
                s.ends.push_back({ident(e->name()), e->expr() ? expr(e->expr(), 0) : nullptr});
            else if (auto* ev = dynamic_cast<P::SessionEventsContext*>(item)) {
                s.has_events = true;
                for (auto* n : ev->name()) s.events.push_back(ident(n));
            }
        }
        return s;
    }

    ast::Scope scope(P::ScopeContext* ctx) {
        ast::Scope sc;
        sc.span = map_.ctx_span(ctx);
        if (auto* s = dynamic_cast<P::SessionScopeContext*>(ctx)) {
            sc.kind = ast::ScopeKind::Session;
            sc.session = ident(s->name());
        } else if (auto* w = dynamic_cast<P::WindowScopeContext*>(ctx)) {
            sc.kind = ast::ScopeKind::Window;
            sc.window = duration(w->duration());
        } else if (auto* n = dynamic_cast<P::LastNScopeContext*>(ctx)) {
            sc.kind = ast::ScopeKind::LastN;
            sc.last_n = integer(n->INT()->getText(), sc.span);
            if (n->MINUS()) sc.last_n = -sc.last_n;
        }
        return sc;
    }

    uint32_t count(antlr4::tree::TerminalNode* t) {
        int64_t v = integer(t->getText(), map_.token_span(t->getSymbol()));
        if (v >= static_cast<int64_t>(UINT32_MAX)) {
            diags_.error("E0004", map_.token_span(t->getSymbol()),
                         "quantifier bound `" + t->getText() + "` is too large");
            return 0;
        }
        return static_cast<uint32_t>(v);
    }

    ast::Step step(P::StepContext* ctx, bool strict) {
        ast::Step st;
        st.strict = strict;
        st.span = map_.ctx_span(ctx);
        P::TypeAltsContext* alts = nullptr;
        if (auto* p = dynamic_cast<P::PositiveStepContext*>(ctx)) {
            st.alias = ident(p->name());
            alts = p->typeAlts();
            if (auto* q = p->quantifier()) {
                st.has_quant = true;
                st.quant_span = map_.ctx_span(q);
                if (dynamic_cast<P::QuantPlusContext*>(q))
                    st.max = UINT32_MAX;
                else if (dynamic_cast<P::QuantStarContext*>(q))
                    st.min = 0, st.max = UINT32_MAX;
                else if (dynamic_cast<P::QuantOptContext*>(q))
                    st.min = 0;
                else if (auto* e = dynamic_cast<P::QuantExactContext*>(q))
                    st.min = st.max = count(e->INT());
                else if (auto* a = dynamic_cast<P::QuantAtLeastContext*>(q))
                    st.min = count(a->INT()), st.max = UINT32_MAX;
                else if (auto* r = dynamic_cast<P::QuantRangeContext*>(q))
                    st.min = count(r->INT(0)), st.max = count(r->INT(1));
            }
            if (p->expr()) st.pred = expr(p->expr(), 0);
        } else if (auto* n = dynamic_cast<P::NegativeStepContext*>(ctx)) {
            st.negated = true;
            st.alias = ident(n->name());
            alts = n->typeAlts();
            if (n->expr()) st.pred = expr(n->expr(), 0);
            if (n->duration()) {
                st.has_within = true;
                st.within = duration(n->duration());
            }
        }
        if (alts)
            for (auto* t : alts->name()) st.types.push_back(ident(t));
        return st;
    }

    ast::RuleDecl rule(P::RuleDeclContext* ctx) {
        ast::RuleDecl r;
        r.name = ident(ctx->name());
        r.span = map_.ctx_span(ctx);
        for (auto* item : ctx->ruleItem()) {
            if (auto* l = dynamic_cast<P::LabelItemContext*>(item))
                r.labels.push_back(dotted(l->dottedName()));
            else if (auto* s = dynamic_cast<P::SeverityItemContext*>(item))
                r.severities.push_back(ident(s->name()));
            else if (auto* c = dynamic_cast<P::ConfidenceItemContext*>(item))
                r.confidences.push_back(expr(c->expr(), 0));
            else if (auto* o = dynamic_cast<P::OverItemContext*>(item))
                r.scopes.push_back(scope(o->scope()));
            else if (auto* on = dynamic_cast<P::OnItemContext*>(item)) {
                r.has_on = true;
                for (auto* n : on->name()) r.on_types.push_back(ident(n));
            } else if (dynamic_cast<P::AtEndItemContext*>(item)) {
                r.at_session_end = true;
                r.at_end_span = map_.ctx_span(item);
            } else if (auto* w = dynamic_cast<P::WhenItemContext*>(item))
                r.whens.push_back(expr(w->expr(), 0));
            else if (auto* p = dynamic_cast<P::PatternItemContext*>(item)) {
                ++r.pattern_count;
                if (r.has_pattern) continue; // sema reports the duplicate
                r.has_pattern = true;
                r.pattern_span = map_.ctx_span(p);
                auto steps = p->step();
                auto conns = p->connector();
                for (size_t i = 0; i < steps.size(); ++i) {
                    bool strict = i > 0 && conns[i - 1]->FATARROW() != nullptr;
                    r.steps.push_back(step(steps[i], strict));
                }
                if (p->duration()) {
                    ++r.pattern_within_count;
                    r.has_pattern_within = true;
                    r.pattern_within = duration(p->duration());
                }
            } else if (auto* w = dynamic_cast<P::WithinItemContext*>(item)) {
                // `within D;` as its own clause bounds the whole match even when the pattern ends in an
                // absence (whose trailing `within` is the absence's own bound).
                ++r.pattern_within_count;
                r.has_pattern_within = true;
                r.pattern_within = duration(w->duration());
            } else if (dynamic_cast<P::KeepItemContext*>(item))
                r.keep_all = true;
            else if (auto* e = dynamic_cast<P::EmitItemContext*>(item)) {
                for (auto* b : e->emitBinding()) r.emits.push_back({ident(b->anyName()), expr(b->expr(), 0)});
            } else if (auto* fb = dynamic_cast<P::FallbackItemContext*>(item)) {
                r.fallbacks.push_back({fb->expr() ? expr(fb->expr(), 0) : nullptr, map_.ctx_span(fb)});
            }
        }
        return r;
    }

    ast::ExclusiveDecl group(P::ExclusiveDeclContext* ctx) {
        ast::ExclusiveDecl g;
        g.name = ident(ctx->name());
        g.span = map_.ctx_span(ctx);
        for (auto* m : ctx->member()) {
            ast::GroupMember gm;
            if (m->LABEL()) {
                gm.is_label = true;
                gm.name = dotted(m->dottedName());
            } else {
                gm.name = ident(m->name());
            }
            if (m->INT()) {
                gm.priority = integer(m->INT()->getText(), map_.token_span(m->INT()->getSymbol()));
                if (m->MINUS()) gm.priority = -gm.priority;
            }
            g.members.push_back(std::move(gm));
        }
        return g;
    }

    // ------------------------------------------------------------ expressions

    ast::ExprPtr make(ast::ExprKind k, antlr4::ParserRuleContext* ctx) {
        auto e = std::make_unique<ast::Expr>();
        e->kind = k;
        e->span = map_.ctx_span(ctx);
        return e;
    }

    ast::ExprPtr expr(P::ExprContext* ctx, int depth) {
        if (depth > kMaxExprDepth) {
            if (!too_deep_) diags_.error("E0005", map_.ctx_span(ctx), "expression nested too deeply");
            too_deep_ = true;
            return make(ast::ExprKind::Bool, ctx);
        }
        if (auto* p = dynamic_cast<P::PrimaryExprContext*>(ctx)) return primary(p->primary(), depth);
        if (auto* n = dynamic_cast<P::NegExprContext*>(ctx)) return unary("-", ctx, n->expr(), depth);
        if (auto* n = dynamic_cast<P::NotExprContext*>(ctx)) return unary("not", ctx, n->expr(), depth);
        if (auto* b = dynamic_cast<P::MulExprContext*>(ctx))
            return binary(b->op->getText(), ctx, b->expr(), depth);
        if (auto* b = dynamic_cast<P::AddExprContext*>(ctx))
            return binary(b->op->getText(), ctx, b->expr(), depth);
        if (auto* b = dynamic_cast<P::CmpExprContext*>(ctx))
            return binary(b->op->getText(), ctx, b->expr(), depth);
        if (auto* b = dynamic_cast<P::AndExprContext*>(ctx)) return binary("and", ctx, b->expr(), depth);
        if (auto* b = dynamic_cast<P::OrExprContext*>(ctx)) return binary("or", ctx, b->expr(), depth);
        if (auto* in = dynamic_cast<P::InExprContext*>(ctx)) {
            auto e = make(ast::ExprKind::InList, ctx);
            e->op = in->NOT() ? "not in" : "in";
            for (auto* c : in->expr()) e->children.push_back(expr(c, depth + 1));
            return e;
        }
        return make(ast::ExprKind::Bool, ctx);
    }

    ast::ExprPtr unary(const std::string& op, antlr4::ParserRuleContext* ctx, P::ExprContext* a, int depth) {
        auto e = make(ast::ExprKind::Unary, ctx);
        e->op = op;
        e->children.push_back(expr(a, depth + 1));
        return e;
    }

    ast::ExprPtr binary(const std::string& op, antlr4::ParserRuleContext* ctx,
                        std::vector<P::ExprContext*> xs, int depth) {
        auto e = make(ast::ExprKind::Binary, ctx);
        e->op = op;
        e->children.push_back(expr(xs[0], depth + 1));
        e->children.push_back(expr(xs[1], depth + 1));
        return e;
    }

    ast::ExprPtr primary(P::PrimaryContext* ctx, int depth) {
        if (auto* l = dynamic_cast<P::LiteralPrimaryContext*>(ctx)) return literal(l->literal());
        if (auto* p = dynamic_cast<P::ParenPrimaryContext*>(ctx)) return expr(p->expr(), depth + 1);
        if (auto* r = dynamic_cast<P::RefPrimaryContext*>(ctx)) {
            if (!r->anyName()) {
                auto e = make(ast::ExprKind::Name, ctx);
                e->name = ident(r->name());
                return e;
            }
            auto e = make(ast::ExprKind::Member, ctx);
            e->name = ident(r->name());
            e->member = ident(r->anyName());
            return e;
        }
        auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx);
        auto e = make(ast::ExprKind::Call, ctx);
        e->name = ident(c->name());
        for (auto* a : c->callArg()) {
            auto xs = a->expr();
            if (xs.size() == 1) {
                e->children.push_back(expr(xs[0], depth + 1));
            } else {
                auto f = make(ast::ExprKind::Filtered, a);
                f->children.push_back(expr(xs[0], depth + 1));
                f->children.push_back(expr(xs[1], depth + 1));
                e->children.push_back(std::move(f));
            }
        }
        return e;
    }

    ast::ExprPtr literal(P::LiteralContext* ctx) {
        std::string text = ctx->getText();
        if (ctx->INT()) {
            auto e = make(ast::ExprKind::Int, ctx);
            e->int_value = integer(text, e->span);
            return e;
        }
        if (ctx->FLOAT()) {
            auto e = make(ast::ExprKind::Float, ctx);
            e->float_value = std::strtod(text.c_str(), nullptr);
            if (!std::isfinite(e->float_value))
                diags_.error("E0004", e->span, "number `" + text + "` is too large");
            return e;
        }
        if (ctx->STRING()) {
            auto e = make(ast::ExprKind::String, ctx);
            e->str_value = unescape(text, e->span);
            return e;
        }
        if (ctx->DURATION()) {
            auto e = make(ast::ExprKind::Duration, ctx);
            // Reuse the duration decoder through a synthetic view of the token.
            std::string digits = text.substr(0, text.find_first_not_of("0123456789"));
            std::string unit = text.substr(digits.size());
            int64_t mult = unit == "ms"  ? 1000
                           : unit == "s" ? 1000000
                           : unit == "m" ? 60000000LL
                           : unit == "h" ? 3600000000LL
                                         : 86400000000LL;
            int64_t v = integer(digits, e->span);
            if (v > std::numeric_limits<int64_t>::max() / mult) {
                diags_.error("E0004", e->span, "duration `" + text + "` is too large");
                v = 0;
            }
            e->int_value = v * mult;
            return e;
        }
        auto e = make(ast::ExprKind::Bool, ctx);
        e->int_value = ctx->TRUE() ? 1 : 0;
        return e;
    }

    // ------------------------------------------------------------ literal decoding

    int64_t integer(const std::string& digits, const ast::Span& span) {
        int64_t v = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') continue;
            if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
                diags_.error("E0004", span, "number `" + digits + "` is too large");
                return 0;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    std::string unescape(const std::string& quoted, const ast::Span& span) {
        std::string out;
        for (size_t i = 1; i + 1 < quoted.size(); ++i) {
            char c = quoted[i];
            if (c != '\\') {
                out += c;
                continue;
            }
            char n = quoted[++i];
            switch (n) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            default:
                diags_.error("E0004", span, std::string("unknown escape sequence `\\") + n + "` in string");
            }
        }
        return out;
    }

    const SourceMap& map_;
    compiler::DiagnosticEngine& diags_;
    bool too_deep_ = false;
};

} // namespace

ast::File build_ast(P::FileContext* tree, const SourceMap& map, compiler::DiagnosticEngine& diags) {
    return Builder(map, diags).file(tree);
}

} // namespace ethogram::parse
