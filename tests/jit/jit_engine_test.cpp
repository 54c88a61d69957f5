// jit_engine_test.cpp: the JIT's machinery: object cache (hit, corrupt and stale entries rebuilt), one
// resource tracker per rule set (load, unload, reload), restricted symbols, unsupported constructs.
#include "compiler/driver/compile.h"
#include "compiler/jit/jit.h"
#include "compiler/jit/object_cache.h"
#include "tests/jit/engine_pair.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

namespace ethogram::jit_test {
namespace {

namespace fs = std::filesystem;

const char* kRules = R"(ruleset cache_test version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int; s: string; }
event B { key u: string; time ts: timestamp; x: int; s: string; }
rule big_a { label t; pattern a: A where a.x > 10 and starts_with(a.s, "ab") -> b: B where b.x < a.x within 10s; }
rule many { label t; over last 5m; on A; when count(A) >= 3; }
)";

std::unique_ptr<ir::RuleSet> compile(const std::string& text) {
    compiler::Diagnostics diags;
    auto res = compiler::compile_source("cache_test.etho", text, diags);
    EXPECT_TRUE(res.ruleset) << diags.render();
    return std::move(res.ruleset);
}

class TempDir {
public:
    TempDir() {
        path_ = (fs::temp_directory_path() /
                 ("etho_jit_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++)))
                    .string();
        fs::remove_all(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    static inline int counter_ = 0;
};

std::vector<fs::path> entries(const std::string& dir) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    return out;
}

TEST(JitCache, ColdThenWarmStart) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    TempDir dir;
    jit::JitOptions o;
    o.cache_dir = dir.path();
    auto cold = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(cold) << cold.error();
    EXPECT_FALSE((*cold)->stats().cache_hit);
    EXPECT_TRUE((*cold)->stats().cache_stored) << (*cold)->stats().cache_warning;
    ASSERT_EQ(entries(dir.path()).size(), 1u);
    auto warm = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(warm) << warm.error();
    EXPECT_TRUE((*warm)->stats().cache_hit);
    EXPECT_TRUE((*warm)->stats().cache_warning.empty());
    EXPECT_EQ((*warm)->stats().functions, (*cold)->stats().functions);
}

// A different optimisation level (or rule text, engine, LLVM, CPU) is a different key: no false hit.
TEST(JitCache, KeyCoversOptions) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    TempDir dir;
    jit::JitOptions o;
    o.cache_dir = dir.path();
    ASSERT_TRUE(jit::compile_rule_set(*rs, o));
    o.opt_level = 1;
    auto other = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(other);
    EXPECT_FALSE((*other)->stats().cache_hit);
    EXPECT_EQ(entries(dir.path()).size(), 2u);
    auto rs2 =
        compile(std::string(kRules) + "rule extra { label t; over last 1m; on B; when count(B) >= 2; }\n");
    ASSERT_TRUE(rs2);
    auto third = jit::compile_rule_set(*rs2, o);
    ASSERT_TRUE(third);
    EXPECT_FALSE((*third)->stats().cache_hit);
}

// Corrupt entries (flipped payload byte, truncation, bad magic, other format version) are detected,
// reported, rebuilt and replaced, and the rebuilt code runs identically to the interpreter.
TEST(JitCache, CorruptEntriesAreRebuilt) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    TempDir dir;
    jit::JitOptions o;
    o.cache_dir = dir.path();
    ASSERT_TRUE(jit::compile_rule_set(*rs, o));
    auto files = entries(dir.path());
    ASSERT_EQ(files.size(), 1u);
    const fs::path entry = files[0];
    std::string original;
    {
        std::ifstream in(entry, std::ios::binary);
        original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ASSERT_GT(original.size(), 200u);
    struct Damage {
        const char* name;
        std::function<void(std::string&)> apply;
        const char* expect;
    };
    std::vector<Damage> damages = {
        {"flipped payload byte", [](std::string& s) { s[s.size() - 7] ^= 0x5a; }, "checksum mismatch"},
        {"truncated", [](std::string& s) { s.resize(s.size() / 2); }, "payload size"},
        {"short header", [](std::string& s) { s.resize(20); }, "truncated header"},
        {"bad magic", [](std::string& s) { s[0] = 'X'; }, "bad magic"},
        {"other format version", [](std::string& s) { s[8] = 99; }, "format version 99"},
    };
    for (const Damage& d : damages) {
        SCOPED_TRACE(d.name);
        std::string bytes = original;
        d.apply(bytes);
        {
            std::ofstream out(entry, std::ios::binary | std::ios::trunc);
            out << bytes;
        }
        auto c = jit::compile_rule_set(*rs, o);
        ASSERT_TRUE(c) << c.error();
        EXPECT_FALSE((*c)->stats().cache_hit);
        EXPECT_NE((*c)->stats().cache_warning.find(d.expect), std::string::npos)
            << (*c)->stats().cache_warning;
        EXPECT_NE((*c)->stats().cache_warning.find("rebuilt"), std::string::npos);
        EXPECT_TRUE((*c)->stats().cache_stored);
        // The rewritten entry is valid again.
        auto again = jit::compile_rule_set(*rs, o);
        ASSERT_TRUE(again);
        EXPECT_TRUE((*again)->stats().cache_hit) << (*again)->stats().cache_warning;
    }
}

// A well-formed entry (right magic, key and checksum) whose payload is not a loadable object: LLVM's
// refusal is reported and the code rebuilt.
TEST(JitCache, UnloadableObjectIsRebuilt) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    TempDir dir;
    jit::JitOptions o;
    o.cache_dir = dir.path();
    ASSERT_TRUE(jit::compile_rule_set(*rs, o));
    auto files = entries(dir.path());
    ASSERT_EQ(files.size(), 1u);
    const std::string key = files[0].stem().string();
    std::string why;
    const std::string junk = "this is not an ELF object file";
    ASSERT_TRUE(jit::ObjectCacheDir(dir.path()).store(key, std::vector<char>(junk.begin(), junk.end()), why))
        << why;
    auto c = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(c) << c.error();
    EXPECT_FALSE((*c)->stats().cache_hit);
    EXPECT_NE((*c)->stats().cache_warning.find("cached object unusable"), std::string::npos)
        << (*c)->stats().cache_warning;
    auto again = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(again);
    EXPECT_TRUE((*again)->stats().cache_hit);
}

TEST(JitCache, FileFormatRoundTrip) {
    TempDir dir;
    jit::ObjectCacheDir cache(dir.path());
    const std::string key = jit::hash_hex("some key");
    std::vector<char> obj = {'a', 'b', '\0', 'c'}, back;
    std::string why;
    EXPECT_EQ(cache.load(key, back, why), jit::CacheRead::Miss);
    ASSERT_TRUE(cache.store(key, obj, why)) << why;
    EXPECT_EQ(cache.load(key, back, why), jit::CacheRead::Hit);
    EXPECT_EQ(back, obj);
    // An entry renamed to another key is rejected (the key is inside the file too).
    const std::string other = jit::hash_hex("other key");
    fs::copy_file(cache.path_for(key), cache.path_for(other));
    EXPECT_EQ(cache.load(other, back, why), jit::CacheRead::Invalid);
    EXPECT_NE(why.find("key mismatch"), std::string::npos);
}

// Each rule set lives in its own JITDylib and resource tracker: many can be loaded side by side,
// unloaded in any order, and loaded again.
TEST(JitResources, LoadUnloadReload) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    jit::JitOptions o;
    std::vector<std::unique_ptr<jit::CompiledRuleSet>> live;
    for (int i = 0; i < 4; ++i) {
        auto c = jit::compile_rule_set(*rs, o);
        ASSERT_TRUE(c) << c.error();
        live.push_back(std::move(*c));
    }
    live.erase(live.begin() + 1);
    live.erase(live.begin());
    for (auto& c : live) EXPECT_NE(c->hooks().exprs.size(), 0u);
    live.clear();
    auto c = jit::compile_rule_set(*rs, o);
    ASSERT_TRUE(c) << c.error();
}

