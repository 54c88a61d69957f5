// load.cpp: extraction to a private temporary folder and compilation of a bundle's rules.
#include "govern/load.h"

#include "compiler/driver/compile.h"
#include "govern/files.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace ethogram::govern {

namespace fs = std::filesystem;

TempDir::~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
}

Expected<TempDir> TempDir::create(const std::string& prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data())) return fail(Code::Io, tmpl + ": cannot create a temporary folder");
    TempDir d;
    d.path_ = tmpl;
    return d;
}

Status extract_bundle(const Bundle& b, const std::string& dir, const std::string& kind) {
    for (size_t i = 0; i < b.files.size(); ++i) {
        if (!kind.empty() && b.manifest.files[i].kind != kind) continue;
        const std::string& rel = b.files[i].path;
        if (!valid_bundle_path(rel)) return fail(Code::Corrupt, "unsafe path in bundle: " + rel);
        fs::path target = fs::path(dir) / rel;
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) return fail(Code::Io, target.parent_path().string() + ": " + ec.message());
        if (auto s = write_file_exclusive(target.string(), b.files[i].data, 0600); !s) return s.err();
    }
    return ok_status();
}

Expected<LoadedRules> compile_bundle(const Bundle& b, const std::string& where) {
    auto tmp = TempDir::create("etho-bundle-");
    if (!tmp) return tmp.err();
    if (auto s = extract_bundle(b, tmp->path(), "rules"); !s) return s.err();
    std::vector<std::string> entry;
    for (const auto& e : b.manifest.entry) entry.push_back((fs::path(tmp->path()) / e).string());
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_paths(entry, diags);
    LoadedRules out;
    out.diagnostics = diags.render();
    // Messages name the bundle's own paths, not the temporary folder.
    std::string prefix = tmp->path() + "/";
    for (size_t p = 0; (p = out.diagnostics.find(prefix, p)) != std::string::npos;)
        out.diagnostics.replace(p, prefix.size(), where + ":");
    if (!res.ruleset || diags.error_count() > 0)
        return fail(Code::Compile, fmt::format("{}: the bundle's rules do not compile on this engine:\n{}",
                                               where, out.diagnostics));
    ir::RuleSet& rs = *res.ruleset;
    const Manifest& m = b.manifest;
    if (rs.name != m.name || rs.version != m.version)
        return fail(Code::Tampered, fmt::format("{}: the rules declare {} {}, the manifest {}", where,
                                                rs.name, rs.version, m.id()));
    if (rs.content_hash != m.ruleset_hash)
        return fail(Code::Tampered,
                    fmt::format("{}: the compiled sources hash to {}, the manifest says {}", where,
                                rs.content_hash.substr(0, 16), m.ruleset_hash.substr(0, 16)));
    bool same = rs.rules.size() == m.rules.size();
    for (size_t i = 0; same && i < rs.rules.size(); ++i)
        same = rs.rules[i].name == m.rules[i].name && rs.rules[i].hash == m.rules[i].hash;
    if (!same)
        return fail(Code::Tampered, where + ": the compiled rules differ from the manifest's rule list");
    for (auto& s : rs.sources)
        if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
    out.ruleset = std::move(res.ruleset);
    return out;
}

Expected<VerifiedRules> load_verified_bundle(const std::string& path, const TrustStore& trust,
                                             const VerifyOptions& opts) {
    auto v = verify_bundle_file(path, trust, opts);
    if (!v) return v.err();
    auto rules = compile_bundle(v->bundle, path);
    if (!rules) return rules.err();
    return VerifiedRules{std::move(*v), std::move(*rules)};
}

} // namespace ethogram::govern
