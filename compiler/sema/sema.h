// sema.h: semantic analysis: resolves and type-checks parsed files, then lowers them to ir::RuleSet.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/ir.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::sema {

/// Checks `files` (in load order, already parsed) as one rule set and lowers them. Name, version,
/// sources and content hash are the driver's business. Returns null when any error was reported.
std::unique_ptr<ir::RuleSet> analyze(const std::vector<const ast::File*>& files,
                                     compiler::DiagnosticEngine& diags);

} // namespace ethogram::sema

namespace ethogram::sema {

/// BLAKE2b-256 of `bytes`, lower-case hex (libsodium's crypto_generichash).
std::string blake2b_hex(std::string_view bytes);

} // namespace ethogram::sema
