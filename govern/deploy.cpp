// deploy.cpp: the signed deployment history of a rule set in a registry; deploy, rollback, resolve.
#include "govern/deploy.h"

#include "govern/files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

namespace ethogram::govern {

namespace fs = std::filesystem;

namespace {

std::string history_path(const Registry& reg, const std::string& name) {
    return (fs::path(reg.dir) / name / "deployments.jsonl").string();
}

// The live stack: deploys push, rollbacks pop (the rolled-back-to version is then on top).
std::vector<std::string> live_stack(const std::vector<Deployment>& h) {
    std::vector<std::string> st;
    for (const auto& d : h) {
        if (d.action == "deploy")
            st.push_back(d.version);
        else if (!st.empty())
            st.pop_back();
    }
    return st;
}

// A version fit to go live: verified, released, and the same bytes the release approved.
Expected<VerifiedBundle> check_deployable(const Registry& reg, const std::string& id,
                                          const TrustStore& trust) {
    auto vb = open_published(reg, id, trust);
    if (!vb) return vb.err();
    auto rel = release_record(reg, *vb, trust);
    if (!rel) return fail(rel.code(), fmt::format("{} cannot be deployed: {}", id, rel.error()));
    return vb;
}

Expected<Deployment> append(const Registry& reg, const std::string& name, const TrustStore& trust,
                            const KeyPair& k, const std::string& action, const VerifiedBundle& vb,
                            const std::string& reason) {
    const TrustedKey* tk = trust.find(k.pk);
    if (!tk || tk->name != k.name)
        return fail(Code::UntrustedKey, fmt::format("the key of '{}' is not in the trust file", k.name));
    if (!tk->has(Role::Deployer))
        return fail(Code::WrongRole,
                    fmt::format("'{}' lacks the deployer role needed to {}", k.name, action));
    if (tk->is_revoked())
        return fail(Code::Revoked, fmt::format("{}: it cannot {}", tk->revocation_text(), action));
    if (reason.empty()) return fail(Code::Usage, fmt::format("a {} needs a reason (--reason TEXT)", action));
    std::string path = history_path(reg, name);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail(Code::Io, fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::flock(fd, LOCK_EX) != 0) return fail(Code::Io, path + ": cannot lock");
    auto h = deployment_history(reg, name, trust);
    if (!h) return h.err();
    auto st = live_stack(*h);
    Deployment d;
    d.seq = h->size() + 1;
    d.action = action;
    d.version = vb.bundle.manifest.version;
    d.manifest_hash = vb.bundle.hash_hex();
    d.previous = st.empty() ? "" : st.back();
    d.time = now_rfc3339();
    d.reason = reason;
    d.by = k.name;
    if (action == "deploy" && d.previous == d.version)
        return fail(Code::Usage, fmt::format("{}@{} is already live", name, d.version));
    SignedRecord r =
        make_record(kDeploymentPurpose,
                    {Field::n("seq", d.seq), Field::s("action", action), Field::s("version", d.version),
                     Field::s("manifest_hash", d.manifest_hash), Field::s("previous", d.previous),
                     Field::s("time", d.time), Field::s("reason", reason)},
                    k);
    std::string line = encode_record(r) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd) != 0)
        return fail(Code::Io, fmt::format("{}: cannot append: {}", path, std::strerror(errno)));
    auto a = audit_append(reg.audit_log(),
                          AuditEvent{action, vb.bundle.manifest.id(), d.manifest_hash, reason}, k);
    if (!a) return a.err();
    return d;
}

} // namespace

