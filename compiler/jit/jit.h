// jit.h: the LLVM ORC JIT executor of the rule IR: expressions compiled to native code and plugged into
// the interpreter's shared state machinery (compiler/interp/native_hooks.h).
#pragma once

#include "compiler/interp/native_hooks.h"
#include "compiler/ir/executor.h"
#include "compiler/jit/expected.h"

#include <memory>
#include <string>

namespace ethogram::jit {

struct JitOptions {
    /// Directory of the object cache; empty = no cache. Entries are keyed by the rule set's content hash,
    /// the engine and LLVM versions, the host CPU and its features, and the optimisation level.
    std::string cache_dir;
    /// 0..3: the IR transform layer's pipeline (none, O1, O2, O3); 0-1 use the fast code generator, 2-3
    /// the optimising one. -1 (the default): 2 for up to 300 native functions, 0 above (compile time).
    int opt_level = -1;
};

/// How one rule set was compiled (for `etho bench`, logs and tests).
struct CompileStats {
    double total_ms = 0; ///< from make_jit_executor's start to every symbol resolved
    double cpu_ms = 0;   ///< the same span in this thread's CPU time (compiles run on the calling thread)
    double lower_ms = 0; ///< IR -> LLVM IR (0 on a cache hit)
    bool cache_hit = false;
    bool cache_stored = false;
    std::string cache_warning; ///< a corrupt or unusable entry: the code was rebuilt (worth a warning)
    std::string cache_note;    ///< the cache could not be written (read-only home...): worth a debug line
    size_t functions = 0;      ///< native functions (expressions + dispatch)
    size_t object_bytes = 0;
};

/// One rule set's compiled code, in its own JITDylib and resource tracker: destroying it unloads the
/// code (a later hot swap loads the next version beside it and drops this one).
class CompiledRuleSet {
public:
    virtual ~CompiledRuleSet() = default;
    virtual const interp::NativeHooks& hooks() const = 0;
    virtual const CompileStats& stats() const = 0;
    /// True when `name` resolves in this rule set's JITDylib: the generated functions and the runtime ABI
    /// do, nothing else of the process does (checked by tests).
    virtual bool resolves(const std::string& name) const = 0;
};

/// Compiles `rs`. Fails with a clear reason (never an LLVM diagnostic for a valid rule set) when the JIT
/// cannot start on this host or `rs` uses a construct the lowering does not support.
Expected<std::unique_ptr<CompiledRuleSet>> compile_rule_set(const ir::RuleSet& rs, const JitOptions& opts);

/// An ir::Executor running `rs` with compiled code. The same contract as interp::make_interpreter:
/// `pool` seeded with ir::seed_string_pool, `rs` and `pool` outlive the executor.
Expected<std::unique_ptr<ir::Executor>> make_jit_executor(const ir::RuleSet& rs, ir::StringPool& pool,
                                                          const ir::ExecutorOptions& opts,
                                                          const JitOptions& jit_opts,
                                                          CompileStats* stats = nullptr);

/// Empty when the JIT can compile `rs`, else why not.
std::string jit_unsupported_reason(const ir::RuleSet& rs);

/// "LLVM 19.1.x, host CPU znver3": for logs and the benchmark report.
std::string jit_host_description();

/// The default object cache directory: $ETHOGRAM_JIT_CACHE, else $XDG_CACHE_HOME/ethogram/jit, else
/// $HOME/.cache/ethogram/jit, else empty (no cache).
std::string default_cache_dir();

} // namespace ethogram::jit
