// embed_fixtures.h: what the tests of the embedding API share (tests/embed): a small shop rule set in a
// few variants, the examples' folders and event lines, and engines made from them, through the public
// API (libethogram) only. Header-only; the test target defines ETHOGRAM_SOURCE_DIR.
#pragma once

#include <ethogram/engine.h>
#include <ethogram/ethogram.h>

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#ifndef ETHOGRAM_SOURCE_DIR
#error "ETHOGRAM_SOURCE_DIR must be defined"
#endif

namespace ethogram::test_support {

/// examples/<name> in the source tree.
inline std::string example_dir(const std::string& name) {
    return std::string(ETHOGRAM_SOURCE_DIR) + "/examples/" + name;
}

/// Every line of a file, blank ones included (empty when it cannot be read: a test failure).
inline std::vector<std::string> file_lines(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

/// The allowed lateness the examples run with (their config.yaml; tests/embed/check_embed.py).
constexpr int64_t kExampleLatenessUs = 30'000'000;

/// An engine over examples/<name>/rules with the examples' lateness (null on failure: a test failure).
inline std::unique_ptr<Engine> example_engine(const std::string& name) {
    EngineOptions o;
    o.allowed_lateness_us = kExampleLatenessUs;
    std::string error;
    auto e = Engine::from_files({example_dir(name) + "/rules"}, o, &error);
    EXPECT_NE(e, nullptr) << error;
    return e;
}

/// A small shop rule set named `name`: event `cart` (key `user`, time `ts`, then `cart_fields`), event
/// `buy` (unless `with_buy` is false), the taxonomy node shop.abandon and the rule `abandon` with `pattern`
/// (by default: a cart not followed by a buy of the same user within 10 minutes).
inline std::string shop_rules(const std::string& name, const std::string& cart_fields = "",
                              bool with_buy = true,
                              const std::string& pattern = "c: cart -> not b: buy within 10m") {
    std::string s = "ruleset " + name +
                    " version 1.0.0;\nevent cart {\n    key user: string;\n    time ts: timestamp;\n" +
                    cart_fields + "}\n";
    if (with_buy) s += "event buy {\n    key user: string;\n    time ts: timestamp;\n}\n";
    s += "taxonomy {\n    shop {\n        abandon;\n    }\n}\nrule abandon {\n    label shop.abandon;\n    "
         "pattern " +
         pattern + ";\n}\n";
    return s;
}

/// An engine from rule source text (null on failure: a test failure).
inline std::unique_ptr<Engine> engine_from_source(const std::string& text, const EngineOptions& o = {},
                                                  const std::string& file = "t.etho") {
    std::string error;
    auto e = Engine::from_source(file, text, o, &error);
    EXPECT_NE(e, nullptr) << error;
    return e;
}

/// The executors this libethogram has: the interpreter, and the JIT when the test target defines
/// ETHOGRAM_HAVE_JIT (LLVM 19 was found).
inline std::vector<std::string> engines() {
#ifdef ETHOGRAM_HAVE_JIT
    return {"interp", "jit"};
#else
    return {"interp"};
#endif
}

/// Every detection queued in a C API engine (ethogram_poll), as its JSON text.
inline std::vector<std::string> poll_c(ethogram_engine* e) {
    std::vector<std::string> got;
    ethogram_poll(
        e,
        [](void* user, const char* json, size_t len, int) {
            static_cast<std::vector<std::string>*>(user)->emplace_back(json, len);
        },
        &got);
    return got;
}

} // namespace ethogram::test_support
