// swap_test.cpp: `etho run --watch` on a registry, fed through a pipe while versions are deployed, rolled
// back, tampered with and revoked; `--shadow` diffs. Checks counts, versions, carried and fresh state.
#include "govern/audit.h"
#include "govern/build.h"
#include "govern/deploy.h"
#include "govern/files.h"
#include "govern/registry.h"
#include "govern/verify.h"

#include "tests/govern/govern_fixture.h"
#include "tests/support/cli_harness.h"
#include "tests/support/process.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ethogram::govern {
namespace {

namespace fs = std::filesystem;
using test_support::json_number;
using test_support::json_string;
using test_support::lines_of;
using test_support::slurp;
using testing::make_key;
using testing::trusted;

std::string click(const std::string& user, int second, const std::string& button) {
    char ts[64];
    std::snprintf(ts, sizeof ts, "2026-01-01T00:%02d:%02dZ", second / 60, second % 60);
    return "{\"type\":\"click\",\"user\":\"" + user + "\",\"ts\":\"" + ts + "\",\"button\":\"" + button +
           "\"}\n";
}

// A running `etho run ARGS --events -`: events go in through a pipe; detections, the summary, the swap log
// and stderr to files in `dir`.
class Engine {
public:
    /// `events`: the --events argument ("-": the pipe).
    Engine(const std::string& dir, std::vector<std::string> args, const std::string& events = "-")
        : dir_(dir), child_(command(dir, std::move(args), events),
                            test_support::SpawnOptions{.err_path = dir + "/stderr.txt", .append = false}) {}
    void send(const std::string& text) {
        child_.send(text);
        sent_ += static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
    }
    void hup() { child_.signal(SIGHUP); }
    void term() { child_.signal(SIGTERM); }
    /// Waits (up to 20 s) until `file` in the engine's folder contains `what`.
    bool wait_for(const std::string& file, const std::string& what) {
        for (int i = 0; i < 2000; ++i) {
            if (slurp(dir_ + "/" + file).find(what) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    int finish() { return child_.finish(); }
    uint64_t sent() const { return sent_; }
    std::vector<std::string> detections() const { return lines_of(slurp(dir_ + "/out.jsonl")); }
    std::string summary() const { return slurp(dir_ + "/summary.json"); }
    std::string log() const { return slurp(dir_ + "/stderr.txt"); }

private:
    static std::vector<std::string> command(const std::string& dir, std::vector<std::string> args,
                                            const std::string& events) {
        std::vector<std::string> all = {ETHO_PATH, "run"};
        all.insert(all.end(), args.begin(), args.end());
        all.insert(all.end(), {"--events", events, "--out", dir + "/out.jsonl", "--summary-json",
                               dir + "/summary.json", "--swap-log", dir + "/swaps.jsonl"});
        return all;
    }
    std::string dir_;
    test_support::PipedChild child_;
    uint64_t sent_ = 0;
};

class SwapTest : public test_support::CliFixture {
protected:
    std::string trust_path;
    Registry reg;
    KeyPair alice = make_key("alice", {Role::Author}), bob = make_key("bob", {Role::Approver}),
            dave = make_key("dave", {Role::Deployer}), mallory = make_key("mallory", {Role::Author});
    TrustStore trust;

    void SetUp() override {
        ASSERT_NO_FATAL_FAILURE(make_dir("etho_swap"));
        reg.dir = path("registry");
        fs::create_directories(reg.dir);
        trust.keys = {trusted(alice), trusted(bob), trusted(dave)};
        trust.required_approvals = 1;
        trust_path = path("trust.yaml");
        ASSERT_TRUE(write_file_atomic(trust_path, format_trust(trust)).ok());
    }

    // Version `version` of swap.test: `buy_then_pay` and `buy_no_pay` never change; `help_clicks` counts
    // clicks on `word` (a string literal that differs between versions).
    std::string build_version(const std::string& version, const std::string& word,
                              const std::string& extra = "", const std::string& field = "") {
        const std::string src = "src-" + version;
        write(src + "/schema.etho", "event click {\n    key user: string;\n    time ts: timestamp;\n"
                                    "    button: string;\n" +
                                        field + "}\ntaxonomy { intent { purchase; } }\n");
        write(src + "/rules/main.etho", "ruleset swap.test version " + version + R"(;
import "../schema.etho";
rule buy_then_pay {
    label intent.purchase;
    severity high;
    pattern a: click where a.button == "buy" -> b: click where b.button == "pay" within 1h;
}
rule buy_no_pay {
    label intent.purchase;
    severity medium;
    pattern a: click where a.button == "buy" -> not p: click where p.button == "pay" within 30s;
}
rule help_clicks {
    label intent.purchase;
    severity low;
    over last 10s;
    on click;
    when count(click where button == ")" + word +
                                            R"(") >= 2;
}
)" + extra);
        write(src + "/tests/t.yaml", "name: placeholder\n");
        BuildOptions o;
        o.rules_dir = dir + "/" + src + "/rules";
        o.tests_dir = dir + "/" + src + "/tests";
        o.created_by = "alice";
        o.created_at = 1700000000;
        std::string diags;
        auto b = build_bundle(o, diags);
        EXPECT_TRUE(b.ok()) << b.error() << diags;
        if (!b.ok()) return "";
        const std::string out = path("swap-" + version + ".etb");
        EXPECT_TRUE(write_file_atomic(out, encode_bundle(*b)).ok());
        EXPECT_TRUE(add_signature(out, *b, alice).ok());
        return out;
    }
    // Builds, publishes, approves and releases a version.
    void release_version(const std::string& version, const std::string& word, const std::string& extra = "",
                         const std::string& field = "") {
        std::string p = build_version(version, word, extra, field);
        ASSERT_FALSE(p.empty());
        auto pub = publish(reg, p, trust, alice, "");
        ASSERT_TRUE(pub.ok()) << pub.error();
        const std::string id = "swap.test@" + version;
        ASSERT_TRUE(approve(reg, id, trust, bob, "ok").ok());
        auto pass = [](const std::string&, const Manifest&) { return TestOutcome{true, true, "fake", "ok"}; };
        auto r = release(reg, id, trust, dave, "ready", pass);
        ASSERT_TRUE(r.ok()) << r.error();
    }
    void deploy_version(const std::string& version) {
        auto d = deploy(reg, "swap.test@" + version, trust, dave, "test");
        ASSERT_TRUE(d.ok()) << d.error();
    }
    std::vector<std::string> watch_args(const std::string& engine = "interp") {
        return {"--bundle", "swap.test", "--registry", reg.dir,    "--trusted", trust_path,
                "--watch",  "--poll",    "1h",         "--engine", engine,      "--no-jit-cache"};
    }
    // Part one: the v1 detection of help_clicks is the last thing it produces (the engine has then processed
    // all of it). u1 and u3 start sequences that only part two completes.
    static std::string part_one() {
        return click("u1", 0, "buy") + click("u3", 1, "buy") + click("u4", 2, "support") +
               click("u2", 3, "help") + click("u2", 4, "help");
    }
};

// (rule, key, version) of each detection line.
std::vector<std::string> summary_of(const std::vector<std::string>& dets) {
    std::vector<std::string> out;
    for (const auto& d : dets)
        out.push_back(json_string(d, "rule") + " " + json_string(d, "key") + " " + json_string(d, "version"));
    return out;
}

TEST_F(SwapTest, SwapBetweenEventsCarriesUnchangedRulesAndStartsChangedOnesFresh) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    Engine e(dir, watch_args());
    e.send(part_one());
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    e.hup(); // the next line is processed after the check
    // u1 pays (a sequence carried from v1); u4 clicks support twice (a changed rule: fresh state, so the
    // support click of part one does not count); u5's late click moves time past u3's 30 s absence, a
    // timer carried from v1; u2's help clicks no longer count.
    e.send(click("u1", 5, "pay") + click("u4", 6, "support") + click("u2", 6, "help") +
           click("u4", 7, "support") + click("u5", 40, "help"));
    ASSERT_EQ(e.finish(), 0) << e.log();

    EXPECT_EQ(summary_of(e.detections()),
              (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 2.0.0",
                                        "help_clicks u4 2.0.0", "buy_no_pay u3 2.0.0"}))
        << e.log();
    // Detections carry the bundle and rule hash of the version that produced them.
    auto dets = e.detections();
    ASSERT_EQ(dets.size(), 4u);
    EXPECT_NE(json_string(dets[0], "bundle"), json_string(dets[1], "bundle"));
    EXPECT_NE(json_string(dets[0], "rule_hash"), json_string(dets[2], "rule_hash")); // help_clicks changed
    const std::string sum = e.summary();
    EXPECT_EQ(json_number(sum, "events_in"), e.sent());
    EXPECT_EQ(json_number(sum, "events_processed"), e.sent());
    EXPECT_EQ(json_number(sum, "dead_letters_total"), 0u);
    auto swaps = lines_of(slurp(dir + "/swaps.jsonl"));
    ASSERT_EQ(swaps.size(), 1u) << e.log();
    std::printf("swap record: %s\n", swaps[0].c_str()); // the measured figures, for the log
    EXPECT_EQ(json_string(swaps[0], "from"), "swap.test@1.0.0");
    EXPECT_EQ(json_string(swaps[0], "to"), "swap.test@2.0.0");
    EXPECT_EQ(json_number(swaps[0], "after_events"), 5u);
    EXPECT_NE(swaps[0].find("\"carried_rules\":[\"buy_then_pay\",\"buy_no_pay\"]"), std::string::npos)
        << swaps[0];
    EXPECT_NE(swaps[0].find("\"fresh_rules\":[\"help_clicks\"]"), std::string::npos) << swaps[0];
    EXPECT_GE(json_number(swaps[0], "timers"), 1u);
}

TEST_F(SwapTest, RollbackSwapsBackAndTheJitEngineSwapsToo) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    Engine e(dir, watch_args("jit"));
    e.send(part_one());
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    e.hup();
    e.send(click("u6", 10, "support") + click("u6", 11, "support"));
    ASSERT_TRUE(e.wait_for("out.jsonl", "\"u6\"")) << e.log();
    auto rb = rollback(reg, "swap.test", trust, dave, "back");
    ASSERT_TRUE(rb.ok()) << rb.error();
    e.hup();
    e.send(click("u7", 12, "help") + click("u7", 13, "help") + click("u1", 14, "pay"));
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "help_clicks u6 2.0.0", "help_clicks u7 1.0.0",
                                  "buy_then_pay u1 1.0.0", "buy_no_pay u3 1.0.0"}))
        << e.log();
    auto swaps = lines_of(slurp(dir + "/swaps.jsonl"));
    ASSERT_EQ(swaps.size(), 2u) << e.log();
    for (const auto& sw : swaps) std::printf("swap record (jit): %s\n", sw.c_str());
    EXPECT_EQ(json_string(swaps[1], "to"), "swap.test@1.0.0");
    EXPECT_EQ(json_number(e.summary(), "events_processed"), e.sent());
}

