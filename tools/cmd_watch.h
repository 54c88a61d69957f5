// cmd_watch.h: `etho run --watch` (hot swap on a registry's deployments) and `etho run --shadow`.
#pragma once

#include "compiler/ir/executor.h"
#include "compiler/ir/ir.h"
#include "runtime/pipeline.h"
#include "tools/commands.h"

#include <memory>

namespace CLI {
class App;
}

namespace ethogram::tools {

/// Registers --watch, --poll, --poll-events, --swap-log, --shadow, --shadow-out on `etho run`.
void add_watch_flags(CLI::App* cmd, RunOptions& o);

/// Runs the watching pipeline (runtime/hot_swap.h) with `live_rules` as the first version.
int run_watch(const RunOptions& o, const runtime::PipelineOptions& p, const ir::ExecutorOptions& eopts,
              std::unique_ptr<ir::RuleSet> live_rules);

} // namespace ethogram::tools
