// oracle_pattern.h: the oracle's sequence-pattern matcher for one (rule, key): a plain list of partials.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "tests/oracle/oracle.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace ethogram::oracle {

/// Partial matches of one pattern rule for one key, advanced exactly as docs/semantics.md §4 states.
class PatternOracle {
public:
    PatternOracle(const ir::RuleSet& rs, uint32_t rule, uint32_t key, uint32_t cap)
        : rs_(&rs), rule_(rule), key_(key), cap_(cap) {}

    /// Offers event `e` (every timer with a deadline < e.time has already fired).
    void on_event(const ir::Event& e, std::vector<Tuple>& out);
    /// Earliest pending timer: a window end of a live partial or the deadline of a waiting absence.
    std::optional<int64_t> next_deadline() const;
    /// Fires every timer of this rule and key with deadline `d` (the earliest pending one).
    void fire(int64_t d, std::vector<Tuple>& out);

private:
    struct Partial {
        std::vector<std::vector<const ir::Event*>> bound; ///< per step index (negations stay empty)
        uint32_t pos = 0;                                 ///< current positive step
        const ir::Event* last = nullptr;                  ///< the most recently bound event
        bool waiting = false;                             ///< positive part done, trailing absence pending
        bool completed = false;
        bool dead = false;
        int64_t deadline = 0; ///< waiting: the absence deadline
        const ir::Event* first() const { return bound[0].front(); }
    };

    const ir::Pattern& pat() const { return rs_->rules[rule_].pattern; }
    int next_positive(uint32_t i) const;
    int last_positive() const;
    bool step_accepts(const Partial& p, uint32_t step, const ir::Event& e) const;
    bool try_bind(Partial& p, const ir::Event& e) const;
    bool kills(const Partial& p, const ir::Event& e) const;
    void after_bind(Partial& p, const ir::Event& e) const;
    void resolve(int64_t time, const char* trigger, std::vector<Tuple>& out);
    Tuple detection(const Partial& p, int64_t time, const char* trigger) const;

    const ir::RuleSet* rs_;
    uint32_t rule_;
    uint32_t key_;
    uint32_t cap_;                  ///< max_partial_matches
    std::vector<Partial> partials_; ///< in creation order (= order of first event)
};

} // namespace ethogram::oracle
