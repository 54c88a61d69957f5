// lowering_test.cpp: the IR shape of representative rules (the conventions the interpreter relies on).
#include "tests/frontend/test_util.h"

namespace ethogram::test {
namespace {

using ir::ExprKind;
using ir::Type;

const ir::Expr& X(const ir::RuleSet& rs, ir::ExprId id) {
    return rs.exprs.at(id);
}

TEST(Lowering, SchemaSlotsAndRoles) {
    auto c = compile("");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    EXPECT_EQ(rs.name, "test.rules");
    EXPECT_EQ(rs.version, "1.0.0");
    ASSERT_EQ(rs.events.size(), 3u);
    const auto& pv = rs.events[0];
    EXPECT_EQ(pv.key_field, 0);
    EXPECT_EQ(pv.time_field, 1);
    EXPECT_EQ(pv.id_field, 2);
    EXPECT_EQ(pv.fields[3].type, Type::Enum);
    EXPECT_EQ(pv.fields[3].enum_values.size(), 6u);
    EXPECT_TRUE(pv.fields[5].optional);
    EXPECT_EQ(rs.events[1].id_field, ir::kNoField);
    // Taxonomy: pre-order, parents by index.
    int hi = rs.find_taxonomy("intent.purchase.high_intent");
    ASSERT_GE(hi, 0);
    EXPECT_EQ(rs.taxonomy[static_cast<size_t>(hi)].parent, rs.find_taxonomy("intent.purchase"));
    ASSERT_EQ(rs.sessions.size(), 1u);
    EXPECT_EQ(rs.sessions[0].gap_us, 30LL * 60 * 1000000);
    EXPECT_EQ(rs.sessions[0].max_us, 4LL * 3600 * 1000000);
    ASSERT_EQ(rs.sessions[0].ends.size(), 1u);
    EXPECT_EQ(rs.sessions[0].ends[0].type, 2);
    EXPECT_EQ(rs.sessions[0].ends[0].pred, ir::kNoExpr);
    EXPECT_EQ(rs.content_hash.size(), 64u);
}

TEST(Lowering, ThresholdRule) {
    auto c = compile(R"(
rule r {
    label intent.purchase.high_intent;
    over session web;
    on page_view;
    when session.duration > 3m and count(page_view where page == product) >= 2 and page_view.url == "x";
    emit avg_price = avg(page_view.price), d = dwell_time(page_view);
}
)");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    const auto& r = rs.rules.at(0);
    EXPECT_EQ(r.kind, ir::RuleKind::Threshold);
    EXPECT_EQ(r.severity, ir::Severity::Medium);
    EXPECT_EQ(r.confidence, ir::kNoExpr);
    EXPECT_EQ(r.threshold.scope, ir::ScopeKind::Session);
    EXPECT_EQ(r.threshold.session, 0u);
    ASSERT_EQ(r.threshold.on_types, std::vector<uint16_t>{0});
    // (a and b) and c
    const auto& top = X(rs, r.threshold.cond);
    ASSERT_EQ(top.kind, ExprKind::Binary);
    EXPECT_EQ(top.op, ir::Op::And);
    const auto& url_eq = X(rs, top.b);
    EXPECT_EQ(url_eq.op, ir::Op::Eq);
    const auto& url = X(rs, url_eq.a);
    EXPECT_EQ(url.kind, ExprKind::Field);
    EXPECT_EQ(url.ref, ir::EventRef::Current);
    EXPECT_EQ(url.field, 4);
    EXPECT_TRUE(url.field_by_type.empty());
    const auto& str = X(rs, url_eq.b);
    ASSERT_EQ(str.constant.type, Type::String);
    EXPECT_EQ(rs.strings.at(static_cast<size_t>(str.constant.i)), "x");
    const auto& ab = X(rs, top.a);
    const auto& dur_cmp = X(rs, ab.a);
    EXPECT_EQ(X(rs, dur_cmp.a).kind, ExprKind::SessionAttr);
    EXPECT_EQ(X(rs, dur_cmp.a).attr, ir::SessionAttr::Duration);
    EXPECT_EQ(X(rs, dur_cmp.b).constant.type, Type::Duration);
    EXPECT_EQ(X(rs, dur_cmp.b).constant.i, 180LL * 1000000);
    const auto& cnt_cmp = X(rs, ab.b);
    const auto& cnt = X(rs, cnt_cmp.a);
    ASSERT_EQ(cnt.kind, ExprKind::Aggregate);
    const auto& agg = rs.aggregates.at(cnt.agg);
    EXPECT_EQ(agg.kind, ir::AggKind::Count);
    EXPECT_EQ(agg.source, ir::AggSource::Scope);
    EXPECT_EQ(agg.types, std::vector<uint16_t>{0});
    EXPECT_EQ(agg.value, ir::kNoExpr);
    EXPECT_EQ(agg.type, Type::Int);
    const auto& filt = X(rs, agg.filter);
    EXPECT_EQ(X(rs, filt.a).field, 3);
    EXPECT_EQ(X(rs, filt.a).ref, ir::EventRef::Current);
    EXPECT_EQ(X(rs, filt.b).constant.type, Type::Enum);
    EXPECT_EQ(X(rs, filt.b).constant.i, 2); // product is the third enum value
    ASSERT_EQ(r.emits.size(), 2u);
    const auto& avg = rs.aggregates.at(X(rs, r.emits[0].expr).agg);
    EXPECT_EQ(avg.kind, ir::AggKind::Avg);
    EXPECT_EQ(avg.type, Type::Float);
    EXPECT_EQ(X(rs, avg.value).field, 6);
    const auto& dw = rs.aggregates.at(X(rs, r.emits[1].expr).agg);
    EXPECT_EQ(dw.kind, ir::AggKind::DwellTime);
    EXPECT_EQ(dw.type, Type::Duration);
}

TEST(Lowering, PatternRule) {
    auto c = compile(R"(
rule p {
    label intent.purchase.abandonment;
    severity high;
    confidence 0.7;
    pattern v: page_view where v.page == "product"
         => c: add_to_cart+ where c.sku == v.sku
         -> not x: page_view where x.sku == v.sku
         -> d: purchase | add_to_cart where d.sku == "s"
         -> not p: purchase within 30m
         within 2h;
    emit n = count(c), q = sum(c.qty where qty > 1), s = v.sku;
}
)");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    const auto& r = rs.rules.at(0);
    EXPECT_EQ(r.kind, ir::RuleKind::Pattern);
    EXPECT_EQ(r.severity, ir::Severity::High);
    EXPECT_EQ(X(rs, r.confidence).constant.f, 0.7);
    EXPECT_EQ(r.pattern.within_us, 2LL * 3600 * 1000000);
    const auto& st = r.pattern.steps;
    ASSERT_EQ(st.size(), 5u);
    EXPECT_EQ(st[0].kind, ir::StepKind::Positive);
    EXPECT_FALSE(st[0].strict);
    EXPECT_EQ(st[0].pred_text, "v.page == \"product\"");
    // String literal compared with an enum becomes the enum index.
    EXPECT_EQ(X(rs, X(rs, st[0].pred).b).constant.type, Type::Enum);
    EXPECT_EQ(st[1].min, 1u);
    EXPECT_EQ(st[1].max, ir::kUnbounded);
    EXPECT_TRUE(st[1].strict);
    EXPECT_TRUE(st[1].collected());
    const auto& c_sku = X(rs, X(rs, st[1].pred).a);
    EXPECT_EQ(c_sku.ref, ir::EventRef::Current);
    EXPECT_EQ(c_sku.field, 2);
    const auto& v_sku = X(rs, X(rs, st[1].pred).b);
    EXPECT_EQ(v_sku.ref, ir::EventRef::Step);
    EXPECT_EQ(v_sku.step, 0u);
    EXPECT_EQ(v_sku.field, 5);
    EXPECT_EQ(st[2].kind, ir::StepKind::Negation);
    EXPECT_EQ(st[2].within_us, -1);
    // Alternatives: the field sits at different slots per type.
    EXPECT_EQ(st[3].types, (std::vector<uint16_t>{2, 1}));
    const auto& d_sku = X(rs, X(rs, st[3].pred).a);
    ASSERT_EQ(d_sku.field_by_type.size(), 3u);
    EXPECT_EQ(d_sku.field_by_type[0], ir::kNoField);
    EXPECT_EQ(d_sku.field_by_type[1], 2);
    EXPECT_EQ(d_sku.field_by_type[2], 3);
    EXPECT_EQ(st[4].kind, ir::StepKind::Absence);
    EXPECT_EQ(st[4].within_us, 30LL * 60 * 1000000);
    ASSERT_EQ(r.emits.size(), 3u);
    const auto& n = rs.aggregates.at(X(rs, r.emits[0].expr).agg);
    EXPECT_EQ(n.source, ir::AggSource::Step);
    EXPECT_EQ(n.step, 1u);
    const auto& q = rs.aggregates.at(X(rs, r.emits[1].expr).agg);
    EXPECT_EQ(q.kind, ir::AggKind::Sum);
    EXPECT_EQ(q.type, Type::Int);
    EXPECT_EQ(X(rs, q.value).field, 4);
    EXPECT_NE(q.filter, ir::kNoExpr);
    EXPECT_EQ(X(rs, r.emits[2].expr).ref, ir::EventRef::Step);
}

TEST(Lowering, NumericPromotionAndArithmetic) {
    auto c = compile(R"(
rule r { label risk.bot; on add_to_cart;
    when add_to_cart.qty + 1.5 > 2 and add_to_cart.qty / 2 == 1 and add_to_cart.ts - add_to_cart.ts < 1s;
    emit a = add_to_cart.ts + 1m, b = 2 * 5s, c = 10s / 5s, d = -add_to_cart.qty, e = abs(-3); }
)");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    const auto& r = rs.rules.at(0);
    const auto& e = r.emits;
    EXPECT_EQ(X(rs, e[0].expr).type, Type::Timestamp);
    EXPECT_EQ(X(rs, e[1].expr).type, Type::Duration);
    EXPECT_EQ(X(rs, e[2].expr).type, Type::Float);
    EXPECT_EQ(X(rs, e[3].expr).type, Type::Int);
    EXPECT_EQ(X(rs, e[3].expr).op, ir::Op::Neg);
    EXPECT_EQ(X(rs, e[4].expr).fn, ir::Builtin::Abs);
    EXPECT_EQ(X(rs, X(rs, e[4].expr).args[0]).constant.i, -3); // -3 folds to a constant
    const auto& top = X(rs, r.threshold.cond);
    const auto& left = X(rs, X(rs, top.a).a); // qty + 1.5 > 2
    EXPECT_EQ(X(rs, left.a).type, Type::Float);
    const auto& div = X(rs, X(rs, X(rs, top.a).b).a);
    EXPECT_EQ(div.type, Type::Int);
    EXPECT_EQ(X(rs, X(rs, top.b).a).type, Type::Duration);
}

TEST(Lowering, AnyAggregateUsesPerTypeSlots) {
    auto c = compile(
        "rule r { label risk.bot; over last 5 events; when sum(any.price) > 1.0 and count(any) > 1; }");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    const auto& r = rs.rules.at(0);
    EXPECT_EQ(r.threshold.scope, ir::ScopeKind::LastN);
    EXPECT_EQ(r.threshold.last_n, 5u);
    EXPECT_TRUE(r.threshold.on_types.empty());
    const auto& sum = rs.aggregates.at(0);
    EXPECT_TRUE(sum.types.empty());
    const auto& v = X(rs, sum.value);
    ASSERT_EQ(v.field_by_type.size(), 3u);
    EXPECT_EQ(v.field_by_type[0], 6);
    EXPECT_EQ(v.field_by_type[1], 3);
    EXPECT_EQ(v.field_by_type[2], ir::kNoField);
}

TEST(Lowering, ExclusiveGroupsExpandLabels) {
    auto c = compile(R"(
rule a { label intent.purchase.high_intent; when count(any) > 1; }
rule b { label risk.bot; when count(any) > 2; }
rule c { label intent.purchase.abandonment; when count(any) > 3; }
exclusive g { b priority 10; label intent.purchase priority 5; }
)");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& rs = *c.rs;
    ASSERT_EQ(rs.groups.size(), 1u);
    EXPECT_EQ(rs.groups[0].rules, (std::vector<uint32_t>{1, 0, 2}));
    EXPECT_EQ(rs.rules[1].priority, 10);
    EXPECT_EQ(rs.rules[0].priority, 5);
    EXPECT_EQ(rs.rules[2].group, 0);
    EXPECT_NE(rs.rules[0].hash, rs.rules[2].hash);
    EXPECT_EQ(rs.rules[0].hash.size(), 64u);
}

TEST(Lowering, IntegerConfidenceBecomesFloat) {
    auto c = compile("rule r { label risk.bot; confidence 1; when count(any) > 1; }");
    ASSERT_TRUE(c.rs) << c.diags;
    const auto& conf = c.rs->exprs.at(c.rs->rules.at(0).confidence);
    EXPECT_EQ(conf.type, Type::Float);
    EXPECT_EQ(conf.constant.type, Type::Float);
    EXPECT_EQ(conf.constant.f, 1.0);
}

TEST(Lowering, StringsAreDeduplicated) {
    auto c = compile(R"(rule r { label risk.bot; on page_view;
        when page_view.url == "a" or page_view.url == "b" or starts_with(page_view.url, "a"); })");
    ASSERT_TRUE(c.rs) << c.diags;
    EXPECT_EQ(c.rs->strings, (std::vector<std::string>{"a", "b"}));
}

TEST(Lowering, DumpIrNamesEveryPart) {
    auto c = compile("rule r { label risk.bot; severity low; on page_view; when page_view.page == cart; }");
    ASSERT_TRUE(c.rs) << c.diags;
    std::string d = compiler::dump_ir(*c.rs);
    EXPECT_NE(d.find("rule #0 r threshold\n  label risk.bot\n  severity low\n"), std::string::npos) << d;
    EXPECT_NE(d.find("  when (cur.3:enum == enum#3:enum):bool\n"), std::string::npos) << d;
    EXPECT_EQ(d, compiler::dump_ir(*c.rs));
}

} // namespace
} // namespace ethogram::test
