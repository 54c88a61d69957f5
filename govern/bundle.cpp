// bundle.cpp: the bundle container and its manifest: canonical encoding and strict, bounded decoding.
#include "govern/bundle.h"

#include "govern/files.h"
#include "runtime/json_writer.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>

#ifndef ETHOGRAM_VERSION
#define ETHOGRAM_VERSION "0.0.0"
#endif

namespace ethogram::govern {

namespace {

using runtime::append_json_string;

constexpr size_t kChecksumBytes = 32;
// Decoding refuses absurd sizes before allocating anything.
constexpr uint64_t kMaxManifestBytes = 16u << 20;
constexpr uint32_t kMaxFiles = 100000;
constexpr uint32_t kMaxPathBytes = 1024;

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A bounds-checked little-endian reader over the container.
struct Reader {
    std::string_view in;
    size_t pos = 0;
    bool u32(uint32_t& v) {
        if (in.size() - pos < 4) return false;
        v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
        pos += 4;
        return true;
    }
    bool u64(uint64_t& v) {
        if (in.size() - pos < 8) return false;
        v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
        pos += 8;
        return true;
    }
    bool bytes(uint64_t n, std::string_view& out) {
        if (in.size() - pos < n) return false;
        out = in.substr(pos, static_cast<size_t>(n));
        pos += static_cast<size_t>(n);
        return true;
    }
};

void str_field(std::string& out, const char* key, std::string_view v, bool first = false) {
    if (!first) out.push_back(',');
    append_json_string(out, key);
    out.push_back(':');
    append_json_string(out, v);
}

bool parse_part(std::string_view p, uint64_t& v) {
    if (p.empty() || p.size() > 9 || (p.size() > 1 && p[0] == '0')) return false;
    v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

bool split_semver(std::string_view v, uint64_t (&parts)[3]) {
    size_t a = v.find('.');
    if (a == std::string_view::npos) return false;
    size_t b = v.find('.', a + 1);
    if (b == std::string_view::npos) return false;
    return parse_part(v.substr(0, a), parts[0]) && parse_part(v.substr(a + 1, b - a - 1), parts[1]) &&
           parse_part(v.substr(b + 1), parts[2]);
}

} // namespace

const char* engine_version() {
    return ETHOGRAM_VERSION;
}

bool valid_semver(std::string_view v) {
    uint64_t p[3];
    return split_semver(v, p);
}

int compare_semver(std::string_view a, std::string_view b) {
    uint64_t x[3] = {0, 0, 0}, y[3] = {0, 0, 0};
    split_semver(a, x);
    split_semver(b, y);
    for (int i = 0; i < 3; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

bool valid_bundle_path(std::string_view p) {
    if (p.empty() || p.size() > kMaxPathBytes || p.front() == '/') return false;
    for (char c : p)
        if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        std::string_view part = p.substr(i, j - i);
        if (part.empty() || part == "." || part == "..") return false;
        i = j + 1;
    }
    return true;
}

std::string encode_manifest(const Manifest& m) {
    std::string o = "{";
    append_json_string(o, "format");
    o += fmt::format(":{}", kBundleFormatVersion);
    str_field(o, "name", m.name);
    str_field(o, "version", m.version);
    o += ",\"engine\":{";
    str_field(o, "min", m.engine_min, true);
    str_field(o, "below", m.engine_below);
    o += "}";
    str_field(o, "created_by", m.created_by);
    str_field(o, "created_at", m.created_at);
    str_field(o, "ruleset_hash", m.ruleset_hash);
    o += ",\"entry\":[";
    for (size_t i = 0; i < m.entry.size(); ++i) {
        if (i) o.push_back(',');
        append_json_string(o, m.entry[i]);
    }
    o += "]";
    str_field(o, "tests", m.tests);
    o += ",\"rules\":[";
    for (size_t i = 0; i < m.rules.size(); ++i) {
        o += i ? ",\n{" : "\n{";
        str_field(o, "name", m.rules[i].name, true);
        str_field(o, "hash", m.rules[i].hash);
        o += "}";
    }
    o += "],\"files\":[";
    for (size_t i = 0; i < m.files.size(); ++i) {
        o += i ? ",\n{" : "\n{";
        str_field(o, "path", m.files[i].path, true);
        str_field(o, "kind", m.files[i].kind);
        o += fmt::format(",\"size\":{}", m.files[i].size);
        str_field(o, "blake2b", m.files[i].blake2b);
        o += "}";
    }
    o += "]}\n";
    return o;
}

Expected<Manifest> parse_manifest(std::string_view json, const std::string& where) {
    auto bad = [&](const std::string& what) { return fail(Code::Corrupt, where + ": manifest: " + what); };
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (auto err = parser.parse(padded).get(root); err)
        return bad(std::string("not valid JSON: ") + simdjson::error_message(err));
    Manifest m;
    int64_t format = 0;
    if (root["format"].get(format) || format != kBundleFormatVersion)
        return bad(fmt::format("format {} (this engine reads {})", format, kBundleFormatVersion));
    auto get = [&](simdjson::dom::element e, const char* key, std::string& out) {
        std::string_view v;
        if (e[key].get(v)) return false;
        out = std::string(v);
        return true;
    };
    simdjson::dom::element engine;
    if (!get(root, "name", m.name) || !get(root, "version", m.version) || root["engine"].get(engine) ||
        !get(engine, "min", m.engine_min) || !get(engine, "below", m.engine_below) ||
        !get(root, "created_by", m.created_by) || !get(root, "created_at", m.created_at) ||
        !get(root, "ruleset_hash", m.ruleset_hash) || !get(root, "tests", m.tests))
        return bad("a required field is missing or not a string");
    simdjson::dom::array arr;
    if (root["entry"].get(arr)) return bad("`entry` is missing or not a list");
    for (auto e : arr) {
        std::string_view v;
        if (e.get(v)) return bad("`entry` holds a non-string");
        m.entry.emplace_back(v);
    }
    if (root["rules"].get(arr)) return bad("`rules` is missing or not a list");
    for (auto e : arr) {
        ManifestRule r;
        if (!get(e, "name", r.name) || !get(e, "hash", r.hash)) return bad("a rule lacks `name` or `hash`");
        m.rules.push_back(std::move(r));
    }
    if (root["files"].get(arr)) return bad("`files` is missing or not a list");
    for (auto e : arr) {
        ManifestFile f;
        uint64_t size = 0;
        if (!get(e, "path", f.path) || !get(e, "kind", f.kind) || !get(e, "blake2b", f.blake2b) ||
            e["size"].get(size))
            return bad("a file entry lacks `path`, `kind`, `size` or `blake2b`");
        f.size = size;
        m.files.push_back(std::move(f));
    }
    if (encode_manifest(m) != json)
        return bad("not in canonical form (edited by hand, or fields added, duplicated or reordered)");
    if (!valid_semver(m.version)) return bad("version '" + m.version + "' is not MAJOR.MINOR.PATCH");
    if (!valid_semver(m.engine_min) || !valid_semver(m.engine_below))
        return bad("the engine range is not two semantic versions");
    for (size_t i = 0; i < m.files.size(); ++i) {
        const auto& f = m.files[i];
        if (!valid_bundle_path(f.path)) return bad("unsafe or invalid file path '" + f.path + "'");
        if (i > 0 && !(m.files[i - 1].path < f.path))
            return bad("files are not sorted or a path is listed twice ('" + f.path + "')");
        if (f.kind != "rules" && f.kind != "tests" && f.kind != "models" && f.kind != "config")
            return bad("file '" + f.path + "' has unknown kind '" + f.kind + "'");
    }
    return m;
}

std::string encode_bundle(const Bundle& b) {
    std::string out(kBundleMagic, sizeof kBundleMagic);
    put_u32(out, kBundleFormatVersion);
    put_u64(out, b.manifest_bytes.size());
    out += b.manifest_bytes;
    put_u32(out, static_cast<uint32_t>(b.files.size()));
    for (const auto& f : b.files) {
        put_u32(out, static_cast<uint32_t>(f.path.size()));
        out += f.path;
        put_u64(out, f.data.size());
        out += f.data;
    }
    Digest sum = blake2b(out);
    out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    return out;
}

Expected<Bundle> decode_bundle(std::string_view bytes, const std::string& name) {
    auto corrupt = [&](const std::string& what) { return fail(Code::Corrupt, name + ": " + what); };
    constexpr size_t kMin = sizeof kBundleMagic + 4 + 8 + 4 + kChecksumBytes;
    if (bytes.empty()) return corrupt("empty file, not a bundle");
    if (bytes.size() >= sizeof kBundleMagic &&
        std::memcmp(bytes.data(), kBundleMagic, sizeof kBundleMagic) != 0)
        return corrupt("not an Ethogram bundle (bad magic)");
    if (bytes.size() < kMin)
        return corrupt(fmt::format("truncated bundle ({} bytes, at least {} needed)", bytes.size(), kMin));
    Reader r{bytes, sizeof kBundleMagic};
    uint32_t version = 0;
    r.u32(version);
    // The version is checked before the checksum: a newer engine's bundle is intact, and the user needs
    // to hear "newer format", not "corrupt".
    if (version > kBundleFormatVersion)
        return fail(
            Code::FutureFormat,
            fmt::format("{}: bundle format version {} is newer than this engine reads ({}); upgrade the "
                        "engine",
                        name, version, kBundleFormatVersion));
    if (version == 0) return corrupt("bundle format version 0 does not exist (damaged header)");
    const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
    Reader b{body, r.pos};
    uint64_t mlen = 0;
    std::string_view manifest;
    if (!b.u64(mlen) || mlen > kMaxManifestBytes || !b.bytes(mlen, manifest))
        return corrupt(fmt::format("truncated bundle (manifest of {} bytes declared, the file is {} bytes)",
                                   mlen, bytes.size()));
    uint32_t count = 0;
    if (!b.u32(count) || count > kMaxFiles)
        return corrupt("truncated bundle (no file count after the manifest)");
    std::vector<BundleFile> files;
    files.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t plen = 0;
        uint64_t size = 0;
        std::string_view path, data;
        if (!b.u32(plen) || plen > kMaxPathBytes || !b.bytes(plen, path) || !b.u64(size) ||
            !b.bytes(size, data))
            return corrupt(fmt::format("truncated bundle (file {} of {} runs past the end)", i + 1, count));
        files.push_back({std::string(path), std::string(data)});
    }
    if (b.pos != body.size())
        return corrupt(fmt::format("{} unexpected bytes before the checksum (damaged or appended to)",
                                   body.size() - b.pos));
    Digest sum = blake2b(body);
    if (std::memcmp(sum.data(), bytes.data() + body.size(), kChecksumBytes) != 0)
        return corrupt("checksum mismatch: the file is damaged or was altered");

    auto m = parse_manifest(manifest, name);
    if (!m) return m.err();
    Bundle out;
    out.manifest = std::move(*m);
    out.manifest_bytes = std::string(manifest);
    out.manifest_hash = blake2b(manifest);
    out.files = std::move(files);
    const auto& listed = out.manifest.files;
    for (size_t i = 0; i < out.files.size() || i < listed.size(); ++i) {
        if (i >= listed.size())
            return fail(Code::Tampered, fmt::format("{}: file '{}' is in the bundle but not in the manifest",
                                                    name, out.files[i].path));
        if (i >= out.files.size() || out.files[i].path != listed[i].path)
            return fail(Code::Tampered,
                        fmt::format("{}: file '{}' is listed in the manifest but missing from the bundle",
                                    name, listed[i].path));
        const auto& f = out.files[i];
        if (f.data.size() != listed[i].size || blake2b_hex(f.data) != listed[i].blake2b)
            return fail(
                Code::Tampered,
                fmt::format("{}: file '{}' does not match its manifest hash (content changed after the "
                            "build)",
                            name, f.path));
    }
    return out;
}

Expected<Bundle> read_bundle(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.err();
    return decode_bundle(*bytes, path);
}

Status check_engine_range(const Manifest& m, const std::string& where) {
    const char* v = engine_version();
    if (compare_semver(v, m.engine_min) < 0 || compare_semver(v, m.engine_below) >= 0)
        return fail(Code::EngineVersion,
                    fmt::format("{}: {} needs an engine >= {} and < {}; this engine is {}", where, m.id(),
                                m.engine_min, m.engine_below, v));
    return ok_status();
}

} // namespace ethogram::govern