Expected<std::vector<Deployment>> deployment_history(const Registry& reg, const std::string& name,
                                                     const TrustStore& trust) {
    std::vector<Deployment> out;
    std::string path = history_path(reg, name);
    std::error_code ec;
    if (!fs::exists(path, ec)) return out;
    auto text = read_file(path);
    if (!text) return text.err();
    std::vector<std::string> stack;
    size_t i = 0, line_no = 0;
    while (i < text->size()) {
        size_t j = text->find('\n', i);
        if (j == std::string::npos) j = text->size();
        std::string_view line = std::string_view(*text).substr(i, j - i);
        i = j + 1;
        std::string at = fmt::format("{}:{}", path, ++line_no);
        auto r = parse_record(line, at);
        if (!r) return r.err();
        if (auto s = check_record(kDeploymentPurpose, *r, at); !s) return s.err();
        const TrustedKey* tk = trust.find(r->key);
        if (!tk || tk->name != r->who || !tk->has(Role::Deployer))
            return fail(Code::UntrustedKey, at + ": not signed by a trusted deployer");
        // Deployments made before the revocation stand (the history stays readable); later ones do not.
        if (tk->revoked_at(r->get("time")))
            return fail(Code::Revoked,
                        fmt::format("{}: a {} signed after {}", at, r->get("action"), tk->revocation_text()));
        Deployment d{r->num("seq"),      r->get("action"), r->get("version"), r->get("manifest_hash"),
                     r->get("previous"), r->get("time"),   r->get("reason"),  r->who};
        std::string live = stack.empty() ? "" : stack.back();
        if (d.seq != line_no || d.previous != live || (d.action != "deploy" && d.action != "rollback"))
            return fail(Code::Tampered,
                        fmt::format("{}: the deployment history is inconsistent (seq {}, previous "
                                    "'{}' where '{}' was live)",
                                    at, d.seq, d.previous, live));
        if (d.action == "deploy") {
            stack.push_back(d.version);
        } else {
            if (stack.size() < 2 || stack[stack.size() - 2] != d.version)
                return fail(Code::Tampered, at + ": a rollback to a version that was not live before");
            stack.pop_back();
        }
        out.push_back(std::move(d));
    }
    return out;
}

Expected<Deployment> deploy(const Registry& reg, const std::string& id, const TrustStore& trust,
                            const KeyPair& deployer, const std::string& reason) {
    auto vb = check_deployable(reg, id, trust);
    if (!vb) return vb.err();
    return append(reg, vb->bundle.manifest.name, trust, deployer, "deploy", *vb, reason);
}

Expected<Deployment> rollback(const Registry& reg, const std::string& name, const TrustStore& trust,
                              const KeyPair& deployer, const std::string& reason) {
    auto h = deployment_history(reg, name, trust);
    if (!h) return h.err();
    auto st = live_stack(*h);
    if (st.size() < 2)
        return fail(
            Code::Policy,
            fmt::format("{}: nothing to roll back to ({} live version(s) in the history)", name, st.size()));
    auto vb = check_deployable(reg, name + "@" + st[st.size() - 2], trust);
    if (!vb) return vb.err();
    return append(reg, name, trust, deployer, "rollback", *vb, reason);
}

Expected<VerifiedBundle> deployed_bundle(const Registry& reg, const std::string& name,
                                         const TrustStore& trust, std::string* bundle_path) {
    auto h = deployment_history(reg, name, trust);
    if (!h) return h.err();
    if (h->empty())
        return fail(Code::Policy, fmt::format("{}: no version of it is deployed in {}", name, reg.dir));
    const Deployment& d = h->back();
    std::string id = name + "@" + d.version;
    auto vb = check_deployable(reg, id, trust);
    if (!vb) return vb.err();
    if (vb->bundle.hash_hex() != d.manifest_hash)
        return fail(Code::Tampered, fmt::format("{}: the registry's bundle is not the one deployed", id));
    if (bundle_path) *bundle_path = reg.bundle_path(name, d.version);
    return vb;
}

Expected<VerifiedRules> load_bundle_rules(const std::string& bundle, const TrustStore& trust,
                                          const std::string& registry) {
    if (registry.empty()) return load_verified_bundle(bundle, trust);
    std::string path;
    auto vb = deployed_bundle(Registry{registry}, bundle, trust, &path);
    if (!vb) return vb.err();
    auto rules = compile_bundle(vb->bundle, path);
    if (!rules) return rules.err();
    return VerifiedRules{std::move(*vb), std::move(*rules)};
}

} // namespace ethogram::govern
