// jit.cpp: the process-wide ORC LLJIT session (host CPU, IR transform layer running the O2/O3 pipeline,
// no process symbols), one JITDylib + resource tracker per compiled rule set, and the object cache.
#include "compiler/jit/jit.h"

#include "compiler/interp/interpreter.h"
#include "compiler/jit/lower.h"
#include "compiler/jit/object_cache.h"
#include "compiler/jit/runtime_abi.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/OptimizationLevel.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>

#ifndef ETHOGRAM_VERSION
#define ETHOGRAM_VERSION "unknown"
#endif

namespace ethogram::jit {

namespace orc = llvm::orc;

namespace {

/// Bumped whenever the lowering or the runtime ABI changes: part of the cache key.
constexpr const char* kJitAbiVersion = "jit-abi-7";
/// JitOptions::opt_level -1 compiles up to this many functions at level 2, larger rule sets at level 0:
/// on 1000 reference rules (3706 functions) the O1 pipeline took 3.4 s of CPU and level 0 0.55 s, and the
/// matcher ran no measurably slower (the expression code is a small part of its time;
/// docs/performance-history.md, the first tables).
constexpr size_t kFullOptFunctions = 300;

std::string error_text(llvm::Error err) {
    return llvm::toString(std::move(err));
}

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// Receives the object code of each compiled module (keyed by module identifier) for the disk cache.
class CaptureCache final : public llvm::ObjectCache {
public:
    void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) override {
        std::lock_guard<std::mutex> lock(mu_);
        objects_[m->getModuleIdentifier()].assign(obj.getBufferStart(), obj.getBufferEnd());
    }
    std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override { return nullptr; }
    std::vector<char> take(const std::string& id) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = objects_.find(id);
        if (it == objects_.end()) return {};
        std::vector<char> out = std::move(it->second);
        objects_.erase(it);
        return out;
    }

private:
    std::mutex mu_;
    std::map<std::string, std::vector<char>> objects_;
};

int module_opt_level(const llvm::Module& m) {
    if (auto* md = llvm::mdconst::extract_or_null<llvm::ConstantInt>(m.getModuleFlag("ethogram.opt")))
        return static_cast<int>(md->getZExtValue());
    return 2;
}

/// Compiles each module with the code generator level its "ethogram.opt" flag asks for: levels 0-1 use
/// the fast instruction selector (large rule sets compile several times faster), 2-3 the optimising one.
/// Its two target machines are made on the first compile, not with the session: a run whose rule set
/// comes from the object cache compiles nothing, and each target machine costs about 0.8M instructions
/// of start-up (docs/performance-history.md, "Start-up").
class LevelledCompiler final : public orc::IRCompileLayer::IRCompiler {
public:
    LevelledCompiler(orc::JITTargetMachineBuilder builder, llvm::ObjectCache* cache)
        : IRCompiler(orc::irManglingOptionsFromTargetOptions(builder.getOptions())),
          builder_(std::move(builder)), cache_(cache) {}
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> operator()(llvm::Module& m) override {
        std::lock_guard<std::mutex> lock(mu_); // compiles are serialised by the session's lock anyway
        if (!full_) {
            auto full = builder_.createTargetMachine();
            if (!full) return full.takeError();
            orc::JITTargetMachineBuilder b = builder_;
            b.setCodeGenOptLevel(llvm::CodeGenOptLevel::None);
            auto fast = b.createTargetMachine();
            if (!fast) return fast.takeError();
            full_ = std::move(*full);
            fast_ = std::move(*fast);
        }
        orc::SimpleCompiler c(module_opt_level(m) >= 2 ? *full_ : *fast_, cache_);
        return c(m);
    }

private:
    orc::JITTargetMachineBuilder builder_;
    std::mutex mu_;
    std::unique_ptr<llvm::TargetMachine> fast_, full_;
    llvm::ObjectCache* cache_;
};

