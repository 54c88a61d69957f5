// crypto.h: the libsodium primitives governance uses: BLAKE2b-256 hashes, ed25519 keys and signatures.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ethogram::govern {

using Digest = std::array<uint8_t, 32>;         ///< BLAKE2b-256
using PublicKey = std::array<uint8_t, 32>;      ///< ed25519 public key
using SecretKey = std::array<uint8_t, 64>;      ///< ed25519 secret key (seed + public key, libsodium layout)
using SignatureBytes = std::array<uint8_t, 64>; ///< ed25519 detached signature

/// BLAKE2b-256 (unkeyed) of `bytes`.
Digest blake2b(std::string_view bytes);
/// Lower-case hex of blake2b(bytes).
std::string blake2b_hex(std::string_view bytes);

/// Lower-case hex of any byte range.
std::string to_hex(const uint8_t* data, size_t n);
template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& a) {
    return to_hex(a.data(), N);
}
/// Decodes exactly N bytes of hex (either case); nullopt on a wrong length or a non-hex character.
template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex(std::string_view hex);

/// A fresh ed25519 key pair from the operating system's CSPRNG.
void generate_keypair(PublicKey& pk, SecretKey& sk);
/// Detached signature of `message`.
SignatureBytes sign_detached(const SecretKey& sk, std::string_view message);
/// True when `sig` is a valid signature of `message` by `pk`.
bool verify_detached(const PublicKey& pk, std::string_view message, const SignatureBytes& sig);
/// The public half of a secret key (libsodium keeps it in the last 32 bytes).
PublicKey public_of(const SecretKey& sk);

/// Message signed by every signature of the given purpose: "ethogram:" + purpose + "\0" + payload.
/// The prefix separates domains, so a bundle signature can never be replayed as an approval or an audit
/// entry signature, even though all of them sign a 32-byte hash.
std::string signing_message(std::string_view purpose, std::string_view payload);

/// Current UTC time as RFC 3339 with seconds ("2026-11-29T10:05:00Z").
std::string now_rfc3339();
/// Seconds since the epoch as RFC 3339 UTC.
std::string rfc3339_utc(int64_t unix_seconds);

} // namespace ethogram::govern
