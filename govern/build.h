// build.h: `etho build`: compile a rule set, then pack its sources, tests and models into a bundle.
#pragma once

#include "govern/bundle.h"

#include <optional>
#include <string>
#include <vector>

namespace ethogram::govern {

struct BuildOptions {
    std::string rules_dir;             ///< folder (or file) of the rule set, as `etho run` takes it
    std::string name, version;         ///< must equal the `ruleset` header's (empty: take the header's)
    std::string tests_dir;             ///< optional: every regular file under it (recursively, no dotfiles)
    std::vector<std::string> models;   ///< optional: model files (checked with models::read_model_file);
                                       ///< the models the rules declare are packed without being named
    std::string config;                ///< optional: the engine configuration (YAML) the tests run with
    std::vector<std::string> include;  ///< optional: data files the tests read (e.g. an events file)
    std::string created_by;            ///< the author's key name (or a user name)
    std::optional<int64_t> created_at; ///< seconds since the epoch; default: SOURCE_DATE_EPOCH, else now
};

/// Compiles the rules (they must pass `etho check`), collects every source file the compiler loaded
/// (imports included), the models the rules declare (`model ... { path ...; }`) and those given, the
/// tests and the configuration, and makes a bundle. Paths in the bundle are relative to
/// the deepest folder that contains all of them, so relative references between them (imports, a test
/// naming ../rules) keep working once extracted. Same inputs, same bytes, except `created_at`.
/// Code::Compile: `diagnostics` holds the compiler's messages.
Expected<Bundle> build_bundle(const BuildOptions& o, std::string& diagnostics);

} // namespace ethogram::govern
