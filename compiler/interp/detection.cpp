// detection.cpp: completing detections and resolving exclusive groups.
#include "compiler/interp/detection.h"

#include <algorithm>
#include <limits>

namespace ethogram::interp {

namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

void fnv_bytes(uint64_t& h, const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= kFnvPrime;
    }
}

double confidence_of(const ir::Value& v) {
    double c = 0.0;
    if (v.type == ir::Type::Float)
        c = v.f;
    else if (v.type == ir::Type::Int)
        c = static_cast<double>(v.i);
    else if (v.type == ir::Type::Bool)
        c = v.b ? 1.0 : 0.0;
    if (!(c >= 0.0)) return 0.0; // also NaN
    return std::min(c, 1.0);
}

} // namespace

uint64_t detection_id(std::string_view rule, std::string_view key, const std::vector<ir::Binding>& bindings) {
    uint64_t h = kFnvOffset;
    fnv_bytes(h, rule.data(), rule.size());
    fnv_bytes(h, key.data(), key.size());
    for (const ir::Binding& b : bindings)
        for (const ir::BoundEvent& e : b.events) {
            unsigned char le[8];
            for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(e.seq >> (8 * i));
            fnv_bytes(h, le, sizeof le);
        }
    return h;
}

ir::BoundEvent bound_event(const StoredEvent& se) {
    ir::BoundEvent b;
    b.seq = se.ev.seq;
    b.line = se.ev.line;
    b.time = se.ev.time;
    b.id = se.ev.id;
    b.type = se.ev.type;
    return b;
}

void finish_detection(Engine& en, ir::Detection& d, const EvalContext& ctx) {
    const ir::Rule& rule = en.rs.rules[d.rule];
    int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
    for (const ir::Binding& b : d.bindings)
        for (const ir::BoundEvent& e : b.events) {
            first = std::min(first, e.time);
            last = std::max(last, e.time);
        }
    if (first > last) first = last = d.time;
    d.first_time = first;
    d.last_time = last;
    d.fields.clear();
    d.fields.reserve(rule.emits.size());
    for (const ir::Emit& em : rule.emits) d.fields.push_back(en.eval.eval(em.expr, ctx));
    d.confidence = rule.confidence == ir::kNoExpr ? 1.0 : confidence_of(en.eval.eval(rule.confidence, ctx));
    d.id = detection_id(rule.name, en.pool.view(d.key), d.bindings);
    // A pattern step that calls a model holds only with the model's evidence: its matches are decisions
    // of the model. Threshold rules set the decision they took themselves.
    if (d.decision.empty() && !rule.gate.empty()) d.decision = "model";
    if (!rule.models.empty()) d.models = en.models.scores(rule.models, en.eval.key_models());
    if (en.cov) ++en.cov->rules[d.rule].detections;
}

void resolve_batch(Engine& en, std::vector<ir::Detection>& batch, ir::DetectionSink& sink) {
    if (batch.empty()) return; // most events and timers detect nothing: no per-group tables then
    // Winner per group: index into batch.
    std::vector<int64_t> winner(en.rs.groups.size(), -1);
    for (size_t i = 0; i < batch.size(); ++i) {
        const ir::Rule& r = en.rs.rules[batch[i].rule];
        if (r.group < 0 || static_cast<size_t>(r.group) >= winner.size()) continue;
        int64_t& w = winner[static_cast<size_t>(r.group)];
        if (w < 0) {
            w = static_cast<int64_t>(i);
            continue;
        }
        const ir::Detection& cur = batch[static_cast<size_t>(w)];
        const ir::Rule& wr = en.rs.rules[cur.rule];
        if (r.priority > wr.priority || (r.priority == wr.priority && batch[i].rule < cur.rule))
            w = static_cast<int64_t>(i);
    }
    std::vector<int32_t> winner_rule(winner.size(), -1);
    for (size_t g = 0; g < winner.size(); ++g)
        if (winner[g] >= 0) winner_rule[g] = static_cast<int32_t>(batch[static_cast<size_t>(winner[g])].rule);
    for (size_t i = 0; i < batch.size(); ++i) {
        ir::Detection& d = batch[i];
        const ir::Rule& r = en.rs.rules[d.rule];
        bool grouped = r.group >= 0 && static_cast<size_t>(r.group) < winner.size();
        if (!grouped || winner[static_cast<size_t>(r.group)] == static_cast<int64_t>(i)) {
            ++en.stats.detections;
            sink.emit(std::move(d));
        } else {
            d.suppressed_by = winner_rule[static_cast<size_t>(r.group)];
            ++en.stats.suppressed;
            sink.suppressed(std::move(d));
        }
    }
    batch.clear();
}

} // namespace ethogram::interp
