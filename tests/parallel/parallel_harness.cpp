// parallel_harness.cpp: running streams through both pipelines, serialising generated events, comparing.
#include "tests/parallel/parallel_harness.h"

#include "compiler/interp/interpreter.h"
#include "runtime/json_writer.h"
#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdlib.h>

namespace ethogram::parallel_test {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The string value of member `name` in a detection line (no escapes in keys or times here).
std::string member(const std::string& line, const std::string& name) {
    const std::string pat = "\"" + name + "\":\"";
    size_t p = line.find(pat);
    if (p == std::string::npos) return {};
    p += pat.size();
    size_t q = p;
    while (q < line.size() && line[q] != '"') q += line[q] == '\\' ? 2 : 1;
    return line.substr(p, q - p);
}

std::string counts(const runtime::RunSummary& s) {
    std::string out =
        fmt::format("in={} processed={} detections={} suppressed={} filtered={} reorder_hw={}", s.lines_in,
                    s.processed, s.detections, s.suppressed, s.filtered, s.reorder_high_water);
    for (auto d : s.dead) out += fmt::format(" {}", d);
    out += fmt::format(" | exec events={} keys={} partial={} drops={} det={} sup={}", s.executor.events,
                       s.executor.live_keys, s.executor.partial_matches, s.executor.overflow_drops,
                       s.executor.detections, s.executor.suppressed);
    return out;
}

} // namespace

RunOutput run_stream(const ir::RuleSet& rs, const std::string& jsonl, const RunConfig& cfg) {
    char tmpl[] = "/tmp/etho_par_XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    { std::ofstream(dir + "/events.jsonl", std::ios::binary) << jsonl; }
    runtime::PipelineOptions o;
    o.events_path = dir + "/events.jsonl";
    o.out_path = dir + "/out.jsonl";
    o.dead_letter_path = dir + "/dead.jsonl";
    o.suppressed_path = dir + "/suppressed.jsonl";
    if (!cfg.stale_output.empty())
        for (const std::string* path : {&o.out_path, &o.dead_letter_path, &o.suppressed_path})
            std::ofstream(*path, std::ios::binary) << cfg.stale_output;
    o.allowed_lateness_us = cfg.lateness_us;
    o.print_summary = false;
    RunOutput r;
    runtime::Expected<runtime::RunSummary> s = runtime::Error{};
    if (cfg.threads <= 1) {
        ir::StringPool pool;
        ir::seed_string_pool(rs, pool);
        auto exec = interp::make_interpreter(rs, pool, cfg.exec);
        s = runtime::run_pipeline(rs, pool, *exec, o);
    } else {
        runtime::ParallelOptions po = cfg.parallel;
        po.threads = cfg.threads;
        po.ordered = cfg.ordered;
        const ir::ExecutorOptions eo = cfg.exec;
        runtime::ExecutorFactory make = [eo](const ir::RuleSet& r2, ir::StringPool& p) {
            return interp::make_interpreter(r2, p, eo);
        };
        s = runtime::run_parallel_pipeline(rs, make, o, po, &r.stats);
    }
    r.ok = s.ok();
    if (s)
        r.summary = *s;
    else
        r.error = s.error();
    r.detections = slurp(o.out_path);
    r.suppressed = slurp(o.suppressed_path);
    r.dead = slurp(o.dead_letter_path);
    std::filesystem::remove_all(dir);
    return r;
}

std::string to_jsonl(const ir::RuleSet& rs, const ir::StringPool& pool,
                     const std::vector<ir::Event>& events) {
    std::string out;
    for (const ir::Event& e : events) {
        const ir::EventType& et = rs.events[e.type];
        out += "{\"type\":";
        runtime::append_json_string(out, et.name);
        for (size_t i = 0; i < et.fields.size() && i < e.fields.size(); ++i) {
            const ir::Value& v = e.fields[i];
            if (v.is_missing()) continue;
            out += ",";
            runtime::append_json_string(out, et.fields[i].name);
            out += ":";
            switch (v.type) {
            case ir::Type::Bool: out += v.b ? "true" : "false"; break;
            case ir::Type::Int: out += fmt::format("{}", v.i); break;
            case ir::Type::Float: out += fmt::format("{}", v.f); break;
            case ir::Type::String:
                runtime::append_json_string(out, pool.view(static_cast<uint32_t>(v.i)));
                break;
            case ir::Type::Enum:
                runtime::append_json_string(out, et.fields[i].enum_values[static_cast<size_t>(v.i)]);
                break;
            case ir::Type::Timestamp:
                out += "\"";
                runtime::append_rfc3339(out, v.i);
                out += "\"";
                break;
            case ir::Type::Duration: out += fmt::format("\"{}us\"", v.i); break;
            case ir::Type::Missing: break;
            }
        }
        out += "}\n";
    }
    return out;
}

std::string by_time_then_key(const std::string& text) {
    struct L {
        int64_t time;
        std::string key, line;
    };
    std::vector<L> ls;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(start, nl - start);
        auto t = runtime::parse_rfc3339(member(line, "time"));
        ls.push_back({t ? *t : 0, member(line, "key"), line});
        start = nl + 1;
    }
    std::stable_sort(ls.begin(), ls.end(), [](const L& a, const L& b) {
        return a.time != b.time ? a.time < b.time : a.key < b.key;
    });
    std::string out;
    for (const L& l : ls) out += l.line + "\n";
    return out;
}

std::string compare_runs(const RunOutput& a, const RunOutput& b, bool exact) {
    if (!a.ok || !b.ok) return "a run failed: " + a.error + b.error;
    std::string why;
    if (counts(a.summary) != counts(b.summary))
        why += "summary differs:\n  " + counts(a.summary) + "\n  " + counts(b.summary) + "\n";
    if (a.dead != b.dead) why += "dead letters differ\n";
    if (exact ? a.detections != b.detections : sorted_lines(a.detections) != sorted_lines(b.detections))
        why += fmt::format("detections differ ({} vs {} bytes)\n", a.detections.size(), b.detections.size());
    if (exact ? a.suppressed != b.suppressed : sorted_lines(a.suppressed) != sorted_lines(b.suppressed))
        why += "suppressed detections differ\n";
    return why;
}

} // namespace ethogram::parallel_test
