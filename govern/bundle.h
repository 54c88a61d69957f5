// bundle.h: the rule-set bundle: one file holding a manifest and the rules, tests and models it lists.
#pragma once

#include "govern/crypto.h"
#include "govern/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::govern {

/// The 16 bytes every bundle starts with.
inline constexpr char kBundleMagic[16] = {'E', 'T', 'H', 'O', 'G', 'R', 'A', 'M',
                                          '-', 'B', 'U', 'N', 'D', 'L', 'E', '\0'};
/// The container format this engine writes and the only one it reads. Bump on any layout change.
inline constexpr uint32_t kBundleFormatVersion = 1;

/// This engine's version (the project version); bundles declare the range of engines they run on.
const char* engine_version();

/// One file of the manifest: where it lives in the bundle, what it is, its size and BLAKE2b-256.
struct ManifestFile {
    std::string path; ///< relative, '/'-separated, no '.' or '..' component
    std::string kind; ///< "rules", "tests", "models" or "config"
    uint64_t size = 0;
    std::string blake2b; ///< hex
    bool operator==(const ManifestFile&) const = default;
};

/// A rule of the compiled rule set and the hash of its canonical text (ir::Rule::hash).
struct ManifestRule {
    std::string name;
    std::string hash;
    bool operator==(const ManifestRule&) const = default;
};

/// What a bundle is: name and version (those of the `ruleset` header), the engines it runs on, who made
/// it and when, the compiler's content hash of the rule sources, the rules, and every file with its hash.
struct Manifest {
    std::string name, version;
    std::string engine_min;   ///< inclusive
    std::string engine_below; ///< exclusive
    std::string created_by, created_at;
    std::string ruleset_hash;       ///< ir::RuleSet::content_hash of the packed sources
    std::vector<std::string> entry; ///< rule files to compile (paths in the bundle); imports follow
    std::string tests;              ///< folder of the tests in the bundle ("" = no tests)
    std::vector<ManifestRule> rules;
    std::vector<ManifestFile> files; ///< sorted by path
    bool operator==(const Manifest&) const = default;

    std::string id() const { return name + "@" + version; }
};

/// The manifest's canonical JSON: fixed key order, no insignificant whitespace but one newline per file,
/// so that the bytes (hence the manifest hash every signature covers) follow from the content alone.
std::string encode_manifest(const Manifest& m);
/// Parses a manifest and refuses any text that is not exactly encode_manifest() of what it parsed to
/// (no duplicate keys, no reordering, no extra fields that a human reader could see and a verifier not).
Expected<Manifest> parse_manifest(std::string_view json, const std::string& where);

struct BundleFile {
    std::string path;
    std::string data;
};

/// A decoded bundle. The manifest hash is BLAKE2b-256 of the manifest bytes: signatures, approvals and
/// audit entries name a bundle by it.
struct Bundle {
    Manifest manifest;
    std::string manifest_bytes;
    Digest manifest_hash{};
    std::vector<BundleFile> files; ///< same order as manifest.files

    std::string hash_hex() const { return to_hex(manifest_hash); }
};

/// The container bytes. Layout (integers little-endian):
///   magic[16] | u32 format version | u64 manifest length | manifest |
///   u32 file count | per file: u32 path length, path, u64 size, bytes |
///   BLAKE2b-256 of every byte before it (32 bytes).
std::string encode_bundle(const Bundle& b);

/// Decodes and checks a bundle image: magic, format version, lengths (truncation), trailing bytes,
/// checksum, manifest (canonical JSON), paths, and every file against its manifest entry (size and hash).
/// It does not check signatures (verify.h) nor the engine range (check_engine_range).
Expected<Bundle> decode_bundle(std::string_view bytes, const std::string& name);
Expected<Bundle> read_bundle(const std::string& path);

/// Code::EngineVersion when this engine is outside [engine_min, engine_below).
Status check_engine_range(const Manifest& m, const std::string& where);

/// A path allowed inside a bundle (and safe to extract): relative, '/'-separated, no empty, '.' or '..'
/// component, no backslash or control character, at most 1024 bytes.
bool valid_bundle_path(std::string_view p);

/// Semantic version MAJOR.MINOR.PATCH without leading zeros.
bool valid_semver(std::string_view v);
/// <0, 0, >0 like strcmp; both must be valid_semver.
int compare_semver(std::string_view a, std::string_view b);

} // namespace ethogram::govern