/// The process-wide JIT. Created on first use; every compiled rule set lives in its own bare JITDylib.
class Session {
public:
    static Expected<Session*> get() {
        static std::once_flag once;
        static Session* instance = nullptr;
        static std::string failure;
        std::call_once(once, [] {
            auto s = std::unique_ptr<Session>(new Session());
            failure = s->init();
            if (failure.empty()) instance = s.release();
        });
        if (!instance) return Error{failure};
        return instance;
    }

    orc::LLJIT& jit() { return *jit_; }
    CaptureCache& capture() { return capture_; }
    std::recursive_mutex& mu() { return mu_; }
    const std::string& host_key() const { return host_key_; }
    const std::string& cpu() const { return cpu_; }
    uint64_t next_id() { return ++ids_; }

private:
    Session() = default;

    std::string init() {
        llvm::InitializeNativeTarget();
        llvm::InitializeNativeTargetAsmPrinter();
        auto jtmb = orc::JITTargetMachineBuilder::detectHost();
        if (!jtmb) return "cannot detect the host target: " + error_text(jtmb.takeError());
        jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
        cpu_ = jtmb->getCPU();
        host_key_ = jtmb->getTargetTriple().str() + "|" + cpu_ + "|" + jtmb->getFeatures().getString();
        auto tm = jtmb->createTargetMachine();
        if (!tm) return "cannot create a target machine: " + error_text(tm.takeError());
        tm_ = std::move(*tm);

        CaptureCache* cache = &capture_;
        auto jit = orc::LLJITBuilder()
                       .setJITTargetMachineBuilder(*jtmb)
                       // The layout of the target machine made above: LLJIT would make another to ask.
                       .setDataLayout(tm_->createDataLayout())
                       // Generated code sees only the runtime ABI: no process-wide symbol search.
                       .setLinkProcessSymbolsByDefault(false)
                       .setPlatformSetUp(orc::setUpInactivePlatform)
                       .setCompileFunctionCreator(
                           [cache](orc::JITTargetMachineBuilder b)
                               -> llvm::Expected<std::unique_ptr<orc::IRCompileLayer::IRCompiler>> {
                               // Target machines made once, on the first compile: creating one per module
                               // costs more than compiling a small rule set.
                               return std::make_unique<LevelledCompiler>(std::move(b), cache);
                           })
                       .create();
        if (!jit) return "cannot start LLVM ORC LLJIT: " + error_text(jit.takeError());
        jit_ = std::move(*jit);
        llvm::TargetMachine* tmp = tm_.get();
        jit_->getIRTransformLayer().setTransform(
            [tmp](orc::ThreadSafeModule tsm,
                  const orc::MaterializationResponsibility&) -> llvm::Expected<orc::ThreadSafeModule> {
                tsm.withModuleDo([tmp](llvm::Module& m) { optimize(m, *tmp); });
                return tsm;
            });
        return "";
    }

    /// The new pass manager's default pipeline at the level named by the module's "ethogram.opt" flag,
    /// with the host target's cost model.
    static void optimize(llvm::Module& m, llvm::TargetMachine& tm) {
        const int level = module_opt_level(m);
        if (level <= 0) return;
        llvm::LoopAnalysisManager lam;
        llvm::FunctionAnalysisManager fam;
        llvm::CGSCCAnalysisManager cgam;
        llvm::ModuleAnalysisManager mam;
        llvm::PassBuilder pb(&tm);
        pb.registerModuleAnalyses(mam);
        pb.registerCGSCCAnalyses(cgam);
        pb.registerFunctionAnalyses(fam);
        pb.registerLoopAnalyses(lam);
        pb.crossRegisterProxies(lam, fam, cgam, mam);
        llvm::OptimizationLevel ol = level == 1   ? llvm::OptimizationLevel::O1
                                     : level == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
        llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(ol);
        mpm.run(m, mam);
    }

