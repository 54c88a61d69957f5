// build.cpp: bundle building: compile, collect files under a common root, hash, write the manifest.
#include "govern/build.h"

#include "compiler/driver/compile.h"
#include "govern/files.h"
#include "govern/load.h"
#include "models/model_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace ethogram::govern {

namespace fs = std::filesystem;

namespace {

fs::path absolute_of(const std::string& p) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
    return ec ? fs::absolute(p).lexically_normal() : c;
}

fs::path common_root(const fs::path& a, const fs::path& b) {
    fs::path out;
    auto ia = a.begin(), ib = b.begin();
    for (; ia != a.end() && ib != b.end() && *ia == *ib; ++ia, ++ib) out /= *ia;
    return out;
}

// Next release that may break compatibility: the next minor while 0.x, else the next major.
std::string next_breaking(const std::string& v) {
    unsigned a = 0, b = 0, c = 0;
    std::sscanf(v.c_str(), "%u.%u.%u", &a, &b, &c);
    return a == 0 ? fmt::format("0.{}.0", b + 1) : fmt::format("{}.0.0", a + 1);
}

int64_t default_time() {
    if (const char* s = std::getenv("SOURCE_DATE_EPOCH"); s && *s) {
        char* end = nullptr;
        long long v = std::strtoll(s, &end, 10);
        if (end && *end == '\0' && v >= 0) return v;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Source {
    fs::path abs;
    std::string kind;
};

} // namespace

Expected<Bundle> build_bundle(const BuildOptions& o, std::string& diagnostics) {
    std::error_code ec;
    if (!fs::exists(o.rules_dir, ec)) return fail(Code::Io, o.rules_dir + ": no such file or directory");
    if (!o.tests_dir.empty() && !fs::is_directory(o.tests_dir, ec))
        return fail(Code::Io, o.tests_dir + ": not a directory (--tests takes the folder of the tests)");

    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_paths({o.rules_dir}, diags);
    diagnostics = diags.render();
    if (!res.ruleset || diags.error_count() > 0)
        return fail(
            Code::Compile,
            fmt::format("{}: the rules do not compile ({} error(s)); a bundle is only built from rules "
                        "that pass `etho check`",
                        o.rules_dir, diags.error_count()));
    const ir::RuleSet& rs = *res.ruleset;
    if (rs.name.empty() || rs.version.empty())
        return fail(Code::Usage, o.rules_dir + ": the rules have no `ruleset NAME version X.Y.Z;` header");
    if (!o.name.empty() && o.name != rs.name)
        return fail(Code::Usage,
                    fmt::format("--name {} differs from the rules' header ({}): a bundle is named "
                                "after its rule set",
                                o.name, rs.name));
    if (!o.version.empty() && o.version != rs.version)
        return fail(Code::Usage, fmt::format("--version {} differs from the rules' header ({} {}): bump the "
                                             "`ruleset ... version` line instead, so detections carry it",
                                             o.version, rs.name, rs.version));

    // Entry points: what compile_paths took from the argument (a folder's *.etho, sorted, or the file).
    std::vector<fs::path> entry;
    if (fs::is_directory(o.rules_dir, ec)) {
        for (const auto& e : fs::directory_iterator(o.rules_dir, ec))
            if (e.is_regular_file() && e.path().extension() == ".etho")
                entry.push_back(absolute_of(e.path()));
        std::sort(entry.begin(), entry.end());
    } else {
        entry.push_back(absolute_of(o.rules_dir));
    }

    std::vector<Source> sources;
    for (const auto& s : rs.sources) sources.push_back({absolute_of(s), "rules"});
    fs::path tests_abs;
    if (!o.tests_dir.empty()) {
        tests_abs = absolute_of(o.tests_dir);
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(tests_abs, ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            std::string leaf = it->path().filename().string();
            if (!leaf.empty() && leaf[0] == '.') {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file()) found.push_back(it->path());
        }
        if (ec) return fail(Code::Io, fmt::format("{}: cannot list: {}", o.tests_dir, ec.message()));
        for (auto& f : found) sources.push_back({absolute_of(f.string()), "tests"});
    }
    // Models: those the rules declare (already verified against their pinned hash by the compiler) and
    // those named with --models; a bundle must compile from its own bytes, so a declared model is packed
    // even when the author forgot to name it.
    std::vector<std::string> model_paths = o.models;
    for (const ir::Model& m : rs.models) model_paths.push_back(m.path);
    std::vector<fs::path> seen_models;
    for (const auto& m : model_paths) {
        fs::path abs = absolute_of(m);
        if (std::find(seen_models.begin(), seen_models.end(), abs) != seen_models.end()) continue;
        seen_models.push_back(abs);
        auto loaded = models::read_model_file(m);
        if (!loaded) return fail(Code::Corrupt, "--models: " + loaded.error());
        sources.push_back({abs, "models"});
    }
    for (const auto& f : o.include) {
        if (!fs::is_regular_file(f, ec))
            return fail(Code::Io, f + ": no such file (--include takes data files the tests read)");
        sources.push_back({absolute_of(f), "tests"});
    }
    if (!o.config.empty()) {
        if (!fs::is_regular_file(o.config, ec))
            return fail(Code::Io,
                        o.config + ": no such file (--config takes the engine's YAML configuration)");
        sources.push_back({absolute_of(o.config), "config"});
    }

    fs::path root = sources.front().abs.parent_path();
    for (const auto& s : sources) root = common_root(root, s.abs.parent_path());
    if (!tests_abs.empty()) root = common_root(root, tests_abs);

    std::map<std::string, std::string>
        kinds; // path in bundle -> kind (a rule file also under tests stays rules)
    for (const auto& s : sources) {
        std::string rel = s.abs.lexically_relative(root).generic_string();
        if (!valid_bundle_path(rel))
            return fail(Code::Usage,
                        fmt::format("{}: cannot be packed as '{}' (unsafe path)", s.abs.string(), rel));
        kinds.emplace(rel, s.kind);
    }

    Bundle b;
    Manifest& m = b.manifest;
    m.name = rs.name;
    m.version = rs.version;
    m.engine_min = engine_version();
    m.engine_below = next_breaking(m.engine_min);
    m.created_by = o.created_by;
    m.created_at = rfc3339_utc(o.created_at ? *o.created_at : default_time());
    m.ruleset_hash = rs.content_hash;
    for (const auto& e : entry) m.entry.push_back(e.lexically_relative(root).generic_string());
    m.tests = tests_abs.empty() ? "" : tests_abs.lexically_relative(root).generic_string();
    for (const auto& r : rs.rules) m.rules.push_back({r.name, r.hash});
    for (const auto& [rel, kind] : kinds) {
        auto data = read_file((root / rel).string());
        if (!data) return data.err();
        m.files.push_back({rel, kind, data->size(), blake2b_hex(*data)});
        b.files.push_back({rel, std::move(*data)});
    }
    b.manifest_bytes = encode_manifest(m);
    b.manifest_hash = blake2b(b.manifest_bytes);
    // Self-check: the packed bytes (not the files on disk, which may have changed since they were
    // compiled) compile to the rule set the manifest describes.
    if (auto c = compile_bundle(b, m.id()); !c) return c.err();
    return b;
}

} // namespace ethogram::govern
