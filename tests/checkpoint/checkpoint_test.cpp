// checkpoint_test.cpp: crash recovery of `etho run --checkpoint-dir`: the engine is killed with SIGKILL at
// many points (deterministic hooks and random delays), restarted with the same arguments until it
// completes, and its outputs must equal an uninterrupted run's byte for byte. Also: damaged snapshots fall
// back to the previous one, a rule-set change is refused unless the operator drops the state.
#include "tests/support/cli_harness.h"
#include "tests/support/process.h"
#include "tests/support/text_lines.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

using ethogram::test_support::slurp;
using ethogram::test_support::spit;
using ethogram::test_support::wait_child;

// Starts a run with its stdout and stderr appended to `err`, the test hooks cleared, then `env` set.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& err) {
    ethogram::test_support::SpawnOptions o{.out_path = err, .err_path = err};
    o.env = env;
    o.unset = {"ETHOGRAM_TEST_KILL_AT_LINE", "ETHOGRAM_TEST_CKPT_KILL"};
    return ethogram::test_support::spawn(args, o);
}

class Checkpoint : public ethogram::test_support::CliFixture {
protected:
    std::string example; ///< examples/<name>
    std::string events;
    std::vector<std::string> extra; ///< more flags for every run (e.g. --threads 2)
    bool pin_threads = true;        ///< add --threads 1 when `extra` has none (the default is all cores)

    void SetUp() override { make_dir("etho_ckpt"); }

    void use_example(const std::string& name, const std::string& events_file = "events.jsonl") {
        example = std::string(ETHOGRAM_SOURCE_DIR) + "/examples/" + name;
        events = example + "/" + events_file;
    }

    /// etho run over the example into prefix.{out,dead,supp}; with a checkpoint dir when ckpt is non-empty.
    std::vector<std::string> args(const std::string& prefix, const std::string& ckpt,
                                  const std::string& engine, const std::string& rules = "",
                                  const std::string& every = "997") const {
        std::vector<std::string> a = {ETHO_PATH,
                                      "run",
                                      rules.empty() ? example + "/rules" : rules,
                                      "--events",
                                      events,
                                      "--out",
                                      path(prefix + ".out"),
                                      "--dead-letter",
                                      path(prefix + ".dead"),
                                      "--suppressed",
                                      path(prefix + ".supp"),
                                      "--config",
                                      example + "/config.yaml",
                                      "--engine",
                                      engine,
                                      "--jit-cache",
                                      path("jitcache"),
                                      "--summary-json",
                                      path(prefix + ".summary.json")};
        if (!ckpt.empty()) {
            a.insert(a.end(), {"--checkpoint-dir", path(ckpt), "--checkpoint-every", every});
        }
        a.insert(a.end(), extra.begin(), extra.end());
        // Byte-for-byte comparisons need the single-threaded order; the default is all cores.
        if (pin_threads && std::find(extra.begin(), extra.end(), "--threads") == extra.end())
            a.insert(a.end(), {"--threads", "1"});
        return a;
    }