    std::unique_ptr<llvm::TargetMachine> tm_;
    std::unique_ptr<orc::LLJIT> jit_;
    CaptureCache capture_;
    std::recursive_mutex mu_; // recursive: a CompiledRuleSet dropped on an error path unloads under it
    std::string host_key_, cpu_;
    uint64_t ids_ = 0;
};

class Compiled final : public CompiledRuleSet {
public:
    Compiled(Session& s, orc::JITDylib& jd, orc::ResourceTrackerSP rt)
        : s_(s), jd_(&jd), rt_(std::move(rt)) {}
    ~Compiled() override {
        std::lock_guard<std::recursive_mutex> lock(s_.mu());
        if (rt_) llvm::consumeError(rt_->remove());
        llvm::consumeError(s_.jit().getExecutionSession().removeJITDylib(*jd_));
    }
    const interp::NativeHooks& hooks() const override { return hooks_; }
    const CompileStats& stats() const override { return stats_; }
    bool resolves(const std::string& name) const override {
        auto r = s_.jit().lookup(*jd_, name);
        if (r) return true;
        llvm::consumeError(r.takeError());
        return false;
    }

    interp::NativeHooks hooks_;
    CompileStats stats_;

private:
    Session& s_;
    orc::JITDylib* jd_;
    orc::ResourceTrackerSP rt_;
};

/// Resolves every planned symbol in `jd` (this materialises the module or links the cached object).
std::string resolve(Session& s, orc::JITDylib& jd, const ir::RuleSet& rs, const Plan& plan, Compiled& c) {
    orc::LLJIT& jit = s.jit();
    orc::SymbolLookupSet names;
    std::vector<orc::SymbolStringPtr> order;
    for (ir::ExprId id : plan.roots) order.push_back(jit.mangleAndIntern(expr_symbol(id)));
    for (ir::ExprId id : plan.tests) order.push_back(jit.mangleAndIntern(test_symbol(id)));
    for (uint32_t t = 0; t < plan.dispatch.size(); ++t)
        if (plan.dispatch[t]) order.push_back(jit.mangleAndIntern(dispatch_symbol(t)));
    for (auto& n : order) names.add(n);
    auto found = jit.getExecutionSession().lookup(orc::makeJITDylibSearchOrder(&jd), std::move(names));
    if (!found) return error_text(found.takeError());
    c.hooks_.exprs.assign(rs.exprs.size(), nullptr);
    c.hooks_.tests.assign(rs.exprs.size(), nullptr);
    c.hooks_.dispatch.assign(rs.events.size(), nullptr);
    size_t i = 0;
    for (ir::ExprId id : plan.roots)
        c.hooks_.exprs[id] = (*found)[order[i++]].getAddress().toPtr<interp::NativeExprFn>();
    for (ir::ExprId id : plan.tests)
        c.hooks_.tests[id] = (*found)[order[i++]].getAddress().toPtr<interp::NativeTestFn>();
    for (uint32_t t = 0; t < plan.dispatch.size(); ++t)
        if (plan.dispatch[t])
            c.hooks_.dispatch[t] = (*found)[order[i++]].getAddress().toPtr<interp::NativeDispatchFn>();
    c.hooks_.step_bit = plan.step_bit;
    c.hooks_.nbits = static_cast<uint32_t>(plan.bits.size());
    c.stats_.functions = order.size();
    return "";
}