TEST_F(SwapTest, TamperedOrUncompilableVersionsNeverReplaceTheRunningOne) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    Engine e(dir, watch_args());
    e.send(part_one());
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    // v2 is deployed, then a byte of its published bundle flips: the engine must refuse it.
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    const std::string b2 = reg.bundle_path("swap.test", "2.0.0");
    ::chmod(b2.c_str(), 0644);
    std::string bytes = slurp(b2);
    bytes[bytes.size() / 2] ^= 1;
    ASSERT_TRUE(write_file_atomic(b2, bytes).ok());
    e.hup();
    e.send(click("u1", 5, "pay") + click("u8", 6, "help") + click("u8", 7, "help"));
    ASSERT_TRUE(e.wait_for("stderr.txt", "refused")) << e.log();
    // Repaired, but with its signature file emptied (stripped): refused the same way at the next check.
    bytes[bytes.size() / 2] ^= 1;
    ASSERT_TRUE(write_file_atomic(b2, bytes).ok());
    ASSERT_TRUE(write_file_atomic(b2 + ".sig", "").ok());
    e.hup();
    e.send(click("u9", 8, "help") + click("u9", 9, "help"));
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 1.0.0", "help_clicks u8 1.0.0",
                                  "help_clicks u9 1.0.0", "buy_no_pay u3 1.0.0"}))
        << e.log();
    EXPECT_NE(e.log().find("summary: 0 swap(s), 2 version(s) refused"), std::string::npos) << e.log();
    EXPECT_NE(e.log().find("error[corrupt]"), std::string::npos) << e.log();
    EXPECT_NE(e.log().find("error[stripped]"), std::string::npos) << e.log();
    EXPECT_EQ(json_number(e.summary(), "events_processed"), e.sent());
}

