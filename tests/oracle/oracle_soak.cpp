// oracle_soak.cpp: runs the differential comparison on fresh random cases until a time limit.
// Usage: oracle_soak SECONDS [BASE_SEED]. Exit status 1 when any case disagreed.
#include "tests/oracle/diff_harness.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

int main(int argc, char** argv) {
    using namespace ethogram::oracle;
    if (argc < 2) {
        std::cerr << "usage: oracle_soak SECONDS [BASE_SEED]\n";
        return 2;
    }
    const double limit = std::atof(argv[1]);
    const uint64_t base = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : std::random_device{}();
    std::cout << "oracle_soak: base seed " << base << ", " << limit << " s\n";
    const auto start = std::chrono::steady_clock::now();
    const auto families = all_families();
    uint64_t cases = 0, failures = 0;
    for (uint64_t i = 0;; ++i) {
        std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        if (elapsed.count() >= limit) break;
        Family f = families[i % families.size()];
        uint64_t seed = base * 7919ULL + i;
        Case c = generate_case(f, seed);
        ++cases;
        if (compare_case(c).empty()) continue;
        if (++failures <= 5) std::cout << reproduction(f, seed, c) << "\n";
    }
    std::cout << "oracle_soak: " << cases << " cases, " << failures << " mismatches\n";
    return failures ? 1 : 0;
}
