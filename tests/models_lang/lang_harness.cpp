// lang_harness.cpp: model files for the tests and the compile-and-run harness.
#include "tests/models_lang/lang_harness.h"

#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "models/classifier.h"
#include "models/hmm.h"
#include "models/markov.h"
#include "models/vocabulary.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace ethogram::models_lang_test {

namespace fs = std::filesystem;
namespace m = ethogram::models;

namespace {

constexpr int64_t kOrigin = 1'800'000'000LL * ir::kMicrosPerSecond;

m::Vocabulary vocab(std::initializer_list<const char*> syms) {
    m::Vocabulary v;
    for (const char* s : syms) v.add(s);
    return v;
}

class Collect : public ir::DetectionSink {
public:
    explicit Collect(std::vector<ir::Detection>& out) : out_(out) {}
    void emit(ir::Detection&& d) override { out_.push_back(std::move(d)); }
    void suppressed(ir::Detection&&) override {}

private:
    std::vector<ir::Detection>& out_;
};

} // namespace

std::string make_temp_dir(const std::string& tag) {
    static int n = 0;
    fs::path p = fs::temp_directory_path() / ("ethogram_models_lang_" + tag + "_" +
                                              std::to_string(::getpid()) + "_" + std::to_string(++n));
    fs::create_directories(p);
    return p.string();
}

std::string write_markov(const std::string& dir, const std::string& name) {
    auto v = vocab({"a", "b"});
    auto chain = m::MarkovChain::create({1, 0.75, false}, v.size());
    EXPECT_TRUE(chain.ok());
    std::vector<std::vector<uint32_t>> seqs = {{1, 1, 1}};
    EXPECT_TRUE(chain->train(seqs).ok());
    std::string path = dir + "/" + name;
    m::ModelMeta meta;
    meta.created_unix = 1;
    EXPECT_TRUE(m::save_markov_model(path, v, *chain, meta).ok());
    return path;
}

std::string write_hmm(const std::string& dir, const std::string& name) {
    auto v = vocab({"x", "y"});
    m::Hmm h;
    h.n_states = 2;
    h.n_symbols = 3;
    h.pi = {0.5, 0.5};
    h.a = {0.9, 0.1, 0.2, 0.8};
    h.b = {0.1, 0.8, 0.1, 0.1, 0.1, 0.8};
    std::string path = dir + "/" + name;
    m::ModelMeta meta;
    meta.created_unix = 1;
    EXPECT_TRUE(m::save_hmm_model(path, v, h, meta).ok());
    return path;
}

std::string write_classifier(const std::string& dir, const std::string& name) {
    auto v = vocab({"a", "b"});
    m::ClassifierConfig cc;
    cc.chain = {1, 0.75, false};
    cc.priors = {0.5, 0.5};
    auto cls = m::SequenceClassifier::create(cc, {"bot", "human"}, v.size());
    EXPECT_TRUE(cls.ok()) << cls.error();
    std::vector<std::vector<uint32_t>> seqs = {{1, 1, 1}, {2, 2, 2}};
    std::vector<uint32_t> labels = {0, 1};
    EXPECT_TRUE(cls->train(seqs, labels).ok());
    std::string path = dir + "/" + name;
    m::ModelMeta meta;
    meta.created_unix = 1;
    EXPECT_TRUE(m::save_classifier_model(path, v, *cls, meta).ok());
    return path;
}

std::string file_hash(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GE(sodium_init(), 0);
    unsigned char out[32];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       nullptr, 0);
    static const char* hex = "0123456789abcdef";
    std::string s = "blake2b:";
    for (unsigned char c : out) {
        s += hex[c >> 4];
        s += hex[c & 15];
    }
    return s;
}

std::string prelude() {
    return R"(ruleset models_lang version 1.0.0;
taxonomy { t; }
event A { key u: string; time ts: timestamp; s: string?; x: int; k: enum(a, b, c); }
event B { key u: string; time ts: timestamp; s: string?; x: int; }
session v { gap 10m; }
)";
}

struct RuleRun::Impl {
    ir::StringPool pool;
    std::unique_ptr<ir::Executor> exec;
    uint64_t seq = 0;
};