TEST_F(SwapTest, TimedChecksSwapWhileTheInputIsIdle) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    auto args = watch_args();
    args[8] = "50ms"; // --poll
    Engine e(dir, args);
    e.send(part_one());
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    ASSERT_TRUE(e.wait_for("stderr.txt", "swap: swap.test@1.0.0 -> swap.test@2.0.0")) << e.log();
    e.send(click("u1", 5, "pay"));
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 2.0.0", "buy_no_pay u3 2.0.0"}))
        << e.log();
    auto swaps = lines_of(slurp(dir + "/swaps.jsonl"));
    ASSERT_EQ(swaps.size(), 1u);
    EXPECT_GE(json_number(swaps[0], "latency_ms"), 0u);
}

TEST_F(SwapTest, ShadowDetectionsAreWrittenApartAndDiffed) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    const std::string candidate = build_version("2.0.0", "support");
    std::vector<std::string> args = {"--bundle",  "swap.test", "--registry",   reg.dir,
                                     "--trusted", trust_path,  "--engine",     "interp",
                                     "--shadow",  candidate,   "--shadow-out", dir + "/shadow.jsonl"};
    Engine e(dir, args);
    e.send(part_one() + click("u4", 6, "support") + click("u1", 7, "pay"));
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 1.0.0", "buy_no_pay u3 1.0.0"}));
    EXPECT_EQ(
        summary_of(lines_of(slurp(dir + "/shadow.jsonl"))),
        (std::vector<std::string>{"help_clicks u4 2.0.0", "buy_then_pay u1 2.0.0", "buy_no_pay u3 2.0.0"}));
    const std::string log = e.log();
    EXPECT_NE(log.find("shadow: rule buy_then_pay: 1 in both, 0 only live, 0 only shadow"), std::string::npos)
        << log;
    EXPECT_NE(log.find("shadow: rule help_clicks: 0 in both, 1 only live, 1 only shadow"), std::string::npos)
        << log;
    EXPECT_NE(log.find("shadow: rule buy_no_pay: 1 in both"), std::string::npos) << log;
}

