// jit_fixture.h: what the tests that call compiled code directly share (jit_entry_test, jit_aggregate_test):
// a rule set compiled by the front end and the JIT, its string pool, field slots, and value comparison.
#pragma once

#include "compiler/driver/compile.h"
#include "compiler/interp/state.h"
#include "compiler/jit/jit.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace ethogram::jit_test {

/// Equal values: the same type and, for floats, the same bits (what byte-identical output needs).
inline bool same_value(const ir::Value& a, const ir::Value& b) {
    if (a.type != b.type) return false;
    if (a.type == ir::Type::Missing) return true;
    if (a.type == ir::Type::Bool) return a.b == b.b;
    return std::memcmp(&a.i, &b.i, sizeof a.i) == 0; // floats bit for bit
}

/// A fixture holding `rs` compiled from source and by the JIT (`code`), with its string pool seeded.
class CompiledRules : public ::testing::Test {
protected:
    /// Compiles `text` (reported as `file`); fails the test on a diagnostic or a JIT error.
    void compile(const char* file, const std::string& text) {
        compiler::Diagnostics diags;
        auto res = compiler::compile_source(file, text, diags);
        ASSERT_TRUE(res.ruleset) << diags.render();
        rs = std::move(res.ruleset);
        auto c = jit::compile_rule_set(*rs, {});
        ASSERT_TRUE(c) << c.error();
        code = std::move(*c);
        ir::seed_string_pool(*rs, pool);
    }

    /// The slot of field `name` of event type `type`.
    uint16_t slot(uint16_t type, const std::string& name) const {
        const auto& fs = rs->events[type].fields;
        for (size_t i = 0; i < fs.size(); ++i)
            if (fs[i].name == name) return static_cast<uint16_t>(i);
        ADD_FAILURE() << "no field " << name;
        return 0;
    }

    /// An event of `type` at `ord` seconds (sequence `ord`), keyed "k", every field Missing but u and ts:
    /// the caller sets the others before make_event.
    ir::Event blank_event(uint16_t type, uint64_t ord) {
        ir::Event in;
        in.type = type;
        in.time = static_cast<int64_t>(ord) * ir::kMicrosPerSecond;
        in.seq = ord;
        in.fields.assign(rs->events[type].fields.size(), ir::Value::missing());
        in.fields[slot(type, "u")] = ir::Value::string(pool.intern("k"));
        in.fields[slot(type, "ts")] = ir::Value::timestamp(in.time);
        return in;
    }

    std::unique_ptr<ir::RuleSet> rs;
    std::unique_ptr<jit::CompiledRuleSet> code;
    ir::StringPool pool;
};

} // namespace ethogram::jit_test