RuleRun::RuleRun(std::string_view text) : impl_(std::make_unique<Impl>()) {
    compiler::Diagnostics d;
    auto res = compiler::compile_source("models_lang.etho", text, d);
    diags_ = d.render();
    rs_ = std::move(res.ruleset);
    if (!rs_) return;
    ir::seed_string_pool(*rs_, impl_->pool);
    impl_->exec = interp::make_interpreter(*rs_, impl_->pool, {});
}

RuleRun::~RuleRun() = default;

void RuleRun::ev(std::string_view type, std::string_view key, double sec, std::string_view s, int64_t x,
                 std::string_view k) {
    ASSERT_TRUE(rs_) << diags_;
    int t = rs_->find_event(type);
    ASSERT_GE(t, 0);
    const ir::EventType& et = rs_->events[static_cast<size_t>(t)];
    ir::Event e;
    e.type = static_cast<uint16_t>(t);
    e.key = impl_->pool.intern(key);
    e.time = kOrigin + static_cast<int64_t>(std::llround(sec * ir::kMicrosPerSecond));
    e.seq = ++impl_->seq;
    e.line = e.seq;
    e.fields.assign(et.fields.size(), ir::Value::missing());
    for (size_t i = 0; i < et.fields.size(); ++i) {
        const auto& f = et.fields[i];
        if (i == et.key_field)
            e.fields[i] = ir::Value::string(e.key);
        else if (i == et.time_field)
            e.fields[i] = ir::Value::timestamp(e.time);
        else if (f.name == "s" && !s.empty())
            e.fields[i] = ir::Value::string(impl_->pool.intern(s));
        else if (f.name == "x")
            e.fields[i] = ir::Value::integer(x);
        else if (f.name == "k") {
            std::string_view want = k.empty() ? "a" : k;
            for (size_t j = 0; j < f.enum_values.size(); ++j)
                if (f.enum_values[j] == want) e.fields[i] = ir::Value::enumeration(static_cast<int64_t>(j));
        }
    }
    Collect sink(out_);
    impl_->exec->advance_watermark(e.time, sink);
    impl_->exec->on_event(e, sink);
}

void RuleRun::finish() {
    if (!impl_->exec) return;
    Collect sink(out_);
    impl_->exec->advance_watermark(ir::kTimeInfinity, sink);
}

void RuleRun::watermark(double sec) {
    if (!impl_->exec) return;
    Collect sink(out_);
    impl_->exec->advance_watermark(kOrigin + static_cast<int64_t>(std::llround(sec * ir::kMicrosPerSecond)),
                                   sink);
}

ir::ExecutorStats RuleRun::stats() const {
    return impl_->exec ? impl_->exec->stats() : ir::ExecutorStats{};
}

const ir::StringPool& RuleRun::pool() const {
    return impl_->pool;
}

std::vector<ir::Detection> RuleRun::of(std::string_view rule) const {
    std::vector<ir::Detection> r;
    for (const auto& d : out_)
        if (rs_->rules[d.rule].name == rule) r.push_back(d);
    return r;
}

double RuleRun::num(const ir::Detection& d, std::string_view name) const {
    const auto& emits = rs_->rules[d.rule].emits;
    for (size_t i = 0; i < emits.size() && i < d.fields.size(); ++i) {
        if (emits[i].name != name) continue;
        const ir::Value& v = d.fields[i];
        if (v.type == ir::Type::Float) return v.f;
        if (v.type == ir::Type::Int) return static_cast<double>(v.i);
        if (v.type == ir::Type::Bool) return v.b ? 1.0 : 0.0;
        return std::nan("");
    }
    ADD_FAILURE() << "no emit " << name;
    return std::nan("");
}

std::string RuleRun::str(const ir::Detection& d, std::string_view name) const {
    const auto& emits = rs_->rules[d.rule].emits;
    for (size_t i = 0; i < emits.size() && i < d.fields.size(); ++i) {
        if (emits[i].name != name) continue;
        const ir::Value& v = d.fields[i];
        if (v.type != ir::Type::String) return "<missing>";
        return std::string(impl_->pool.view(static_cast<uint32_t>(v.i)));
    }
    ADD_FAILURE() << "no emit " << name;
    return "<missing>";
}

} // namespace ethogram::models_lang_test
