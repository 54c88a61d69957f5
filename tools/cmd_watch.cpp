// cmd_watch.cpp: `etho run --watch` (hot swap to each new deployment of a registry) and `--shadow`.
#include "compiler/driver/compile.h"
#include "compiler/interp/interpreter.h"
#ifdef ETHOGRAM_HAVE_JIT
#include "compiler/jit/jit.h"
#endif
#include "govern/deploy.h"
#include "govern/load.h"
#include "runtime/config.h"
#include "runtime/hot_swap.h"
#include "tools/cmd_govern.h"
#include "tools/cmd_watch.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <filesystem>
#include <iostream>

namespace ethogram::tools {

namespace {

// The executor for one version: the engine asked for (the JIT falls back to the interpreter with a
// warning). A rule set whose string ids were re-bound skips the JIT's object cache: the cache is keyed by
// the rules' content, and the compiled code holds the ids.
std::unique_ptr<ir::Executor> make_version_executor(const RunOptions& o, const ir::RuleSet& rs,
                                                    ir::StringPool& pool, const ir::ExecutorOptions& eopts,
                                                    bool ids_rebound) {
#ifdef ETHOGRAM_HAVE_JIT
    if (o.engine == "jit") {
        jit::JitOptions jopts;
        jopts.cache_dir = o.no_jit_cache || ids_rebound
                              ? ""
                              : (o.jit_cache.empty() ? jit::default_cache_dir() : o.jit_cache);
        auto j = jit::make_jit_executor(rs, pool, eopts, jopts, nullptr);
        if (j) return std::move(*j);
        spdlog::warn("the JIT engine cannot run {} ({}); using the interpreter", rs.version, j.error());
    }
#else
    (void)ids_rebound;
    if (o.engine == "jit")
        spdlog::warn("this etho was built without LLVM (no JIT engine); using the interpreter");
#endif
    return interp::make_interpreter(rs, pool, eopts);
}

// A file's identity for cheap change detection (a stat per check; the full verification only on change).
struct Stamp {
    bool exists = false;
    int64_t mtime_ns = 0, size = 0, ino = 0;
    bool operator==(const Stamp&) const = default;
};
Stamp stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return Stamp{true, static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                 static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_ino)};
}

// Watches REG/NAME/deployments.jsonl and the trust file; on a change, loads the live deployment like
// `etho run --bundle NAME --registry REG` does (history, release record, signatures, manifest) and, when
// it is another bundle, compiles it into a new version.
class RegistrySource final : public runtime::SwapSource {
public:
    RegistrySource(const RunOptions& o, const ir::ExecutorOptions& eopts, std::string live_hash)
        : o_(o), eopts_(eopts), live_hash_(std::move(live_hash)),
          history_((std::filesystem::path(o.registry) / o.bundle / "deployments.jsonl").string()) {}

    std::optional<runtime::LiveVersion> poll(ir::StringPool& pool) override {
        Stamp h = stamp(history_), t = stamp(o_.trusted);
        // A refused deployment is examined again at every check (its files may be repaired), logged once
        // per distinct error.
        if (h == history_stamp_ && t == trust_stamp_ && last_error_.empty()) return std::nullopt;
        const auto noticed = std::chrono::steady_clock::now();
        history_stamp_ = h;
        trust_stamp_ = t;
        auto trust = govern::load_trust(o_.trusted);
        if (!trust) return refuse(trust.err(), "the trust file");
        std::string path;
        auto vb = govern::deployed_bundle(govern::Registry{o_.registry}, o_.bundle, *trust, &path);
        if (!vb) return refuse(vb.err(), "the deployment of " + o_.bundle);
        const std::string hash = vb->bundle.hash_hex();
        if (hash == live_hash_) { // e.g. the trust file changed, or a rollback to the running version
            last_error_.clear();
            return std::nullopt;
        }
        const std::string label = vb->bundle.manifest.id();
        auto rules = govern::compile_bundle(vb->bundle, path);
        if (!rules) return refuse(rules.err(), label);
        std::shared_ptr<ir::RuleSet> rs(std::move(rules->ruleset));
        const bool same_ids = runtime::bind_strings(*rs, pool);
        runtime::LiveVersion v;
        v.exec = make_version_executor(o_, *rs, pool, eopts_, !same_ids);
        v.rs = std::move(rs);
        v.bundle_hash = hash;
        v.label = label;
        v.noticed = noticed;
        live_hash_ = hash;
        last_error_.clear();
        spdlog::info("watch: {} deployed (manifest {}); swapping", label, hash.substr(0, 16));
        return v;
    }
    uint64_t refused() const override { return refused_; }

private:
    std::optional<runtime::LiveVersion> refuse(const govern::Error& e, const std::string& what) {
        std::string text = fmt::format("{}: {}", what, e.message);
        if (text == last_error_) return std::nullopt;
        last_error_ = std::move(text);
        ++refused_;
        spdlog::error("watch: refused {}: error[{}]: {}; still running the current version", what,
                      govern::code_name(e.code), e.message);
        return std::nullopt;
    }

