// verify.cpp: signing bundles and verifying them against a trust file, one distinct error per refusal.
#include "govern/verify.h"

#include "govern/files.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace ethogram::govern {

std::string signature_path(const std::string& bundle_path) {
    return bundle_path + ".sig";
}

SignedRecord sign_bundle(const Bundle& b, const KeyPair& k) {
    return make_record(kBundleSignaturePurpose,
                       {Field::s("bundle", b.manifest.id()), Field::s("manifest_hash", b.hash_hex()),
                        Field::s("signed_at", now_rfc3339())},
                       k);
}

Expected<std::vector<SignedRecord>> parse_signature_file(std::string_view text, const std::string& where) {
    std::vector<SignedRecord> out;
    size_t line_no = 0, i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view line = text.substr(i, j - i);
        ++line_no;
        i = j + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto r = parse_record(line, fmt::format("{}:{}", where, line_no));
        if (!r) return r.err();
        out.push_back(std::move(*r));
    }
    return out;
}

Status add_signature(const std::string& bundle_path, const Bundle& b, const KeyPair& k) {
    std::string path = signature_path(bundle_path);
    std::string text;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        auto t = read_file(path);
        if (!t) return t.err();
        auto existing = parse_signature_file(*t, path);
        if (!existing) return existing.err();
        for (const auto& r : *existing)
            if (r.key == k.pk && r.get("manifest_hash") == b.hash_hex())
                return fail(Code::Usage, fmt::format("{}: already signed by '{}'", path, k.name));
        text = *t;
        if (!text.empty() && text.back() != '\n') text.push_back('\n');
    }
    text += encode_record(sign_bundle(b, k)) + "\n";
    return write_file_atomic(path, text);
}

Expected<std::vector<std::string>> verify_signatures(const Bundle& b,
                                                     const std::optional<std::string>& sig_text,
                                                     const TrustStore& trust, const std::string& where,
                                                     const VerifyOptions& opts) {
    const std::string sig_name = signature_path(where);
    auto recorded = [&]() {
        std::string s;
        for (const auto& n : opts.recorded_signers) s += (s.empty() ? "" : ", ") + n;
        return s;
    };
    if (!sig_text) {
        if (!opts.recorded_signers.empty())
            return fail(
                Code::Stripped,
                fmt::format("{}: signature stripped: the registry recorded signatures by {}, but {} is "
                            "missing",
                            where, recorded(), sig_name));
        return fail(Code::Unsigned,
                    fmt::format("{}: unsigned bundle: no signature file {} (never signed, or the "
                                "signature file was removed); refusing it",
                                where, sig_name));
    }
    auto records = parse_signature_file(*sig_text, sig_name);
    if (!records) return records.err();
    if (records->empty())
        return fail(Code::Stripped,
                    fmt::format("{}: signature stripped: {} holds no signature; refusing the bundle", where,
                                sig_name));
    std::vector<std::string> signers;
    bool author = false;
    std::string roleless;
    std::vector<std::string> revoked;
    for (size_t i = 0; i < records->size(); ++i) {
        const SignedRecord& r = (*records)[i];
        std::string at = fmt::format("{} (signature {} by '{}')", sig_name, i + 1, r.who);
        if (r.get("manifest_hash") != b.hash_hex() || r.get("bundle") != b.manifest.id())
            return fail(
                Code::Tampered,
                fmt::format("{}: tampered: {} covers {} with manifest hash {}, but this bundle is {} with "
                            "manifest hash {} (the manifest or a file changed after signing, or the "
                            "signature belongs to another bundle)",
                            where, at, r.get("bundle"), r.get("manifest_hash").substr(0, 16), b.manifest.id(),
                            b.hash_hex().substr(0, 16)));
        if (auto s = check_record(kBundleSignaturePurpose, r, at); !s) {
            Error e = s.err();
            e.message = where + ": wrongly signed: " + e.message;
            if (e.code == Code::Tampered) e.code = Code::BadSignature; // an edited signature record
            return e;
        }
        const TrustedKey* tk = trust.find(r.key);
        if (!tk)
            return fail(Code::UntrustedKey,
                        fmt::format("{}: {}: key {} is not in the trust file; refusing the "
                                    "bundle",
                                    where, at, fingerprint(r.key)));
        if (tk->name != r.who)
            return fail(Code::BadSignature,
                        fmt::format("{}: {}: the key belongs to '{}' in the trust file, not "
                                    "to '{}'",
                                    where, at, tk->name, r.who));
        if (tk->is_revoked()) { // counts for nothing, whenever it was made
            revoked.push_back(tk->revocation_text());
            continue;
        }
        if (tk->has(Role::Author))
            author = true;
        else if (roleless.empty())
            roleless = tk->name;
        signers.push_back(tk->name);
    }
    for (const auto& n : opts.recorded_signers)
        if (std::find(signers.begin(), signers.end(), n) == signers.end() &&
            std::none_of(revoked.begin(), revoked.end(),
                         [&](const std::string& r) { return r.rfind("'" + n + "'", 0) == 0; }))
            return fail(Code::Stripped,
                        fmt::format("{}: signature stripped: the registry recorded a signature by "
                                    "'{}' that {} no longer holds",
                                    where, n, sig_name));
    if (!author && !revoked.empty())
        return fail(Code::Revoked, fmt::format("{}: no valid author signature: {}; refusing the bundle",
                                               where, revoked.front()));
    if (!author)
        return fail(Code::WrongRole,
                    fmt::format("{}: signed only by keys without the author role ('{}' lacks it "
                                "in the trust file); refusing the bundle",
                                where, roleless));
    return signers;
}

Expected<VerifiedBundle> verify_bundle_file(const std::string& path, const TrustStore& trust,
                                            const VerifyOptions& opts) {
    auto b = read_bundle(path);
    if (!b) return b.err();
    if (opts.check_engine)
        if (auto s = check_engine_range(b->manifest, path); !s) return s.err();
    std::optional<std::string> sig_text;
    std::error_code ec;
    std::string sp = signature_path(path);
    if (std::filesystem::exists(sp, ec)) {
        auto t = read_file(sp);
        if (!t) return t.err();
        sig_text = std::move(*t);
    }
    auto signers = verify_signatures(*b, sig_text, trust, path, opts);
    if (!signers) return signers.err();
    return VerifiedBundle{std::move(*b), std::move(*signers)};
}

} // namespace ethogram::govern
