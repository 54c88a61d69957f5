// test_schema.h: a hand-built rule set and a recording fake executor shared by the runtime tests.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "tests/support/text_lines.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ethogram::runtime::testing {

inline ir::FieldDef field(std::string name, ir::Type t, bool optional = false,
                          std::vector<std::string> enums = {}) {
    ir::FieldDef f;
    f.name = std::move(name);
    f.type = t;
    f.optional = optional;
    f.enum_values = std::move(enums);
    return f;
}

/// Two event types: `page_view` (every field type) and `purchase` (int key).
///  page_view: 0 user (key string), 1 ts (time), 2 event_id (id string?), 3 page (enum home|product|cart),
///             4 url (string), 5 price (float?), 6 logged_in (bool), 7 load_time (duration?), 8 n (int?),
///             9 seen_at (timestamp?)
///  purchase:  0 account (key int), 1 ts (time), 2 amount (float)
inline ir::RuleSet make_ruleset() {
    ir::RuleSet rs;
    rs.name = "shop.web";
    rs.version = "1.4.0";
    ir::EventType pv;
    pv.name = "page_view";
    pv.fields = {field("user", ir::Type::String),
                 field("ts", ir::Type::Timestamp),
                 field("event_id", ir::Type::String, true),
                 field("page", ir::Type::Enum, false, {"home", "product", "cart"}),
                 field("url", ir::Type::String),
                 field("price", ir::Type::Float, true),
                 field("logged_in", ir::Type::Bool),
                 field("load_time", ir::Type::Duration, true),
                 field("n", ir::Type::Int, true),
                 field("seen_at", ir::Type::Timestamp, true)};
    pv.key_field = 0;
    pv.time_field = 1;
    pv.id_field = 2;
    ir::EventType pu;
    pu.name = "purchase";
    pu.fields = {field("account", ir::Type::Int), field("ts", ir::Type::Timestamp),
                 field("amount", ir::Type::Float)};
    pu.key_field = 0;
    pu.time_field = 1;
    rs.events = {pv, pu};
    rs.taxonomy = {{"intent", -1}, {"intent.purchase", 0}, {"intent.purchase.abandonment", 1}, {"risk", -1}};
    return rs;
}

/// Records what the runtime hands it, checking the executor contract as it goes.
class FakeExecutor : public ir::Executor {
public:
    struct Call {
        bool watermark; ///< advance_watermark (else on_event)
        int64_t time;   ///< the watermark, or the event's time
        uint64_t seq;
    };
    std::vector<Call> calls;
    bool contract_ok = true;
    /// Emits one detection per event whose time is in this list (to test outputs end to end).
    std::vector<int64_t> detect_at;

    void on_event(const ir::Event& e, ir::DetectionSink& sink) override {
        // The runtime must have moved the watermark to this event's time just before.
        if (calls.empty() || !calls.back().watermark || calls.back().time != e.time) contract_ok = false;
        if (e.time < last_time_) contract_ok = false;
        last_time_ = e.time;
        calls.push_back({false, e.time, e.seq});
        for (int64_t t : detect_at) {
            if (t != e.time) continue;
            ir::Detection d;
            d.rule = 0;
            d.key = e.key;
            d.time = d.first_time = d.last_time = e.time;
            d.trigger = "event";
            d.bindings.push_back({"v", 0, {{e.seq, e.line, e.time, e.id, e.type}}});
            sink.emit(std::move(d));
        }
        ++stats_.events;
    }
    void advance_watermark(int64_t wm, ir::DetectionSink&) override {
        if (!calls.empty() && calls.back().watermark && calls.back().time == ir::kTimeInfinity)
            contract_ok = false;
        calls.push_back({true, wm, 0});
    }
    ir::ExecutorStats stats() const override { return stats_; }

private:
    int64_t last_time_ = ir::kTimeMinusInfinity;
    ir::ExecutorStats stats_;
};

/// A fresh temporary directory per test, removed at the end.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/etho_rt_XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
        return file(name);
    }

private:
    std::string path_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<std::string> lines_of(const std::string& text) {
    return test_support::split_lines(text);
}

} // namespace ethogram::runtime::testing