/// A fresh bare JITDylib holding only the runtime ABI symbols, and a resource tracker for its code.
Expected<std::pair<orc::JITDylib*, orc::ResourceTrackerSP>> new_dylib(Session& s) {
    orc::LLJIT& jit = s.jit();
    orc::JITDylib& jd =
        jit.getExecutionSession().createBareJITDylib("ethogram-rules-" + std::to_string(s.next_id()));
    orc::SymbolMap abi;
    for (auto& [name, addr] : runtime_abi_symbols())
        abi[jit.mangleAndIntern(name)] = {orc::ExecutorAddr::fromPtr(addr),
                                          llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
    if (auto err = jd.define(orc::absoluteSymbols(std::move(abi)))) {
        llvm::consumeError(jit.getExecutionSession().removeJITDylib(jd));
        return Error{"cannot define the runtime ABI: " + error_text(std::move(err))};
    }
    return std::make_pair(&jd, jd.createResourceTracker());
}

class JitExecutor final : public ir::Executor {
public:
    JitExecutor(std::unique_ptr<CompiledRuleSet> code, std::unique_ptr<ir::Executor> inner)
        : code_(std::move(code)), inner_(std::move(inner)) {}
    ~JitExecutor() override { inner_.reset(); } // the interpreter state first, then the code
    void on_event(const ir::Event& e, ir::DetectionSink& sink) override { inner_->on_event(e, sink); }
    void advance_watermark(int64_t wm, ir::DetectionSink& sink) override {
        inner_->advance_watermark(wm, sink);
    }
    ir::ExecutorStats stats() const override { return inner_->stats(); }
    // Checkpoints: the state is the interpreter's (native code holds none), so snapshots move freely
    // between --engine jit and --engine interp.
    Status save_state(std::string& out) const override { return inner_->save_state(out); }
    Status restore_state(std::string_view in) override { return inner_->restore_state(in); }
    bool take_state(ir::Executor& from, ir::StateTransfer& out) override {
        return inner_->take_state(from, out);
    }
    ir::Executor* state_holder() override { return inner_->state_holder(); }

private:
    std::unique_ptr<CompiledRuleSet> code_;
    std::unique_ptr<ir::Executor> inner_;
};

} // namespace

std::string jit_unsupported_reason(const ir::RuleSet& rs) {
    return unsupported_reason(rs);
}

std::string jit_host_description() {
    auto s = Session::get();
    return std::string("LLVM ") + LLVM_VERSION_STRING + ", host CPU " + (s ? (*s)->cpu() : "unavailable");
}

std::string default_cache_dir() {
    if (const char* v = std::getenv("ETHOGRAM_JIT_CACHE"); v && *v) return v;
    if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return std::string(v) + "/ethogram/jit";
    if (const char* v = std::getenv("HOME"); v && *v) return std::string(v) + "/.cache/ethogram/jit";
    return "";
}

