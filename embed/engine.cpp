// engine.cpp: the embedding API (include/ethogram/engine.h) over the front end, the runtime's decoder and
// the JIT or the reference interpreter: one event at a time, on the caller's thread.
#include "ethogram/engine.h"

#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#include "compiler/ir/snapshot_bytes.h"
#ifdef ETHOGRAM_HAVE_JIT
#include "compiler/jit/jit.h"
#endif
#include "embed/engine_impl.h"
#include "embed/typed_event.h"
#include "govern/deploy.h"
#include "govern/load.h"
#include "govern/registry.h"
#include "models/model_file.h"
#include "runtime/checkpoint.h"
#include "runtime/decoder.h"
#include "runtime/output.h"
#include "runtime/reorder.h"
#include "runtime/time.h"

#include <fmt/format.h>

#include <algorithm>

namespace ethogram {

namespace embed {

// The executor EngineOptions::engine asks for ("jit" or "interp"; checked by check_options), or the
// interpreter when the JIT cannot run, with the reason in `warning`. `used` names the one made. Without
// `use_cache` the JIT's object cache is not used (a rule set whose string ids were re-bound to a pool in use:
// the compiled code embeds them, the cache is keyed by the rules' content).
std::unique_ptr<ir::Executor> make_executor(const ir::RuleSet& rs, ir::StringPool& pool,
                                            const EngineOptions& o, const ir::ExecutorOptions& eo,
                                            std::string& used, std::string& warning, bool use_cache) {
    if (o.engine == "jit") {
#ifdef ETHOGRAM_HAVE_JIT
        jit::JitOptions jo;
        if (o.jit_cache && use_cache)
            jo.cache_dir = o.jit_cache_dir.empty() ? jit::default_cache_dir() : o.jit_cache_dir;
        jit::CompileStats cs;
        auto j = jit::make_jit_executor(rs, pool, eo, jo, &cs);
        if (j) {
            used = "jit";
            if (!cs.cache_warning.empty()) warning = "JIT cache: " + cs.cache_warning;
            return std::move(*j);
        }
        warning = fmt::format("the JIT engine cannot run these rules ({}); using the interpreter", j.error());
#else
        warning = "this libethogram was built without LLVM (no JIT engine); using the interpreter";
#endif
    }
    used = "interp";
    return interp::make_interpreter(rs, pool, eo);
}

// EngineOptions::only against the compiled rules: the node's index (-1 for all), or -2 with `error` set.
int32_t only_node(const ir::RuleSet& rs, const EngineOptions& o, std::string& error) {
    if (o.only.empty()) return -1;
    const int node = rs.find_taxonomy(o.only);
    if (node >= 0) return node;
    std::string known;
    for (size_t i = 0; i < rs.taxonomy.size() && i < 20; ++i) known += (i ? ", " : "") + rs.taxonomy[i].path;
    if (rs.taxonomy.size() > 20) known += ", ...";
    error = fmt::format("EngineOptions::only: unknown taxonomy node '{}' (known: {})", o.only,
                        known.empty() ? "none declared" : known);
    return -2;
}

} // namespace embed

namespace {

// An unknown EngineOptions::engine: the reason, else empty.
std::string check_options(const EngineOptions& o) {
    if (o.engine != "jit" && o.engine != "interp")
        return fmt::format("unknown engine '{}' (EngineOptions::engine: \"jit\" or \"interp\")", o.engine);
    return {};
}

// The Engine over compiled rules, or null with `error` set when the options do not fit them.
template <class Impl> // Engine::Impl, defined below (private to Engine)
std::unique_ptr<Impl> checked_impl(std::unique_ptr<ir::RuleSet> rs, const EngineOptions& o, std::string hash,
                                   std::string* error) {
    std::string why;
    const int32_t only = embed::only_node(*rs, o, why);
    if (only < -1) {
        if (error) *error = std::move(why);
        return nullptr;
    }
    return std::make_unique<Impl>(std::move(rs), o, std::move(hash), only);
}

// The rules of a verified bundle (Engine::from_bundle), as `etho run --bundle` loads them
// (govern::load_bundle_rules): null with `error` set (`error[KIND]: why`) when refused.
std::unique_ptr<ir::RuleSet> load_bundle(const BundleSource& src, std::string& bundle_hash,
                                         std::string& error) {
    auto refuse = [&](const govern::Error& e) {
        error = fmt::format("error[{}]: {}", govern::code_name(e.code), e.message);
        return nullptr;
    };
    if (src.bundle.empty())
        return refuse(govern::fail(govern::Code::Usage,
                                   src.registry.empty() ? "no bundle given (BundleSource::bundle)"
                                                        : "no rule-set name given (BundleSource::bundle)"));
    if (src.trusted.empty())
        return refuse(govern::fail(
            govern::Code::Usage, "a bundle needs a trust file (BundleSource::trusted): the keys to accept"));
    auto trust = govern::load_trust(src.trusted);
    if (!trust) return refuse(trust.err());
    auto v = govern::load_bundle_rules(src.bundle, *trust, src.registry);
    if (!v) return refuse(v.err());
    bundle_hash = v->verified.bundle.hash_hex();
    return std::move(v->rules.ruleset);
}

} // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::from_source(std::string_view name, std::string_view text,
                                            const EngineOptions& opts, std::string* error) {
    if (std::string bad = check_options(opts); !bad.empty()) {
        if (error) *error = std::move(bad);
        return nullptr;
    }
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_source(name, text, diags);
    if (!res.ruleset || diags.error_count() > 0) {
        if (error) *error = diags.render();
        return nullptr;
    }
    auto impl = checked_impl<Impl>(std::move(res.ruleset), opts, {}, error);
    return impl ? std::unique_ptr<Engine>(new Engine(std::move(impl))) : nullptr;
}

