// load.h: the narrow loading API an engine uses: a verified bundle in, a compiled ir::RuleSet out.
#pragma once

#include "compiler/ir/ir.h"
#include "govern/bundle.h"
#include "govern/keys.h"
#include "govern/verify.h"

#include <memory>
#include <string>

namespace ethogram::govern {

/// A private temporary folder (mode 0700) removed with everything in it when this object dies.
class TempDir {
public:
    TempDir() = default;
    ~TempDir();
    TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    static Expected<TempDir> create(const std::string& prefix);
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Writes every file of the bundle (or only those of `kind`, when not empty) under `dir`, which must
/// exist. Paths were validated when decoding, so nothing lands outside `dir`.
Status extract_bundle(const Bundle& b, const std::string& dir, const std::string& kind = "");

/// A rule set compiled from a bundle.
struct LoadedRules {
    std::unique_ptr<ir::RuleSet> ruleset;
    std::string diagnostics; ///< the compiler's warnings (or errors), file names relative to the bundle
};

/// Compiles the bundle's rules from its own bytes (extracted to a private temporary folder, removed
/// afterwards) and checks that the result is what the manifest promises: same name, version, content
/// hash and rule hashes (Code::Tampered otherwise). Signatures are NOT checked here: call
/// verify_bundle_file first, or use load_verified_bundle.
Expected<LoadedRules> compile_bundle(const Bundle& b, const std::string& where);

/// verify_bundle_file + compile_bundle: what `etho run --bundle` does.
struct VerifiedRules {
    VerifiedBundle verified;
    LoadedRules rules;
};
Expected<VerifiedRules> load_verified_bundle(const std::string& path, const TrustStore& trust,
                                             const VerifyOptions& opts = {});

} // namespace ethogram::govern
