// random_exprs.h: the generator's builder: schema, random predicates, aggregates and conditions.
#pragma once

#include "compiler/ir/ir.h"

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace ethogram::oracle {

/// A small deterministic random source.
struct Rng {
    explicit Rng(uint64_t seed) : g(seed) {}
    /// Uniform in [0, n); n must be > 0.
    uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(g); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g) < p; }
    std::mt19937_64 g;
};

/// Builds one random rule set: the schema (event types A, B, C with int `x`, enum `k`, string `s` and
/// optional int `o`, in a per-type slot order), then expressions appended to `rs.exprs`.
struct Builder {
    explicit Builder(uint64_t seed) : rng(seed) {}

    void make_schema(uint16_t ntypes);
    ir::ExprId add(ir::Expr e);
    /// A random predicate for pattern step number `step` (its candidate is of `types`) reading the
    /// candidate, earlier single steps and aggregates over earlier collected steps of `rule`.
    ir::ExprId step_predicate(const ir::Rule& rule, size_t step, const std::vector<uint16_t>& types);
    /// `field <op> constant` on the current event (of one of `types`).
    ir::ExprId field_cmp_const(const std::vector<uint16_t>& types);
    /// A random threshold condition over the scope (and session attributes, trigger fields).
    ir::ExprId threshold_condition(const ir::Threshold& th);
    /// Adds 0-2 `emit` values to a finished rule: bound fields and aggregates over collected steps for
    /// patterns; scope aggregates, session attributes and trigger fields for thresholds.
    void add_emits(ir::Rule& rule);

    Rng rng;
    ir::RuleSet rs;
    std::vector<uint32_t> key_ids;    ///< rs.strings ids of the keys "k0".."k3"
    std::vector<uint32_t> string_ids; ///< rs.strings ids of the string field domain

private:
    ir::ExprId field(ir::EventRef ref, uint32_t step, std::string_view name,
                     const std::vector<uint16_t>& types);
    ir::ExprId constant_for(std::string_view name);
    ir::ExprId compare(ir::Op op, ir::ExprId a, ir::ExprId b);
    ir::Op random_cmp(std::string_view name);
    ir::ExprId combine(ir::ExprId a, ir::ExprId b);
    ir::ExprId aggregate(ir::Aggregate g);
    ir::ExprId step_atom(const ir::Rule& rule, size_t step, const std::vector<uint16_t>& types);
    ir::ExprId threshold_atom(const ir::Threshold& th);
    ir::ExprId emit_value(const ir::Rule& rule);
};

} // namespace ethogram::oracle