std::unique_ptr<Engine> Engine::from_files(const std::vector<std::string>& paths, const EngineOptions& opts,
                                           std::string* error) {
    if (std::string bad = check_options(opts); !bad.empty()) {
        if (error) *error = std::move(bad);
        return nullptr;
    }
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_paths(paths, diags);
    if (!res.ruleset || diags.error_count() > 0) {
        if (error) *error = diags.render();
        return nullptr;
    }
    auto impl = checked_impl<Impl>(std::move(res.ruleset), opts, {}, error);
    return impl ? std::unique_ptr<Engine>(new Engine(std::move(impl))) : nullptr;
}

std::unique_ptr<Engine> Engine::from_bundle(const BundleSource& src, const EngineOptions& opts,
                                            std::string* error) {
    std::string why = check_options(opts), hash;
    std::unique_ptr<ir::RuleSet> rs;
    if (why.empty()) rs = load_bundle(src, hash, why);
    if (!rs) {
        if (error) *error = std::move(why);
        return nullptr;
    }
    auto impl = checked_impl<Impl>(std::move(rs), opts, std::move(hash), error);
    return impl ? std::unique_ptr<Engine>(new Engine(std::move(impl))) : nullptr;
}

void Engine::on_detection(std::function<void(const Detection&)> cb) {
    impl_->callback = std::move(cb);
}

std::vector<Detection> Engine::poll() {
    std::vector<Detection> out;
    out.swap(impl_->queue);
    return out;
}

bool Engine::push_json(std::string_view line, std::string* error) {
    return impl_->push(line, error);
}

bool Engine::push(const TypedEvent& event, std::string* error) {
    return impl_->push_typed(event, error);
}

void Engine::advance_watermark(int64_t time_us) {
    if (!impl_->ended) impl_->raise_watermark(time_us);
}

void Engine::flush() {
    if (impl_->ended) return;
    impl_->reorder.drain(impl_->ready);
    impl_->run_ready();
    impl_->exec->advance_watermark(ir::kTimeInfinity, *impl_);
    impl_->reorder.raise_watermark(ir::kTimeInfinity);
    impl_->ended = true;
}

std::string Engine::bundle_hash() const {
    return impl_->bundle_hash;
}

EngineStats Engine::stats() const {
    EngineStats s = impl_->st;
    s.buffered = impl_->reorder.size();
    const ir::ExecutorStats e = impl_->exec->stats();
    s.live_keys = e.live_keys;
    s.partial_matches = e.partial_matches;
    s.state_bytes = e.state_bytes;
    s.evictions = e.evictions;
    s.overflow_drops = e.overflow_drops;
    s.budget_drops = e.budget_drops;
    return s;
}

std::string Engine::ruleset_name() const {
    return impl_->rs->name;
}

std::string Engine::ruleset_version() const {
    return impl_->rs->version;
}

std::string Engine::engine_name() const {
    return impl_->engine_used;
}

std::string Engine::engine_warning() const {
    return impl_->engine_warning;
}

// Snapshot payload: u32 version, the counters, the reorder state, every pool string in id order, then the
// executor's state (Executor::save_state).
namespace {
// 2: the filtered count after the suppressed one (version 1 snapshots restore with none filtered).
constexpr uint32_t kEmbedSnapshotVersion = 2;
} // namespace

