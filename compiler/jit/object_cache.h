// object_cache.h: the on-disk cache of compiled rule-set objects: one file per key, with magic, format
// version, key and checksum, so that a stale or corrupt entry is detected and rebuilt, never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::jit {

/// BLAKE2b-256 of `bytes`, as 64 hex digits.
std::string hash_hex(const std::string& bytes);

/// Outcome of a cache read.
enum class CacheRead : uint8_t {
    Hit,     ///< `object` holds the entry's verified payload
    Miss,    ///< no entry for the key
    Invalid, ///< an entry exists but is corrupt or of another format/key: `why` says how
};

class ObjectCacheDir {
public:
    /// `dir` is created on first store.
    explicit ObjectCacheDir(std::string dir) : dir_(std::move(dir)) {}

    /// The entry's file for a key (64 hex digits).
    std::string path_for(const std::string& key) const;
    CacheRead load(const std::string& key, std::vector<char>& object, std::string& why) const;
    /// Writes atomically (temporary file, then rename). False with `why` on an I/O error.
    bool store(const std::string& key, const std::vector<char>& object, std::string& why) const;

private:
    std::string dir_;
};

} // namespace ethogram::jit
