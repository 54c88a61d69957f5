// cli_test.cpp: the change-control commands of the built `etho` binary: outputs, errors and exit codes.
#include "tests/support/cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using ethogram::test_support::has;
using ethogram::test_support::slurp;
using Result = ethogram::test_support::CliResult;

class GovernCli : public ethogram::test_support::CliFixture {
protected:
    void SetUp() override {
        make_dir("etho_govcli");
        write("set/rules/main.etho", R"(ruleset test.cli version 2.3.4;
event click {
    key user: string;
    time ts: timestamp;
    id eid: string?;
    button: enum(buy, help);
}
taxonomy { intent { purchase; } }
rule rapid_buying {
    label intent.purchase;
    severity high;
    over last 10s;
    on click;
    when count(click where button == buy) >= 2;
    emit clicks = count(click);
}
)");
        write("set/tests/broken.yaml", "this is: [not a valid test\n");
        write("events.jsonl",
              R"({"type":"click","user":"u1","ts":"2026-01-01T00:00:00Z","button":"buy","eid":"a"}
{"type":"click","user":"u1","ts":"2026-01-01T00:00:01Z","button":"buy","eid":"b"}
)");
        for (auto [name, role] : {std::pair{"alice", "author"}, {"bob", "approver"}, {"dave", "deployer"}})
            ASSERT_EQ(etho(std::string("keygen --name ") + name + " --role " + role + " --out " +
                           path("keys") + " --trust " + path("trust.yaml"))
                          .code,
                      0);
    }
    std::string key(const std::string& name) const { return path("keys/" + name + ".key"); }
    std::string trusted() const { return " --trusted " + path("trust.yaml"); }
    // Builds and signs b.etb.
    void signed_bundle() {
        Result r = etho("build " + path("set/rules") + " --tests " + path("set/tests") + " --out " +
                        path("b.etb") + " --key " + key("alice") + " --audit " + path("audit.jsonl"));
        ASSERT_EQ(r.code, 0) << r.err;
        r = etho("sign " + path("b.etb") + " --key " + key("alice") + trusted() + " --audit " +
                 path("audit.jsonl"));
        ASSERT_EQ(r.code, 0) << r.err;
    }
};

TEST_F(GovernCli, KeygenWritesKeysAndTrustAndRefusesToOverwrite) {
    EXPECT_TRUE(fs::exists(key("alice")));
    EXPECT_TRUE(fs::exists(path("keys/alice.pub")));
    EXPECT_EQ(fs::status(key("alice")).permissions() & fs::perms::group_all, fs::perms::none);
    std::string t = slurp(path("trust.yaml"));
    EXPECT_TRUE(has(t, "name: bob")) << t;
    EXPECT_TRUE(has(t, "roles: [approver]")) << t;
    Result r = etho("keygen --name alice --role author --out " + path("keys"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "refusing to overwrite")) << r.err;
    EXPECT_EQ(etho("keygen --name x --role admin --out " + path("keys")).code, 2);
}

TEST_F(GovernCli, BuildSignVerify) {
    Result r = etho("verify " + path("nothing.etb") + trusted());
    EXPECT_EQ(r.code, 2) << r.err;
    ASSERT_NO_FATAL_FAILURE(signed_bundle());
    r = etho("verify " + path("b.etb") + trusted());
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "ok: ")) << r.out;
    EXPECT_TRUE(has(r.out, "test.cli@2.3.4")) << r.out;
    EXPECT_TRUE(has(r.out, "signed by alice")) << r.out;

    fs::rename(path("b.etb.sig"), path("saved.sig"));
    r = etho("verify " + path("b.etb") + trusted());
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(has(r.err, "error[unsigned]")) << r.err;
    fs::rename(path("saved.sig"), path("b.etb.sig"));

    std::string bytes = slurp(path("b.etb"));
    bytes[bytes.size() / 2] ^= 1;
    write("t.etb", bytes);
    fs::copy_file(path("b.etb.sig"), path("t.etb.sig"));
    r = etho("verify " + path("t.etb") + trusted());
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(has(r.err, "error[corrupt]")) << r.err;

    r = etho("sign " + path("b.etb") + " --key " + key("bob") + trusted());
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(has(r.err, "error[wrong_role]")) << r.err;
    r = etho("sign " + path("b.etb") + " --key " + key("bob")); // no trust check when signing
    EXPECT_EQ(r.code, 0) << r.err;
    r = etho("verify " + path("b.etb") + trusted());
    EXPECT_EQ(r.code, 0) << r.err; // alice (author) and bob: both trusted, one author
}