    /// The snapshot files in checkpoint directory `ckpt` (under the test's directory).
    std::set<std::string> snapshots(const std::string& ckpt) const {
        std::set<std::string> names;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(path(ckpt), ec)) {
            const std::string name = entry.path().filename().string();
            if (name.size() > 5 && name.substr(name.size() - 5) == ".snap") names.insert(name);
        }
        return names;
    }

    /// Waits until child `pid` wrote a snapshot not in `before`, or exited (not reaped), or a generous
    /// time passed (a few uninterrupted runs' worth).
    void wait_for_new_snapshot(pid_t pid, const std::string& ckpt, const std::set<std::string>& before,
                               long long full_ms) const {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3 * full_ms + 5000);
        while (std::chrono::steady_clock::now() < until) {
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                info.si_pid == pid)
                return;
            for (const std::string& name : snapshots(ckpt))
                if (!before.count(name)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    int run(const std::vector<std::string>& a, const std::vector<std::string>& env = {}) {
        return wait_child(spawn(a, env, path("stderr.log")));
    }

    /// Byte for byte; or, with `multiset`, the detections (.out, .supp) as multisets of lines.
    void expect_same_outputs(const std::string& want, const std::string& got, bool multiset = false) {
        for (const char* ext : {".out", ".dead", ".supp"}) {
            std::string w = slurp(path(want + ext)), g = slurp(path(got + ext));
            if (multiset && std::string(ext) != ".dead") {
                w = sorted_lines(w);
                g = sorted_lines(g);
            }
            EXPECT_FALSE(w.empty() && std::string(ext) == ".out") << "reference run wrote no detections";
            EXPECT_TRUE(w == g) << ext << ": the resumed run's output differs (" << w.size() << " vs "
                                << g.size() << " bytes)\n"
                                << slurp(path("stderr.log")).substr(0, 4000);
        }
        // The summaries count the same (the whole run's, not the last process's): every count up to the
        // executor's approximate state bytes (containers restored from a snapshot have other capacities);
        // then the times and the resume fields differ.
        const std::string w = slurp(path(want + ".summary.json")), g = slurp(path(got + ".summary.json"));
        const auto counts = [](const std::string& s) { return s.substr(0, s.find(",\"state_bytes\":")); };
        ASSERT_NE(w.find(",\"state_bytes\":"), std::string::npos) << w;
        EXPECT_EQ(counts(w), counts(g));
        EXPECT_EQ(ethogram::test_support::json_number(w, "budget_drops"),
                  ethogram::test_support::json_number(g, "budget_drops"));
        EXPECT_EQ(ethogram::test_support::json_number(w, "resumes"), 0u) << w;
    }

    /// After a run that resumed: the summary says so (the resume count and snapshot the last process logged)
    /// and its wall time includes what the snapshot carried from the processes before.
    void expect_resumed_summary(const std::string& tag, const std::string& log) {
        const std::string sum = slurp(path(tag + ".summary.json"));
        const size_t last = log.rfind("resumed from ");
        ASSERT_NE(last, std::string::npos) << log;
        const std::string line = log.substr(last, log.find('\n', last) - last);
        const std::string snap = line.substr(13, line.find(' ', 13) - 13);
        const uint64_t resumes = std::stoull(line.substr(line.find("; resume ") + 9));
        const double before = std::stod(line.substr(line.find(" of the run, ") + 13));
        EXPECT_GE(resumes, 1u) << line;
        EXPECT_EQ(ethogram::test_support::json_number(sum, "resumes"), resumes) << sum;
        EXPECT_EQ(ethogram::test_support::json_string(sum, "resumed_from"), snap) << sum;
        const double wall = std::stod(sum.substr(sum.find("\"wall_seconds\":") + 15));
        EXPECT_GT(before, 0.0) << line;
        EXPECT_GE(wall, before) << sum << "\n" << line;
        EXPECT_NE(log.find("summary: resumed " + std::to_string(resumes) +
                           " time(s) from checkpoints, last from " + snap),
                  std::string::npos)
            << log;
    }

    static std::string sorted_lines(const std::string& text) {
        std::string out;
        for (const std::string& l : ethogram::test_support::sorted_lines(text)) out += l + "\n";
        return out;
    }

    /// Kills the run at each of `kills` (input line numbers, increasing) in turn, then lets it complete.
    void kill_chain(const std::string& engine, const std::vector<int>& kills, const std::string& tag,
                    bool multiset = false) {
        ASSERT_EQ(run(args("ref", "", engine)), 0) << slurp(path("stderr.log"));
        int killed = 0;
        for (int k : kills) {
            int rc = run(args(tag, tag + ".ck", engine), {"ETHOGRAM_TEST_KILL_AT_LINE=" + std::to_string(k)});
            if (rc == -SIGKILL)
                ++killed;
            else
                ASSERT_EQ(rc, 0) << slurp(path("stderr.log"));
        }
        EXPECT_GE(killed, static_cast<int>(kills.size()) / 2) << "the kill points were not reached";
        ASSERT_EQ(run(args(tag, tag + ".ck", engine)), 0) << slurp(path("stderr.log"));
        const std::string err = slurp(path("stderr.log"));
        EXPECT_NE(err.find("resumed from " + path(tag + ".ck") + "/ckpt-"), std::string::npos) << err;
        expect_resumed_summary(tag, err);
        if (engine == "jit") {
            EXPECT_EQ(err.find("using the interpreter"), std::string::npos) << err;
        }
        expect_same_outputs("ref", tag, multiset);
    }
};

TEST_F(Checkpoint, KilledAtManyLinesEqualsUninterruptedInterp) {
    use_example("ecommerce");
    std::vector<int> kills;
    for (int k = 13; k < 5000; k += kSanitized ? 1211 : 719) kills.push_back(k);
    kill_chain("interp", kills, "a");
}

TEST_F(Checkpoint, KilledAtManyLinesEqualsUninterruptedJitWithModels) {
    use_example("bots", "test_events.jsonl");
    std::vector<int> kills;
    for (int k = 50; k < 4200; k += kSanitized ? 1297 : 611) kills.push_back(k);
    kill_chain("jit", kills, "b");
}

