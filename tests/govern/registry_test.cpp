// registry_test.cpp: publish (immutable), approvals (distinct approver keys, four eyes), release gates.
#include "govern/audit.h"
#include "govern/files.h"
#include "govern/registry.h"
#include "govern_fixture.h"

#include <filesystem>

namespace ethogram::govern::testing {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public GovernTest {
protected:
    Registry reg;
    int runs = 0;
    void SetUp() override {
        GovernTest::SetUp();
        reg.dir = path("registry");
        fs::create_directories(reg.dir);
    }
    TestRunner runner(bool available, bool pass) {
        return [this, available, pass](const std::string& root, const Manifest& m) {
            ++runs;
            EXPECT_TRUE(fs::exists(fs::path(root) / m.tests / "rapid.yaml"));
            EXPECT_TRUE(fs::exists(fs::path(root) / "rules/main.etho"));
            TestOutcome t;
            t.available = available;
            t.passed = pass;
            t.command = "fake test " + m.tests;
            t.output = pass ? "ok" : "1 failure: rapid buying expected 1 detection, got 0";
            return t;
        };
    }
    std::string published(const std::string& version = "1.0.0", int n = 2) {
        std::string p = save_signed(build(version, n), "b-" + version + ".etb", alice);
        auto r = publish(reg, p, trust, alice, "");
        EXPECT_TRUE(r.ok()) << r.error();
        return p;
    }
};

TEST_F(RegistryTest, PublishedVersionsAreImmutable) {
    std::string p = published();
    EXPECT_TRUE(fs::exists(reg.bundle_path("test.govern", "1.0.0")));
    EXPECT_TRUE(fs::exists(signature_path(reg.bundle_path("test.govern", "1.0.0"))));
    auto again = publish(reg, p, trust, alice, "");
    ASSERT_TRUE(again.ok()) << again.error();
    EXPECT_TRUE(again->already);
    // Same version, different content (threshold 5).
    std::string other = save_signed(build("1.0.0", 5), "other.etb", alice);
    auto r = publish(reg, other, trust, alice, "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::Immutable);
    EXPECT_NE(r.error().find("already published"), std::string::npos) << r.error();
    // The registry's copy is untouched.
    EXPECT_EQ(read_bundle(reg.bundle_path("test.govern", "1.0.0"))->hash_hex(), read_bundle(p)->hash_hex());
    // A new version is fine.
    published("1.0.1", 5);
}

TEST_F(RegistryTest, PublishVerifiesAndChecksThePublisher) {
    std::string unsigned_bundle = save(build(), "u.etb");
    EXPECT_EQ(publish(reg, unsigned_bundle, trust, alice, "").code(), Code::Unsigned);
    std::string p = save_signed(build(), "b.etb", alice);
    EXPECT_EQ(publish(reg, p, trust, bob, "").code(), Code::WrongRole);
    EXPECT_EQ(publish(reg, p, trust, mallory, "").code(), Code::UntrustedKey);
    EXPECT_FALSE(fs::exists(reg.version_dir("test.govern", "1.0.0")));
}

TEST_F(RegistryTest, ReleaseNeedsApprovalsFromDistinctApproverKeysAndPassingTests) {
    published();
    const std::string id = "test.govern@1.0.0";
    auto r = release(reg, id, trust, dave, "go", runner(true, true));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::Policy);
    EXPECT_NE(r.error().find("0 valid approval(s) from distinct approver keys, 2 required"),
              std::string::npos)
        << r.error();
    ASSERT_TRUE(approve(reg, id, trust, bob, "looks right").ok());
    auto twice = approve(reg, id, trust, bob, "again");
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().find("already approved by 'bob'"), std::string::npos) << twice.error();
    // A copy of bob's approval under another name still counts once.
    fs::copy_file(fs::path(reg.version_dir("test.govern", "1.0.0")) / "approvals/bob.json",
                  fs::path(reg.version_dir("test.govern", "1.0.0")) / "approvals/bob2.json");
    r = release(reg, id, trust, dave, "go", runner(true, true));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("1 valid approval(s)"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("counts once"), std::string::npos) << r.error();
    EXPECT_EQ(runs, 0); // approvals are checked before the tests run

