// crypto.cpp: libsodium wrappers (initialised once), hex coding and UTC timestamps.
#include "govern/crypto.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace ethogram::govern {

namespace {

void ensure_sodium() {
    // sodium_init is idempotent and thread-safe; a failure means no usable CSPRNG, which is fatal.
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

Digest blake2b(std::string_view bytes) {
    ensure_sodium();
    Digest d{};
    crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       nullptr, 0);
    return d;
}

std::string blake2b_hex(std::string_view bytes) {
    return to_hex(blake2b(bytes));
}

std::string to_hex(const uint8_t* data, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        s += digits[data[i] >> 4];
        s += digits[data[i] & 15];
    }
    return s;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex(std::string_view hex) {
    if (hex.size() != 2 * N) return std::nullopt;
    std::array<uint8_t, N> out{};
    for (size_t i = 0; i < N; ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return out;
}
template std::optional<std::array<uint8_t, 32>> from_hex<32>(std::string_view);
template std::optional<std::array<uint8_t, 64>> from_hex<64>(std::string_view);

void generate_keypair(PublicKey& pk, SecretKey& sk) {
    ensure_sodium();
    crypto_sign_keypair(pk.data(), sk.data());
}

SignatureBytes sign_detached(const SecretKey& sk, std::string_view message) {
    ensure_sodium();
    SignatureBytes sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), sk.data());
    return sig;
}

bool verify_detached(const PublicKey& pk, std::string_view message, const SignatureBytes& sig) {
    ensure_sodium();
    return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), pk.data()) == 0;
}

PublicKey public_of(const SecretKey& sk) {
    ensure_sodium();
    PublicKey pk{};
    crypto_sign_ed25519_sk_to_pk(pk.data(), sk.data());
    return pk;
}

std::string signing_message(std::string_view purpose, std::string_view payload) {
    std::string m = "ethogram:";
    m += purpose;
    m.push_back('\0');
    m += payload;
    return m;
}

std::string rfc3339_utc(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string now_rfc3339() {
    auto s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return rfc3339_utc(static_cast<int64_t>(s));
}

} // namespace ethogram::govern