TEST_F(SwapTest, WatchNeedsADeployedRuleSet) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    Engine e(dir, {"--bundle", dir + "/swap-1.0.0.etb", "--trusted", trust_path, "--watch"});
    EXPECT_EQ(e.finish(), 2);
    EXPECT_NE(e.log().find("--watch needs --bundle NAME --registry REG"), std::string::npos) << e.log();
}

TEST_F(SwapTest, BufferedEventsAreDecodedAgainAgainstTheNewSchemas) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "help", "", "    extra: int;\n"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    auto args = watch_args();
    args.insert(args.end(), {"--lateness", "10s", "--dead-letter", dir + "/dead.jsonl"});
    Engine e(dir, args);
    // The click at 20s releases the first five (the watermark is 10s); 15s, 18s and 20s stay buffered.
    e.send(part_one() + click("u9", 20, "other") + click("u9", 15, "other") + click("u9", 18, "other"));
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    e.hup();
    // v2 requires `extra`: the three buffered events, decoded again, are dead letters; new lines carry it.
    std::string more = click("u2", 21, "help") + click("u2", 22, "help");
    for (size_t at = more.find("}\n"); at != std::string::npos; at = more.find("}\n", at + 12))
        more.insert(at, ",\"extra\":1");
    e.send(more);
    ASSERT_EQ(e.finish(), 0) << e.log();
    const std::string sum = e.summary();
    EXPECT_EQ(json_number(sum, "events_in"), e.sent());
    EXPECT_EQ(json_number(sum, "dead_letters_total"), 3u) << sum;
    EXPECT_EQ(json_number(sum, "missing_field"), 3u) << sum;
    EXPECT_EQ(json_number(sum, "events_processed") + 3u, e.sent());
    auto swaps = lines_of(slurp(dir + "/swaps.jsonl"));
    ASSERT_EQ(swaps.size(), 1u);
    EXPECT_NE(swaps[0].find("\"carried_rules\":[]"), std::string::npos) << swaps[0]; // schemas differ
    EXPECT_EQ(summary_of(e.detections()),
              (std::vector<std::string>{"help_clicks u2 1.0.0", "help_clicks u2 2.0.0"}))
        << e.log();
}