std::string Engine::snapshot() const {
    const Impl& m = *impl_;
    std::string payload;
    ir::SnapWriter w(payload);
    w.u32(kEmbedSnapshotVersion);
    for (uint64_t v : {m.st.events_in, m.st.processed, m.st.dead_letters, m.st.detections, m.st.suppressed,
                       m.st.filtered, m.seq})
        w.u64(v);
    w.i64(m.reorder.max_time());
    w.i64(m.reorder.watermark());
    w.boolean(m.ended);
    // In (time, seq) order: a valid heap, as older versions wrote and read this list.
    const std::vector<const ir::Event*> buffered = m.reorder.buffered();
    w.u64(buffered.size());
    for (const ir::Event* e : buffered) w.event(*e);
    w.u64(m.pool.size());
    for (uint32_t i = 0; i < m.pool.size(); ++i) w.str(m.pool.view(i));
    std::string exec;
    if (auto st = m.exec->save_state(exec); !st) return {}; // the interpreter always can
    w.str(exec);
    runtime::CheckpointHeader h;
    h.generation = 1;
    h.ruleset_hash = runtime::ruleset_hash(*m.rs);
    h.run_hash = runtime::blake2b_hex("embed");
    h.engine_version = models::kEngineVersion;
    return runtime::format_checkpoint(h, payload);
}

bool Engine::snapshot_to_file(const std::string& path, std::string* error) const {
    if (auto st = runtime::write_file_atomic(path, snapshot()); !st) {
        if (error) *error = st.error();
        return false;
    }
    return true;
}

bool Engine::restore(std::string_view bytes, std::string* error) {
    Impl& m = *impl_;
    auto fail = [&](std::string why) {
        if (error) *error = "restore: " + why;
        return false;
    };
    if (m.st.events_in != 0 || m.ended) return fail("the engine has been used (restore needs a fresh one)");
    auto parsed = runtime::parse_checkpoint(std::string(bytes));
    if (!parsed) return fail(parsed.error());
    if (parsed->header.ruleset_hash != runtime::ruleset_hash(*m.rs))
        return fail("the snapshot belongs to another rule set");
    if (parsed->header.engine_version != models::kEngineVersion)
        return fail("the snapshot was taken by engine version " + parsed->header.engine_version);
    ir::SnapReader r(parsed->payload);
    const uint32_t version = r.u32();
    if (version != 1 && version != kEmbedSnapshotVersion)
        return fail(fmt::format("snapshot payload version {} (this engine reads 1 and {})", version,
                                kEmbedSnapshotVersion));
    EngineStats st;
    st.events_in = r.u64();
    st.processed = r.u64();
    st.dead_letters = r.u64();
    st.detections = r.u64();
    st.suppressed = r.u64();
    st.filtered = version >= 2 ? r.u64() : 0;
    const uint64_t seq = r.u64();
    const int64_t max_time = r.i64(), watermark = r.i64();
    const bool ended = r.boolean();
    std::vector<ir::Event> buffered(r.count(45));
    for (ir::Event& e : buffered) r.event(e, static_cast<uint32_t>(m.rs->events.size()));
    // The pool is only ever appended to, so a failure below leaves the engine usable (its ids unchanged).
    const uint64_t n = r.count(8);
    std::vector<std::string> strings(n);
    for (std::string& s : strings) s = r.str();
    std::string exec = r.str();
    if (r.ok() && r.remaining() != 0) r.fail("trailing bytes");
    if (r.failed()) return fail(r.error());
    // The snapshot's pool begins with this engine's (the rules seeded both), or, taken after swap_rules, with
    // an earlier version's: the rules are then bound to the snapshot's pool, as the swap bound them.
    bool prefix = n >= m.pool.size();
    for (uint64_t i = 0; prefix && i < m.pool.size(); ++i)
        prefix = m.pool.view(static_cast<uint32_t>(i)) == strings[i];
    if (!prefix) {
        std::string why;
        if (!m.adopt_pool(strings, why)) return fail(why);
    }
    for (uint64_t i = m.pool.size(); i < n; ++i)
        if (m.pool.intern(strings[i]) != i) return fail("string pool: a duplicate string");
    if (auto s = m.exec->restore_state(exec); !s) return fail(s.error());
    m.st = st;
    m.seq = seq;
    m.ended = ended;
    const size_t n_buffered = buffered.size();
    m.reorder.restore(max_time, watermark, n_buffered, std::move(buffered));
    return true;
}

bool Engine::restore_from_file(const std::string& path, std::string* error) {
    auto bytes = runtime::read_whole_file(path);
    if (!bytes) {
        if (error) *error = bytes.error();
        return false;
    }
    if (!restore(*bytes, error)) {
        if (error) *error = path + ": " + *error;
        return false;
    }
    return true;
}

} // namespace ethogram
