// govern_fixture.cpp: shared set-up of the governance tests.
#include "govern_fixture.h"

#include "govern/files.h"

#include <filesystem>
#include <fstream>

namespace ethogram::govern::testing {

KeyPair make_key(const std::string& name, std::vector<Role> roles) {
    KeyPair k;
    k.name = name;
    k.roles = std::move(roles);
    generate_keypair(k.pk, k.sk);
    return k;
}

TrustedKey trusted(const KeyPair& k) {
    return TrustedKey{k.name, k.pk, k.roles, {}, {}};
}

void GovernTest::SetUp() {
    char tmpl[] = "/tmp/etho_govern_XXXXXX";
    dir = mkdtemp(tmpl);
    alice = make_key("alice", {Role::Author});
    bob = make_key("bob", {Role::Approver});
    carol = make_key("carol", {Role::Approver});
    dave = make_key("dave", {Role::Deployer});
    mallory = make_key("mallory", {Role::Author});
    trust.keys = {trusted(alice), trusted(bob), trusted(carol), trusted(dave)};
    trust.required_approvals = 2;
}

void GovernTest::TearDown() {
    std::filesystem::remove_all(dir);
}

std::string GovernTest::write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path(name)).parent_path());
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
}

Bundle GovernTest::build(const std::string& version, int n, int64_t created_at) {
    write("set/schema.etho", R"(event click {
    key user: string;
    time ts: timestamp;
    button: enum(buy, help);
}
taxonomy { intent { purchase; } }
)");
    write("set/rules/main.etho", "ruleset test.govern version " + version + R"(;
import "../schema.etho";
rule rapid_buying {
    label intent.purchase;
    severity high;
    over last 10s;
    on click;
    when count(click where button == buy) >= )" +
                                     std::to_string(n) + R"(;
    emit clicks = count(click);
}
)");
    write("set/tests/rapid.yaml", "name: rapid buying\n");
    BuildOptions o;
    o.rules_dir = path("set/rules");
    o.tests_dir = path("set/tests");
    o.created_by = "alice";
    o.created_at = created_at;
    std::string diags;
    auto b = build_bundle(o, diags);
    EXPECT_TRUE(b.ok()) << b.error() << diags;
    return b.ok() ? *b : Bundle{};
}

std::string GovernTest::save(const Bundle& b, const std::string& name) const {
    EXPECT_TRUE(write_file_atomic(path(name), encode_bundle(b)).ok());
    return path(name);
}

std::string GovernTest::save_signed(const Bundle& b, const std::string& name, const KeyPair& k) const {
    std::string p = save(b, name);
    auto s = add_signature(p, b, k);
    EXPECT_TRUE(s.ok()) << s.error();
    return p;
}

} // namespace ethogram::govern::testing
