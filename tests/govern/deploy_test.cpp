// deploy_test.cpp: deployments need a release; rollback returns to the previous live version; history
// checked.
#include "govern/deploy.h"
#include "govern/files.h"
#include "govern_fixture.h"

#include <filesystem>

namespace ethogram::govern::testing {
namespace {

namespace fs = std::filesystem;

class DeployTest : public GovernTest {
protected:
    Registry reg;
    void SetUp() override {
        GovernTest::SetUp();
        reg.dir = path("registry");
        fs::create_directories(reg.dir);
        trust.required_approvals = 1;
    }
    void publish_version(const std::string& version, int n, bool released) {
        std::string p = save_signed(build(version, n), "b-" + version + ".etb", alice);
        ASSERT_TRUE(publish(reg, p, trust, alice, "").ok());
        std::string id = "test.govern@" + version;
        ASSERT_TRUE(approve(reg, id, trust, bob, "ok").ok());
        if (!released) return;
        auto pass = [](const std::string&, const Manifest&) { return TestOutcome{true, true, "fake", "ok"}; };
        auto r = release(reg, id, trust, dave, "ready", pass);
        ASSERT_TRUE(r.ok()) << r.error();
    }
    std::string live() {
        auto vb = deployed_bundle(reg, "test.govern", trust);
        return vb.ok() ? vb->bundle.manifest.version : "error: " + vb.error();
    }
};

TEST_F(DeployTest, DeployAndRollback) {
    ASSERT_NO_FATAL_FAILURE(publish_version("1.0.0", 2, true));
    ASSERT_NO_FATAL_FAILURE(publish_version("1.1.0", 3, true));
    ASSERT_NO_FATAL_FAILURE(publish_version("1.2.0", 4, false));
    EXPECT_EQ(deployed_bundle(reg, "test.govern", trust).code(), Code::Policy); // nothing deployed yet
    auto d = deploy(reg, "test.govern@1.2.0", trust, dave, "try");
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().find("not released"), std::string::npos) << d.error();
    EXPECT_EQ(deploy(reg, "test.govern@1.0.0", trust, dave, "").code(), Code::Usage);
    EXPECT_EQ(deploy(reg, "test.govern@1.0.0", trust, bob, "go").code(), Code::WrongRole);
    EXPECT_EQ(rollback(reg, "test.govern", trust, dave, "oops").code(), Code::Policy);

    ASSERT_TRUE(deploy(reg, "test.govern@1.0.0", trust, dave, "first").ok());
    EXPECT_EQ(live(), "1.0.0");
    EXPECT_EQ(deploy(reg, "test.govern@1.0.0", trust, dave, "again").code(), Code::Usage);
    d = deploy(reg, "test.govern@1.1.0", trust, dave, "stricter");
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(d->previous, "1.0.0");
    EXPECT_EQ(live(), "1.1.0");
    d = rollback(reg, "test.govern", trust, dave, "false positives");
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(d->version, "1.0.0");
    EXPECT_EQ(d->previous, "1.1.0");
    EXPECT_EQ(live(), "1.0.0");
    EXPECT_EQ(rollback(reg, "test.govern", trust, dave, "again").code(), Code::Policy);

    auto h = deployment_history(reg, "test.govern", trust);
    ASSERT_TRUE(h.ok()) << h.error();
    ASSERT_EQ(h->size(), 3u);
    EXPECT_EQ((*h)[2].action, "rollback");
    auto audit = audit_verify(reg.audit_log(), trust);
    ASSERT_TRUE(audit.ok()) << audit.error();
    EXPECT_EQ(audit->entries, 3u + 3u + 2u + 3u); // publishes, approvals, releases, deploy/deploy/rollback
}

TEST_F(DeployTest, EditedHistoryOrStrippedBundleNeverGoesLive) {
    ASSERT_NO_FATAL_FAILURE(publish_version("1.0.0", 2, true));
    ASSERT_NO_FATAL_FAILURE(publish_version("1.1.0", 3, true));
    ASSERT_TRUE(deploy(reg, "test.govern@1.0.0", trust, dave, "first").ok());
    ASSERT_TRUE(deploy(reg, "test.govern@1.1.0", trust, dave, "second").ok());
    std::string hp = reg.dir + "/test.govern/deployments.jsonl";
    std::string good = *read_file(hp);
    std::string edited = good;
    edited.replace(edited.rfind("\"version\":\"1.1.0\""), 17, "\"version\":\"1.0.0\"");
    ASSERT_TRUE(write_file_atomic(hp, edited).ok());
    EXPECT_NE(deployed_bundle(reg, "test.govern", trust).code(), Code::Ok);
    ASSERT_TRUE(write_file_atomic(hp, good).ok());
    EXPECT_EQ(live(), "1.1.0");
    std::string sig = signature_path(reg.bundle_path("test.govern", "1.1.0"));
    fs::remove(sig);
    auto vb = deployed_bundle(reg, "test.govern", trust);
    EXPECT_EQ(vb.code(), Code::Stripped) << vb.error();
}

} // namespace
} // namespace ethogram::govern::testing
