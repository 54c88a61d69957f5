// object_cache.cpp: the cache file format (little-endian): magic "ETHOJIT1", u32 format version, u32
// reserved, 32-byte key, u64 payload size, 32-byte BLAKE2b checksum of the payload, then the payload.
#include "compiler/jit/object_cache.h"

#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <unistd.h>

namespace ethogram::jit {

namespace {

constexpr char kMagic[8] = {'E', 'T', 'H', 'O', 'J', 'I', 'T', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHashBytes = 32;
constexpr size_t kHeaderBytes = sizeof kMagic + 4 + 4 + kHashBytes + 8 + kHashBytes;

void blake2b(const void* data, size_t n, unsigned char out[kHashBytes]) {
    static const bool ready = sodium_init() >= 0;
    (void)ready;
    crypto_generichash(out, kHashBytes, static_cast<const unsigned char*>(data), n, nullptr, 0);
}

std::string to_hex(const unsigned char* h, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        s += digits[h[i] >> 4];
        s += digits[h[i] & 15];
    }
    return s;
}

bool from_hex(const std::string& hex, unsigned char out[kHashBytes]) {
    if (hex.size() != 2 * kHashBytes) return false;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (size_t i = 0; i < kHashBytes; ++i) {
        int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return true;
}

template <class T>
void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
T get(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

} // namespace

std::string hash_hex(const std::string& bytes) {
    unsigned char h[kHashBytes];
    blake2b(bytes.data(), bytes.size(), h);
    return to_hex(h, kHashBytes);
}

std::string ObjectCacheDir::path_for(const std::string& key) const {
    return (std::filesystem::path(dir_) / (key + ".ethojit")).string();
}

CacheRead ObjectCacheDir::load(const std::string& key, std::vector<char>& object, std::string& why) const {
    unsigned char want[kHashBytes];
    if (!from_hex(key, want)) {
        why = "malformed cache key";
        return CacheRead::Invalid;
    }
    const std::string path = path_for(key);
    std::ifstream in(path, std::ios::binary);
    if (!in) return CacheRead::Miss;
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto bad = [&](const std::string& what) {
        why = path + ": " + what;
        return CacheRead::Invalid;
    };
    if (bytes.size() < kHeaderBytes) return bad("truncated header");
    const char* p = bytes.data();
    if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return bad("bad magic (not an Ethogram JIT cache entry)");
    p += sizeof kMagic;
    uint32_t version = get<uint32_t>(p);
    if (version != kFormatVersion)
        return bad("format version " + std::to_string(version) + ", expected " +
                   std::to_string(kFormatVersion));
    p += 8; // version + reserved
    if (std::memcmp(p, want, kHashBytes) != 0) return bad("key mismatch");
    p += kHashBytes;
    uint64_t size = get<uint64_t>(p);
    p += 8;
    if (size != bytes.size() - kHeaderBytes)
        return bad("payload size " + std::to_string(bytes.size() - kHeaderBytes) + ", header says " +
                   std::to_string(size));
    unsigned char sum[kHashBytes];
    blake2b(bytes.data() + kHeaderBytes, size, sum);
    if (std::memcmp(p, sum, kHashBytes) != 0) return bad("checksum mismatch (corrupt entry)");
    object.assign(bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderBytes), bytes.end());
    return CacheRead::Hit;
}

bool ObjectCacheDir::store(const std::string& key, const std::vector<char>& object, std::string& why) const {
    unsigned char k[kHashBytes];
    if (!from_hex(key, k)) {
        why = "malformed cache key";
        return false;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        why = dir_ + ": " + ec.message();
        return false;
    }
    std::string header(kMagic, sizeof kMagic);
    put<uint32_t>(header, kFormatVersion);
    put<uint32_t>(header, 0);
    header.append(reinterpret_cast<const char*>(k), kHashBytes);
    put<uint64_t>(header, object.size());
    unsigned char sum[kHashBytes];
    blake2b(object.data(), object.size(), sum);
    header.append(reinterpret_cast<const char*>(sum), kHashBytes);
    const std::string path = path_for(key);
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        out.write(object.data(), static_cast<std::streamsize>(object.size()));
        if (!out) {
            why = tmp + ": write failed";
            std::filesystem::remove(tmp, ec);
            return false;
        }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        why = path + ": " + ec.message();
        std::filesystem::remove(tmp, ec);
        return false;
    }
    return true;
}

} // namespace ethogram::jit
