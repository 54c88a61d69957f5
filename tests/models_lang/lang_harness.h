// lang_harness.h: small models written with the models library, and a compile-and-run harness for rules
// that call them (tests/models_lang).
#pragma once

#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ethogram::models_lang_test {

/// A fresh temporary directory (removed by the test's TearDown or left in /tmp on failure).
std::string make_temp_dir(const std::string& tag);

/// Order-1 chain, D = 0.75, vocabulary {<unk>, a, b}, trained on the one sequence `a a a`. By hand:
///   P(a|<s>) = 13/16, P(b|<s>) = P(unk|<s>) = 3/32;  P(a|a) = 29/32, P(b|a) = P(unk|a) = 3/64;
///   P(a|b) = 3/4, P(b|b) = P(unk|b) = 1/8 (b never was a context: the continuation unigram).
std::string write_markov(const std::string& dir, const std::string& name = "chain.etm");

/// Two states, vocabulary {<unk>, x, y}: pi = (1/2, 1/2), A = ((0.9, 0.1), (0.2, 0.8)),
/// B = ((0.1, 0.8, 0.1), (0.1, 0.1, 0.8)).
std::string write_hmm(const std::string& dir, const std::string& name = "hmm.etm");

/// Classes bot, human (priors 1/2 each); bot's chain is write_markov's (trained on `a a a`), human's is
/// trained on `b b b` (the mirror image), vocabulary {<unk>, a, b}.
std::string write_classifier(const std::string& dir, const std::string& name = "cls.etm");

/// The BLAKE2b-256 of a file, as a rule set pins it: "blake2b:<hex>".
std::string file_hash(const std::string& path);

/// Types A and B (key `u`, time `ts`, optional string `s`, int `x`; A also has enum `k` (a, b, c)), a
/// taxonomy node `t`, a session `v` with a 10-minute gap.
std::string prelude();

/// Compiles one rule set and runs events through the interpreter.
class RuleRun {
public:
    explicit RuleRun(std::string_view text);
    ~RuleRun();
    bool ok() const { return rs_ != nullptr; }
    const std::string& diagnostics() const { return diags_; }
    /// An event at `sec` seconds; `s` empty = missing; `k` = enum value name (empty: `a`).
    void ev(std::string_view type, std::string_view key, double sec, std::string_view s, int64_t x = 0,
            std::string_view k = "");
    void finish();
    /// Advances the watermark to `sec` seconds (fires timers, evicts idle keys) without an event.
    void watermark(double sec);
    ir::ExecutorStats stats() const;
    const std::vector<ir::Detection>& out() const { return out_; }
    std::vector<ir::Detection> of(std::string_view rule) const;
    /// Emitted field `name` of `d` as a double (Float or Int), NaN when missing.
    double num(const ir::Detection& d, std::string_view name) const;
    /// Emitted string field, "<missing>" when missing.
    std::string str(const ir::Detection& d, std::string_view name) const;
    const ir::RuleSet& rules() const { return *rs_; }
    const ir::StringPool& pool() const;

private:
    struct Impl;
    std::unique_ptr<ir::RuleSet> rs_;
    std::unique_ptr<Impl> impl_;
    std::string diags_;
    std::vector<ir::Detection> out_;
};

} // namespace ethogram::models_lang_test