TEST_F(GovernCli, BuildErrors) {
    write("bad/rules.etho", "ruleset x version 1.0.0;\nrule r { when nope; }\n");
    Result r = etho("build " + path("bad") + " --out " + path("x.etb"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "error[compile]")) << r.err;
    EXPECT_FALSE(fs::exists(path("x.etb")));
    r = etho("build " + path("set/rules") + " --version 9.9.9 --out " + path("x.etb"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "differs from the rules' header")) << r.err;
    r = etho("build " + path("set/rules") + " --out " + path("x.etb") + " --audit " + path("a.jsonl"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "--audit needs --key")) << r.err;
}

TEST_F(GovernCli, RegistryFlowAndAudit) {
    ASSERT_NO_FATAL_FAILURE(signed_bundle());
    std::string reg = " --registry " + path("reg") + trusted();
    Result r = etho("publish " + path("b.etb") + reg + " --key " + key("alice"));
    ASSERT_EQ(r.code, 0) << r.err;
    r = etho("publish " + path("b.etb") + reg + " --key " + key("alice"));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "already published")) << r.out;
    // Rebuild the same version with another threshold: refused.
    write("set/rules/main.etho", slurp(path("set/rules/main.etho"))
                                     .replace(slurp(path("set/rules/main.etho")).find(">= 2"), 4, ">= 3"));
    ASSERT_EQ(etho("build " + path("set/rules") + " --out " + path("c.etb") + " --key " + key("alice")).code,
              0);
    ASSERT_EQ(etho("sign " + path("c.etb") + " --key " + key("alice")).code, 0);
    r = etho("publish " + path("c.etb") + reg + " --key " + key("alice"));
    EXPECT_EQ(r.code, 4);
    EXPECT_TRUE(has(r.err, "error[immutable]")) << r.err;

    r = etho("approve test.cli@2.3.4" + reg + " --key " + key("bob") + " --reason 'reviewed'");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "1 of 1 required")) << r.out;
    r = etho("release test.cli@2.3.4" + reg + " --key " + key("dave"));
    EXPECT_EQ(r.code, 2); // --reason is required
    r = etho("release " + path("b.etb") + reg + " --key " + key("dave") + " --reason 'ship'");
    EXPECT_EQ(r.code, 4) << r.err;
    // Without `etho test` in this binary the release says so; with it, the broken test file fails.
    EXPECT_TRUE(has(r.err, "the tests cannot run") || has(r.err, "its tests fail")) << r.err;
    EXPECT_FALSE(fs::exists(path("reg/test.cli/2.3.4/released.json")));
    // Not released: neither deployable nor runnable from the registry.
    r = etho("deploy test.cli@2.3.4" + reg + " --key " + key("dave") + " --reason 'go'");
    EXPECT_EQ(r.code, 4) << r.err;
    EXPECT_TRUE(has(r.err, "not released")) << r.err;
    r = etho("run --bundle test.cli --registry " + path("reg") + trusted() + " --events " +
             path("events.jsonl"));
    EXPECT_EQ(r.code, 4) << r.err;
    EXPECT_TRUE(has(r.err, "no version of it is deployed")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;

    r = etho("audit verify " + path("reg/audit.jsonl") + trusted());
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "2 entries")) << r.out;
    r = etho("audit verify " + path("audit.jsonl") + trusted());
    EXPECT_EQ(r.code, 0) << r.err;
    std::string log = slurp(path("audit.jsonl"));
    log.replace(log.find("\"sign\""), 6, "\"bild\"");
    write("audit.jsonl", log);
    r = etho("audit verify " + path("audit.jsonl") + trusted());
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(has(r.err, "error[audit_broken]")) << r.err;
    EXPECT_TRUE(has(r.err, "audit.jsonl:2 (seq 2)")) << r.err;
}