// --threads 2: snapshots at chunk boundaries with every shard paused; --ordered output is byte for byte
// the uninterrupted run's, unordered output the same multiset (dead letters byte for byte in both).
TEST_F(Checkpoint, ShardedKilledAtManyLinesEqualsUninterruptedOrdered) {
    use_example("ecommerce");
    extra = {"--threads", "2", "--ordered"};
    std::vector<int> kills;
    for (int k = 13; k < 5000; k += kSanitized ? 1211 : 719) kills.push_back(k);
    kill_chain("interp", kills, "s");
}

TEST_F(Checkpoint, ShardedKilledAtManyLinesEqualsUninterruptedUnordered) {
    for (const char* ex : {"fraud", "support"}) {
        use_example(ex);
        extra = {"--threads", "2"};
        kill_chain("interp", {301, 1999, 3001}, std::string("u_") + ex, true);
    }
}

TEST_F(Checkpoint, ShardedKilledWhileWritingTheSnapshot) {
    use_example("ecommerce");
    extra = {"--threads", "2", "--ordered"};
    ASSERT_EQ(run(args("ref", "", "interp")), 0);
    int gen = 3;
    for (const char* phase : {"partial", "before-rename", "after-rename"}) {
        std::string spec = "ETHOGRAM_TEST_CKPT_KILL=" + std::to_string(gen) + ":" + phase;
        EXPECT_EQ(run(args("d", "d.ck", "interp", "", "397"), {spec}), -SIGKILL) << phase;
        gen += 3;
    }
    ASSERT_EQ(run(args("d", "d.ck", "interp", "", "397")), 0) << slurp(path("stderr.log"));
    expect_same_outputs("ref", "d");
}

TEST_F(Checkpoint, ShardedSnapshotNeedsTheSameThreadCount) {
    use_example("ecommerce");
    extra = {"--threads", "2"};
    ASSERT_EQ(run(args("t", "t.ck", "interp"), {"ETHOGRAM_TEST_KILL_AT_LINE=2500"}), -SIGKILL);
    for (const char* threads : {"1", "3"}) {
        extra = {"--threads", threads};
        fs::remove(path("stderr.log"));
        EXPECT_EQ(run(args("t", "t.ck", "interp")), 2) << threads;
        const std::string err = slurp(path("stderr.log"));
        EXPECT_NE(err.find("it was taken with --threads 2 (this run has --threads " + std::string(threads)),
                  std::string::npos)
            << err;
    }
    extra = {"--threads", "2", "--ordered"};
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(args("t", "t.ck", "interp")), 2);
    EXPECT_NE(slurp(path("stderr.log")).find("taken without --ordered"), std::string::npos);
    extra = {"--threads", "2"};
    ASSERT_EQ(run(args("ref", "", "interp")), 0);
    // Without --threads (the default, all cores, which may differ from the first run's machine) the resume
    // takes the snapshot's shard count.
    extra = {};
    pin_threads = false;
    fs::remove(path("stderr.log"));
    ASSERT_EQ(run(args("t", "t.ck", "interp")), 0) << slurp(path("stderr.log"));
    EXPECT_NE(slurp(path("stderr.log")).find("resuming with --threads 2, the shard count of the checkpoint"),
              std::string::npos)
        << slurp(path("stderr.log"));
    expect_same_outputs("ref", "t", true);
}

TEST_F(Checkpoint, OtherExamplesResume) {
    // fraud, support: sessions, absences, exclusive groups; models_demo: Markov, HMM and classifier state.
    for (const char* ex : {"fraud", "support", "models_demo"}) {
        use_example(ex);
        const bool small = std::string(ex) == "models_demo"; // 484 lines
        std::string tag = std::string("c_") + ex;
        ASSERT_EQ(run(args(tag + "ref", "", "interp")), 0) << slurp(path("stderr.log"));
        for (int k : small ? std::vector<int>{37, 150, 333} : std::vector<int>{301, 1999, 3001})
            EXPECT_EQ(run(args(tag, tag + ".ck", "interp", "", small ? "29" : "997"),
                          {"ETHOGRAM_TEST_KILL_AT_LINE=" + std::to_string(k)}),
                      -SIGKILL);
        ASSERT_EQ(run(args(tag, tag + ".ck", "interp", "", small ? "29" : "997")), 0)
            << slurp(path("stderr.log"));
        EXPECT_NE(slurp(path("stderr.log")).find("resumed from"), std::string::npos);
        expect_same_outputs(tag + "ref", tag);
    }
}

