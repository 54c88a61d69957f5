// handwritten.cpp: hw_search_burst, hw_cart_then_buy and hw_abandon by hand.
#include "bench/handwritten.h"

#include <stdexcept>

namespace ethogram::bench {

namespace {

constexpr int64_t kMinute = 60 * ir::kMicrosPerSecond;

uint16_t type_of(const ir::RuleSet& rs, const char* name) {
    int t = rs.find_event(name);
    if (t < 0) throw std::runtime_error(std::string("handwritten: no event type ") + name);
    return static_cast<uint16_t>(t);
}

} // namespace

HandWritten::HandWritten(const ir::RuleSet& rs)
    : search_(type_of(rs, "search")), cart_(type_of(rs, "add_to_cart")), purchase_(type_of(rs, "purchase")) {
    const auto& fields = rs.events[cart_].fields;
    while (price_slot_ < fields.size() && fields[price_slot_].name != "price") ++price_slot_;
}

void HandWritten::fire_until(int64_t t) {
    // hw_abandon: a deadline fires when the watermark passes it; a purchase before it killed it.
    while (!deadlines_.empty() && deadlines_.front().at < t) {
        const Deadline d = deadlines_.front();
        deadlines_.pop_front();
        if (keys_[d.key].abandon_gen == d.gen) ++counts_.abandon;
    }
}

void HandWritten::on_event(const ir::Event& e) {
    fire_until(e.time);
    Key& k = keys_[e.key];
    if (e.type == search_) {
        // hw_search_burst: count(search) over [t - 1m, t] >= 5, on each search, fires on false -> true.
        k.searches.push_back(e.time);
        while (k.searches.front() < e.time - kMinute) k.searches.pop_front();
        const bool now = k.searches.size() >= 5;
        if (now && !k.burst) ++counts_.search_burst;
        k.burst = now;
    } else if (e.type == cart_) {
        const ir::Value& price = e.fields[price_slot_];
        if (price.type == ir::Type::Float && price.f > 100.0) k.carts.push_back(e.time);
        deadlines_.push_back({e.time + 30 * kMinute, e.key, k.abandon_gen});
    } else if (e.type == purchase_) {
        // hw_cart_then_buy: live starts (within 10m) complete on the purchase; consumption keeps one.
        while (!k.carts.empty() && k.carts.front() + 10 * kMinute < e.time) k.carts.pop_front();
        if (!k.carts.empty()) {
            ++counts_.cart_then_buy;
            k.carts.clear();
        }
        ++k.abandon_gen;
    }
}

void HandWritten::finish() {
    fire_until(ir::kTimeInfinity);
}

} // namespace ethogram::bench
