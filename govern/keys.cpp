// keys.cpp: key generation, key files and trust files (YAML via yaml-cpp; its exceptions stop here).
#include "govern/keys.h"

#include "govern/files.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

namespace ethogram::govern {

namespace {

constexpr const char* kKeyFormat = "ethogram-key-v1";
constexpr const char* kPubFormat = "ethogram-pubkey-v1";
constexpr const char* kTrustFormat = "ethogram-trust-v1";

std::string roles_yaml(const std::vector<Role>& roles) {
    std::string s = "[";
    for (size_t i = 0; i < roles.size(); ++i) s += (i ? ", " : "") + std::string(role_name(roles[i]));
    return s + "]";
}

// Reads a `roles` sequence; an unknown role is an error naming it.
Expected<std::vector<Role>> read_roles(const YAML::Node& n, const std::string& where) {
    std::vector<Role> out;
    if (!n || !n.IsSequence()) return fail(Code::Corrupt, where + ": `roles` must be a list");
    for (const auto& r : n) {
        auto role = parse_role(r.as<std::string>());
        if (!role) return fail(Code::Corrupt, where + ": " + role.error());
        if (std::find(out.begin(), out.end(), *role) == out.end()) out.push_back(*role);
    }
    return out;
}

std::string mark_of(const YAML::Exception& e) {
    if (e.mark.is_null()) return "";
    return fmt::format(":{}:{}", e.mark.line + 1, e.mark.column + 1);
}

} // namespace

const char* role_name(Role r) {
    switch (r) {
    case Role::Author: return "author";
    case Role::Approver: return "approver";
    case Role::Deployer: return "deployer";
    }
    return "?";
}

Expected<Role> parse_role(std::string_view s) {
    if (s == "author") return Role::Author;
    if (s == "approver") return Role::Approver;
    if (s == "deployer") return Role::Deployer;
    return fail(Code::Usage, fmt::format("unknown role '{}' (known: author, approver, deployer)", s));
}

std::string TrustedKey::revocation_text() const {
    return fmt::format("'{}' was revoked at {}{}", name, revoked,
                       revoked_reason.empty() ? "" : " (" + revoked_reason + ")");
}

bool TrustedKey::has(Role r) const {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
}

const TrustedKey* TrustStore::find(const PublicKey& pk) const {
    for (const auto& k : keys)
        if (k.pk == pk) return &k;
    return nullptr;
}

const TrustedKey* TrustStore::find_name(const std::string& name) const {
    for (const auto& k : keys)
        if (k.name == name) return &k;
    return nullptr;
}

bool valid_key_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
    });
}

std::string fingerprint(const PublicKey& pk) {
    return to_hex(pk).substr(0, 16);
}

Expected<KeyPair> keygen(const std::string& name, const std::vector<Role>& roles, const std::string& dir) {
    if (!valid_key_name(name))
        return fail(Code::Usage,
                    fmt::format("key name '{}' must be 1-64 characters of A-Z a-z 0-9 . _ -", name));
    if (roles.empty()) return fail(Code::Usage, "a key needs at least one role");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Code::Io, fmt::format("{}: cannot create the directory: {}", dir, ec.message()));
    KeyPair kp;
    kp.name = name;
    kp.roles = roles;
    generate_keypair(kp.pk, kp.sk);
    std::string pub = fmt::format("# Ethogram public key: add it to a trust file to trust '{}'\nformat: {}\n"
                                  "name: {}\nroles: {}\npublic: {}\n",
                                  name, kPubFormat, name, roles_yaml(roles), to_hex(kp.pk));
    std::string sec = fmt::format("# Ethogram ed25519 secret key of '{}': keep it private\nformat: {}\n"
                                  "name: {}\nroles: {}\npublic: {}\nsecret: {}\n",
                                  name, kKeyFormat, name, roles_yaml(roles), to_hex(kp.pk), to_hex(kp.sk));
    std::string base = (std::filesystem::path(dir) / name).string();
    for (const auto& [ext, text, mode] : {std::tuple{".key", &sec, 0600u}, std::tuple{".pub", &pub, 0644u}})
        if (auto s = write_file_exclusive(base + ext, *text, mode); !s)
            return fail(s.code() == Code::Immutable ? Code::Usage : s.code(),
                        s.code() == Code::Immutable ? base + ext + ": exists; refusing to overwrite a key"
                                                    : s.error());
    return kp;
}

