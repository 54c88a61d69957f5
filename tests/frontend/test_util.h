// test_util.h: helpers shared by the front-end tests.
#pragma once

#include "compiler/driver/compile.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ethogram::test {

/// A schema and taxonomy most tests build on (three event types, a small taxonomy, one session).
inline const char* kPrelude = R"(ruleset test.rules version 1.0.0;
event page_view {
    key user_id: string;
    time ts: timestamp;
    id event_id: string?;
    page: enum(home, search, product, cart, checkout, help);
    url: string;
    sku: string?;
    price: float?;
    logged_in: bool;
}
event add_to_cart { key user_id: string; time ts: timestamp; sku: string; price: float?; qty: int; }
event purchase { key user_id: string; time ts: timestamp; amount: float; sku: string?; }
taxonomy {
    intent { purchase { high_intent; abandonment; } browsing { exploration; } }
    risk { bot; fraud { card_testing; } }
}
session web { gap 30m; max 4h; end on purchase; }
)";

struct Compiled {
    std::unique_ptr<ir::RuleSet> rs;
    std::string diags;
    size_t errors = 0;
};

/// Compiles `body` appended to the prelude (or alone with `prelude == false`).
inline Compiled compile(const std::string& body, bool prelude = true) {
    compiler::Diagnostics d;
    auto r =
        compiler::compile_source("test.etho", (prelude ? std::string(kPrelude) : std::string()) + body, d);
    return {std::move(r.ruleset), d.render(), d.error_count()};
}

} // namespace ethogram::test
