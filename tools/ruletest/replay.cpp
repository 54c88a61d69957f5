// replay.cpp: the in-memory run: the loop of runtime/pipeline.cpp over a vector of lines, with a sink
// that keeps what it formats.
#include "tools/ruletest/replay.h"

#include "compiler/interp/interpreter.h"
#include "runtime/decoder.h"
#include "runtime/output.h"
#include "runtime/reorder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <unordered_map>

namespace ethogram::ruletest {

namespace {

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Deterministic 64-bit generator (splitmix64): the same jitter on every platform for one seed.
class SplitMix {
public:
    explicit SplitMix(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform in [-d, d].
    int64_t symmetric(int64_t d) {
        if (d <= 0) return 0;
        const auto span = static_cast<uint64_t>(d) * 2 + 1;
        return static_cast<int64_t>(next() % span) - d;
    }

private:
    uint64_t s_;
};

JsonScalar scalar_of(simdjson::dom::element v) {
    JsonScalar s;
    s.text = simdjson::minify(v);
    switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE: s.kind = JsonScalar::Null; break;
    case simdjson::dom::element_type::BOOL:
        s.kind = JsonScalar::Bool;
        s.b = bool(v);
        break;
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
        s.kind = JsonScalar::Number;
        s.num = double(v);
        break;
    case simdjson::dom::element_type::STRING:
        s.kind = JsonScalar::String;
        s.str = std::string(std::string_view(v));
        break;
    default: s.kind = JsonScalar::Other; break;
    }
    return s;
}

// Keeps every detection: formatted as `etho run` formats it, and the fields read back from that text so
// that expectations compare against exactly what users see.
class Collector : public ir::DetectionSink {
public:
    Collector(const ir::RuleSet& rs, const ir::StringPool& pool, uint32_t max_events, bool explain,
              ReplayResult& out)
        : rs_(rs), pool_(pool), out_(out), explain_(explain) {
        plain_.max_events_per_alias = max_events;
        explained_ = plain_;
        explained_.explain = true;
    }
    void emit(ir::Detection&& d) override { keep(d, false); }
    void suppressed(ir::Detection&& d) override { keep(d, true); }

private:
    void keep(const ir::Detection& d, bool suppressed) {
        ReplayDetection r;
        r.rule = d.rule;
        const ir::Rule& rule = rs_.rules[d.rule];
        r.rule_name = rule.name;
        r.behaviour = rule.label < rs_.taxonomy.size() ? rs_.taxonomy[rule.label].path : "";
        r.key = d.key < pool_.size() ? std::string(pool_.view(d.key)) : "";
        r.trigger = d.trigger;
        r.time = d.time;
        r.first = d.first_time;
        r.last = d.last_time;
        r.suppressed = suppressed;
        for (const ir::Binding& b : d.bindings) {
            std::vector<uint64_t> lines;
            for (const ir::BoundEvent& e : b.events) lines.push_back(e.line);
            r.events.emplace_back(b.alias, std::move(lines));
        }
        runtime::format_detection(d, rs_, pool_, plain_, r.json);
        if (explain_) runtime::format_detection(d, rs_, pool_, explained_, r.explain);
        simdjson::dom::element doc;
        if (parser_.parse(r.json).get(doc) == simdjson::SUCCESS) {
            simdjson::dom::object fields;
            if (doc["fields"].get_object().get(fields) == simdjson::SUCCESS)
                for (auto kv : fields) r.fields.emplace_back(std::string(kv.key), scalar_of(kv.value));
        }
        out_.detections.push_back(std::move(r));
    }

    const ir::RuleSet& rs_;
    const ir::StringPool& pool_;
    ReplayResult& out_;
    runtime::OutputOptions plain_, explained_;
    simdjson::dom::parser parser_;
    bool explain_;
};

} // namespace

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        pos = nl + 1;
    }
    return lines;
}