    ASSERT_TRUE(approve(reg, id, trust, carol, "ok").ok());
    EXPECT_EQ(release(reg, id, trust, bob, "go", runner(true, true)).code(), Code::WrongRole);
    EXPECT_EQ(release(reg, id, trust, dave, "", runner(true, true)).code(), Code::Usage);
    r = release(reg, id, trust, dave, "go", runner(true, false));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::Policy);
    EXPECT_NE(r.error().find("its tests fail"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("expected 1 detection"), std::string::npos) << r.error();
    r = release(reg, id, trust, dave, "go", runner(false, false));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("the tests cannot run"), std::string::npos) << r.error();

    r = release(reg, id, trust, dave, "fixes false positives", runner(true, true));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->get("approvals"), "bob,carol");
    auto vb = open_published(reg, id, trust);
    ASSERT_TRUE(vb.ok());
    EXPECT_TRUE(release_record(reg, *vb, trust).ok());
    EXPECT_EQ(release(reg, id, trust, dave, "again", runner(true, true)).code(), Code::Immutable);

    auto audit = audit_verify(reg.audit_log(), trust);
    ASSERT_TRUE(audit.ok()) << audit.error();
    EXPECT_EQ(audit->entries, 4u); // publish, approve, approve, release
}

TEST_F(RegistryTest, ApprovalsThatDoNotCount) {
    published();
    const std::string id = "test.govern@1.0.0";
    // Four eyes: the author may hold the approver role, but not approve what they signed.
    trust.keys[0].roles.push_back(Role::Approver);
    alice.roles.push_back(Role::Approver);
    auto self = approve(reg, id, trust, alice, "mine");
    ASSERT_FALSE(self.ok());
    EXPECT_NE(self.error().find("four eyes"), std::string::npos) << self.error();
    EXPECT_EQ(approve(reg, id, trust, dave, "").code(), Code::WrongRole);
    // Forged approval files: an untrusted key, and an approval of another version copied over.
    std::string adir = (fs::path(reg.version_dir("test.govern", "1.0.0")) / "approvals").string();
    KeyPair fake = make_key("carol", {Role::Approver}); // carol's name, not carol's key
    auto vb = open_published(reg, id, trust);
    ASSERT_TRUE(vb.ok());
    SignedRecord forged =
        make_record(kApprovalPurpose,
                    {Field::s("bundle", id), Field::s("manifest_hash", vb->bundle.hash_hex()),
                     Field::s("approved_at", "2026-01-01T00:00:00Z"), Field::s("reason", "")},
                    fake);
    ASSERT_TRUE(write_file_atomic(adir + "/carol.json", encode_record(forged) + "\n").ok());
    published("1.0.1", 3);
    ASSERT_TRUE(approve(reg, "test.govern@1.0.1", trust, bob, "").ok());
    fs::copy_file(fs::path(reg.version_dir("test.govern", "1.0.1")) / "approvals/bob.json",
                  adir + "/bob.json");
    std::vector<std::string> rejected;
    EXPECT_TRUE(valid_approvals(reg, *vb, trust, &rejected).empty());
    ASSERT_EQ(rejected.size(), 2u);
    EXPECT_NE(rejected[0].find("approves another bundle"), std::string::npos) << rejected[0];
    EXPECT_NE(rejected[1].find("not trusted"), std::string::npos) << rejected[1];
}

TEST_F(RegistryTest, ReleaseRefusesABundleWithoutTests) {
    build();
    BuildOptions o;
    o.rules_dir = path("set/rules");
    o.created_by = "alice";
    std::string diags;
    auto b = build_bundle(o, diags);
    ASSERT_TRUE(b.ok()) << b.error();
    std::string p = save_signed(*b, "nt.etb", alice);
    ASSERT_TRUE(publish(reg, p, trust, alice, "").ok());
    trust.required_approvals = 0;
    auto r = release(reg, "test.govern@1.0.0", trust, dave, "go", runner(true, true));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("has no tests"), std::string::npos) << r.error();
}

TEST_F(RegistryTest, SignatureRemovedFromTheRegistryIsStripped) {
    published();
    std::string sig = signature_path(reg.bundle_path("test.govern", "1.0.0"));
    fs::permissions(fs::path(sig).parent_path(), fs::perms::owner_all, fs::perm_options::add);
    fs::remove(sig);
    auto v = open_published(reg, "test.govern@1.0.0", trust);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.code(), Code::Stripped);
    EXPECT_NE(v.error().find("recorded signatures by alice"), std::string::npos) << v.error();
    EXPECT_EQ(approve(reg, "test.govern@1.0.0", trust, bob, "").code(), Code::Stripped);
}

TEST_F(RegistryTest, BundleIds) {
    EXPECT_TRUE(parse_bundle_id("shop.web@1.4.0").ok());
    EXPECT_FALSE(parse_bundle_id("shop.web").ok());
    EXPECT_FALSE(parse_bundle_id("@1.0.0").ok());
    EXPECT_FALSE(parse_bundle_id("../x@1.0.0").ok());
    EXPECT_FALSE(parse_bundle_id("shop@1.0").ok());
}

} // namespace
} // namespace ethogram::govern::testing
