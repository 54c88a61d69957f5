// adversarial_workload.cpp: the bounded-state adversaries (adversarial_workload.h) over the front end and the
// reference interpreter.
#include "bench/adversarial_workload.h"

#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace ethogram::bench {

namespace {

// Counts the budget warnings (and keeps the first) while forwarding everything to the previous sinks.
class WarningCounter : public spdlog::sinks::base_sink<std::mutex> {
public:
    uint64_t count = 0;
    std::string first;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::string_view text(msg.payload.data(), msg.payload.size());
        if (text.find("state budget") == std::string_view::npos) return;
        if (count++ == 0) first = std::string(text);
    }
    void flush_() override {}
};

struct Counter : ir::DetectionSink {
    uint64_t n = 0;
    void emit(ir::Detection&&) override { ++n; }
    void suppressed(ir::Detection&&) override {}
};

} // namespace

const char* adversarial_rules() {
    return R"(ruleset adversarial version 1.0.0;
event A { key u: string; time ts: timestamp; x: int; }
event B { key u: string; time ts: timestamp; }
taxonomy { t; }
session visit { gap 30m; }
rule open_ended { label t; pattern a: A -> b: B; }
rule rising { label t; pattern a: A -> b: A where b.x > a.x + 1000000000 -> c: B within 1h; }
rule busy { label t; over last 10m; on B; when count(A) > 1000000000; }
)";
}

uint64_t peak_rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtoull(line + 6, nullptr, 10);
    std::fclose(f);
    return kb * 1024;
}

Expected<AdversarialReport> run_adversarial(const AdversarialOptions& o) {
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_source("adversarial.etho", adversarial_rules(), diags);
    if (!res.ruleset || diags.error_count() > 0) return Error{"adversarial rules: " + diags.render()};
    const ir::RuleSet& rs = *res.ruleset;
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    ir::ExecutorOptions eo;
    eo.max_state_bytes = o.max_state_bytes;
    eo.max_partial_matches = o.max_partial_matches;
    eo.max_scope_events = o.max_scope_events;
    std::unique_ptr<ir::Executor> exec = interp::make_interpreter(rs, pool, eo);

    // Tee the default logger: the warning still reaches stderr, and is counted.
    auto counter = std::make_shared<WarningCounter>();
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    std::vector<spdlog::sink_ptr> sinks(previous->sinks().begin(), previous->sinks().end());
    sinks.push_back(counter);
    auto tee = std::make_shared<spdlog::logger>("adversarial", sinks.begin(), sinks.end());
    tee->set_level(previous->level());
    spdlog::set_default_logger(tee);

    const int a = rs.find_event("A");
    const ir::EventType& et = rs.events[static_cast<size_t>(a)];
    const uint64_t keys = std::max<uint64_t>(1, o.keys);
    std::vector<uint32_t> key_ids;
    if (keys <= 1000000) // intern up front when it fits: the loop then measures the executor alone
        for (uint64_t k = 0; k < keys; ++k) key_ids.push_back(pool.intern(fmt::format("k{:08}", k)));
    const int64_t t0 = int64_t{1772409600} * ir::kMicrosPerSecond; // 2026-03-02T00:00:00Z
    AdversarialReport r;
    r.events = o.events;
    r.keys = keys;
    r.budget = o.max_state_bytes;
    Counter sink;
    ir::Event e;
    e.type = static_cast<uint16_t>(a);
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < o.events; ++i) {
        const uint64_t k = i % keys;
        e.key = k < key_ids.size() ? key_ids[k] : pool.intern(fmt::format("k{:08}", k));
        e.time = t0 + static_cast<int64_t>(i) * o.step_us;
        e.seq = i;
        e.line = i + 1;
        e.fields.assign(et.fields.size(), ir::Value::missing());
        e.fields[et.key_field] = ir::Value::string(e.key);
        e.fields[et.time_field] = ir::Value::timestamp(e.time);
        for (size_t f = 0; f < et.fields.size(); ++f)
            if (et.fields[f].name == "x") e.fields[f] = ir::Value::integer(static_cast<int64_t>(i));
        exec->advance_watermark(e.time, sink);
        exec->on_event(e, sink);
        if (o.max_state_bytes > 0) { // O(1) under a budget: the running total
            const uint64_t b = exec->stats().state_bytes;
            r.peak_accounted = std::max(r.peak_accounted, b);
            if (b > o.max_state_bytes) ++r.over_budget;
        }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const ir::ExecutorStats s = exec->stats();
    // Unbounded: no running total; no key is ever evictable here (open_ended's matches never expire), so
    // the final state is the largest.
    if (o.max_state_bytes == 0) r.peak_accounted = s.state_bytes;
    r.peak_transient = s.peak_state_bytes;
    r.final_bytes = s.state_bytes;
    r.live_keys = s.live_keys;
    r.partial_matches = s.partial_matches;
    r.overflow_drops = s.overflow_drops;
    r.budget_drops = s.budget_drops;
    r.evictions = s.evictions;
    r.detections = sink.n;
    spdlog::set_default_logger(previous);
    r.budget_warnings = counter->count;
    r.first_warning = counter->first;
    r.rss_peak_bytes = peak_rss_bytes();
    return r;
}

} // namespace ethogram::bench
