// bench.cpp: `etho bench`: workload, parse-only floor, end-to-end and matcher-only runs of both engines,
// the hand-written baselines (count-only, and full detections), compile times and warm starts, printed and
// written as JSON.
#include "bench/bench.h"

#include "bench/digest_sink.h"
#include "bench/drive.h"
#include "bench/handwritten.h"
#include "bench/handwritten_full.h"
#include "bench/heap_reserve.h"
#include "bench/workload.h"
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "runtime/decoder.h"
#include "runtime/pipeline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

namespace ethogram::bench {

namespace {

namespace fs = std::filesystem;

struct Timing {
    double wall = 0;     ///< seconds
    double cpu = 0;      ///< seconds of this thread's CPU time (steadier than wall time on a shared machine)
    uint64_t faults = 0; ///< this thread's minor page faults: first touches of memory the allocator got
                         ///< from the kernel (system time inside `cpu`; they depend on what ran before)
};

uint64_t thread_faults() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<uint64_t>(ru.ru_minflt);
}

double thread_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class F>
Timing timed(F&& f) {
    const auto w0 = std::chrono::steady_clock::now();
    const uint64_t f0 = thread_faults();
    const double c0 = thread_cpu();
    f();
    Timing t;
    t.cpu = thread_cpu() - c0;
    t.faults = thread_faults() - f0;
    t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    return t;
}

struct CountSink : ir::DetectionSink {
    explicit CountSink(size_t rules) : per_rule(rules, 0) {}
    void emit(ir::Detection&& d) override { ++per_rule[d.rule]; }
    void suppressed(ir::Detection&& d) override { ++per_rule[d.rule]; }
    uint64_t total() const {
        uint64_t n = 0;
        for (uint64_t x : per_rule) n += x;
        return n;
    }
    std::vector<uint64_t> per_rule;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::unique_ptr<ir::RuleSet> compile_text(const std::string& name, const std::string& text) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_source(name, text, diags);
    if (!res.ruleset || diags.error_count() > 0) {
        diags.print(std::cerr);
        return nullptr;
    }
    return std::move(res.ruleset);
}

/// The rule file's text with its `import` / `ruleset` lines replaced by the schema itself.
std::string standalone(const std::string& name, const std::string& schema, const std::string& rules) {
    std::string out = "ruleset " + name + " version 1.0.0;\n" + schema + "\n";
    std::istringstream in(rules);
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("import ") && !line.starts_with("ruleset ")) out += line + "\n";
    return out;
}

/// `n` rules: the reference rules cycled, each copy renamed.
std::string scaled_rules(const std::string& schema, const std::string& reference, uint32_t n) {
    std::vector<std::string> blocks;
    size_t pos = reference.find("\nrule ");
    while (pos != std::string::npos) {
        size_t end = reference.find("\nrule ", pos + 1);
        blocks.push_back(
            reference.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1));
        pos = end;
    }
    std::string rules;
    for (uint32_t i = 0; i < n && !blocks.empty(); ++i) {
        std::string b = blocks[i % blocks.size()];
        b.replace(0, 5, fmt::format("rule c{}_", i / blocks.size()));
        rules += b + "\n";
    }
    return standalone(fmt::format("bench.size{}", n), schema, rules);
}

std::vector<ir::Event> decode_all(const ir::RuleSet& rs, ir::StringPool& pool, const std::string& jsonl) {
    runtime::Decoder dec(rs, pool);
    std::vector<ir::Event> out;
    size_t start = 0;
    uint64_t line = 0;
    while (start < jsonl.size()) {
        size_t end = jsonl.find('\n', start);
        if (end == std::string::npos) end = jsonl.size();
        ++line;
        ir::Event e;
        if (dec.decode(std::string_view(jsonl).substr(start, end - start), line, e)) {
            e.seq = line;
            out.push_back(std::move(e));
        }
        start = end + 1;
    }
    return out;
}

struct MatchRun {
    Timing t;                     ///< the fastest timed run
    std::vector<uint64_t> faults; ///< minor page faults of every timed run, in order
    uint64_t warmup_faults = 0;   ///< those of the untimed warm-up run
    std::vector<uint64_t> per_rule;
    uint64_t total = 0;
    uint64_t live_keys = 0;
};

