// semantics_harness.h: compile .etho text, feed hand-written events to the reference interpreter.
#pragma once

#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ethogram::semantics_test {

/// A field value as written in a test: integers, strings (also enum value names), booleans, floats.
using FieldValue = std::variant<int64_t, std::string, bool, double>;

/// Compiles one rule set and runs events through a fresh interpreter. Times are seconds after a fixed
/// origin (fractions allowed). Fields not given are missing.
class Harness {
public:
    /// Compiles `text`; a compile error fails the current test (see ok()).
    explicit Harness(std::string_view text, ir::ExecutorOptions opts = {});
    ~Harness();

    bool ok() const { return rs_ != nullptr; }
    /// Appends an event of `type` for `key` at `sec` seconds; returns its seq (1, 2, ...).
    uint64_t ev(std::string_view type, std::string_view key, double sec,
                std::vector<std::pair<std::string, FieldValue>> fields = {});
    /// Runs all events (watermark to each event's time before it, +inf at the end). Emitted and
    /// suppressed detections, in output order; also checks that the oracle, where it applies
    /// (`check_oracle`), expects the same emitted detections.
    void run(bool check_oracle = true);

    const std::vector<ir::Detection>& emitted() const { return emitted_; }
    const std::vector<ir::Detection>& suppressed() const { return suppressed_; }
    const ir::ExecutorStats& stats() const { return stats_; }
    /// Detections of rule `name` only.
    std::vector<ir::Detection> of(std::string_view rule) const;
    /// The seqs bound to `alias` in `d` (empty when absent).
    static std::vector<uint64_t> seqs(const ir::Detection& d, std::string_view alias);
    /// Seconds after the origin of an event time.
    static double sec(int64_t us);
    const ir::RuleSet& rules() const { return *rs_; }
    std::string key_name(uint32_t id) const;

private:
    struct Impl;
    std::unique_ptr<ir::RuleSet> rs_;
    std::unique_ptr<Impl> impl_;
    ir::ExecutorOptions opts_;
    std::vector<ir::Event> events_;
    std::vector<ir::Detection> emitted_, suppressed_;
    ir::ExecutorStats stats_;
};

/// The header every test file's rule text starts with: a ruleset, types A, B, C (key `u`, time `ts`,
/// int `x`, optional int `o`, enum `k` (p, q, r), string `s`), and a taxonomy node `t`.
std::string prelude();

} // namespace ethogram::semantics_test
