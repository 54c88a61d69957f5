// registry.cpp: publish (atomic, immutable), approvals (signed, four eyes), release (approvals + tests).
#include "govern/registry.h"

#include "govern/files.h"
#include "govern/load.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>

namespace ethogram::govern {

namespace fs = std::filesystem;

namespace {

Status need_role(const TrustStore& trust, const KeyPair& k, Role role, const std::string& action) {
    const TrustedKey* tk = trust.find(k.pk);
    if (!tk)
        return fail(Code::UntrustedKey,
                    fmt::format("the key of '{}' ({}) is not in the trust file: it cannot {}", k.name,
                                fingerprint(k.pk), action));
    if (tk->name != k.name)
        return fail(Code::UntrustedKey,
                    fmt::format("the key named '{}' is '{}' in the trust file", k.name, tk->name));
    if (!tk->has(role))
        return fail(Code::WrongRole,
                    fmt::format("'{}' lacks the {} role needed to {}", k.name, role_name(role), action));
    if (tk->is_revoked())
        return fail(Code::Revoked, fmt::format("{}: it cannot {}", tk->revocation_text(), action));
    return ok_status();
}

Status log_action(const Registry& reg, const std::string& action, const Bundle& b, const KeyPair& k,
                  const std::string& reason) {
    auto r = audit_append(reg.audit_log(), AuditEvent{action, b.manifest.id(), b.hash_hex(), reason}, k);
    if (!r) return r.err();
    return ok_status();
}

std::vector<std::string> split_signers(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find(',', i);
        if (j == std::string::npos) j = s.size();
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

Expected<SignedRecord> read_record(const std::string& path, std::string_view purpose) {
    auto t = read_file(path);
    if (!t) return t.err();
    std::string_view line(*t);
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    auto r = parse_record(line, path);
    if (!r) return r.err();
    if (auto s = check_record(purpose, *r, path); !s) return s.err();
    return r;
}

} // namespace

std::string Registry::version_dir(const std::string& name, const std::string& version) const {
    return (fs::path(dir) / name / version).string();
}
std::string Registry::bundle_path(const std::string& name, const std::string& version) const {
    return (fs::path(version_dir(name, version)) / "bundle.etb").string();
}
std::string Registry::audit_log() const {
    return (fs::path(dir) / "audit.jsonl").string();
}

Expected<std::pair<std::string, std::string>> parse_bundle_id(const std::string& id) {
    size_t at = id.rfind('@');
    if (at == std::string::npos || at == 0 || !valid_semver(std::string_view(id).substr(at + 1)))
        return fail(Code::Usage, fmt::format("'{}' is neither a bundle file nor NAME@X.Y.Z", id));
    std::string name = id.substr(0, at);
    if (!valid_bundle_path(name) || name.find('/') != std::string::npos)
        return fail(Code::Usage, fmt::format("'{}': invalid rule-set name", name));
    return std::pair{name, id.substr(at + 1)};
}

Expected<PublishResult> publish(const Registry& reg, const std::string& bundle_path, const TrustStore& trust,
                                const KeyPair& publisher, const std::string& reason) {
    if (auto s = need_role(trust, publisher, Role::Author, "publish"); !s) return s.err();
    auto vb = verify_bundle_file(bundle_path, trust);
    if (!vb) return vb.err();
    const Manifest& m = vb->bundle.manifest;
    PublishResult res{m.id(), vb->bundle.hash_hex(), false};
    std::string dest = reg.version_dir(m.name, m.version);
    std::error_code ec;
    if (fs::exists(dest, ec)) {
        auto existing = read_bundle(reg.bundle_path(m.name, m.version));
        if (existing && existing->manifest_hash == vb->bundle.manifest_hash) {
            res.already = true;
            return res;
        }
        return fail(
            Code::Immutable,
            fmt::format("{} is already published in {} with different content (manifest hash {}); published "
                        "versions are immutable: bump the version",
                        m.id(), reg.dir, existing ? existing->hash_hex().substr(0, 16) : "unreadable"));
    }
    fs::create_directories(fs::path(dest).parent_path(), ec);
    if (ec) return fail(Code::Io, fmt::format("{}: {}", fs::path(dest).parent_path().string(), ec.message()));
    // Stage everything in a temporary folder beside the destination, then rename it into place: a reader
    // never sees a half-published version, and of two concurrent publishers only one rename succeeds.
    std::string tmpl = (fs::path(dest).parent_path() / (".publish-" + m.version + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) return fail(Code::Io, tmpl + ": cannot create: " + std::strerror(errno));
    auto cleanup = [&] { fs::remove_all(tmpl, ec); };
    auto bytes = read_file(bundle_path);
    auto sig = read_file(signature_path(bundle_path));
    if (!bytes || !sig) {
        cleanup();
        return bytes ? sig.err() : bytes.err();
    }
    // The bytes copied are verified again: the file may have changed since verify_bundle_file read it.
    auto again = decode_bundle(*bytes, bundle_path);
    if (!again || again->manifest_hash != vb->bundle.manifest_hash) {
        cleanup();
        return fail(Code::Tampered, bundle_path + ": changed while it was being published");
    }
    SignedRecord rec =
        make_record(kPublishPurpose,
                    {Field::s("bundle", m.id()), Field::s("manifest_hash", res.hash),
                     Field::s("signers", join(vb->signers)), Field::s("published_at", now_rfc3339())},
                    publisher);
    ::chmod(tmpl.c_str(), 0755); // mkdtemp makes it 0700
    fs::create_directories(fs::path(tmpl) / "approvals", ec);
    Status s = write_file_exclusive((fs::path(tmpl) / "bundle.etb").string(), *bytes, 0444);
    if (s) s = write_file_exclusive((fs::path(tmpl) / "bundle.etb.sig").string(), *sig, 0444);
    if (s)
        s = write_file_exclusive((fs::path(tmpl) / "published.json").string(), encode_record(rec) + "\n",
                                 0444);
    if (!s) {
        cleanup();
        return s.err();
    }
    if (::rename(tmpl.c_str(), dest.c_str()) != 0) {
        int err = errno;
        cleanup();
        if (err == EEXIST || err == ENOTEMPTY)
            return fail(Code::Immutable, fmt::format("{} was published concurrently; published versions are "
                                                     "immutable",
                                                     m.id()));
        return fail(Code::Io, fmt::format("{}: cannot rename into place: {}", dest, std::strerror(err)));
    }
    if (auto l = log_action(reg, "publish", vb->bundle, publisher, reason); !l) return l.err();
    return res;
}

Expected<VerifiedBundle> open_published(const Registry& reg, const std::string& id, const TrustStore& trust) {
    auto nv = parse_bundle_id(id);
    if (!nv) return nv.err();
    std::string dir = reg.version_dir(nv->first, nv->second);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fail(Code::Usage, fmt::format("{} is not published in {}", id, reg.dir));
    auto pub = read_record((fs::path(dir) / "published.json").string(), kPublishPurpose);
    if (!pub) return pub.err();
    VerifyOptions opts;
    opts.recorded_signers = split_signers(pub->get("signers"));
    auto vb = verify_bundle_file(reg.bundle_path(nv->first, nv->second), trust, opts);
    if (!vb) return vb.err();
    if (pub->get("manifest_hash") != vb->bundle.hash_hex() || vb->bundle.manifest.id() != id)
        return fail(Code::Tampered,
                    fmt::format("{}: the registry's bundle is not the one published (manifest hash {} "
                                "recorded, {} found)",
                                dir, pub->get("manifest_hash").substr(0, 16),
                                vb->bundle.hash_hex().substr(0, 16)));
    return vb;
}

Expected<SignedRecord> approve(const Registry& reg, const std::string& id, const TrustStore& trust,
                               const KeyPair& approver, const std::string& reason) {
    if (auto s = need_role(trust, approver, Role::Approver, "approve"); !s) return s.err();
    auto vb = open_published(reg, id, trust);
    if (!vb) return vb.err();
    if (std::find(vb->signers.begin(), vb->signers.end(), approver.name) != vb->signers.end())
        return fail(Code::Policy,
                    fmt::format("'{}' signed {} and cannot also approve it (four eyes)", approver.name, id));
    SignedRecord rec = make_record(kApprovalPurpose,
                                   {Field::s("bundle", id), Field::s("manifest_hash", vb->bundle.hash_hex()),
                                    Field::s("approved_at", now_rfc3339()), Field::s("reason", reason)},
                                   approver);
    std::string dir =
        (fs::path(reg.version_dir(vb->bundle.manifest.name, vb->bundle.manifest.version)) / "approvals")
            .string();
    std::error_code ec;
    fs::create_directories(dir, ec);
    Status s =
        write_file_exclusive((fs::path(dir) / (approver.name + ".json")).string(), encode_record(rec) + "\n");
    if (!s) {
        if (s.code() == Code::Immutable)
            return fail(Code::Usage, fmt::format("{} is already approved by '{}'", id, approver.name));
        return s.err();
    }
    if (auto l = log_action(reg, "approve", vb->bundle, approver, reason); !l) return l.err();
    return rec;
}

std::vector<std::string> valid_approvals(const Registry& reg, const VerifiedBundle& vb,
                                         const TrustStore& trust, std::vector<std::string>* rejected) {
    std::vector<std::string> ok;
    std::vector<PublicKey> seen;
    const Manifest& m = vb.bundle.manifest;
    fs::path dir = fs::path(reg.version_dir(m.name, m.version)) / "approvals";
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    auto reject = [&](const std::string& why) {
        if (rejected) rejected->push_back(why);
    };
    for (const auto& f : files) {
        auto r = read_record(f.string(), kApprovalPurpose);
        if (!r) {
            reject(r.error());
            continue;
        }
        const TrustedKey* tk = trust.find(r->key);
        std::string at = f.string();
        if (!tk || tk->name != r->who)
            reject(fmt::format("{}: signed by a key that is not trusted under the name '{}'", at, r->who));
        else if (!tk->has(Role::Approver))
            reject(fmt::format("{}: '{}' lacks the approver role", at, tk->name));
        else if (tk->is_revoked())
            reject(fmt::format("{}: {}", at, tk->revocation_text()));
        else if (r->get("manifest_hash") != vb.bundle.hash_hex() || r->get("bundle") != m.id())
            reject(fmt::format("{}: approves another bundle ({} {})", at, r->get("bundle"),
                               r->get("manifest_hash").substr(0, 16)));
        else if (std::find(vb.signers.begin(), vb.signers.end(), tk->name) != vb.signers.end())
            reject(fmt::format("{}: '{}' signed the bundle and cannot approve it (four eyes)", at, tk->name));
        else if (std::find(seen.begin(), seen.end(), r->key) != seen.end())
            reject(fmt::format("{}: a second approval by '{}' counts once", at, tk->name));
        else {
            seen.push_back(r->key);
            ok.push_back(tk->name);
        }
    }
    return ok;
}

Expected<SignedRecord> release(const Registry& reg, const std::string& id, const TrustStore& trust,
                               const KeyPair& releaser, const std::string& reason,
                               const TestRunner& run_tests) {
    if (reason.empty()) return fail(Code::Usage, "a release needs a reason (--reason TEXT)");
    if (auto s = need_role(trust, releaser, Role::Deployer, "release"); !s) return s.err();
    auto vb = open_published(reg, id, trust);
    if (!vb) return vb.err();
    const Manifest& m = vb->bundle.manifest;
    std::string vdir = reg.version_dir(m.name, m.version);
    std::error_code ec;
    if (fs::exists(fs::path(vdir) / "released.json", ec))
        return fail(Code::Immutable, fmt::format("{} is already released", id));

    std::vector<std::string> rejected;
    auto approvals = valid_approvals(reg, *vb, trust, &rejected);
    if (approvals.size() < trust.required_approvals) {
        std::string why;
        for (const auto& r : rejected) why += "\n  not counted: " + r;
        return fail(Code::Policy,
                    fmt::format("release of {} refused: {} valid approval(s) from distinct approver keys, "
                                "{} required{}",
                                id, approvals.size(), trust.required_approvals, why));
    }
    if (m.tests.empty())
        return fail(Code::Policy,
                    fmt::format("release of {} refused: the bundle has no tests (build it with --tests "
                                "DIR)",
                                id));
    auto tmp = TempDir::create("etho-release-");
    if (!tmp) return tmp.err();
    if (auto s = extract_bundle(vb->bundle, tmp->path()); !s) return s.err();
    TestOutcome t = run_tests(tmp->path(), m);
    if (!t.available)
        return fail(Code::Policy,
                    fmt::format("release of {} refused: the tests cannot run: {}", id, t.output));
    if (!t.passed)
        return fail(Code::Policy,
                    fmt::format("release of {} refused: its tests fail ({}):\n{}", id, t.command, t.output));

    SignedRecord rec = make_record(kReleasePurpose,
                                   {Field::s("bundle", id), Field::s("manifest_hash", vb->bundle.hash_hex()),
                                    Field::s("approvals", join(approvals)), Field::s("tests", t.command),
                                    Field::s("released_at", now_rfc3339()), Field::s("reason", reason)},
                                   releaser);
    Status s =
        write_file_exclusive((fs::path(vdir) / "released.json").string(), encode_record(rec) + "\n", 0444);
    if (!s) return s.code() == Code::Immutable ? fail(Code::Immutable, id + " is already released") : s.err();
    if (auto l = log_action(reg, "release", vb->bundle, releaser, reason); !l) return l.err();
    return rec;
}

Expected<SignedRecord> release_record(const Registry& reg, const VerifiedBundle& vb,
                                      const TrustStore& trust) {
    const Manifest& m = vb.bundle.manifest;
    std::string p = (fs::path(reg.version_dir(m.name, m.version)) / "released.json").string();
    std::error_code ec;
    if (!fs::exists(p, ec)) return fail(Code::Policy, m.id() + " is not released");
    auto r = read_record(p, kReleasePurpose);
    if (!r) return r.err();
    const TrustedKey* tk = trust.find(r->key);
    if (!tk || tk->name != r->who || !tk->has(Role::Deployer))
        return fail(Code::UntrustedKey, p + ": not signed by a trusted deployer");
    // A release made before its deployer's key was revoked stands (released.json is written once).
    if (tk->revoked_at(r->get("released_at")))
        return fail(Code::Revoked, p + ": released after " + tk->revocation_text());
    if (r->get("manifest_hash") != vb.bundle.hash_hex())
        return fail(Code::Tampered, p + ": releases another bundle than the one published");
    return r;
}

} // namespace ethogram::govern