/// One untimed warm-up run, then `repeat` timed runs; each run builds its matcher with `make`, feeds it
/// the events with `feed`, and destroys it. The fastest timed run (CPU time) counts, and every timed run's
/// page faults are kept. The warm-up is there for every matcher alike: the first run of a matcher grows
/// the heap and fills the allocator's caches, the timed ones then measure the steady state.
template <class Make, class Feed, class Record>
MatchRun best_of(int repeat, Make make, Feed feed, Record record) {
    MatchRun best;
    for (int r = -1; r < repeat; ++r) {
        auto m = make();
        Timing t = timed([&] { feed(*m); });
        if (r < 0) {
            best.warmup_faults = t.faults;
            continue;
        }
        best.faults.push_back(t.faults);
        if (r == 0 || t.cpu < best.t.cpu) best.t = t;
        record(*m, best);
    }
    return best;
}

/// Feeds pre-decoded events to fresh matchers made by `make` (executors, or HandWrittenFull: driven alike;
/// best_of).
template <class Make>
MatchRun matcher_only(Make make, const std::vector<ir::Event>& events, size_t rules, int repeat) {
    std::unique_ptr<CountSink> sink;
    return best_of(
        repeat,
        [&] {
            sink = std::make_unique<CountSink>(rules);
            return make();
        },
        [&](auto& ex) { drive(ex, events, *sink); },
        [&](auto& ex, MatchRun& best) {
            best.per_rule = sink->per_rule;
            best.total = sink->total();
            if constexpr (requires { ex.stats(); }) best.live_keys = ex.stats().live_keys;
        });
}

/// One untimed run of `ex` (an executor or HandWrittenFull, driven alike) into a DigestSink: the detections'
/// count and digest, compared across the executors.
template <class Ex>
DigestSink digest_of(Ex& ex, const std::vector<ir::Event>& events) {
    DigestSink sink;
    drive(ex, events, sink);
    return sink;
}

/// simdjson On-Demand over the whole file (every member of every line visited): the parse floor.
Timing parse_only(const std::string& path, uint64_t& docs_out) {
    uint64_t docs = 0, touched = 0;
    Timing t = timed([&] {
        simdjson::padded_string json;
        if (simdjson::padded_string::load(path).get(json)) return;
        simdjson::ondemand::parser parser;
        simdjson::ondemand::document_stream stream;
        if (parser.iterate_many(json).get(stream)) return;
        for (auto doc : stream) {
            simdjson::ondemand::object obj;
            if (doc.get_object().get(obj)) continue;
            for (auto field : obj) {
                std::string_view k, v;
                if (field.unescaped_key().get(k)) break;
                if (field.value().raw_json_token().get(v)) break;
                touched += k.size() + v.size();
            }
            ++docs;
        }
    });
    docs_out = docs;
    if (touched == 0) docs_out = 0;
    return t;
}

struct EndToEnd {
    Timing t;
    uint64_t warmup_faults = 0; ///< minor page faults of the untimed warm-up run
    uint64_t detections = 0;
};

/// An untimed warm-up run, then the timed one, each with its own string pool and executor (made by `make`
/// from the pool), destroyed before the next: no run finds the heap held by another engine's state.
template <class Make>
EndToEnd end_to_end(const ir::RuleSet& rs, Make make, const std::string& path) {
    runtime::PipelineOptions p;
    p.events_path = path;
    p.out_path = "/dev/null";
    p.dead_letter_path = "/dev/null";
    p.print_summary = false;
    EndToEnd r;
    for (int run = 0; run < 2; ++run) {
        ir::StringPool pool;
        ir::seed_string_pool(rs, pool);
        std::unique_ptr<ir::Executor> ex = make(pool);
        Timing t = timed([&] {
            auto s = runtime::run_pipeline(rs, pool, *ex, p);
            if (s) r.detections = s->detections + s->suppressed;
        });
        if (run == 0)
            r.warmup_faults = t.faults;
        else
            r.t = t;
    }
    return r;
}

double ns_per(const Timing& t, uint64_t n) {
    return n ? t.cpu * 1e9 / static_cast<double>(n) : 0;
}

long peak_rss_kib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

} // namespace

