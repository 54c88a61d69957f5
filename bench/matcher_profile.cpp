// matcher_profile.cpp: one engine on the benchmark workload, matcher only, for profilers (perf, callgrind):
// `matcher_profile [interp|jit|hand|handfull] [events] [users] [repeat] [rules-dir] [three|reference]
// [events.jsonl]` (with a file, its events replace the generated workload's; `events` and `users` are then
// unused).
// Unlike `etho bench` it runs one engine and nothing else after the setup, so that a profile or an
// instruction count is that engine's; it prints ns/event (thread CPU time, the fastest run) and a digest of
// the detections (rule, key, times, trigger, bound events, fields, confidence, id) to compare builds. `hand`
// is the count-only hand-written code (no digest: its count only), `handfull` the hand-written code that
// builds every detection (bench/handwritten_full.h): its digest is the engines'.
#include "bench/digest_sink.h"
#include "bench/drive.h"
#include "bench/handwritten.h"
#include "bench/handwritten_full.h"
#include "bench/workload.h"
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "runtime/decoder.h"

#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using namespace ethogram;

double thread_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

using bench::DigestSink;

/// The measured loop, not inlined: `valgrind --tool=callgrind --toggle-collect='*run_events*'` counts it
/// alone. `Ex`: an ir::Executor, or the hand-written code with full detections (driven the same way).
template <class Ex>
__attribute__((noinline)) void run_events(Ex& ex, const std::vector<ir::Event>& events, DigestSink& sink) {
    bench::drive(ex, events, sink);
}

__attribute__((noinline)) void run_events(bench::HandWritten& hw, const std::vector<ir::Event>& events) {
    for (const ir::Event& e : events) hw.on_event(e);
    hw.finish();
}

} // namespace

int main(int argc, char** argv) {
    const std::string engine = argc > 1 ? argv[1] : "jit";
    bench::WorkloadOptions wo;
    if (argc > 2) wo.events = std::stoull(argv[2]);
    if (argc > 3) wo.users = static_cast<uint32_t>(std::stoul(argv[3]));
    const int repeat = argc > 4 ? std::stoi(argv[4]) : 1;
    const std::string dir = argc > 5 ? argv[5] : "bench/rules";
    const std::string which = argc > 6 ? argv[6] : "three";
    const std::string events_file = argc > 7 ? argv[7] : "";
    if (engine != "interp" && engine != "jit" && engine != "hand" && engine != "handfull") {
        std::cerr << "matcher_profile: engine must be interp, jit, hand or handfull\n";
        return 2;
    }
    const std::string schema = read_file(dir + "/schema.etho");
    const std::string rules = read_file(dir + "/" + which + ".etho");
    if (schema.empty() || rules.empty()) {
        std::cerr << "matcher_profile: cannot read " << dir << "/schema.etho or " << which << ".etho\n";
        return 2;
    }
    // The rule file with its import / ruleset lines replaced by the schema (as etho bench does).
    std::string text = "ruleset bench.profile version 1.0.0;\n" + schema + "\n";
    std::istringstream in(rules);
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("import ") && !line.starts_with("ruleset ")) text += line + "\n";
    compiler::Diagnostics diags;
    auto res = compiler::compile_source(which + ".etho", text, diags);
    if (!res.ruleset || diags.error_count() > 0) {
        diags.print(std::cerr);
        return 1;
    }
    const ir::RuleSet& rs = *res.ruleset;
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    const std::string jsonl = events_file.empty() ? bench::generate_workload(wo) : read_file(events_file);
    if (jsonl.empty()) {
        std::cerr << "matcher_profile: no events (" << (events_file.empty() ? "workload" : events_file)
                  << ")\n";
        return 2;
    }
    std::vector<ir::Event> events;
    {
        runtime::Decoder dec(rs, pool);
        size_t start = 0;
        uint64_t line = 0;
        while (start < jsonl.size()) {
            size_t end = jsonl.find('\n', start);
            if (end == std::string::npos) end = jsonl.size();
            ir::Event e;
            if (dec.decode(std::string_view(jsonl).substr(start, end - start), ++line, e)) {
                e.seq = line;
                events.push_back(std::move(e));
            }
            start = end + 1;
        }
    }
    std::unique_ptr<jit::CompiledRuleSet> code;
    if (engine == "jit") {
        auto c = jit::compile_rule_set(rs, jit::JitOptions{});
        if (!c) {
            std::cerr << "matcher_profile: " << c.error() << "\n";
            return 1;
        }
        code = std::move(*c);
    }
    double best = 0;
    uint64_t digest = 0, count = 0;
    for (int r = 0; r < repeat; ++r) {
        DigestSink sink;
        double t0 = 0, t1 = 0;
        if (engine == "hand") {
            bench::HandWritten hw(rs);
            t0 = thread_cpu();
            run_events(hw, events);
            t1 = thread_cpu();
            sink.n = hw.counts().total();
        } else if (engine == "handfull") {
            bench::HandWrittenFull hw(rs, pool);
            t0 = thread_cpu();
            run_events(hw, events, sink);
            t1 = thread_cpu();
        } else {
            const ir::ExecutorOptions eo;
            auto ex = code ? interp::make_interpreter(rs, pool, eo, &code->hooks())
                           : interp::make_interpreter(rs, pool, eo);
            t0 = thread_cpu();
            run_events(*ex, events, sink);
            t1 = thread_cpu();
        }
        if (r == 0 || t1 - t0 < best) best = t1 - t0;
        digest = sink.h;
        count = sink.n;
    }
    fmt::print("{} {}: {:.1f} ns/event over {} events, {} detections, digest {:016x}\n", engine, which,
               best * 1e9 / static_cast<double>(events.size()), events.size(), count, digest);
    return 0;
}
