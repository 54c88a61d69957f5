// handwritten_full.cpp: hw_search_burst, hw_cart_then_buy and hw_abandon by hand, with full detections.
#include "bench/handwritten_full.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace ethogram::bench {

namespace {

constexpr int64_t kMinute = 60 * ir::kMicrosPerSecond;

uint16_t type_of(const ir::RuleSet& rs, const char* name) {
    const int t = rs.find_event(name);
    if (t < 0) throw std::runtime_error(std::string("handwritten_full: no event type ") + name);
    return static_cast<uint16_t>(t);
}

/// The rule's index, name and (pattern rules) the aliases of its positive steps, which are its bindings.
auto rule_info(const ir::RuleSet& rs, const char* name, size_t positives) {
    for (uint32_t r = 0; r < rs.rules.size(); ++r) {
        const ir::Rule& rule = rs.rules[r];
        if (rule.name != name) continue;
        // What this code does not do: emitted fields, a confidence, exclusive groups, models.
        if (!rule.emits.empty() || rule.confidence != ir::kNoExpr || rule.group >= 0 || !rule.models.empty())
            break;
        std::vector<std::string> aliases;
        for (const ir::Step& s : rule.pattern.steps)
            if (s.kind == ir::StepKind::Positive) aliases.push_back(s.alias);
        // The positive steps come first: a binding's step index is then its position.
        bool leading = aliases.size() == positives;
        for (size_t i = 0; leading && i < positives; ++i)
            leading = rule.pattern.steps[i].kind == ir::StepKind::Positive;
        if (!leading) break;
        return std::make_tuple(r, rule.name, std::move(aliases));
    }
    throw std::runtime_error(std::string("handwritten_full: no rule ") + name + " as in three.etho");
}

/// 64-bit FNV-1a (the detection id: docs/semantics.md).
constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t fnv(uint64_t h, std::string_view bytes) {
    for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
    return h;
}

/// A sequence number as 8 little-endian bytes.
uint64_t fnv(uint64_t h, uint64_t seq) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((seq >> (8 * i)) & 0xff)) * kFnvPrime;
    return h;
}

ir::BoundEvent bound(const ir::Event& e) {
    ir::BoundEvent b;
    b.seq = e.seq;
    b.line = e.line;
    b.time = e.time;
    b.id = e.id;
    b.type = e.type;
    return b;
}

} // namespace

HandWrittenFull::HandWrittenFull(const ir::RuleSet& rs, const ir::StringPool& pool)
    : pool_(pool), search_(type_of(rs, "search")), cart_(type_of(rs, "add_to_cart")),
      purchase_(type_of(rs, "purchase")) {
    const auto& fields = rs.events[cart_].fields;
    while (price_slot_ < fields.size() && fields[price_slot_].name != "price") ++price_slot_;
    std::tie(burst_rule_.index, burst_rule_.name, burst_rule_.aliases) = rule_info(rs, "hw_search_burst", 0);
    std::tie(buy_rule_.index, buy_rule_.name, buy_rule_.aliases) = rule_info(rs, "hw_cart_then_buy", 2);
    std::tie(abandon_rule_.index, abandon_rule_.name, abandon_rule_.aliases) = rule_info(rs, "hw_abandon", 1);
    const ir::ExecutorOptions defaults;
    max_matches_ = defaults.max_partial_matches;
    max_scope_ = defaults.max_scope_events;
}

ir::Binding& HandWrittenFull::binding(size_t i, const std::string& alias, uint32_t step) {
    ir::Binding& b = scratch_.bindings[i];
    b.alias = alias;
    b.step = step;
    b.events.clear();
    return b;
}

void HandWrittenFull::emit(const RuleInfo& r, uint32_t key, int64_t time, const char* trigger,
                           ir::DetectionSink& sink) {
    ir::Detection& d = scratch_;
    d.rule = r.index;
    d.key = key;
    d.time = time;
    d.trigger = trigger;
    // The times of the bound events, and the id over the rule, the key and their sequence numbers.
    uint64_t h = fnv(fnv(kFnvOffset, r.name), pool_.view(key));
    d.first_time = INT64_MAX;
    d.last_time = INT64_MIN;
    for (const ir::Binding& b : d.bindings)
        for (const ir::BoundEvent& e : b.events) {
            d.first_time = std::min(d.first_time, e.time);
            d.last_time = std::max(d.last_time, e.time);
            h = fnv(h, e.seq);
        }
    d.id = h;
    d.confidence = 1.0;
    d.fields.clear();
    d.suppressed_by = -1;
    d.decision.clear();
    d.models.clear();
    sink.emit(std::move(d));
}

