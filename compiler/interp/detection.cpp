// detection.cpp: completing detections and resolving exclusive groups.
#include "compiler/interp/detection.h"

#include <algorithm>
#include <array>
#include <limits>

namespace ethogram::interp {

namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

void fnv_bytes(uint64_t& h, const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t i = 0;
    // Four bytes a step (a key is often ten or more): the same value with a quarter of the loop's tests.
    for (; i + 4 <= n; i += 4) {
        h = (h ^ p[i]) * kFnvPrime;
        h = (h ^ p[i + 1]) * kFnvPrime;
        h = (h ^ p[i + 2]) * kFnvPrime;
        h = (h ^ p[i + 3]) * kFnvPrime;
    }
    for (; i < n; ++i) {
        h ^= p[i];
        h *= kFnvPrime;
    }
}

/// kFnvPrime to the powers 0 .. 8 (mod 2^64).
constexpr std::array<uint64_t, 9> kPrimePow = [] {
    std::array<uint64_t, 9> p{};
    p[0] = 1;
    for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * kFnvPrime;
    return p;
}();

/// FNV-1a over the 8 little-endian bytes of `v`, the byte-wise value: once the remaining (high) bytes are
/// all zero, each step is `h = (h ^ 0) * prime`, so the rest is one multiplication by the prime's power
/// (sequence numbers rarely fill more than three bytes).
inline uint64_t fnv_u64(uint64_t h, uint64_t v) {
    if (v < (uint64_t{1} << 24)) {
        // The common case without a test per byte: three bytes, a zero one too (h ^ 0 = h), then the five
        // zero high bytes as one multiplication.
        h = (h ^ (v & 0xff)) * kFnvPrime;
        h = (h ^ ((v >> 8) & 0xff)) * kFnvPrime;
        h = (h ^ (v >> 16)) * kFnvPrime;
        return h * kPrimePow[5];
    }
    for (int i = 0; i < 8; ++i) {
        if (v == 0) return h * kPrimePow[static_cast<size_t>(8 - i)];
        h ^= v & 0xff;
        h *= kFnvPrime;
        v >>= 8;
    }
    return h;
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
    // The definition, byte by byte (finish_detection computes the same value faster).
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

uint64_t detection_id_seed(std::string_view rule) {
    uint64_t h = kFnvOffset;
    fnv_bytes(h, rule.data(), rule.size());
    return h;
}

void finish_detection(Engine& en, ir::Detection& d, const EvalContext& ctx) {
    const ir::Rule& rule = en.rs.rules[d.rule];
    // One pass over the bound events: their first and last time, and the id (detection_id's value).
    int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
    const std::string_view key = en.pool.view(d.key);
    uint64_t h = en.id_seed[d.rule];
    fnv_bytes(h, key.data(), key.size());
    for (const ir::Binding& b : d.bindings)
        for (const ir::BoundEvent& e : b.events) {
            first = std::min(first, e.time);
            last = std::max(last, e.time);
            h = fnv_u64(h, e.seq);
        }
    d.id = h;
    if (first > last) first = last = d.time;
    d.first_time = first;
    d.last_time = last;
    // A reused record (new_detection) has its rule's number of fields already: they are overwritten.
    if (d.fields.size() != rule.emits.size()) d.fields.resize(rule.emits.size());
    ir::Value* out = d.fields.data();
    for (const ir::Emit& em : rule.emits) *out++ = en.eval.eval(em.expr, ctx);
    d.confidence = rule.confidence == ir::kNoExpr ? 1.0 : confidence_of(en.eval.eval(rule.confidence, ctx));
    // A pattern step that calls a model holds only with the model's evidence: its matches are decisions
    // of the model. Threshold rules set the decision they took themselves.
    if (d.decision.empty() && !rule.gate.empty()) d.decision = "model";
    if (!rule.models.empty()) d.models = en.models.scores(rule.models, en.eval.key_models());
    if (en.cov) ++en.cov->rules[d.rule].detections;
}

ir::Detection& new_detection(Engine& en, uint32_t rule, DetectionBatch& batch) {
    Engine::SpareDetections& spare = en.spare[rule];
    if (spare.used == spare.dets.size()) spare.dets.push_back(std::make_unique<ir::Detection>());
    ir::Detection& d = *spare.dets[spare.used++];
    d.rule = rule;
    d.suppressed_by = -1;
    d.decision.clear();
    d.models.clear();
    batch.push_back(&d);
    return d;
}

namespace {

/// An event vector beyond this many bound events (a large threshold scope) is freed once the sink is done
/// with its detection, so that the records never hold much more than a few detections' worth.
constexpr size_t kMaxSpareEvents = 1024;

/// Makes the rule's records free again for new_detection once the sink is done with them. The sink may have
/// moved from a record (then its vectors and strings are empty, and the next detection allocates again).
void recycle(Engine& en, uint32_t rule, ir::Detection& d) {
    en.spare[rule].used = 0;
    for (ir::Binding& b : d.bindings)
        if (b.events.capacity() > kMaxSpareEvents) std::vector<ir::BoundEvent>().swap(b.events);
}

void deliver(Engine& en, ir::Detection& d, ir::DetectionSink& sink) {
    const uint32_t rule = d.rule; // read before the sink may change it
    ++en.stats.detections;
    sink.emit(std::move(d));
    recycle(en, rule, d);
}

} // namespace

void resolve_batch(Engine& en, DetectionBatch& batch, ir::DetectionSink& sink) {
    if (batch.empty()) return; // most events and timers detect nothing: no per-group tables then
    // One detection, or no exclusive groups: every detection wins its group, in production order.
    if (batch.size() == 1 || en.rs.groups.empty()) {
        for (ir::Detection* d : batch) deliver(en, *d, sink);
        batch.clear();
        return;
    }
    // Winner per group: index into batch.
    std::vector<int64_t>& winner = en.group_winner;
    winner.assign(en.rs.groups.size(), -1);
    for (size_t i = 0; i < batch.size(); ++i) {
        const ir::Rule& r = en.rs.rules[batch[i]->rule];
        if (r.group < 0 || static_cast<size_t>(r.group) >= winner.size()) continue;
        int64_t& w = winner[static_cast<size_t>(r.group)];
        if (w < 0) {
            w = static_cast<int64_t>(i);
            continue;
        }
        const ir::Detection& cur = *batch[static_cast<size_t>(w)];
        const ir::Rule& wr = en.rs.rules[cur.rule];
        if (r.priority > wr.priority || (r.priority == wr.priority && batch[i]->rule < cur.rule))
            w = static_cast<int64_t>(i);
    }
    // The winners' rules, read before any detection is handed over (the sink may move from it).
    std::vector<int32_t>& winner_rule = en.group_winner_rule;
    winner_rule.assign(winner.size(), -1);
    for (size_t g = 0; g < winner.size(); ++g)
        if (winner[g] >= 0)
            winner_rule[g] = static_cast<int32_t>(batch[static_cast<size_t>(winner[g])]->rule);
    for (size_t i = 0; i < batch.size(); ++i) {
        ir::Detection& d = *batch[i];
        const ir::Rule& r = en.rs.rules[d.rule];
        bool grouped = r.group >= 0 && static_cast<size_t>(r.group) < winner.size();
        if (!grouped || winner[static_cast<size_t>(r.group)] == static_cast<int64_t>(i)) {
            deliver(en, d, sink);
        } else {
            const uint32_t rule = d.rule;
            d.suppressed_by = winner_rule[static_cast<size_t>(r.group)];
            ++en.stats.suppressed;
            sink.suppressed(std::move(d));
            recycle(en, rule, d);
        }
    }
    batch.clear();
}

} // namespace ethogram::interp