TEST_F(Checkpoint, KilledWhileWritingTheSnapshot) {
    use_example("ecommerce");
    ASSERT_EQ(run(args("ref", "", "interp")), 0);
    int gen = 3;
    for (const char* phase : {"partial", "before-rename", "after-rename"}) {
        std::string spec = "ETHOGRAM_TEST_CKPT_KILL=" + std::to_string(gen) + ":" + phase;
        EXPECT_EQ(run(args("d", "d.ck", "interp", "", "397"), {spec}), -SIGKILL) << phase;
        gen += 3; // resumed runs continue the generation numbers
    }
    ASSERT_EQ(run(args("d", "d.ck", "interp", "", "397")), 0) << slurp(path("stderr.log"));
    expect_same_outputs("ref", "d");
}

constexpr int kRandomKills = kSanitized ? 5 : 8;

TEST_F(Checkpoint, RandomSigkillsEqualUninterrupted) {
    use_example("ecommerce");
    // A long stream: the example's lines, each repeated for several disjoint copies of the users,
    // interleaved so that event time still advances as in the original.
    const int copies = kSanitized ? 2 : 4;
    std::ifstream in(events);
    std::string line, big;
    while (std::getline(in, line)) {
        for (int c = 0; c < copies; ++c) {
            std::string l = line;
            auto at = l.find("\"user_id\":\"");
            if (at != std::string::npos) {
                auto end = l.find('"', at + 11);
                if (end != std::string::npos) l.insert(end, "-c" + std::to_string(c));
            }
            big += l + "\n";
        }
    }
    spit(path("big.jsonl"), big);
    events = path("big.jsonl");
    ASSERT_EQ(run(args("ref", "", "interp")), 0) << slurp(path("stderr.log"));
    // An uninterrupted run with checkpoints: same output, and how long a run takes (the kills below land
    // anywhere from start-up to the end of the input).
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(run(args("r0", "r0.ck", "interp", "", kSanitized ? "700" : "2500")), 0)
        << slurp(path("stderr.log"));
    const auto full_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    expect_same_outputs("ref", "r0");
    fs::remove(path("stderr.log"));
    std::mt19937 rng(20261129);
    int kills = 0, runs = 0;
    auto a = args("r", "r.ck", "interp", "", kSanitized ? "700" : "2500");
    std::uniform_int_distribution<int> delay_ms(static_cast<int>(full_ms / 20),
                                                static_cast<int>(full_ms / 3));
    for (;;) {
        ASSERT_LT(runs, 200) << "the run never completed";
        ++runs;
        const std::set<std::string> before = snapshots("r.ck");
        pid_t pid = spawn(a, {}, path("stderr.log"));
        // Every other kill lands shortly after the run wrote a snapshot of its own: a delay measured on
        // a loaded machine may otherwise put every kill before the first snapshot (nothing to resume).
        if (runs % 2 == 0 && runs <= kRandomKills) wait_for_new_snapshot(pid, "r.ck", before, full_ms);
        std::this_thread::sleep_for(
            std::chrono::milliseconds(runs % 2 == 0 ? delay_ms(rng) / 10 : delay_ms(rng)));
        if (runs <= kRandomKills) ::kill(pid, SIGKILL);
        int rc = wait_child(pid);
        if (rc == 0) break;
        ASSERT_EQ(rc, -SIGKILL) << slurp(path("stderr.log")).substr(0, 4000);
        ++kills;
    }
    // Resumes from a snapshot (not restarts from scratch) at distinct points.
    const std::string err = slurp(path("stderr.log"));
    std::set<std::string> resumes;
    for (size_t at = err.find("resumed from "); at != std::string::npos;
         at = err.find("resumed from ", at + 1))
        resumes.insert(err.substr(at, err.find('\n', at) - at));
    std::printf("uninterrupted run: %lld ms; random kills: %d, runs: %d, distinct resume points: %zu, %zu "
                "input lines\n",
                static_cast<long long>(full_ms), kills, runs, resumes.size(),
                static_cast<size_t>(std::count(big.begin(), big.end(), '\n')));
    EXPECT_GE(kills, 2);
    // Under a sanitizer start-up takes most of a run, so kills may all land before the first snapshot.
    if (!kSanitized) {
        EXPECT_GE(resumes.size(), 1u) << err.substr(0, 4000);
    }
    expect_same_outputs("ref", "r");
}