TEST_F(GovernCli, RunBundleRecordsVersionAndRuleHash) {
    ASSERT_NO_FATAL_FAILURE(signed_bundle());
    Result r = etho("run --bundle " + path("b.etb") + trusted() + " --events " + path("events.jsonl"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "\"ruleset\":\"test.cli\",\"version\":\"2.3.4\",\"rule_hash\":\"")) << r.out;
    EXPECT_TRUE(has(r.out, "\"bundle\":\"")) << r.out;
    // Plain runs keep their output unchanged.
    r = etho("run " + path("set/rules") + " --events " + path("events.jsonl"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(has(r.out, "rule_hash")) << r.out;
    // An untrusted or unsigned bundle never runs.
    fs::remove(path("b.etb.sig"));
    r = etho("run --bundle " + path("b.etb") + trusted() + " --events " + path("events.jsonl"));
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(has(r.err, "error[unsigned]")) << r.err;
    r = etho("run --bundle " + path("b.etb") + " --events " + path("events.jsonl"));
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(has(r.err, "--bundle needs --trusted")) << r.err;
}

} // namespace

// The whole loop on a real rule set with a real test suite (examples/fraud): build with its tests, config
// and the events file a test replays; sign, publish, approve, release (the bundle's own `etho test` passes),
// deploy, run the deployed version, roll back; the audit log verifies at the end.
TEST_F(GovernCli, FraudExampleReleasedDeployedAndRolledBack) {
    const std::string ex = std::string(ETHOGRAM_SOURCE_DIR) + "/examples/fraud";
    fs::copy(ex, path("fraud"), fs::copy_options::recursive);
    std::string reg = " --registry " + path("reg") + trusted();
    Result r = etho("build " + path("fraud/rules") + " --tests " + path("fraud/tests") + " --config " +
                    path("fraud/config.yaml") + " --include " + path("fraud/events.jsonl") + " --out " +
                    path("f.etb") + " --key " + key("alice"));
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(etho("sign " + path("f.etb") + " --key " + key("alice") + trusted()).code, 0);
    ASSERT_EQ(etho("publish " + path("f.etb") + reg + " --key " + key("alice")).code, 0);
    // No approval yet: the release is refused by policy.
    r = etho("release payments.fraud@2.1.0" + reg + " --key " + key("dave") + " --reason 'ship'");
    EXPECT_EQ(r.code, 4) << r.err;
    ASSERT_EQ(etho("approve payments.fraud@2.1.0" + reg + " --key " + key("bob") + " --reason 'ok'").code, 0);
    r = etho("release payments.fraud@2.1.0" + reg + " --key " + key("dave") + " --reason 'ship'");
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_TRUE(fs::exists(path("reg/payments.fraud/2.1.0/released.json")));
    r = etho("deploy payments.fraud@2.1.0" + reg + " --key " + key("dave") + " --reason 'go live'");
    ASSERT_EQ(r.code, 0) << r.err;
    r = etho("run --bundle payments.fraud --registry " + path("reg") + trusted() + " --events " +
             path("fraud/events.jsonl") + " --config " + path("fraud/config.yaml") + " --dead-letter " +
             path("dead.jsonl"));
    ASSERT_EQ(r.code, 0) << r.err;
    // The example's 14 detections, each naming the rule hash and the bundle it came from.
    size_t lines = 0;
    for (size_t at = 0; (at = r.out.find('\n', at)) != std::string::npos; ++at) ++lines;
    EXPECT_EQ(lines, 14u) << r.out;
    EXPECT_TRUE(has(r.out, "\"rule_hash\":")) << r.out;
    EXPECT_TRUE(has(r.out, "\"bundle\":")) << r.out;
    r = etho("rollback payments.fraud" + reg + " --key " + key("dave") +
             " --reason 'nothing to roll back to'");
    EXPECT_NE(r.code, 0) << r.out; // one version only: there is no previous one
    r = etho("audit verify " + path("reg/audit.jsonl") + trusted());
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "intact")) << r.out;
}
