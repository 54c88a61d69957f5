// cli_harness.h: what the end-to-end tests of the `etho` binary share (tests/cli, tests/govern,
// tests/models_tools, tests/deploy, tests/checkpoint): a scratch directory per test, files written into
// it, a command run through the shell with its stdout, stderr and exit code captured, and a few readers of
// output lines. Header-only; the test target defines ETHO_PATH.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace ethogram::test_support {

/// One finished command.
struct CliResult {
    int code = -1;   ///< exit code; -1 when the command did not exit normally (a signal)
    std::string out; ///< stdout
    std::string err; ///< stderr
};

/// A file's bytes ("" when unreadable).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

/// Writes `text` to `path` (replacing it).
inline void spit(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

/// The non-empty lines of `text`.
inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string l; std::getline(ss, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

/// The value of the first string member `name` in a one-line JSON object ("" when absent; no unescaping:
/// enough for detection and summary lines).
inline std::string json_string(const std::string& line, const std::string& name) {
    const std::string k = "\"" + name + "\":\"";
    size_t at = line.find(k);
    if (at == std::string::npos) return "";
    at += k.size();
    return line.substr(at, line.find('"', at) - at);
}

/// A detection line's id: its last "id" member (the bound events carry theirs before it; "" when absent).
inline std::string detection_id(const std::string& line) {
    const std::string k = "\"id\":\"";
    size_t at = line.rfind(k);
    if (at == std::string::npos) return "";
    at += k.size();
    return line.substr(at, line.find('"', at) - at);
}

/// The value of the first unsigned number member `name` in a JSON text (UINT64_MAX when absent).
inline uint64_t json_number(const std::string& json, const std::string& name) {
    const std::string k = "\"" + name + "\":";
    size_t at = json.find(k);
    return at == std::string::npos ? UINT64_MAX : std::stoull(json.substr(at + k.size()));
}

/// A fixture with a fresh directory `/tmp/<tag>_XXXXXX` (removed after the test) and a runner for `etho`.
class CliFixture : public ::testing::Test {
protected:
    std::string dir;

    /// Creates the directory; call first in SetUp().
    void make_dir(const std::string& tag) {
        std::string tmpl = "/tmp/" + tag + "_XXXXXX";
        const char* d = mkdtemp(tmpl.data());
        ASSERT_NE(d, nullptr) << "mkdtemp " << tmpl;
        dir = d;
    }
    void TearDown() override {
        if (!dir.empty()) std::filesystem::remove_all(dir);
    }

    std::string path(const std::string& name) const { return dir + "/" + name; }
    /// Writes `text` to `name` under the directory (creating parent directories); returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::create_directories(std::filesystem::path(path(name)).parent_path());
        spit(path(name), text);
        return path(name);
    }

    /// Runs a shell command line, stdin from `input` (written to a file; /dev/null when empty), stdout and
    /// stderr captured through files in the directory.
    CliResult run(const std::string& command, const std::string& input = "") const {
        std::string cmd = command + " >" + path("stdout.txt") + " 2>" + path("stderr.txt");
        cmd += input.empty() ? std::string(" </dev/null") : " <" + write("stdin.txt", input);
        const int status = std::system(cmd.c_str());
        CliResult r;
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(path("stdout.txt"));
        r.err = slurp(path("stderr.txt"));
        return r;
    }

#ifdef ETHO_PATH
    /// Runs `etho ARGS` (the build's binary).
    CliResult etho(const std::string& args, const std::string& input = "") const {
        return run(std::string(ETHO_PATH) + " " + args, input);
    }
#endif
};

} // namespace ethogram::test_support