TEST_F(Checkpoint, DamagedNewestSnapshotFallsBackToThePrevious) {
    use_example("ecommerce");
    ASSERT_EQ(run(args("ref", "", "interp")), 0);
    for (const char* damage : {"corrupt", "truncate"}) {
        std::string tag = std::string("e_") + damage;
        ASSERT_EQ(run(args(tag, tag + ".ck", "interp"), {"ETHOGRAM_TEST_KILL_AT_LINE=2500"}), -SIGKILL);
        std::vector<std::string> snaps;
        for (const auto& ent : fs::directory_iterator(path(tag + ".ck")))
            snaps.push_back(ent.path().string());
        std::sort(snaps.begin(), snaps.end());
        ASSERT_EQ(snaps.size(), 2u) << "the newest two snapshots are kept";
        std::string bytes = slurp(snaps.back());
        if (std::string(damage) == "corrupt")
            bytes[bytes.size() / 2] ^= 0x5a;
        else
            bytes.resize(bytes.size() / 3);
        spit(snaps.back(), bytes);
        fs::remove(path("stderr.log"));
        ASSERT_EQ(run(args(tag, tag + ".ck", "interp")), 0) << slurp(path("stderr.log"));
        std::string err = slurp(path("stderr.log"));
        EXPECT_NE(err.find("checkpoint rejected: " + snaps.back()), std::string::npos) << err;
        EXPECT_NE(err.find(std::string(damage) == "corrupt" ? "checksum mismatch" : "truncated"),
                  std::string::npos)
            << err;
        EXPECT_NE(err.find("resuming from the previous good checkpoint " + snaps.front()), std::string::npos)
            << err;
        expect_same_outputs("ref", tag);
    }
}

TEST_F(Checkpoint, RuleSetChangeIsRefusedUnlessStateIsDropped) {
    use_example("ecommerce");
    fs::copy(example, path("ex"), fs::copy_options::recursive);
    ASSERT_EQ(run(args("ref", "", "interp", path("ex/rules"))), 0);
    ASSERT_EQ(run(args("f", "f.ck", "interp", path("ex/rules")), {"ETHOGRAM_TEST_KILL_AT_LINE=3000"}),
              -SIGKILL);
    // Any change of the sources changes the rule set's hash (here: a comment).
    std::string nav = slurp(path("ex/rules/navigation.etho"));
    spit(path("ex/rules/navigation.etho"), nav + "// changed\n");
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(args("f", "f.ck", "interp", path("ex/rules"))), 2);
    std::string err = slurp(path("stderr.log"));
    EXPECT_NE(err.find("the rule set changed"), std::string::npos) << err;
    EXPECT_NE(err.find("--drop-incompatible-state"), std::string::npos) << err;
    EXPECT_NE(err.find(path("f.ck") + "/ckpt-"), std::string::npos) << err;
    // Dropping the state starts from the beginning: the output is a fresh run's.
    auto a = args("f", "f.ck", "interp", path("ex/rules"));
    a.push_back("--drop-incompatible-state");
    fs::remove(path("stderr.log"));
    ASSERT_EQ(run(a), 0) << slurp(path("stderr.log"));
    EXPECT_NE(slurp(path("stderr.log")).find("dropping it"), std::string::npos);
    expect_same_outputs("ref", "f");
    // Other run arguments (here: the lateness) are refused the same way.
    a = args("f", "f2.ck", "interp", path("ex/rules"));
    ASSERT_EQ(run(a, {"ETHOGRAM_TEST_KILL_AT_LINE=3000"}), -SIGKILL);
    a.insert(a.end(), {"--lateness", "1m"});
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(a), 2);
    EXPECT_NE(slurp(path("stderr.log")).find("other run arguments"), std::string::npos);
}

TEST_F(Checkpoint, RefusesStdinAndStdout) {
    use_example("ecommerce");
    auto a = args("g", "g.ck", "interp");
    auto with = [&](const std::string& flag, const std::string& value) {
        auto b = a;
        for (size_t i = 0; i + 1 < b.size(); ++i)
            if (b[i] == flag) b[i + 1] = value;
        return b;
    };
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(with("--events", "-")), 2);
    EXPECT_NE(slurp(path("stderr.log")).find("not stdin"), std::string::npos);
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(with("--out", "-")), 2);
    EXPECT_NE(slurp(path("stderr.log")).find("file outputs"), std::string::npos);
    fs::remove(path("stderr.log"));
    EXPECT_EQ(run(with("--checkpoint-every", "soon")), 2);
    EXPECT_NE(slurp(path("stderr.log")).find("--checkpoint-every"), std::string::npos);
}

} // namespace