Expected<KeyPair> load_key(const std::string& path) {
    auto text = read_file(path);
    if (!text) return text.err();
    try {
        YAML::Node root = YAML::Load(*text);
        if (!root.IsMap()) return fail(Code::Corrupt, path + ": not a key file (expected a YAML mapping)");
        std::string format = root["format"] ? root["format"].as<std::string>() : "";
        if (format == kPubFormat)
            return fail(Code::Usage,
                        path + ": this is a public key (.pub); signing needs the secret key (.key)");
        if (format != kKeyFormat)
            return fail(Code::Corrupt,
                        fmt::format("{}: not an Ethogram secret key (format '{}', expected '{}')", path,
                                    format, kKeyFormat));
        KeyPair kp;
        kp.name = root["name"] ? root["name"].as<std::string>() : "";
        if (!valid_key_name(kp.name)) return fail(Code::Corrupt, path + ": missing or invalid `name`");
        auto roles = read_roles(root["roles"], path);
        if (!roles) return roles.err();
        kp.roles = *roles;
        auto pk = from_hex<32>(root["public"] ? root["public"].as<std::string>() : "");
        auto sk = from_hex<64>(root["secret"] ? root["secret"].as<std::string>() : "");
        if (!pk) return fail(Code::Corrupt, path + ": `public` is not 64 hex digits");
        if (!sk) return fail(Code::Corrupt, path + ": `secret` is not 128 hex digits");
        kp.pk = *pk;
        kp.sk = *sk;
        if (public_of(kp.sk) != kp.pk)
            return fail(Code::Corrupt,
                        path + ": `public` is not the public half of `secret` (damaged key file)");
        return kp;
    } catch (const YAML::Exception& e) {
        return fail(Code::Corrupt, path + mark_of(e) + ": " + e.msg);
    }
}

Expected<TrustStore> load_trust(const std::string& path) {
    auto text = read_file(path);
    if (!text) return text.err();
    try {
        YAML::Node root = YAML::Load(*text);
        if (!root.IsMap()) return fail(Code::Corrupt, path + ": not a trust file (expected a YAML mapping)");
        std::string format = root["format"] ? root["format"].as<std::string>() : "";
        if (format != kTrustFormat)
            return fail(Code::Corrupt,
                        fmt::format("{}: not an Ethogram trust file (format '{}', expected '{}')", path,
                                    format, kTrustFormat));
        TrustStore t;
        if (root["required_approvals"]) {
            long long n = root["required_approvals"].as<long long>();
            if (n < 0 || n > 1000)
                return fail(Code::Corrupt, path + ": `required_approvals` must be 0..1000");
            t.required_approvals = static_cast<uint32_t>(n);
        }
        YAML::Node keys = root["keys"];
        if (keys && !keys.IsSequence()) return fail(Code::Corrupt, path + ": `keys` must be a list");
        size_t i = 0;
        for (const auto& k : keys) {
            std::string where = fmt::format("{}: keys[{}]", path, i++);
            TrustedKey tk;
            tk.name = k["name"] ? k["name"].as<std::string>() : "";
            if (!valid_key_name(tk.name)) return fail(Code::Corrupt, where + ": missing or invalid `name`");
            auto pk = from_hex<32>(k["public"] ? k["public"].as<std::string>() : "");
            if (!pk)
                return fail(Code::Corrupt, where + " ('" + tk.name + "'): `public` is not 64 hex digits");
            tk.pk = *pk;
            auto roles = read_roles(k["roles"], where);
            if (!roles) return roles.err();
            tk.roles = *roles;
            if (k["revoked"]) {
                tk.revoked = k["revoked"].as<std::string>();
                // RFC 3339 UTC, as every record time: compared as text with them.
                if (tk.revoked.size() != 20 || tk.revoked[4] != '-' || tk.revoked[10] != 'T' ||
                    tk.revoked[19] != 'Z')
                    return fail(Code::Corrupt,
                                where + " ('" + tk.name +
                                    "'): `revoked` must be a UTC time like 2026-11-29T10:00:00Z");
            }
            if (k["revoked_reason"]) tk.revoked_reason = k["revoked_reason"].as<std::string>();
            if (t.find_name(tk.name))
                return fail(Code::Corrupt, where + ": the name '" + tk.name + "' is listed twice");
            if (t.find(tk.pk))
                return fail(Code::Corrupt, where + ": the key of '" + tk.name + "' is listed twice");
            t.keys.push_back(std::move(tk));
        }
        return t;
    } catch (const YAML::Exception& e) {
        return fail(Code::Corrupt, path + mark_of(e) + ": " + e.msg);
    }
}

