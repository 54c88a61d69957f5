// parallel_state_bytes.cpp: bytes of interpreter state per idle key with an open session, by the
// executor's own accounting (ExecutorStats::state_bytes) and, as a cross-check, by the process's RSS.
// Usage: build/bin/parallel_state_bytes [KEYS=200000]. Built with the tests (tests/parallel), not run by
// ctest.
#include "tests/interp/ir_builder.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace ethogram;
using interp::testing::IrBuilder;
using interp::testing::kMin;
using interp::testing::kSec;

uint64_t rss_bytes() {
    long pages = 0, resident = 0;
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
    return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// One event per key, then the figures: every key is idle with its session open. Runs in a child process
// so that its RSS growth is not hidden by memory an earlier measurement freed.
void measure_here(const char* name, const ir::RuleSet& rs, uint16_t type, int keys);
void measure(const char* name, const ir::RuleSet& rs, uint16_t type, int keys) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        measure_here(name, rs, type, keys);
        std::fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
}
void measure_here(const char* name, const ir::RuleSet& rs, uint16_t type, int keys) {
    interp::testing::Runner r(rs);
    for (int i = 0; i < keys / 10; ++i) r.pool.intern(fmt::format("user-{:08}", i)); // warm the pool
    const uint64_t rss0 = rss_bytes();
    const size_t pool0 = r.pool.memory_bytes();
    for (int i = 0; i < keys; ++i) r.ev(type, fmt::format("user-{:08}", i), i * kSec / 1000);
    const uint64_t rss1 = rss_bytes();
    const size_t pool1 = r.pool.memory_bytes();
    const ir::ExecutorStats s = r.exec->stats();
    // The string pool is the pipeline's, not the executor's (it keeps a key's text after the key is
    // evicted), so the accounting leaves it out; its growth is in the RSS growth.
    fmt::print("bench: {:<38} {} keys: accounting {:.0f} B/key; RSS growth {:.0f} B/key (of which the string "
               "pool's growth {:.0f} B/key: the key's text, its pointer and index entry)\n",
               name, s.live_keys, double(s.state_bytes) / double(s.live_keys),
               double(rss1 - rss0) / double(keys), double(pool1 - pool0) / double(keys));
}

} // namespace

int main(int argc, char** argv) {
    const int keys = argc > 1 ? std::atoi(argv[1]) : 200000;
    {
        IrBuilder b;
        uint16_t a = b.event("a");
        b.session("visit", 30 * kMin);
        measure("a session, no rule over it:", b.rs, a, keys);
    }
    {
        IrBuilder b;
        uint16_t a = b.event("a");
        b.session("visit", 30 * kMin);
        b.threshold("visit_end", interp::testing::over_session(0, b.b(true), true));
        measure("a session and a rule at its end:", b.rs, a, keys);
    }
    {
        IrBuilder b;
        uint16_t a = b.event("a"), z = b.event("z");
        b.session("visit", 30 * kMin);
        b.threshold("visit_end", interp::testing::over_session(0, b.b(true), true));
        b.threshold("burst", interp::testing::window(10 * kMin, b.b(false)));
        b.pattern("a_then_z", {interp::testing::pos("x", {a}), interp::testing::pos("y", {z})}, 30 * kMin);
        measure("session + window + pattern (3 rules):", b.rs, z, keys);
    }
    return 0;
}
