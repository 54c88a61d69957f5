// etho_print.h: generated rule sets as .etho source (for the front-end round trip).
#pragma once

#include "compiler/ir/ir.h"

#include <optional>
#include <string>

namespace ethogram::oracle {

/// The rule set as .etho text that should compile to an equivalent IR; nullopt when it uses something
/// the language cannot spell (multi-type aggregate sources, a pattern `within` after a trailing absence,
/// trigger fields with several trigger types).
std::optional<std::string> to_etho(const ir::RuleSet& rs);

} // namespace ethogram::oracle