TEST_F(SwapTest, FollowedFileIsReadAsItGrowsThroughTruncationAndRotationUntilSigterm) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    const std::string events = write("events.jsonl", part_one());
    auto args = watch_args();
    args[8] = "50ms"; // --poll: deployment checks, and how often the file is looked at
    args.push_back("--follow");
    Engine e(dir, args, events);
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    // Appended lines are read (not the end of the input: the engine keeps running); a swap still happens.
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    ASSERT_TRUE(e.wait_for("stderr.txt", "swap: swap.test@1.0.0 -> swap.test@2.0.0")) << e.log();
    std::ofstream(events, std::ios::app)
        << click("u1", 5, "pay") << click("u4", 6, "support") << click("u4", 7, "support");
    ASSERT_TRUE(e.wait_for("out.jsonl", "\"buy_then_pay\"")) << e.log();
    ASSERT_TRUE(e.wait_for("out.jsonl", "\"u4\"")) << e.log();
    // Truncated (cut shorter than what was read): read again from its start, with a warning.
    test_support::spit(events, click("u7", 8, "support") + click("u7", 9, "support"));
    ASSERT_TRUE(e.wait_for("stderr.txt", "was truncated")) << e.log();
    ASSERT_TRUE(e.wait_for("out.jsonl", "\"u7\"")) << e.log();
    // Rotated: the old file renamed, a new one at the path; its lines are read from its start.
    fs::rename(events, events + ".1");
    test_support::spit(events, click("u8", 10, "support") + click("u8", 11, "support"));
    ASSERT_TRUE(e.wait_for("stderr.txt", "was replaced (rotated)")) << e.log();
    ASSERT_TRUE(e.wait_for("out.jsonl", "\"u8\"")) << e.log();
    // SIGTERM ends the run like the end of the input: absences fire, the summary counts every line.
    e.term();
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_NE(e.log().find("following ends (SIGTERM)"), std::string::npos) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 2.0.0", "help_clicks u4 2.0.0",
                                  "help_clicks u7 2.0.0", "help_clicks u8 2.0.0", "buy_no_pay u3 2.0.0"}))
        << e.log();
    const std::string sum = e.summary();
    EXPECT_EQ(json_number(sum, "events_in"), 12u) << sum;
    EXPECT_EQ(json_number(sum, "events_processed"), 12u) << sum;
    EXPECT_NE(e.log().find("summary: 1 swap(s)"), std::string::npos) << e.log();
}

TEST_F(SwapTest, FollowNeedsAFile) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    auto args = watch_args();
    args.push_back("--follow");
    Engine e(dir, args);
    EXPECT_EQ(e.finish(), 2);
    EXPECT_NE(e.log().find("--follow needs --events FILE"), std::string::npos) << e.log();
}

// ---------------------------------------------------------------- key revocation

TrustedKey* key_of(TrustStore& t, const std::string& name) {
    for (auto& k : t.keys)
        if (k.name == name) return &k;
    return nullptr;
}

