// bundle_test.cpp: Engine::from_bundle (and the C API's ethogram_engine_from_bundle): a signed bundle, or
// the version deployed in a registry, runs as `etho run --bundle` runs it; refused bundles say why. Keys,
// bundles and the registry are made with the build's `etho`, as an operator would.
#include <ethogram/engine.h>
#include <ethogram/ethogram.h>

#include "tests/support/cli_harness.h"
#include "tests/support/embed_fixtures.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ethogram::test_support::detection_id;
using ethogram::test_support::engines;
using ethogram::test_support::has;
using ethogram::test_support::json_string;
using ethogram::test_support::lines_of;
using ethogram::test_support::slurp;
using Result = ethogram::test_support::CliResult;

class EmbedBundle : public ethogram::test_support::CliFixture {
protected:
    void SetUp() override {
        make_dir("etho_embed_bundle");
        fs::copy(std::string(ETHOGRAM_SOURCE_DIR) + "/examples/fraud", path("fraud"),
                 fs::copy_options::recursive);
        for (auto [name, role] : {std::pair{"alice", "author"}, {"bob", "approver"}, {"dave", "deployer"}})
            ASSERT_EQ(etho(std::string("keygen --name ") + name + " --role " + role + " --out " +
                           path("keys") + " --trust " + path("trust.yaml"))
                          .code,
                      0);
        // The whole bundle, as the change-control loop builds it: rules, tests, config and the events the
        // tests replay.
        Result r = etho("build " + path("fraud/rules") + " --tests " + path("fraud/tests") + " --config " +
                        path("fraud/config.yaml") + " --include " + path("fraud/events.jsonl") + " --out " +
                        path("f.etb") + " --key " + key("alice"));
        ASSERT_EQ(r.code, 0) << r.err;
        r = etho("sign " + path("f.etb") + " --key " + key("alice") + " --trusted " + path("trust.yaml"));
        ASSERT_EQ(r.code, 0) << r.err;
    }
    std::string key(const std::string& name) const { return path("keys/" + name + ".key"); }

    /// The example's configuration (fraud/config.yaml: 30 s of lateness, the defaults otherwise).
    static ethogram::EngineOptions options(const std::string& engine) {
        ethogram::EngineOptions o;
        o.allowed_lateness_us = 30 * 1000000LL;
        o.engine = engine;
        o.jit_cache = false;
        return o;
    }

    /// Every line of the example's events pushed (refused ones too, as etho run dead-letters them), then
    /// flushed: the detections' JSON lines in the order they came.
    std::vector<std::string> run(ethogram::Engine& e) const {
        std::vector<std::string> out;
        e.on_detection([&](const ethogram::Detection& d) {
            if (!d.suppressed) out.push_back(d.json);
        });
        std::ifstream in(path("fraud/events.jsonl"));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) e.push_json(line);
        e.flush();
        return out;
    }

    /// `etho run --bundle ARGS` on the example's events, one thread: its detection lines in order.
    std::vector<std::string> etho_run(const std::string& args) const {
        Result r = etho("run --bundle " + args + " --trusted " + path("trust.yaml") + " --events " +
                        path("fraud/events.jsonl") + " --config " + path("fraud/config.yaml") +
                        " --threads 1 --dead-letter " + path("dead.jsonl") + " --no-jit-cache");
        EXPECT_EQ(r.code, 0) << r.err;
        return lines_of(r.out);
    }
};

TEST_F(EmbedBundle, BundleFileRunsAsEthoRunDoes) {
    const std::vector<std::string> expected = etho_run(path("f.etb"));
    ASSERT_FALSE(expected.empty());
    for (const std::string& engine : engines()) {
        SCOPED_TRACE(engine);
        std::string error;
        auto e =
            ethogram::Engine::from_bundle({path("f.etb"), path("trust.yaml"), ""}, options(engine), &error);
        ASSERT_NE(e, nullptr) << error;
        EXPECT_EQ(e->engine_name(), engine) << e->engine_warning();
        EXPECT_EQ(e->ruleset_name(), "payments.fraud");
        EXPECT_EQ(e->bundle_hash().size(), 64u) << e->bundle_hash();
        const std::vector<std::string> got = run(*e);
        // Byte for byte, provenance included: each detection names the bundle and its rule's hash.
        EXPECT_EQ(got, expected);
        for (const std::string& d : got) {
            EXPECT_EQ(json_string(d, "bundle"), e->bundle_hash()) << d;
            EXPECT_EQ(json_string(d, "rule_hash").size(), 64u) << d;
        }
    }
    // The same rules from their files: the same detections without the provenance fields.
    std::string error;
    auto plain = ethogram::Engine::from_files({path("fraud/rules")}, options("interp"), &error);
    ASSERT_NE(plain, nullptr) << error;
    EXPECT_TRUE(plain->bundle_hash().empty());
    const std::vector<std::string> unsigned_lines = run(*plain);
    ASSERT_EQ(unsigned_lines.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_FALSE(has(unsigned_lines[i], "\"bundle\"")) << unsigned_lines[i];
        EXPECT_EQ(detection_id(unsigned_lines[i]), detection_id(expected[i]));
    }
}