// Generated code reaches only the runtime ABI: process symbols (libc, the engine's own functions) do
// not resolve in a rule set's JITDylib.
TEST(JitSymbols, OnlyTheRuntimeAbiIsVisible) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    auto c = jit::compile_rule_set(*rs, {});
    ASSERT_TRUE(c) << c.error();
    EXPECT_TRUE((*c)->resolves("etho_rt_str_pred"));
    EXPECT_TRUE((*c)->resolves("etho_dispatch_0"));
    for (const char* name : {"system", "malloc", "printf", "exit", "dlopen", "execve", "getenv"})
        EXPECT_FALSE((*c)->resolves(name)) << name;
}

// An expression kind the lowering does not know (as a future IR addition would be) is rejected with a
// reason, never compiled.
TEST(JitUnsupported, UnknownExpressionKindIsRejected) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    EXPECT_EQ(jit::jit_unsupported_reason(*rs), "");
    ir::RuleSet bad = *rs;
    ir::ExprId cond = bad.rules[1].threshold.cond;
    bad.exprs[cond].kind = static_cast<ir::ExprKind>(200);
    std::string why = jit::jit_unsupported_reason(bad);
    EXPECT_NE(why.find("expression kind #200"), std::string::npos) << why;
    ir::StringPool pool;
    ir::seed_string_pool(bad, pool);
    auto e = jit::make_jit_executor(bad, pool, {}, {});
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().find("expression kind #200"), std::string::npos) << e.error();
}

TEST(JitUnsupported, UnknownBuiltinIsRejected) {
    auto rs = compile(kRules);
    ASSERT_TRUE(rs);
    ir::RuleSet bad = *rs;
    bool changed = false;
    for (ir::Expr& e : bad.exprs)
        if (e.kind == ir::ExprKind::Call) {
            e.fn = static_cast<ir::Builtin>(77);
            changed = true;
        }
    ASSERT_TRUE(changed);
    EXPECT_NE(jit::jit_unsupported_reason(bad).find("builtin function #77"), std::string::npos);
}

} // namespace
} // namespace ethogram::jit_test