TEST_F(SwapTest, RevokedKeysSignNothingFromThenOn) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    ASSERT_TRUE(deployed_bundle(reg, "swap.test", trust).ok());

    // The only author signature is by a revoked key: refused, whenever it was made.
    TrustStore t = trust;
    key_of(t, "alice")->revoked = "2000-01-01T00:00:00Z";
    key_of(t, "alice")->revoked_reason = "key leaked";
    auto vb = deployed_bundle(reg, "swap.test", t);
    ASSERT_FALSE(vb.ok());
    EXPECT_EQ(vb.err().code, Code::Revoked) << vb.error();
    EXPECT_NE(vb.error().find("'alice' was revoked at 2000-01-01T00:00:00Z (key leaked)"), std::string::npos)
        << vb.error();
    // A co-signature by a valid author still carries the bundle; the revoked one counts for nothing.
    t.keys.push_back(TrustedKey{mallory.name, mallory.pk, mallory.roles, {}, {}});
    const std::string b = reg.bundle_path("swap.test", "1.0.0");
    std::string copy = dir + "/cosigned.etb";
    fs::copy_file(b, copy);
    fs::copy_file(b + ".sig", copy + ".sig");
    ::chmod((copy + ".sig").c_str(), 0644);
    auto decoded = decode_bundle(slurp(copy), copy);
    ASSERT_TRUE(decoded.ok());
    ASSERT_TRUE(add_signature(copy, *decoded, mallory).ok());
    auto v = verify_bundle_file(copy, t);
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(v->signers, std::vector<std::string>{"mallory"});

    // A revoked approver cannot approve, a revoked deployer cannot deploy or roll back.
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    TrustStore u = trust;
    key_of(u, "dave")->revoked = "2000-01-01T00:00:00Z";
    auto d = deploy(reg, "swap.test@2.0.0", u, dave, "late");
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.err().code, Code::Revoked) << d.error();
    key_of(u, "bob")->revoked = "2000-01-01T00:00:00Z";
    auto a = approve(reg, "swap.test@2.0.0", u, bob, "again");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.err().code, Code::Revoked) << a.error();

    // What a key signed before its revocation stands: the history and the releases stay readable, and the
    // audit log verifies; revoked before those entries, they fail.
    TrustStore later = trust;
    key_of(later, "dave")->revoked = "2999-01-01T00:00:00Z";
    EXPECT_TRUE(deployed_bundle(reg, "swap.test", later).ok());
    EXPECT_TRUE(audit_verify(reg.audit_log(), later).ok());
    auto broken = audit_verify(reg.audit_log(), u);
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.error().find("signed after 'bob' was revoked"), std::string::npos) << broken.error();
    auto history = deployed_bundle(reg, "swap.test", u);
    ASSERT_FALSE(history.ok());
    EXPECT_EQ(history.err().code, Code::Revoked) << history.error();
}

TEST_F(SwapTest, EthoRevokeAndAWatchingEngineRefusesWhatTheRevokedKeySigned) {
    ASSERT_NO_FATAL_FAILURE(release_version("1.0.0", "help"));
    ASSERT_NO_FATAL_FAILURE(release_version("2.0.0", "support"));
    ASSERT_NO_FATAL_FAILURE(deploy_version("1.0.0"));
    Engine e(dir, watch_args());
    e.send(part_one());
    ASSERT_TRUE(e.wait_for("out.jsonl", "help_clicks")) << e.log();
    const std::string cmd = std::string(ETHO_PATH) + " revoke alice --trusted " + trust_path +
                            " --reason 'laptop lost' > " + dir + "/revoke.txt 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir + "/revoke.txt");
    auto t = load_trust(trust_path);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_TRUE(key_of(*t, "alice")->is_revoked());
    EXPECT_EQ(key_of(*t, "alice")->revoked_reason, "laptop lost");
    EXPECT_NE(std::system(cmd.c_str()), 0); // revoked once
    // The registry (its own, older trust) deploys v2, signed only by alice: the engine refuses it.
    ASSERT_NO_FATAL_FAILURE(deploy_version("2.0.0"));
    e.hup();
    e.send(click("u1", 5, "pay"));
    ASSERT_EQ(e.finish(), 0) << e.log();
    EXPECT_EQ(
        summary_of(e.detections()),
        (std::vector<std::string>{"help_clicks u2 1.0.0", "buy_then_pay u1 1.0.0", "buy_no_pay u3 1.0.0"}));
    EXPECT_NE(e.log().find("error[revoked]"), std::string::npos) << e.log();
    EXPECT_NE(e.log().find("summary: 0 swap(s), 1 version(s) refused"), std::string::npos) << e.log();
}

} // namespace
} // namespace ethogram::govern
