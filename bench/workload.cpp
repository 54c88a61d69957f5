// workload.cpp: the clickstream simulation: a heap of (next event time, user), one step per event.
#include "bench/workload.h"

#include <fmt/format.h>

#include <array>
#include <queue>
#include <vector>

namespace ethogram::bench {

namespace {

/// splitmix64: portable and deterministic (std distributions are not the same across libraries).
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    uint64_t below(uint64_t n) { return next() % n; }
    bool chance(double p) { return unit() < p; }
};

struct User {
    uint32_t cart = 0; ///< items in the cart
    uint32_t sku = 0;  ///< the product last looked at
    double price = 0;  ///< its price
    bool logged_in = false;
};

constexpr std::array<const char*, 7> kPages = {"home", "search",   "category", "product",
                                               "cart", "checkout", "help"};
constexpr std::array<const char*, 12> kQueries = {"shoes",      "red dress",  "laptop bag", "usb cable",
                                                  "desk lamp",  "coffee",     "running",    "gift",
                                                  "phone case", "headphones", "backpack",   "kettle"};
constexpr std::array<const char*, 4> kTopics = {"shipping", "returns", "payment", "account"};
constexpr std::array<const char*, 5> kMethods = {"card", "wallet", "bank", "card-visa", "wallet-x"};
constexpr uint32_t kProducts = 500;

double product_price(uint32_t sku) {
    // A fixed price per product, 5 to 400.
    return 5.0 + static_cast<double>((sku * 2654435761u) % 39500u) / 100.0;
}

} // namespace

std::string generate_workload(const WorkloadOptions& o) {
    Rng rng{o.seed};
    const int64_t t0 = 1'800'000'000'000LL; // ms since the epoch
    std::vector<User> users(o.users);
    using Slot = std::pair<int64_t, uint32_t>;
    std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> next;
    for (uint32_t u = 0; u < o.users; ++u) next.emplace(t0 + static_cast<int64_t>(rng.below(3'600'000)), u);
    std::string out;
    out.reserve(o.events * 150);
    uint64_t orders = 0;
    for (uint64_t i = 0; i < o.events && !next.empty(); ++i) {
        auto [t, u] = next.top();
        next.pop();
        User& us = users[u];
        const std::string user = fmt::format("u{:06d}", u);
        const double r = rng.unit();
        // The mix: purchases follow a non-empty cart; help and payments are rarer.
        if (us.cart > 0 && r < 0.12) {
            ++orders;
            const double total = us.price * us.cart + 4.99;
            fmt::format_to(
                std::back_inserter(out),
                R"({{"type":"purchase","ts":{},"user_id":"{}","order_id":"o{}","total":{:.2f},"items":{}}})"
                "\n",
                t, user, orders, total, us.cart);
            us.cart = 0;
        } else if (r < 0.58) {
            const char* page = kPages[rng.below(kPages.size())];
            if (rng.chance(0.45)) page = "product";
            if (page[0] == 'p') {
                // Popular products more often: the smaller of two uniform draws.
                us.sku = static_cast<uint32_t>(std::min(rng.below(kProducts), rng.below(kProducts)));
                us.price = product_price(us.sku);
                fmt::format_to(
                    std::back_inserter(out),
                    R"({{"type":"page_view","ts":{},"user_id":"{}","page":"product","url":"/p/sku-{:04d}","sku":"SKU-{:04d}","price":{:.2f},"logged_in":{}}})"
                    "\n",
                    t, user, us.sku, us.sku, us.price, us.logged_in);
            } else {
                fmt::format_to(
                    std::back_inserter(out),
                    R"({{"type":"page_view","ts":{},"user_id":"{}","page":"{}","url":"/{}","logged_in":{}}})"
                    "\n",
                    t, user, page, page, us.logged_in);
            }
            if (rng.chance(0.02)) us.logged_in = !us.logged_in;
        } else if (r < 0.76) {
            const int64_t results = rng.chance(0.3) ? 0 : static_cast<int64_t>(1 + rng.below(50));
            fmt::format_to(std::back_inserter(out),
                           R"({{"type":"search","ts":{},"user_id":"{}","query":"{}","results":{}}})"
                           "\n",
                           t, user, kQueries[rng.below(kQueries.size())], results);
        } else if (r < 0.90) {
            if (us.price == 0) {
                us.sku = static_cast<uint32_t>(rng.below(kProducts));
                us.price = product_price(us.sku);
            }
            const uint64_t qty = 1 + (rng.chance(0.2) ? rng.below(3) : 0);
            us.cart += static_cast<uint32_t>(qty);
            fmt::format_to(
                std::back_inserter(out),
                R"({{"type":"add_to_cart","ts":{},"user_id":"{}","sku":"SKU-{:04d}","price":{:.2f},"qty":{}}})"
                "\n",
                t, user, us.sku, us.price, qty);
        } else if (r < 0.95) {
            fmt::format_to(std::back_inserter(out),
                           R"({{"type":"help","ts":{},"user_id":"{}","topic":"{}"}})"
                           "\n",
                           t, user, kTopics[rng.below(kTopics.size())]);
        } else {
            const double amount = 1.0 + static_cast<double>(rng.below(50000)) / 100.0;
            fmt::format_to(
                std::back_inserter(out),
                R"({{"type":"payment","ts":{},"user_id":"{}","amount":{:.2f},"status":"{}","method":"{}"}})"
                "\n",
                t, user, amount, rng.chance(0.2) ? "failed" : "success",
                kMethods[rng.below(kMethods.size())]);
        }
        // Next event: seconds later within a burst; 6% of the time the burst ends with an idle gap.
        int64_t gap = rng.chance(0.06) ? static_cast<int64_t>(20 * 60'000 + rng.below(160 * 60'000))
                                       : static_cast<int64_t>(200 + rng.below(15'000));
        next.emplace(t + gap, u);
    }
    return out;
}

} // namespace ethogram::bench
