// bundle_test.cpp: bundle building (layout, determinism, checks), round trip, and corrupt containers.
#include "govern/files.h"
#include "govern/load.h"
#include "govern_fixture.h"

#include <cstring>

namespace ethogram::govern::testing {
namespace {

using BundleTest = GovernTest;

// Rewrites the trailing checksum so that only the content checks below it can catch an edit.
std::string with_fixed_checksum(std::string bytes) {
    std::string body = bytes.substr(0, bytes.size() - 32);
    Digest d = blake2b(body);
    return body + std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

TEST_F(BundleTest, BuildPacksSourcesImportsAndTestsUnderTheirCommonRoot) {
    Bundle b = build();
    const Manifest& m = b.manifest;
    EXPECT_EQ(m.id(), "test.govern@1.0.0");
    EXPECT_EQ(m.created_by, "alice");
    EXPECT_EQ(m.created_at, "2023-11-14T22:13:20Z");
    EXPECT_EQ(m.engine_min, std::string(engine_version()));
    ASSERT_EQ(m.files.size(), 3u);
    EXPECT_EQ(m.files[0].path, "rules/main.etho");
    EXPECT_EQ(m.files[0].kind, "rules");
    EXPECT_EQ(m.files[1].path, "schema.etho"); // imported from outside the rules folder
    EXPECT_EQ(m.files[2].path, "tests/rapid.yaml");
    EXPECT_EQ(m.files[2].kind, "tests");
    EXPECT_EQ(m.entry, std::vector<std::string>{"rules/main.etho"});
    EXPECT_EQ(m.tests, "tests");
    ASSERT_EQ(m.rules.size(), 1u);
    EXPECT_EQ(m.rules[0].name, "rapid_buying");
    EXPECT_EQ(m.rules[0].hash.size(), 64u);
    for (size_t i = 0; i < m.files.size(); ++i) EXPECT_EQ(blake2b_hex(b.files[i].data), m.files[i].blake2b);
}

TEST_F(BundleTest, RoundTripAndDeterministicBytesExceptCreatedAt) {
    Bundle a = build();
    std::string bytes = encode_bundle(a);
    auto back = decode_bundle(bytes, "a.etb");
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->manifest, a.manifest);
    EXPECT_EQ(back->manifest_hash, a.manifest_hash);
    EXPECT_EQ(encode_bundle(*back), bytes);
    EXPECT_EQ(encode_bundle(build()), bytes); // same inputs, same time: same bytes
    Bundle later = build("1.0.0", 2, 1700000999);
    EXPECT_NE(later.manifest.created_at, a.manifest.created_at);
    Manifest m = later.manifest;
    m.created_at = a.manifest.created_at;
    EXPECT_EQ(m, a.manifest); // nothing else differs
}

TEST_F(BundleTest, CompilesFromItsOwnBytes) {
    Bundle b = build();
    auto rules = compile_bundle(b, "b.etb");
    ASSERT_TRUE(rules.ok()) << rules.error();
    EXPECT_EQ(rules->ruleset->name, "test.govern");
    EXPECT_EQ(rules->ruleset->content_hash, b.manifest.ruleset_hash);
    EXPECT_EQ(rules->ruleset->rules[0].hash, b.manifest.rules[0].hash);
}

TEST_F(BundleTest, BuildRefusesRulesThatDoNotCompileAndMismatchedVersions) {
    build();
    write("set/rules/main.etho", "ruleset test.govern version 1.0.0;\nrule broken { when nope; }\n");
    BuildOptions o;
    o.rules_dir = path("set/rules");
    std::string diags;
    auto b = build_bundle(o, diags);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.code(), Code::Compile);
    EXPECT_NE(diags.find("error"), std::string::npos);

    build("1.0.0");
    o.version = "2.0.0";
    b = build_bundle(o, diags);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.code(), Code::Usage);
    EXPECT_NE(b.error().find("--version 2.0.0 differs"), std::string::npos) << b.error();
}

