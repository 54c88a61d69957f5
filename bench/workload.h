// workload.h: the benchmark's fixed-seed e-commerce clickstream generator (JSON Lines).
#pragma once

#include <cstdint>
#include <string>

namespace ethogram::bench {

struct WorkloadOptions {
    uint64_t events = 200000;
    uint32_t users = 20000;
    uint64_t seed = 20261129;
};

/// Users with bursts of activity (seconds apart) separated by idle gaps (20 minutes to 3 hours), and a
/// realistic mix of page_view / search / add_to_cart / purchase / help / payment events (purchases
/// mostly after something was put in the cart), in non-decreasing time order: one JSON object per
/// line, matching bench/rules/schema.etho. The same options give the same bytes on every machine.
std::string generate_workload(const WorkloadOptions& o);

} // namespace ethogram::bench
