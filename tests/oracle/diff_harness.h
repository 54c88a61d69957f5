// diff_harness.h: runs one generated case through the oracle and the reference interpreter and compares.
#pragma once

#include "tests/oracle/oracle.h"
#include "tests/oracle/random_rules.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::oracle {

/// Random cases per family in the ctest suites: sized for < 60 s in Release and < 5 min under ASan
/// (about 20x slower on these loops). ETHOGRAM_DIFF_CASES overrides it.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kDefaultCases = 1000;
#else
constexpr uint64_t kDefaultCases = 2000;
#endif

/// The unsigned integer in environment variable `name`, or `fallback` when it is unset or empty.
uint64_t env_u64(const char* name, uint64_t fallback);

/// Detections of the reference interpreter on `c` (fed per the Executor contract), as tuples in output
/// order. `error` is set when the interpreter throws.
std::vector<Tuple> interpreter_detections(const Case& c, std::string* error = nullptr);

/// Empty when oracle and interpreter agree on `c`: same multiset of detections, the same sequence per
/// (key, rule), and non-decreasing detection times per key. Otherwise a description of the difference.
std::string compare_case(const Case& c);

/// Shrinks a failing case greedily (drops events, then rules are kept) while it still fails, and returns
/// the full reproduction text: family, seed, rules, stream, expected vs actual.
std::string reproduction(Family f, uint64_t seed, const Case& failing);

} // namespace ethogram::oracle
