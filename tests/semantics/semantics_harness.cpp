// semantics_harness.cpp: the .etho-to-interpreter harness for the semantics pin tests.
#include "tests/semantics/semantics_harness.h"

#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "tests/oracle/oracle.h"
#ifdef ETHOGRAM_SEMANTICS_BOTH_ENGINES
#include "tests/jit/engine_pair.h" // tests/jit builds these pins again, run by both engines side by side
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace ethogram::semantics_test {
namespace {

constexpr int64_t kOrigin = 1'800'000'000LL * ir::kMicrosPerSecond;

class Collect : public ir::DetectionSink {
public:
    void emit(ir::Detection&& d) override { emitted.push_back(std::move(d)); }
    void suppressed(ir::Detection&& d) override { dropped.push_back(std::move(d)); }
    std::vector<ir::Detection> emitted, dropped;
};

} // namespace

struct Harness::Impl {
    ir::StringPool pool;
};

std::string prelude() {
    return R"(ruleset pins version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; x: int; o: int?; k: enum(p, q, r); s: string; }
event B { key u: string; time ts: timestamp; x: int; o: int?; k: enum(p, q, r); s: string; }
event C { key u: string; time ts: timestamp; x: int; o: int?; k: enum(p, q, r); s: string; }
)";
}

Harness::Harness(std::string_view text, ir::ExecutorOptions opts)
    : impl_(std::make_unique<Impl>()), opts_(opts) {
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_source("pins.etho", text, diags);
    rs_ = std::move(res.ruleset);
    if (!rs_) {
        ADD_FAILURE() << "compile failed:\n" << diags.render() << "\n" << text;
        return;
    }
    ir::seed_string_pool(*rs_, impl_->pool);
}

Harness::~Harness() = default;

uint64_t Harness::ev(std::string_view type, std::string_view key, double sec,
                     std::vector<std::pair<std::string, FieldValue>> fields) {
    if (!rs_) return 0;
    int t = rs_->find_event(type);
    EXPECT_GE(t, 0) << "no event type " << type;
    if (t < 0) return 0;
    const ir::EventType& et = rs_->events[t];
    ir::Event e;
    e.type = static_cast<uint16_t>(t);
    e.key = impl_->pool.intern(key);
    e.time = kOrigin + static_cast<int64_t>(std::llround(sec * ir::kMicrosPerSecond));
    e.seq = events_.size() + 1;
    e.line = e.seq;
    e.fields.assign(et.fields.size(), ir::Value::missing());
    e.fields[et.key_field] = ir::Value::string(e.key);
    e.fields[et.time_field] = ir::Value::timestamp(e.time);
    for (auto& [name, v] : fields) {
        size_t slot = 0;
        while (slot < et.fields.size() && et.fields[slot].name != name) ++slot;
        EXPECT_LT(slot, et.fields.size()) << "no field " << name;
        if (slot == et.fields.size()) continue;
        const ir::FieldDef& fd = et.fields[slot];
        if (auto* i = std::get_if<int64_t>(&v)) {
            e.fields[slot] = fd.type == ir::Type::Float ? ir::Value::real(static_cast<double>(*i))
                                                        : ir::Value::integer(*i);
        } else if (auto* s = std::get_if<std::string>(&v)) {
            if (fd.type == ir::Type::Enum) {
                auto it = std::find(fd.enum_values.begin(), fd.enum_values.end(), *s);
                e.fields[slot] = ir::Value::enumeration(it - fd.enum_values.begin());
            } else {
                e.fields[slot] = ir::Value::string(impl_->pool.intern(*s));
            }
        } else if (auto* b = std::get_if<bool>(&v)) {
            e.fields[slot] = ir::Value::boolean(*b);
        } else {
            e.fields[slot] = ir::Value::real(std::get<double>(v));
        }
    }
    events_.push_back(std::move(e));
    return events_.back().seq;
}

void Harness::run(bool check_oracle) {
    if (!rs_) return;
    Collect sink;
#ifdef ETHOGRAM_SEMANTICS_BOTH_ENGINES
    std::string jit_error;
    auto exec = jit_test::EnginePair::make(*rs_, impl_->pool, opts_, jit_error);
    ASSERT_TRUE(exec) << "the JIT rejected the rules: " << jit_error;
#else
    auto exec = interp::make_interpreter(*rs_, impl_->pool, opts_);
#endif
    for (const ir::Event& e : events_) {
        exec->advance_watermark(e.time, sink);
        exec->on_event(e, sink);
    }
    exec->advance_watermark(ir::kTimeInfinity, sink);
#ifdef ETHOGRAM_SEMANTICS_BOTH_ENGINES
    EXPECT_EQ(exec->mismatch(), "") << "the interpreter and the JIT disagree";
#endif
    stats_ = exec->stats();
    emitted_ = std::move(sink.emitted);
    suppressed_ = std::move(sink.dropped);
    if (!check_oracle) return;
    std::vector<oracle::Tuple> expected = oracle::expected_detections(*rs_, events_), actual;
    for (const ir::Detection& d : emitted_) actual.push_back(oracle::to_tuple(d, *rs_));
    // Compared as multisets: the pins below assert the order they rely on.
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    std::string exp_text, act_text;
    for (auto& t : expected)
        exp_text.append(oracle::format_tuple(*rs_, impl_->pool, t, kOrigin)).append("\n");
    for (auto& t : actual) act_text.append(oracle::format_tuple(*rs_, impl_->pool, t, kOrigin)).append("\n");
    EXPECT_EQ(exp_text, act_text) << "the oracle (expected) and the interpreter (actual) disagree";
}

std::vector<ir::Detection> Harness::of(std::string_view rule) const {
    std::vector<ir::Detection> out;
    for (const ir::Detection& d : emitted_)
        if (rs_->rules[d.rule].name == rule) out.push_back(d);
    return out;
}

std::vector<uint64_t> Harness::seqs(const ir::Detection& d, std::string_view alias) {
    std::vector<uint64_t> out;
    for (const ir::Binding& b : d.bindings)
        if (b.alias == alias)
            for (const ir::BoundEvent& e : b.events) out.push_back(e.seq);
    return out;
}

double Harness::sec(int64_t us) {
    return static_cast<double>(us - kOrigin) / ir::kMicrosPerSecond;
}

std::string Harness::key_name(uint32_t id) const {
    return std::string(impl_->pool.view(id));
}

} // namespace ethogram::semantics_test