TEST_F(EmbedBundle, RefusedBundlesSayWhy) {
    const ethogram::EngineOptions o = options("interp");
    auto refused = [&](const ethogram::BundleSource& src) {
        std::string error;
        auto e = ethogram::Engine::from_bundle(src, o, &error);
        EXPECT_EQ(e, nullptr);
        return error;
    };
    std::string err = refused({path("f.etb"), "", ""});
    EXPECT_TRUE(has(err, "error[usage]") && has(err, "trust file")) << err;
    err = refused({"", path("trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[usage]")) << err;
    err = refused({path("f.etb"), path("no-such-trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[io]") && has(err, "no-such-trust.yaml")) << err;
    err = refused({path("nothing.etb"), path("trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[io]") && has(err, "nothing.etb")) << err;

    // A flipped byte: the container's checksum.
    std::string bytes = slurp(path("f.etb"));
    bytes[bytes.size() / 2] ^= 1;
    write("t.etb", bytes);
    fs::copy_file(path("f.etb.sig"), path("t.etb.sig"));
    err = refused({path("t.etb"), path("trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[corrupt]")) << err;

    // Signed only by a key the trust file does not hold.
    ASSERT_EQ(etho("keygen --name mallory --role author --out " + path("other")).code, 0);
    fs::copy_file(path("f.etb"), path("m.etb"));
    ASSERT_EQ(etho("sign " + path("m.etb") + " --key " + path("other/mallory.key")).code, 0);
    err = refused({path("m.etb"), path("trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[untrusted_key]") && has(err, "mallory")) << err;

    // No signature at all.
    fs::remove(path("f.etb.sig"));
    err = refused({path("f.etb"), path("trust.yaml"), ""});
    EXPECT_TRUE(has(err, "error[unsigned]")) << err;

    // An unknown executor is refused before the bundle is read.
    ethogram::EngineOptions bad = o;
    bad.engine = "fast";
    std::string error;
    EXPECT_EQ(ethogram::Engine::from_bundle({path("f.etb"), path("trust.yaml"), ""}, bad, &error), nullptr);
    EXPECT_TRUE(has(error, "unknown engine 'fast'")) << error;

    // The C API: the same refusal, as a string to free.
    char* cerr = nullptr;
    EXPECT_EQ(
        ethogram_engine_from_bundle(path("f.etb").c_str(), path("trust.yaml").c_str(), nullptr, 0, &cerr),
        nullptr);
    ASSERT_NE(cerr, nullptr);
    EXPECT_TRUE(has(cerr, "error[unsigned]")) << cerr;
    ethogram_free(cerr);
}

TEST_F(EmbedBundle, DeployedVersionFromARegistry) {
    const std::string reg = " --registry " + path("reg") + " --trusted " + path("trust.yaml");
    const ethogram::BundleSource deployed{"payments.fraud", path("trust.yaml"), path("reg")};
    ASSERT_EQ(etho("publish " + path("f.etb") + reg + " --key " + key("alice")).code, 0);
    std::string error;
    // Published is not deployed.
    EXPECT_EQ(ethogram::Engine::from_bundle(deployed, options("interp"), &error), nullptr);
    EXPECT_TRUE(has(error, "no version of it is deployed")) << error;
    ASSERT_EQ(etho("approve payments.fraud@2.1.0" + reg + " --key " + key("bob") + " --reason ok").code, 0);
    Result r = etho("release payments.fraud@2.1.0" + reg + " --key " + key("dave") + " --reason ship");
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    r = etho("deploy payments.fraud@2.1.0" + reg + " --key " + key("dave") + " --reason 'go live'");
    ASSERT_EQ(r.code, 0) << r.err;

    const std::vector<std::string> expected = etho_run("payments.fraud --registry " + path("reg"));
    ASSERT_FALSE(expected.empty());
    auto e = ethogram::Engine::from_bundle(deployed, options("interp"), &error);
    ASSERT_NE(e, nullptr) << error;
    EXPECT_EQ(e->ruleset_version(), "2.1.0");
    EXPECT_EQ(run(*e), expected);

    // The C API names the same bundle.
    char* cerr = nullptr;
    ethogram_engine* c = ethogram_engine_from_bundle("payments.fraud", path("trust.yaml").c_str(),
                                                     path("reg").c_str(), 30 * 1000000LL, &cerr);
    ASSERT_NE(c, nullptr) << (cerr ? cerr : "");
    char* hash = ethogram_engine_bundle_hash(c);
    ASSERT_NE(hash, nullptr);
    EXPECT_EQ(std::string(hash), e->bundle_hash());
    ethogram_free(hash);
    ethogram_engine_free(c);
}

} // namespace