    const RunOptions& o_;
    ir::ExecutorOptions eopts_;
    std::string live_hash_;
    std::string history_;
    /// Unknown at first: the first check loads the deployment in full (a deploy between the start-up load
    /// and the first stat is not missed).
    Stamp history_stamp_{}, trust_stamp_{};
    uint64_t refused_ = 0;
    std::string last_error_; ///< the current refusal, empty when none
};

// --shadow without --watch: nothing to swap to.
class NoSource final : public runtime::SwapSource {
public:
    std::optional<runtime::LiveVersion> poll(ir::StringPool&) override { return std::nullopt; }
    uint64_t refused() const override { return 0; }
};

} // namespace

void add_watch_flags(CLI::App* cmd, RunOptions& o) {
    cmd->add_flag("--watch", o.watch,
                  "With --bundle NAME --registry REG: keep running and swap to each new deployment (or "
                  "rollback) of NAME between two events, carrying the state of unchanged rules");
    cmd->add_flag(
        "--follow", o.follow,
        "Follow the --events file like tail -f: wait for appended lines (checked every --poll), read "
        "a truncated or rotated file again from its start; SIGINT/SIGTERM end the run");
    cmd->add_option(
        "--poll", o.poll,
        "With --watch: check the deployment at least this often (default 1s); with --follow: also "
        "how often the file is checked for new lines");
    cmd->add_option("--poll-events", o.poll_events, "With --watch: also check every N events");
    cmd->add_option("--swap-log", o.swap_log, "With --watch: one JSON line per swap");
    cmd->add_option("--shadow", o.shadow,
                    "A candidate bundle (verified with --trusted) run beside the live rules on the same "
                    "events; its detections go to --shadow-out and are diffed, never emitted");
    cmd->add_option("--shadow-out", o.shadow_out, "Detections of the --shadow bundle (JSONL)");
}

int run_watch(const RunOptions& o, const runtime::PipelineOptions& p, const ir::ExecutorOptions& eopts,
              std::unique_ptr<ir::RuleSet> live_rules) {
    auto fail = [](const std::string& m) {
        fmt::print(stderr, "etho: {}\n", m);
        return kExitUsage;
    };
    if (o.watch && (o.registry.empty() || o.bundle.empty()))
        return fail("run: --watch needs --bundle NAME --registry REG --trusted FILE (a deployed rule set)");
    if (!o.shadow.empty() && o.shadow_out.empty()) return fail("run: --shadow needs --shadow-out FILE");
    if (o.shadow.empty() && !o.shadow_out.empty()) return fail("run: --shadow-out needs --shadow BUNDLE");
    if (o.threads > 1) return fail("run: --watch and --shadow run single-threaded (drop --threads)");
    runtime::WatchOptions w;
    if (!o.poll.empty()) {
        auto d = runtime::parse_duration(o.poll);
        if (!d) return fail(fmt::format("--poll: {}", d.error()));
        w.poll_us = *d;
    }
    w.poll_events = o.poll_events;
    w.follow = o.follow;
    if (o.follow && p.events_path == "-")
        return fail("run: --follow needs --events FILE (stdin and pipes are read as they arrive anyway)");
    w.swap_log_path = o.swap_log;
    w.only_path = o.only;

    ir::StringPool pool;
    ir::seed_string_pool(*live_rules, pool);
    runtime::LiveVersion live;
    live.rs = std::shared_ptr<ir::RuleSet>(std::move(live_rules));
    live.exec = make_version_executor(o, *live.rs, pool, eopts, false);
    live.bundle_hash = p.bundle_hash;
    live.label = live.rs->name + "@" + live.rs->version;

    std::optional<runtime::ShadowOptions> shadow;
    if (!o.shadow.empty()) {
        if (o.trusted.empty()) return fail("run: --shadow needs --trusted FILE (the keys to accept)");
        auto trust = govern::load_trust(o.trusted);
        if (!trust) return govern_fail(trust.err());
        auto v = govern::load_verified_bundle(o.shadow, *trust);
        if (!v) return govern_fail(v.err());
        std::cerr << v->rules.diagnostics;
        runtime::ShadowOptions s;
        std::shared_ptr<ir::RuleSet> rs(std::move(v->rules.ruleset));
        const bool same_ids = runtime::bind_strings(*rs, pool);
        s.version.exec = make_version_executor(o, *rs, pool, eopts, !same_ids);
        s.version.rs = std::move(rs);
        s.version.bundle_hash = v->verified.bundle.hash_hex();
        s.version.label = v->verified.bundle.manifest.id();
        s.out_path = o.shadow_out;
        spdlog::info("shadow: {} (manifest {}) runs beside {}", s.version.label,
                     s.version.bundle_hash.substr(0, 16), live.label);
        shadow = std::move(s);
    }
    std::unique_ptr<runtime::SwapSource> source;
    if (o.watch)
        source = std::make_unique<RegistrySource>(o, eopts, p.bundle_hash);
    else
        source = std::make_unique<NoSource>();
    auto sum = runtime::run_watch_pipeline(std::move(live), pool, *source, p, w, std::move(shadow));
    if (!sum) return fail(sum.error());
    if (o.stats) fmt::print(stderr, "{}", runtime::format_stats(sum->run));
    return kExitOk;
}

} // namespace ethogram::tools
