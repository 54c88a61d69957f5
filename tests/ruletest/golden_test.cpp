// golden_test.cpp: runs build/bin/etho test/synth/diff on tests/ruletest/data and compares stdout and the
// exit code with tests/ruletest/data/golden/. ETHO_UPDATE_GOLDEN=1 rewrites the golden files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const std::string kData = std::string(ETHOGRAM_SOURCE_DIR) + "/tests/ruletest/data";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Result {
    int code = -1;
    std::string out, err;
};

// Runs `etho ARGS` with the data folder as working directory (paths in reports stay relative).
Result etho(const std::string& args) {
    const std::string tmp =
        std::filesystem::temp_directory_path() / ("etho_ruletest_" + std::to_string(getpid()));
    std::filesystem::create_directories(tmp);
    const std::string cmd =
        "cd '" + kData + "' && " + ETHO_PATH + " " + args + " >" + tmp + "/out 2>" + tmp + "/err";
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(tmp + "/out");
    r.err = slurp(tmp + "/err");
    std::filesystem::remove_all(tmp);
    return r;
}

// The golden file holds the exit code on its first line, then stdout.
void golden(const std::string& name, const std::string& args) {
    const Result r = etho(args);
    const std::string actual = "exit " + std::to_string(r.code) + "\n" + r.out;
    const std::string path = kData + "/golden/" + name;
    if (std::getenv("ETHO_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        return;
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing (ETHO_UPDATE_GOLDEN=1 writes it)";
    EXPECT_EQ(actual, slurp(path)) << "etho " << args << "\nstderr:\n" << r.err;
}

TEST(RuleTestGolden, PassingText) {
    golden("ok.txt", "test ok.test.yaml");
}
TEST(RuleTestGolden, FailingText) {
    golden("failing.txt", "test failing.test.yaml");
}
TEST(RuleTestGolden, FailingJunit) {
    golden("failing.junit.xml", "test failing.test.yaml --format junit");
}
TEST(RuleTestGolden, FailingJson) {
    golden("failing.json", "test failing.test.yaml --format json");
}
TEST(RuleTestGolden, MalformedFiles) {
    golden("malformed.txt", "test malformed");
}
TEST(RuleTestGolden, MalformedJunit) {
    golden("malformed.junit.xml", "test malformed --format junit");
}
TEST(RuleTestGolden, CoverageText) {
    golden("coverage.txt", "test partial.test.yaml --coverage");
}
TEST(RuleTestGolden, CoverageJson) {
    golden("coverage.json", "test partial.test.yaml --coverage --format json");
}
TEST(RuleTestGolden, JitterFlips) {
    golden("jitter.txt", "test jitter.test.yaml --jitter 5s");
}
TEST(RuleTestGolden, DiffStructural) {
    golden("diff_structural.txt", "diff rules rules_v2");
}
TEST(RuleTestGolden, DiffReplayText) {
    golden("diff_replay.txt", "diff rules rules_v2 --events corpus.jsonl");
}
TEST(RuleTestGolden, DiffReplayJson) {
    golden("diff_replay.json", "diff rules rules_v2 --events corpus.jsonl --format json --examples 1");
}

// The corpus of the diff tests is the synth output of the scenario: synth is deterministic per seed.
TEST(RuleTestGolden, SynthIsDeterministic) {
    const Result a = etho("synth --scenario scenario.yaml");
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_EQ(a.out, slurp(kData + "/corpus.jsonl"));
    const Result b = etho("synth --scenario scenario.yaml --seed 7");
    EXPECT_EQ(a.out, b.out); // the scenario's seed is 7
    const Result c = etho("synth --scenario scenario.yaml --seed 8");
    ASSERT_EQ(c.code, 0);
    EXPECT_NE(a.out, c.out);
    EXPECT_NE(a.err.find("synth: 15 user(s)"), std::string::npos) << a.err;
}

TEST(RuleTestCli, ExitCodesAndErrors) {
    EXPECT_EQ(etho("test ok.test.yaml").code, 0);
    EXPECT_EQ(etho("test failing.test.yaml").code, 1);
    EXPECT_EQ(etho("test malformed").code, 1);
    const Result none = etho("test rules"); // a folder without test files
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("no *.test.yaml files"), std::string::npos) << none.err;
    const Result missing = etho("test no_such_dir");
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("no_such_dir: no such file or directory"), std::string::npos) << missing.err;
    const Result jitter = etho("test ok.test.yaml --jitter soon");
    EXPECT_EQ(jitter.code, 2);
    EXPECT_NE(jitter.err.find("--jitter"), std::string::npos);
    const Result fmt = etho("test ok.test.yaml --format xml");
    EXPECT_EQ(fmt.code, 2);
    const Result diff = etho("diff rules no_such_rules");
    EXPECT_EQ(diff.code, 2);
    const Result synth = etho("synth --scenario malformed/bad_yaml.test.yaml");
    EXPECT_EQ(synth.code, 2);
    EXPECT_NE(synth.err.find("bad_yaml.test.yaml:5:1: error:"), std::string::npos) << synth.err;
}

TEST(RuleTestCli, ReportToFileKeepsStdoutEmpty) {
    const std::string out =
        std::filesystem::temp_directory_path() / ("etho_junit_" + std::to_string(getpid()) + ".xml");
    const Result r = etho("test failing.test.yaml --format junit --out " + out);
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("6 case(s): 1 passed, 5 failed"), std::string::npos) << r.err;
    EXPECT_NE(slurp(out).find("<testsuites name=\"etho test\" tests=\"6\" failures=\"5\" errors=\"0\">"),
              std::string::npos);
    std::filesystem::remove(out);
}

} // namespace

namespace {
TEST(RuleTestGolden, FullCoverage) {
    golden("coverage_full.txt", "test ok.test.yaml --coverage");
}
} // namespace

namespace {
// The fraud example's synthetic test corpus is what its scenario generates.
TEST(RuleTestGolden, ExampleScenarioReproducesItsCorpus) {
    const std::string dir = std::string(ETHOGRAM_SOURCE_DIR) + "/examples/fraud/tests";
    const Result r = etho("synth --scenario '" + dir + "/card_testers.scenario.yaml'");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(dir + "/card_testers.jsonl"));
}
} // namespace