Expected<std::unique_ptr<CompiledRuleSet>> compile_rule_set(const ir::RuleSet& rs, const JitOptions& opts) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_ms();
    if (std::string why = unsupported_reason(rs); !why.empty()) return Error{why};
    auto session = Session::get();
    if (!session) return Error{session.error()};
    Session& s = **session;
    const Plan plan = make_plan(rs);
    const size_t functions =
        plan.roots.size() + plan.tests.size() +
        static_cast<size_t>(std::count(plan.dispatch.begin(), plan.dispatch.end(), true));
    // Automatic level: full optimisation while it is cheap, the fast pipeline for large rule sets.
    const int level =
        opts.opt_level < 0 ? (functions <= kFullOptFunctions ? 2 : 0) : std::min(opts.opt_level, 3);

    // The cache key: everything the object code depends on. Rule sets built without a content hash
    // (programmatic ones, in tests) are never cached.
    std::string key;
    std::unique_ptr<ObjectCacheDir> cache;
    if (!opts.cache_dir.empty() && !rs.content_hash.empty()) {
        key = hash_hex(std::string("ethogram ") + ETHOGRAM_VERSION + "|" + kJitAbiVersion + "|LLVM " +
                       LLVM_VERSION_STRING + "|" + s.host_key() + "|O" + std::to_string(level) + "|" +
                       rs.content_hash + "|" + plan.fingerprint());
        cache = std::make_unique<ObjectCacheDir>(opts.cache_dir);
    }

    std::lock_guard<std::recursive_mutex> lock(s.mu());
    CompileStats stats;
    if (cache) {
        std::vector<char> obj;
        std::string why;
        CacheRead r = cache->load(key, obj, why);
        if (r == CacheRead::Hit) {
            auto dl = new_dylib(s);
            if (!dl) return Error{dl.error()};
            auto c = std::make_unique<Compiled>(s, *dl->first, dl->second);
            const size_t bytes = obj.size();
            auto buf = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(obj.data(), obj.size()),
                                                            "ethogram-cached");
            std::string err;
            if (auto e = s.jit().addObjectFile(dl->second, std::move(buf)))
                err = error_text(std::move(e));
            else
                err = resolve(s, *dl->first, rs, plan, *c);
            if (err.empty()) {
                c->stats_ = stats;
                c->stats_.functions =
                    plan.roots.size() + plan.tests.size() +
                    static_cast<size_t>(std::count(plan.dispatch.begin(), plan.dispatch.end(), true));
                c->stats_.cache_hit = true;
                c->stats_.object_bytes = bytes;
                c->stats_.total_ms = ms_since(t0);
                c->stats_.cpu_ms = thread_cpu_ms() - c0;
                return std::unique_ptr<CompiledRuleSet>(std::move(c));
            }
            stats.cache_warning = cache->path_for(key) + ": cached object unusable (" + err + "); rebuilt";
        } else if (r == CacheRead::Invalid) {
            stats.cache_warning = why + "; rebuilt";
        }
    }

    // Cold path: lower, optimise (IR transform layer), compile, link.
    const auto tl = std::chrono::steady_clock::now();
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto mod = lower(rs, plan, *ctx);
    if (!mod) return Error{"JIT lowering failed: " + mod.error()};
    llvm::Module& m = **mod;
    const std::string module_id = "ethogram_rules_" + std::to_string(s.next_id());
    m.setModuleIdentifier(module_id);
    m.setDataLayout(s.jit().getDataLayout());
    m.setTargetTriple(s.jit().getTargetTriple().str());
    m.addModuleFlag(llvm::Module::Warning, "ethogram.opt", static_cast<uint32_t>(level));
    stats.lower_ms = ms_since(tl);
    if (const char* dump = std::getenv("ETHOGRAM_JIT_DUMP_IR"); dump && *dump) {
        // Debugging aid: the unoptimised module as text.
        std::error_code ec;
        llvm::raw_fd_ostream os(dump, ec);
        if (!ec) m.print(os, nullptr);
    }

    auto dl = new_dylib(s);
    if (!dl) return Error{dl.error()};
    auto c = std::make_unique<Compiled>(s, *dl->first, dl->second);
    if (auto e = s.jit().addIRModule(dl->second, orc::ThreadSafeModule(std::move(*mod), std::move(ctx))))
        return Error{"JIT: " + error_text(std::move(e))};
    if (std::string err = resolve(s, *dl->first, rs, plan, *c); !err.empty()) return Error{"JIT: " + err};
    std::vector<char> obj = s.capture().take(module_id);
    stats.functions = c->stats_.functions;
    stats.object_bytes = obj.size();
    if (cache && !obj.empty()) {
        std::string why;
        stats.cache_stored = cache->store(key, obj, why);
        if (!stats.cache_stored) stats.cache_note = "cannot write the JIT cache: " + why;
    }
    stats.total_ms = ms_since(t0);
    stats.cpu_ms = thread_cpu_ms() - c0;
    c->stats_ = stats;
    return std::unique_ptr<CompiledRuleSet>(std::move(c));
}

Expected<std::unique_ptr<ir::Executor>> make_jit_executor(const ir::RuleSet& rs, ir::StringPool& pool,
                                                          const ir::ExecutorOptions& opts,
                                                          const JitOptions& jit_opts, CompileStats* stats) {
    auto code = compile_rule_set(rs, jit_opts);
    if (!code) return Error{code.error()};
    if (stats) *stats = (*code)->stats();
    const interp::NativeHooks* hooks = &(*code)->hooks();
    auto inner = interp::make_interpreter(rs, pool, opts, hooks);
    return std::unique_ptr<ir::Executor>(std::make_unique<JitExecutor>(std::move(*code), std::move(inner)));
}

} // namespace ethogram::jit