std::string format_trust(const TrustStore& t) {
    std::string s =
        fmt::format("# Ethogram trust file: the keys this registry and engine trust, and their roles\n"
                    "format: {}\nrequired_approvals: {}\nkeys:\n",
                    kTrustFormat, t.required_approvals);
    for (const auto& k : t.keys) {
        s += fmt::format("  - name: {}\n    public: {}\n    roles: {}\n", k.name, to_hex(k.pk),
                         roles_yaml(k.roles));
        if (k.is_revoked()) s += fmt::format("    revoked: {}\n", k.revoked);
        if (!k.revoked_reason.empty()) {
            YAML::Emitter e;
            e << YAML::DoubleQuoted << k.revoked_reason;
            s += fmt::format("    revoked_reason: {}\n", e.c_str());
        }
    }
    if (t.keys.empty()) s = s.substr(0, s.size() - 1) + " []\n";
    return s;
}

Status revoke_in_trust(const std::string& path, const std::string& name, const std::string& time,
                       const std::string& reason) {
    auto loaded = load_trust(path);
    if (!loaded) return loaded.err();
    TrustStore t = *loaded;
    TrustedKey* k = nullptr;
    for (auto& x : t.keys)
        if (x.name == name) k = &x;
    if (!k) return fail(Code::Usage, fmt::format("{}: no key named '{}'", path, name));
    if (k->is_revoked()) return fail(Code::Usage, fmt::format("{}: {} already", path, k->revocation_text()));
    k->revoked = time;
    k->revoked_reason = reason;
    return write_file_atomic(path, format_trust(t));
}

Status add_to_trust(const std::string& path, const std::string& name, const PublicKey& pk,
                    const std::vector<Role>& roles) {
    TrustStore t;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        auto loaded = load_trust(path);
        if (!loaded) return loaded.err();
        t = *loaded;
    }
    TrustedKey* same = nullptr;
    for (auto& k : t.keys) {
        if (k.name == name && k.pk != pk)
            return fail(Code::Usage, fmt::format("{}: '{}' is already bound to another key ({})", path, name,
                                                 fingerprint(k.pk)));
        if (k.pk == pk && k.name != name)
            return fail(Code::Usage, fmt::format("{}: this key is already listed as '{}'", path, k.name));
        if (k.pk == pk) same = &k;
    }
    if (same) {
        for (Role r : roles)
            if (!same->has(r)) same->roles.push_back(r);
    } else {
        t.keys.push_back(TrustedKey{name, pk, roles, {}, {}});
    }
    return write_file_atomic(path, format_trust(t));
}

} // namespace ethogram::govern
