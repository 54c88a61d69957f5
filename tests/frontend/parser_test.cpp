// parser_test.cpp: the grammar accepts every construct of docs/language.md and rejects malformed input.
#include "tests/frontend/test_util.h"

namespace ethogram::test {
namespace {

TEST(Parser, AcceptsEveryConstruct) {
    auto c = compile(R"(
event login {
    key user: int;
    time at: timestamp;
    @pii @custom ip: string?;
    kind: enum(password, sso);
    duration_ms: duration?;
    count: int;
}
taxonomy risk.fraud { account_takeover; }
session support { gap 10m; end on page_view where page == help and contains(url, "x"); events page_view, login; }
rule t1 {
    label intent.purchase.high_intent;
    severity high;
    confidence 0.5 + 0.25;
    over last 10m;
    on page_view;
    when count(page_view where page in [product, "cart"]) >= 3 and not (page_view.price > 10.5)
         or page_view.url not in ["a", "b"] and -(page_view.price - 1) < 2 * 3 / 1 % 2;
    emit n = count(page_view), s = sum(add_to_cart.qty where qty > 1), any_n = count(any);
}
rule t2 { label risk.bot; over last 20 events; when count(any) > 100; }
rule t3 {
    label intent.purchase.abandonment; severity low;
    over session web; at session end;
    when count(add_to_cart) > 0 and count(purchase) == 0 and session.events > 2;
}
rule p1 {
    label risk.fraud.card_testing;
    severity critical;
    pattern a: login where a.kind == sso
         => f: purchase+ where f.amount < 5.0
         -> g: add_to_cart{2,5}
         -> h: page_view | purchase{3,} where h.sku == "x"
         -> not n: login where n.kind == password
         -> i: purchase* -> j: purchase? -> k: purchase{3}
         -> l: page_view
         within 1h;
    keep all;
    emit cards = distinct(f.amount), total = sum(f.amount), first_t = first(f.ts), c = count(g);
}
rule p2 {
    label risk.fraud.account_takeover;
    pattern a: login -> not b: purchase within 30m;
}
exclusive g1 { t1 priority 10; label risk priority -1; }
)");
    EXPECT_EQ(c.errors, 0u) << c.diags;
    ASSERT_TRUE(c.rs);
    EXPECT_EQ(c.rs->rules.size(), 5u);
}

TEST(Parser, KeywordsAreFieldNamesAfterDot) {
    auto c = compile(R"(
event odd { key id: string; time time: timestamp; count: int; max: int; last: int; events: int; }
rule r { label risk.bot; on odd; when odd.count > odd.max and odd.last > 0 and odd.events >= 0 and odd.time > odd.time - 1s; }
)");
    EXPECT_EQ(c.errors, 0u) << c.diags;
}

TEST(Parser, RejectsMissingSemicolon) {
    auto c = compile("rule r { label risk.bot when count(any) > 1; }");
    EXPECT_GE(c.errors, 1u);
    EXPECT_NE(c.diags.find("error[E0001]: expected `;` after `bot`"), std::string::npos) << c.diags;
    EXPECT_FALSE(c.rs);
}

// parse_file tries SLL prediction first and parses again with LL and error recovery only when SLL fails:
// a syntax error after valid declarations is reported once, at its place, by the second parse alone.
TEST(Parser, TwoStageParsingReportsAnErrorOnce) {
    auto c = compile("event e { key k: int; time t: timestamp; }\n"
                     "rule ok { label risk.bot; on e; when count(e) > 1; }\n"
                     "rule bad { label risk.bot; on e; when count(e) > ; }\n",
                     false);
    EXPECT_EQ(c.errors, 1u) << c.diags;
    EXPECT_NE(c.diags.find(":3:50: error[E0001]: expected `(`, `-`, a duration"), std::string::npos)
        << c.diags;
    EXPECT_EQ(c.diags.find("E0001"), c.diags.rfind("E0001")) << c.diags;
    EXPECT_FALSE(c.rs);
}

TEST(Parser, RejectsGarbage) {
    for (const char* bad :
         {"rule { }", "event x { key k string; }", "rule r { label a.; }", "ruleset x version;",
          "rule r { pattern a: x -> ; }", "rule r { when (1 + ; }", "session s { gap 10m }"}) {
        auto c = compile(bad, false);
        EXPECT_GE(c.errors, 1u) << bad;
        EXPECT_NE(c.diags.find("[E0001]"), std::string::npos) << bad << "\n" << c.diags;
    }
}

TEST(Parser, LexicalErrors) {
    auto c = compile("rule r { label risk.bot; when # ; }");
    EXPECT_NE(c.diags.find("[E0002]: unexpected character `#`"), std::string::npos) << c.diags;
    c = compile("rule r { label risk.bot; when \"abc ; }");
    EXPECT_NE(c.diags.find("[E0003]: unterminated string literal"), std::string::npos) << c.diags;
    c = compile("/* never closed");
    EXPECT_NE(c.diags.find("[E0003]: unterminated block comment"), std::string::npos) << c.diags;
    c = compile(std::string("rule r { label \xff; }"));
    EXPECT_NE(c.diags.find("[E0002]"), std::string::npos) << c.diags;
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
    std::string deep =
        "rule r { label risk.bot; when " + std::string(500, '(') + "true" + std::string(500, ')') + "; }";
    auto c = compile(deep);
    EXPECT_NE(c.diags.find("[E0005]"), std::string::npos) << c.diags.substr(0, 300);
    std::string chain = "rule r { label risk.bot; when true";
    for (int i = 0; i < 2000; ++i) chain += " and true";
    auto c2 = compile(chain + "; }");
    EXPECT_NE(c2.diags.find("[E0005]"), std::string::npos) << c2.diags.substr(0, 300);
}

TEST(Parser, AstDumpIsIndentedAndStable) {
    compiler::Diagnostics d;
    compiler::CompileOptions o;
    o.dump_ast = true;
    auto r = compiler::compile_source(
        "a.etho", "ruleset a version 1.0.0;\nrule r { label x; when 1 + 2 > 2; }\n", d, o);
    const std::string want = "file a.etho\n"
                             "Ruleset a version 1.0.0 @1:1\n"
                             "Rule r @2:1\n"
                             "  Label x\n"
                             "  When\n"
                             "    Binary > @2:24\n"
                             "      Binary + @2:24\n"
                             "        Int 1 @2:24\n"
                             "        Int 2 @2:28\n"
                             "      Int 2 @2:32\n";
    EXPECT_EQ(r.ast_dump, want);
}

} // namespace
} // namespace ethogram::test
