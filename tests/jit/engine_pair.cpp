// engine_pair.cpp: the interpreter and the JIT run side by side; their detections are compared as text.
#include "tests/jit/engine_pair.h"

#include "compiler/interp/interpreter.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

namespace ethogram::jit_test {

namespace {

struct Record : ir::DetectionSink {
    void emit(ir::Detection&& d) override { out.emplace_back(false, std::move(d)); }
    void suppressed(ir::Detection&& d) override { out.emplace_back(true, std::move(d)); }
    std::vector<std::pair<bool, ir::Detection>> out;
};

std::string value_text(const ir::Value& v) {
    uint64_t bits = 0;
    if (v.type == ir::Type::Bool)
        bits = v.b ? 1 : 0;
    else
        std::memcpy(&bits, &v.i, sizeof bits);
    return fmt::format("{}:{:x}", static_cast<int>(v.type), bits);
}

std::string stats_text(const ir::ExecutorStats& s) {
    return fmt::format("events={} keys={} partial={} drops={} det={} sup={}", s.events, s.live_keys,
                       s.partial_matches, s.overflow_drops, s.detections, s.suppressed);
}

} // namespace

std::string detection_text(const ir::Detection& d) {
    uint64_t conf = 0;
    std::memcpy(&conf, &d.confidence, sizeof conf);
    std::string s =
        fmt::format("rule={} key={} time={} first={} last={} conf={:x} id={:x} sup={} trig={}", d.rule, d.key,
                    d.time, d.first_time, d.last_time, conf, d.id, d.suppressed_by, d.trigger);
    for (const ir::Binding& b : d.bindings) {
        s += fmt::format(" [{}#{}", b.alias, b.step);
        for (const ir::BoundEvent& e : b.events)
            s += fmt::format(" {}/{}/{}/{}/{}", e.seq, e.line, e.time, e.id, e.type);
        s += "]";
    }
    s.append(" fields");
    for (const ir::Value& v : d.fields) s.append(" ").append(value_text(v));
    return s;
}

std::unique_ptr<EnginePair> EnginePair::make(const ir::RuleSet& rs, ir::StringPool& pool,
                                             const ir::ExecutorOptions& opts, std::string& error,
                                             const jit::JitOptions& jopts) {
    auto j = jit::make_jit_executor(rs, pool, opts, jopts);
    if (!j) {
        error = j.error();
        return nullptr;
    }
    auto p = std::unique_ptr<EnginePair>(new EnginePair());
    p->jit_ = std::move(*j);
    p->interp_ = interp::make_interpreter(rs, pool, opts);
    return p;
}

template <class F>
void EnginePair::both(F call, ir::DetectionSink& sink, const std::string& what) {
    Record a, b;
    call(*interp_, a);
    call(*jit_, b);
    if (mismatch_.empty()) {
        std::string ta, tb;
        for (auto& [sup, d] : a.out) ta.append(sup ? "S " : "E ").append(detection_text(d)).append("\n");
        for (auto& [sup, d] : b.out) tb.append(sup ? "S " : "E ").append(detection_text(d)).append("\n");
        ta += stats_text(interp_->stats());
        tb += stats_text(jit_->stats());
        if (ta != tb) mismatch_ = fmt::format("{}:\n interp:\n{}\n jit:\n{}", what, ta, tb);
    }
    compared_ += b.out.size();
    for (auto& [sup, d] : b.out) {
        if (sup)
            sink.suppressed(std::move(d));
        else
            sink.emit(std::move(d));
    }
}

void EnginePair::on_event(const ir::Event& e, ir::DetectionSink& sink) {
    both([&](ir::Executor& x, ir::DetectionSink& s) { x.on_event(e, s); }, sink,
         fmt::format("event seq {}", e.seq));
}

void EnginePair::advance_watermark(int64_t wm, ir::DetectionSink& sink) {
    both([&](ir::Executor& x, ir::DetectionSink& s) { x.advance_watermark(wm, s); }, sink,
         fmt::format("watermark {}", wm));
}

} // namespace ethogram::jit_test