TEST_F(BundleTest, CorruptContainersAreRefusedWithClearErrors) {
    std::string good = encode_bundle(build());
    struct Case {
        std::string name, bytes;
        Code code;
        std::string says;
    };
    std::string bad_magic = good;
    bad_magic[3] = 'X';
    std::string future = good;
    future[16] = 2;
    std::string zero = good;
    zero[16] = 0;
    std::string flipped = good;
    flipped[good.size() / 2] ^= 0x01;
    std::vector<Case> cases = {
        {"empty", "", Code::Corrupt, "empty file"},
        {"magic only", good.substr(0, 16), Code::Corrupt, "truncated bundle"},
        {"truncated", good.substr(0, good.size() - 40), Code::Corrupt, "truncated bundle"},
        {"no checksum", good.substr(0, good.size() - 32), Code::Corrupt, ""},
        {"bad magic", bad_magic, Code::Corrupt, "bad magic"},
        {"future version", future, Code::FutureFormat, "newer than this engine reads"},
        {"version 0", zero, Code::Corrupt, "version 0"},
        {"bad checksum", flipped, Code::Corrupt, "checksum mismatch"},
        {"trailing bytes",
         with_fixed_checksum(good.substr(0, good.size() - 32) + "xx" + good.substr(good.size() - 32)),
         Code::Corrupt, "unexpected bytes"},
    };
    for (const auto& c : cases) {
        auto r = decode_bundle(c.bytes, "x.etb");
        ASSERT_FALSE(r.ok()) << c.name;
        EXPECT_EQ(r.code(), c.code) << c.name << ": " << r.error();
        EXPECT_NE(r.error().find("x.etb: "), std::string::npos) << c.name << ": " << r.error();
        EXPECT_NE(r.error().find(c.says), std::string::npos) << c.name << ": " << r.error();
    }
}

TEST_F(BundleTest, EveryTruncationIsRefused) {
    std::string good = encode_bundle(build());
    for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_bundle(good.substr(0, n), "t").ok()) << n;
}

TEST_F(BundleTest, EditedFileWithRecomputedChecksumIsTampered) {
    Bundle b = build();
    std::string bytes = encode_bundle(b);
    size_t at = bytes.find("count(click)");
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'C';
    auto r = decode_bundle(with_fixed_checksum(bytes), "b.etb");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::Tampered);
    EXPECT_NE(r.error().find("file 'rules/main.etho' does not match its manifest hash"), std::string::npos)
        << r.error();
}

TEST_F(BundleTest, HandEditedManifestIsRefused) {
    Bundle b = build();
    b.manifest_bytes.insert(1, " "); // semantically the same JSON, not canonical
    auto r = decode_bundle(encode_bundle(b), "b.etb");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::Corrupt);
    EXPECT_NE(r.error().find("canonical"), std::string::npos) << r.error();
}

TEST_F(BundleTest, UnsafePathsAreRefused) {
    for (const char* p : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "a\\b", "a\nb"})
        EXPECT_FALSE(valid_bundle_path(p)) << p;
    for (const char* p : {"a", "rules/x.etho", "a b/c-d_e.f"}) EXPECT_TRUE(valid_bundle_path(p)) << p;
    Bundle b = build();
    b.manifest.files[0].path = "../escape.etho";
    b.files[0].path = "../escape.etho";
    b.manifest_bytes = encode_manifest(b.manifest);
    auto r = decode_bundle(encode_bundle(b), "b.etb");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("unsafe or invalid file path"), std::string::npos) << r.error();
}

TEST_F(BundleTest, EngineRangeIsChecked) {
    Bundle b = build();
    EXPECT_TRUE(check_engine_range(b.manifest, "b").ok());
    b.manifest.engine_min = "99.0.0";
    b.manifest.engine_below = "100.0.0";
    auto s = check_engine_range(b.manifest, "b");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Code::EngineVersion);
    EXPECT_NE(s.error().find("needs an engine >= 99.0.0"), std::string::npos) << s.error();
}

TEST_F(BundleTest, SemverCompare) {
    EXPECT_LT(compare_semver("0.1.0", "0.2.0"), 0);
    EXPECT_LT(compare_semver("0.9.9", "0.10.0"), 0);
    EXPECT_EQ(compare_semver("1.2.3", "1.2.3"), 0);
    EXPECT_FALSE(valid_semver("1.2"));
    EXPECT_FALSE(valid_semver("01.2.3"));
}

} // namespace
} // namespace ethogram::govern::testing