// Jitter: a new time for every decodable line. Each key's events are taken in their time order (not
// their arrival order: a stream may deliver a key's events slightly out of order), moved by up to
// `jitter_us`, and raised to the previous moved time so that the key's order is the same after. A
// separate pool and decoder are used so that the real run interns strings exactly as `etho run` does.
std::unordered_map<size_t, int64_t>
jittered_times(const ir::RuleSet& rs, const std::vector<std::string>& lines, const ReplayOptions& opts) {
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    runtime::Decoder decoder(rs, pool, runtime::DecoderOptions{opts.type_field, opts.epoch_unit});
    struct Item {
        uint32_t key;
        int64_t time;
        size_t line;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < lines.size(); ++i) {
        ir::Event ev;
        if (is_blank(lines[i]) || !decoder.decode(lines[i], i + 1, ev)) continue;
        items.push_back({ev.key, ev.time, i});
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return a.key != b.key ? a.key < b.key : a.time < b.time;
    });
    SplitMix rng(opts.jitter_seed);
    std::unordered_map<size_t, int64_t> out;
    for (size_t i = 0; i < items.size(); ++i) {
        int64_t t = items[i].time + rng.symmetric(opts.jitter_us);
        if (i > 0 && items[i - 1].key == items[i].key) t = std::max(t, out[items[i - 1].line]);
        out[items[i].line] = t;
    }
    return out;
}

ReplayResult replay(const ir::RuleSet& rs, const std::vector<std::string>& lines, const ReplayOptions& opts) {
    ReplayResult res;
    ir::StringPool pool;
    ir::seed_string_pool(rs, pool);
    std::unique_ptr<ir::Executor> exec = interp::make_interpreter(rs, pool, opts.exec, opts.coverage);
    runtime::Decoder decoder(rs, pool, runtime::DecoderOptions{opts.type_field, opts.epoch_unit});
    runtime::ReorderBuffer reorder(opts.allowed_lateness_us);
    Collector sink(rs, pool, opts.max_events_per_alias, opts.explain, res);
    const std::unordered_map<size_t, int64_t> moved =
        opts.jitter_us > 0 ? jittered_times(rs, lines, opts) : std::unordered_map<size_t, int64_t>{};

    std::vector<ir::Event> ready;
    auto drive = [&] {
        for (const ir::Event& e : ready) {
            exec->advance_watermark(e.time, sink);
            exec->on_event(e, sink);
            ++res.processed;
        }
        ready.clear();
    };
    uint64_t seq = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (is_blank(lines[i])) continue;
        const uint64_t line_no = i + 1;
        ir::Event ev;
        if (!decoder.decode(lines[i], line_no, ev)) {
            res.dead.push_back({line_no, std::string(runtime::dead_reason_code(decoder.error().reason)),
                                decoder.error().detail});
            continue;
        }
        if (auto it = moved.find(i); it != moved.end()) {
            const int64_t t = it->second;
            ev.time = t;
            const ir::EventType& et = rs.events[ev.type];
            if (et.time_field < ev.fields.size()) ev.fields[et.time_field] = ir::Value::timestamp(t);
        }
        ev.seq = seq++;
        const int64_t t = ev.time;
        if (!reorder.push(std::move(ev))) {
            res.dead.push_back(
                {line_no, "late",
                 fmt::format("event time {} is before the watermark {} (allowed lateness {})",
                             runtime::format_rfc3339(t), runtime::format_rfc3339(reorder.watermark()),
                             runtime::format_duration(opts.allowed_lateness_us))});
            continue;
        }
        reorder.pop_ready(ready);
        drive();
    }
    reorder.drain(ready);
    drive();
    exec->advance_watermark(ir::kTimeInfinity, sink);
    return res;
}

std::string detection_identity(const ReplayDetection& d) {
    std::string id = d.rule_name + "|" + d.key;
    for (const auto& [alias, lines] : d.events) {
        id += "|" + alias + ":";
        // A set: the order in which a step collected simultaneous events does not make another detection.
        std::vector<uint64_t> sorted = lines;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < sorted.size(); ++i) {
            id += i ? "," : "";
            id += std::to_string(sorted[i]);
        }
    }
    return id;
}

} // namespace ethogram::ruletest