void HandWrittenFull::fire_absences(uint32_t key, int64_t at, ir::DetectionSink& sink) {
    auto it = keys_.find(key);
    if (it == keys_.end()) return;
    // A purchase emptied `pending` since its deadline was set: nothing is left to fire then.
    Fifo<ir::BoundEvent>& pending = it->second.pending;
    while (!pending.empty() && pending.front().time + 30 * kMinute <= at) {
        scratch_.bindings.resize(1);
        binding(0, abandon_rule_.aliases[0], 0).events.push_back(pending.front());
        pending.pop_front();
        emit(abandon_rule_, key, at, "absence", sink);
    }
}

void HandWrittenFull::fire_until(int64_t t, ir::DetectionSink& sink) {
    // hw_abandon: a deadline fires once the watermark is past it. The keys of one deadline fire in key
    // order (the executors' timer order); each key's carts in arrival order.
    while (!deadlines_.empty() && deadlines_.front().at < t) {
        const int64_t at = deadlines_.front().at;
        due_keys_.clear();
        while (!deadlines_.empty() && deadlines_.front().at == at) {
            due_keys_.push_back(deadlines_.front().key);
            deadlines_.pop_front();
        }
        if (due_keys_.size() > 1) {
            std::sort(due_keys_.begin(), due_keys_.end());
            due_keys_.erase(std::unique(due_keys_.begin(), due_keys_.end()), due_keys_.end());
        }
        for (uint32_t key : due_keys_) fire_absences(key, at, sink);
    }
}

void HandWrittenFull::on_event(const ir::Event& e, ir::DetectionSink& sink) {
    Key& k = keys_[e.key];
    const ir::BoundEvent be = bound(e);

    // hw_search_burst's scope: every event of the key in [t - 1m, t] (at most max_scope_ of them).
    auto drop_oldest = [&] {
        if (k.recent.front().type == search_) --k.searches;
        k.recent.pop_front();
    };
    if (!k.recent.empty() && k.recent.size() >= max_scope_) drop_oldest();
    if (max_scope_ > 0) {
        k.recent.push_back(be);
        if (e.type == search_) ++k.searches;
    }
    while (!k.recent.empty() && k.recent.front().time < e.time - kMinute) drop_oldest();

    if (e.type == search_) {
        // hw_search_burst: count(search) >= 5, evaluated on each search, fires on false -> true. It binds
        // the trigger and the whole scope.
        const bool now = k.searches >= 5;
        if (now && !k.burst) {
            scratch_.bindings.resize(2);
            binding(0, "trigger", UINT32_MAX).events.push_back(be);
            binding(1, "scope", UINT32_MAX).events.assign(k.recent.begin(), k.recent.end());
            emit(burst_rule_, e.key, e.time, "event", sink);
        }
        k.burst = now;
    } else if (e.type == cart_) {
        // hw_cart_then_buy starts on an expensive cart; the ones older than 10m have expired. Past the cap,
        // the oldest start is dropped (as the executors do).
        while (!k.carts.empty() && k.carts.front().time + 10 * kMinute < e.time) k.carts.pop_front();
        const ir::Value& price = e.fields[price_slot_];
        if (price.type == ir::Type::Float && price.f > 100.0 && max_matches_ > 0) {
            if (k.carts.size() >= max_matches_) k.carts.pop_front();
            k.carts.push_back(be);
        }
        // hw_abandon: every cart waits 30m for a purchase.
        if (max_matches_ > 0) {
            if (k.pending.size() >= max_matches_) k.pending.pop_front();
            k.pending.push_back(be);
            deadlines_.push_back({e.time + 30 * kMinute, e.key});
        }
    } else if (e.type == purchase_) {
        // hw_cart_then_buy: every live start completes on the purchase; consumption emits the earliest and
        // discards the others.
        while (!k.carts.empty() && k.carts.front().time + 10 * kMinute < e.time) k.carts.pop_front();
        if (!k.carts.empty()) {
            scratch_.bindings.resize(2);
            binding(0, buy_rule_.aliases[0], 0).events.push_back(k.carts.front());
            binding(1, buy_rule_.aliases[1], 1).events.push_back(be);
            k.carts.clear();
            emit(buy_rule_, e.key, e.time, "event", sink);
        }
        // hw_abandon: the purchase kills every waiting cart of the key.
        k.pending.clear();
    }
}

} // namespace ethogram::bench