int run_bench(const BenchOptions& o) {
    const std::string schema = read_file(o.rules_dir + "/schema.etho");
    const std::string reference_text = read_file(o.rules_dir + "/reference.etho");
    const std::string three_text = read_file(o.rules_dir + "/three.etho");
    if (schema.empty() || reference_text.empty() || three_text.empty()) {
        fmt::print(stderr,
                   "etho bench: cannot read the rules in {} (schema.etho, reference.etho, three.etho)\n",
                   o.rules_dir);
        return 2;
    }
    auto reference = compile_text("reference.etho", standalone("bench.reference", schema, reference_text));
    auto three = compile_text("three.etho", standalone("bench.three", schema, three_text));
    if (!reference || !three) return 1;

    // Workload.
    WorkloadOptions wo;
    wo.events = o.events;
    wo.users = o.users;
    wo.seed = o.seed;
    std::string jsonl;
    Timing gen = timed([&] { jsonl = generate_workload(wo); });
    const std::string path =
        o.workload_path.empty()
            ? (fs::temp_directory_path() / fmt::format("etho-bench-{}.jsonl", ::getpid())).string()
            : o.workload_path;
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << jsonl;
    }
    fmt::print("workload: {} events, {} users, seed {}, {:.1f} MiB ({:.2f} s to generate)\n", o.events,
               o.users, o.seed, static_cast<double>(jsonl.size()) / (1 << 20), gen.wall);
    fmt::print("host: {}\n", jit::jit_host_description());

    int status = 0;
    std::string json = "{\n";
    json += fmt::format("  \"workload\": {{\"events\": {}, \"users\": {}, \"seed\": {}, \"bytes\": {}}},\n",
                        o.events, o.users, o.seed, jsonl.size());
    json += fmt::format("  \"host\": \"{}\",\n", jit::jit_host_description());

    // Parse-only floor.
    uint64_t docs = 0;
    Timing parse = parse_only(path, docs);
    fmt::print("parse-only (simdjson On-Demand): {:.0f} ns/event, {:.2f} M events/s\n", ns_per(parse, docs),
               docs / parse.cpu / 1e6);

    // Compile both rule sets (no cache: cold compile times).
    jit::JitOptions cold;
    jit::CompileStats ref_stats, three_stats;
    auto ref_code = jit::compile_rule_set(*reference, cold);
    auto three_code = jit::compile_rule_set(*three, cold);
    if (!ref_code || !three_code) {
        fmt::print(stderr, "etho bench: the JIT cannot compile the reference rules: {}\n",
                   ref_code ? three_code.error() : ref_code.error());
        return 1;
    }
    ref_stats = (*ref_code)->stats();
    three_stats = (*three_code)->stats();

    // Matcher-only on pre-decoded events: the reference set, then the three rules and the hand-written code.
    ir::StringPool ref_pool, three_pool;
    ir::seed_string_pool(*reference, ref_pool);
    ir::seed_string_pool(*three, three_pool);
    const std::vector<ir::Event> ref_events = decode_all(*reference, ref_pool, jsonl);
    const std::vector<ir::Event> three_events = decode_all(*three, three_pool, jsonl);
    // Every timed run from here on, of every matcher, on the same warm heap (held to the end: the
    // end-to-end runs too); made after the decoded events so that they do not take its room.
    const HeapReserve reserve(size_t{o.heap_reserve_mib} << 20);
    const ir::ExecutorOptions eo;
    const interp::NativeHooks* ref_hooks = &(*ref_code)->hooks();
    const interp::NativeHooks* three_hooks = &(*three_code)->hooks();
    const size_t nref = reference->rules.size(), nthree = three->rules.size();
    MatchRun ref_interp = matcher_only([&] { return interp::make_interpreter(*reference, ref_pool, eo); },
                                       ref_events, nref, o.repeat);
    MatchRun ref_jit =
        matcher_only([&] { return interp::make_interpreter(*reference, ref_pool, eo, ref_hooks); },
                     ref_events, nref, o.repeat);
    MatchRun three_interp = matcher_only([&] { return interp::make_interpreter(*three, three_pool, eo); },
                                         three_events, nthree, o.repeat);
    MatchRun three_jit =
        matcher_only([&] { return interp::make_interpreter(*three, three_pool, eo, three_hooks); },
                     three_events, nthree, o.repeat);
    HandCounts hand;
    const MatchRun hand_run = best_of(
        o.repeat, [&] { return std::make_unique<HandWritten>(*three); },
        [&](HandWritten& hw) {
            for (const ir::Event& e : three_events) hw.on_event(e);
            hw.finish();
        },
        [&](HandWritten& hw, MatchRun&) { hand = hw.counts(); });
    // The hand-written code that does the engines' whole job (every detection built and handed to a sink,
    // the same CountSink as theirs): timed as they are, after them.
    const MatchRun full_run =
        matcher_only([&] { return std::make_unique<HandWrittenFull>(*three, three_pool); }, three_events,
                     nthree, o.repeat);
    // Its detections against the engines', every field (count and digest), in untimed runs.
    DigestSink digest_interp, digest_jit, digest_full;
    {
        auto ex = interp::make_interpreter(*three, three_pool, eo);
        digest_interp = digest_of(*ex, three_events);
    }
    {
        auto ex = interp::make_interpreter(*three, three_pool, eo, three_hooks);
        digest_jit = digest_of(*ex, three_events);
    }
    {
        HandWrittenFull hw(*three, three_pool);
        digest_full = digest_of(hw, three_events);
    }
    const Timing& hand_t = hand_run.t;
    const Timing& full_t = full_run.t;
    const uint64_t n = ref_events.size();
    const bool ref_agree = ref_interp.per_rule == ref_jit.per_rule;
    const std::vector<uint64_t> hand_rules = {hand.search_burst, hand.cart_then_buy, hand.abandon};
    const bool three_agree = three_interp.per_rule == three_jit.per_rule && three_jit.per_rule == hand_rules;
    const bool full_agree = full_run.per_rule == three_jit.per_rule && digest_interp.h == digest_jit.h &&
                            digest_full.h == digest_jit.h && digest_interp.n == digest_jit.n &&
                            digest_full.n == digest_jit.n && digest_full.n == full_run.total;
    if (!ref_agree || !three_agree || !full_agree) status = 1;
    fmt::print(
        "matcher-only, 50 reference rules: interp {:.0f} ns/event, jit {:.0f} ns/event: jit {:.2f}x faster "
        "({} detections; engines agree: {})\n",
        ns_per(ref_interp.t, n), ns_per(ref_jit.t, n), ref_interp.t.cpu / ref_jit.t.cpu, ref_jit.total,
        ref_agree ? "yes" : "NO");
    fmt::print(
        "matcher-only, 3 reference rules: interp {:.0f}, jit {:.0f}, hand-written C++ {:.0f} ns/event: jit "
        "{:.2f}x faster than interp, {:.2f}x the hand-written time ({} detections; all agree: {})\n",
        ns_per(three_interp.t, n), ns_per(three_jit.t, n), ns_per(hand_t, n),
        three_interp.t.cpu / three_jit.t.cpu, three_jit.t.cpu / hand_t.cpu, hand.total(),
        three_agree ? "yes" : "NO");
    fmt::print("matcher-only, 3 reference rules, hand-written, full detections (every detection built and "
               "handed to the sink, as the engines do): {:.0f} ns/event: jit {:.2f}x the hand-written-full "
               "time ({} detections, digest {:016x}; same detections as interp and jit: {})\n",
               ns_per(full_t, n), three_jit.t.cpu / full_t.cpu, digest_full.n, digest_full.h,
               full_agree ? "yes" : "NO");
    // Page faults are kernel time in `cpu`, and how many a run takes depends on the memory the allocator
    // kept from the runs before it, not only on the code timed (docs/performance-history.md: the hand-written
    // baseline after carve2), so every timed run's are shown beside the times.
    const auto runs = [](const MatchRun& m) { return fmt::format("{}", fmt::join(m.faults, "/")); };
    fmt::print(
        "  minor page faults per timed run (after one untimed warm-up run each; heap reserve {} MiB): "
        "50 rules interp {}, jit {}; 3 rules interp {}, jit {}, hand-written {}, hand-written full {}\n",
        reserve.bytes() >> 20, runs(ref_interp), runs(ref_jit), runs(three_interp), runs(three_jit),
        runs(hand_run), runs(full_run));
    // A fault costs the kernel a microsecond or more (zeroing a page included): flag a run whose faults
    // may be more than 2% of its time.
    for (const MatchRun* m : std::initializer_list<const MatchRun*>{&ref_interp, &ref_jit, &three_interp,
                                                                    &three_jit, &hand_run, &full_run})
        for (uint64_t f : m->faults)
            if (static_cast<double>(f) * 1e-6 > 0.02 * m->t.cpu) {
                fmt::print(
                    "  note: a timed run took {} page faults, at a microsecond each more than 2% of its "
                    "time: a larger --heap-reserve may remove them\n",
                    f);
                break;
            }
    if (o.matcher_only) {
        std::error_code ec;
        if (o.workload_path.empty()) fs::remove(path, ec);
        return status;
    }

    // End to end: JSONL file -> detections (written to /dev/null), compile excluded.
    const EndToEnd e2e_interp = end_to_end(
        *reference, [&](ir::StringPool& pool) { return interp::make_interpreter(*reference, pool, eo); },
        path);
    const EndToEnd e2e_jit = end_to_end(
        *reference,
        [&](ir::StringPool& pool) { return interp::make_interpreter(*reference, pool, eo, ref_hooks); },
        path);
    const EndToEnd e2e_three_jit = end_to_end(
        *three, [&](ir::StringPool& pool) { return interp::make_interpreter(*three, pool, eo, three_hooks); },
        path);
    fmt::print(
        "end-to-end, 50 rules: interp {:.0f} ns/event, jit {:.0f} ns/event; jit end-to-end throughput = "
        "{:.2f} of parse-only\n",
        ns_per(e2e_interp.t, n), ns_per(e2e_jit.t, n), parse.cpu / e2e_jit.t.cpu);
    fmt::print(
        "end-to-end, 3 rules (jit): {:.0f} ns/event = {:.2f}x the hand-written matcher + parse floor\n",
        ns_per(e2e_three_jit.t, n), e2e_three_jit.t.cpu / (hand_t.cpu + parse.cpu));
    fmt::print(
        "  minor page faults (after one untimed warm-up run each): 50 rules interp {}, jit {}; 3 rules jit "
        "{}; parse-only {} (it reads the file into fresh memory, as a run of etho would)\n",
        e2e_interp.t.faults, e2e_jit.t.faults, e2e_three_jit.t.faults, parse.faults);

    // Compile times and warm starts.
    std::string compile_json;
    const std::string cache_dir =
        (fs::temp_directory_path() / fmt::format("etho-bench-cache-{}", ::getpid())).string();
    for (uint32_t size : o.compile_sizes) {
        std::unique_ptr<ir::RuleSet> rs;
        Timing front =
            timed([&] { rs = compile_text("scaled.etho", scaled_rules(schema, reference_text, size)); });
        if (!rs) return 1;
        jit::JitOptions with_cache;
        with_cache.cache_dir = cache_dir;
        double cold_ms = 0, warm_ms = 0, cold_cpu = 0, warm_cpu = 0;
        size_t fns = 0;
        {
            auto c = jit::compile_rule_set(*rs, cold);
            if (!c) {
                fmt::print(stderr, "etho bench: {} rules: {}\n", size, c.error());
                return 1;
            }
            cold_ms = (*c)->stats().total_ms;
            cold_cpu = (*c)->stats().cpu_ms;
            fns = (*c)->stats().functions;
        }
        bool hit = false;
        {
            auto store = jit::compile_rule_set(*rs, with_cache);
            auto warm = jit::compile_rule_set(*rs, with_cache);
            if (!store || !warm) return 1;
            warm_ms = (*warm)->stats().total_ms;
            warm_cpu = (*warm)->stats().cpu_ms;
            hit = (*warm)->stats().cache_hit;
        }
        fmt::print("compile {:>4} rules: front end {:.0f} ms, jit cold {:.0f} ms wall / {:.0f} ms cpu ({} "
                   "functions), "
                   "warm start from the cache {:.1f} ms wall / {:.1f} ms cpu{}\n",
                   size, front.wall * 1e3, cold_ms, cold_cpu, fns, warm_ms, warm_cpu,
                   hit ? "" : " (NO cache hit)");
        compile_json +=
            fmt::format("{}    {{\"rules\": {}, \"front_end_ms\": {:.1f}, \"jit_cold_ms\": {:.1f}, "
                        "\"jit_cold_cpu_ms\": {:.1f}, \"functions\": {}, \"warm_start_ms\": {:.2f}, "
                        "\"warm_start_cpu_ms\": {:.2f}, \"cache_hit\": {}}}",
                        compile_json.empty() ? "" : ",\n", size, front.wall * 1e3, cold_ms, cold_cpu, fns,
                        warm_ms, warm_cpu, hit);
    }
    std::error_code ec;
    fs::remove_all(cache_dir, ec);
    if (o.workload_path.empty()) fs::remove(path, ec);
    const long rss = peak_rss_kib();
    fmt::print("peak RSS {:.1f} MiB; {} live keys\n", rss / 1024.0, ref_jit.live_keys);

    auto timing = [](const Timing& t, uint64_t n) {
        return fmt::format(
            "{{\"cpu_s\": {:.4f}, \"wall_s\": {:.4f}, \"ns_per_event\": {:.1f}, \"minor_faults\": {}}}",
            t.cpu, t.wall, ns_per(t, n), t.faults);
    };
    // A matcher-only timing: the fastest run's, with every timed run's page faults and the warm-up's.
    auto match_timing = [&](const MatchRun& m) {
        std::string t = timing(m.t, n);
        t.pop_back();
        return t + fmt::format(", \"minor_faults_per_run\": [{}], \"warmup_minor_faults\": {}}}",
                               fmt::join(m.faults, ", "), m.warmup_faults);
    };
    auto e2e_timing = [&](const EndToEnd& e) {
        std::string t = timing(e.t, n);
        t.pop_back();
        return t + fmt::format(", \"warmup_minor_faults\": {}}}", e.warmup_faults);
    };
    json += fmt::format("  \"heap_reserve_mib\": {},\n  \"warmup_runs\": 1,\n", reserve.bytes() >> 20);
    json += fmt::format("  \"parse_only\": {},\n", timing(parse, docs));
    json += fmt::format(
        "  \"matcher_only_50\": {{\"interp\": {}, \"jit\": {}, \"speedup\": {:.3f}, \"detections\": "
        "{}, \"engines_agree\": {}}},\n",
        match_timing(ref_interp), match_timing(ref_jit), ref_interp.t.cpu / ref_jit.t.cpu, ref_jit.total,
        ref_agree);
    json += fmt::format(
        "  \"matcher_only_3\": {{\"interp\": {}, \"jit\": {}, \"handwritten\": {}, \"jit_vs_interp\": "
        "{:.3f}, \"jit_vs_handwritten\": {:.3f}, \"detections\": {}, \"all_agree\": {}, "
        "\"handwritten_full\": {}, \"jit_vs_handwritten_full\": {:.3f}, \"digest\": \"{:016x}\", "
        "\"handwritten_full_agrees\": {}}},\n",
        match_timing(three_interp), match_timing(three_jit), match_timing(hand_run),
        three_interp.t.cpu / three_jit.t.cpu, three_jit.t.cpu / hand_t.cpu, hand.total(), three_agree,
        match_timing(full_run), three_jit.t.cpu / full_t.cpu, digest_jit.h, full_agree);
    json += fmt::format(
        "  \"end_to_end_50\": {{\"interp\": {}, \"jit\": {}, \"jit_fraction_of_parse_only\": {:.3f}}},\n",
        e2e_timing(e2e_interp), e2e_timing(e2e_jit), parse.cpu / e2e_jit.t.cpu);
    json +=
        fmt::format("  \"end_to_end_3_jit\": {{\"timing\": {}, \"vs_handwritten_plus_parse\": {:.3f}}},\n",
                    e2e_timing(e2e_three_jit), e2e_three_jit.t.cpu / (hand_t.cpu + parse.cpu));
    json += fmt::format("  \"compile_reference_50_ms\": {:.1f},\n  \"compile_three_ms\": {:.1f},\n",
                        ref_stats.total_ms, three_stats.total_ms);
    json += "  \"compile\": [\n" + compile_json + "\n  ],\n";
    json += fmt::format("  \"peak_rss_kib\": {},\n  \"live_keys\": {}\n}}\n", rss, ref_jit.live_keys);
    if (!o.json_path.empty()) {
        std::ofstream out(o.json_path);
        out << json;
        fmt::print("wrote {}\n", o.json_path);
    }
    if (status)
        fmt::print(stderr, "etho bench: the engines or the hand-written baseline DISAGREE (see above)\n");
    return status;
}

} // namespace ethogram::bench
