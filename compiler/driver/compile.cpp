// compile.cpp: the front end's entry points: file loading, imports, headers, hashing, sema, dumps.
#include "compiler/driver/compile.h"

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/parse/parser.h"
#include "compiler/sema/sema.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ethogram::compiler {

namespace fs = std::filesystem;

namespace {

bool read_file(const fs::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

struct Loaded {
    ast::File file;
    bool imported = false;
};

/// Loads files depth-first: a file's imports come before it (declarations are order-independent, but
/// the content hash follows this load order).
class Loader {
public:
    Loader(DiagnosticEngine& d) : diags_(d) {}

    std::vector<Loaded> files;
    bool failed = false;

    void load_text(const std::string& name, std::string text, const fs::path& base_dir, bool imported) {
        std::string key = canonical_key(name);
        done_.insert(key);
        active_.push_back(key);
        uint32_t id = diags_.add_file(name, std::move(text));
        auto f = parse::parse_file(id, diags_);
        if (!f) {
            failed = true;
            active_.pop_back();
            return;
        }
        for (const auto& imp : f->imports) {
            fs::path target = base_dir / imp.path;
            std::string tkey = canonical_key(target.string());
            if (std::find(active_.begin(), active_.end(), tkey) != active_.end()) {
                diags_.error("E0104", imp.span,
                             "import cycle: `" + imp.path + "` is still being loaded (it imports this file)");
                failed = true;
                continue;
            }
            if (done_.count(tkey)) continue;
            std::string body;
            if (!fs::is_regular_file(target) || !read_file(target, body)) {
                diags_.error("E0103", imp.span, "cannot find imported file `" + imp.path + "`");
                failed = true;
                continue;
            }
            load_text(target.lexically_normal().string(), std::move(body), target.parent_path(), true);
        }
        active_.pop_back();
        files.push_back({std::move(*f), imported});
    }

private:
    static std::string canonical_key(const std::string& p) {
        std::error_code ec;
        fs::path c = fs::weakly_canonical(fs::path(p), ec);
        return ec ? fs::path(p).lexically_normal().string() : c.string();
    }

    DiagnosticEngine& diags_;
    std::set<std::string> done_;
    std::vector<std::string> active_;
};

bool valid_semver(const std::string& v) {
    int parts = 0;
    size_t i = 0;
    while (i <= v.size()) {
        size_t j = v.find('.', i);
        if (j == std::string::npos) j = v.size();
        std::string p = v.substr(i, j - i);
        if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos ||
            (p.size() > 1 && p[0] == '0'))
            return false;
        ++parts;
        i = j + 1;
    }
    return parts == 3;
}

CompileResult finish(Loader& loader, DiagnosticEngine& diags, const CompileOptions& opts) {
    CompileResult res;
    std::vector<const ast::File*> files;
    for (const auto& l : loader.files) files.push_back(&l.file);
    if (opts.dump_ast)
        for (const auto& l : loader.files)
            res.ast_dump += "file " + diags.file_name(l.file.id) + "\n" + ast::dump(l.file);
    if (loader.failed) return res;

    // The header: exactly one among the inputs; headers of imported files are ignored.
    const ast::Header* header = nullptr;
    for (const auto& l : loader.files) {
        for (const auto& h : l.file.headers) {
            if (l.imported) {
                diags.warning("W0101", h.span, "`ruleset` header of an imported file is ignored");
                continue;
            }
            if (header) {
                auto& d = diags.error("E0105", h.span, "more than one `ruleset` header");
                d.notes.push_back({"the first one is here", header->span});
                continue;
            }
            header = &h;
        }
    }
    if (header && !header->version_is_semver && !valid_semver(header->version.text))
        diags.error("E0102", header->version.span,
                    "`" + header->version.text + "` is not a semantic version MAJOR.MINOR.PATCH");
    else if (header && !valid_semver(header->version.text))
        diags.error("E0102", header->version.span,
                    "`" + header->version.text + "` is not a semantic version (no leading zeros)");
    if (!header && opts.require_header) {
        std::optional<ast::Span> at;
        if (!loader.files.empty()) at = ast::Span{loader.files.back().file.id, 1, 1, 1, 0, 0};
        diags.error("E0101", at, "missing `ruleset NAME version X.Y.Z;` header");
    }
    auto rs = sema::analyze(files, diags);
    if (!rs || diags.error_count() > 0) return res;
    if (header) {
        rs->name = header->name.text;
        rs->version = header->version.text;
    }
    std::string all;
    for (const auto& l : loader.files) {
        rs->sources.push_back(diags.file_name(l.file.id));
        all += diags.file_text(l.file.id);
    }
    // Hash of the concatenated sources in load order (BLAKE2b is a streaming hash; one buffer suffices).
    rs->content_hash = sema::blake2b_hex(all);
    res.ruleset = std::move(rs);
    return res;
}

} // namespace

CompileResult compile_paths(const std::vector<std::string>& paths, Diagnostics& diags,
                            const CompileOptions& opts) {
    DiagnosticEngine& eng = diags.engine();
    Loader loader(eng);
    std::vector<fs::path> inputs;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> in_dir;
            for (const auto& ent : fs::directory_iterator(p, ec))
                if (ent.is_regular_file() && ent.path().extension() == ".etho") in_dir.push_back(ent.path());
            std::sort(in_dir.begin(), in_dir.end());
            if (in_dir.empty())
                eng.error("E0103", std::nullopt, "folder `" + p + "` contains no `.etho` file");
            inputs.insert(inputs.end(), in_dir.begin(), in_dir.end());
        } else {
            inputs.emplace_back(p);
        }
    }
    for (const auto& in : inputs) {
        std::string text;
        if (!read_file(in, text) || fs::is_directory(in)) {
            eng.error("E0103", std::nullopt, "cannot read `" + in.string() + "`");
            loader.failed = true;
            continue;
        }
        std::error_code ec;
        // A file already pulled in by an earlier input's import is not loaded twice.
        bool seen = false;
        for (const auto& l : loader.files)
            if (fs::equivalent(eng.file_name(l.file.id), in, ec)) seen = true;
        if (seen) continue;
        loader.load_text(in.string(), std::move(text), in.parent_path(), false);
    }
    if (eng.error_count() > 0 && loader.files.empty()) loader.failed = true;
    return finish(loader, eng, opts);
}

CompileResult compile_source(std::string_view name, std::string_view text, Diagnostics& diags,
                             const CompileOptions& opts) {
    DiagnosticEngine& eng = diags.engine();
    Loader loader(eng);
    loader.load_text(std::string(name), std::string(text), fs::current_path(), false);
    return finish(loader, eng, opts);
}

} // namespace ethogram::compiler
