// audit.cpp: audit-log appends (locked, fsync'ed, chained, signed) and full-chain verification.
#include "govern/audit.h"

#include "govern/files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

namespace ethogram::govern {

namespace {

const std::string kGenesis(64, '0');

bool reason_required(std::string_view action) {
    return action == "release" || action == "deploy" || action == "rollback";
}

// Splits the log into lines; a final line without '\n' is kept (it is checked like the others).
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string_view::npos) j = text.size();
        out.push_back(text.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

Error broken(const std::string& msg) {
    return fail(Code::AuditBroken, msg);
}

} // namespace

Expected<Role> role_for_action(std::string_view a) {
    if (a == "build" || a == "sign" || a == "publish") return Role::Author;
    if (a == "approve") return Role::Approver;
    if (a == "release" || a == "deploy" || a == "rollback") return Role::Deployer;
    return fail(Code::Usage, fmt::format("unknown audit action '{}'", a));
}

std::string audit_head_path(const std::string& log_path) {
    return log_path + ".head";
}

Expected<SignedRecord> audit_append(const std::string& log_path, const AuditEvent& ev, const KeyPair& k) {
    if (auto r = role_for_action(ev.action); !r) return r.err();
    if (reason_required(ev.action) && ev.reason.empty())
        return fail(Code::Usage, fmt::format("a {} needs a reason (--reason TEXT)", ev.action));
    int fd = ::open(log_path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail(Code::Io, fmt::format("{}: cannot open: {}", log_path, std::strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); } // also releases the lock
    } closer{fd};
    if (::flock(fd, LOCK_EX) != 0)
        return fail(Code::Io, fmt::format("{}: cannot lock: {}", log_path, std::strerror(errno)));
    auto text = read_file(log_path);
    if (!text) return text.err();
    uint64_t seq = 1;
    std::string prev = kGenesis;
    auto lines = lines_of(*text);
    if (!text->empty() && text->back() != '\n')
        return broken(
            fmt::format("{}: the last line is incomplete (a crash while appending?); run `etho audit "
                        "verify` and repair the log before appending",
                        log_path));
    if (!lines.empty()) {
        auto last = parse_record(lines.back(), fmt::format("{}:{}", log_path, lines.size()), "actor");
        if (!last) return broken(last.error() + " (refusing to append to a damaged log)");
        seq = last->num("seq") + 1;
        prev = to_hex(last->hash);
    }
    SignedRecord r =
        make_record(kAuditEntryPurpose,
                    {Field::n("seq", seq), Field::s("time", now_rfc3339()), Field::s("action", ev.action),
                     Field::s("subject", ev.subject), Field::s("subject_hash", ev.subject_hash),
                     Field::s("reason", ev.reason), Field::s("prev", prev)},
                    k, "actor");
    std::string line = encode_record(r) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd) != 0)
        return fail(Code::Io, fmt::format("{}: cannot append: {}", log_path, std::strerror(errno)));
    SignedRecord head = make_record(
        kAuditHeadPurpose,
        {Field::n("seq", seq), Field::s("last", to_hex(r.hash)), Field::s("time", r.get("time"))}, k);
    if (auto s = write_file_atomic(audit_head_path(log_path), encode_record(head) + "\n"); !s) return s.err();
    return r;
}

Expected<AuditReport> audit_verify(const std::string& log_path, const TrustStore& trust) {
    auto text = read_file(log_path);
    if (!text) return text.err();
    AuditReport rep;
    std::string prev = kGenesis;
    auto lines = lines_of(*text);
    std::vector<std::string> hashes;
    for (size_t i = 0; i < lines.size(); ++i) {
        const uint64_t want = i + 1;
        std::string at = fmt::format("{}:{}", log_path, i + 1);
        auto r = parse_record(lines[i], at, "actor");
        if (!r) return broken(fmt::format("first bad entry at line {}: {}", i + 1, r.error()));
        at += fmt::format(" (seq {})", r->num("seq"));
        if (r->num("seq") != want)
            return broken(
                fmt::format("{}: first bad entry: seq {} where {} was expected (an entry was removed, "
                            "inserted or moved)",
                            at, r->num("seq"), want));
        if (r->get("prev") != prev)
            return broken(
                fmt::format("{}: first bad entry: its prev hash does not match the previous entry's hash "
                            "(an entry before it was edited, removed or reordered)",
                            at));
        if (auto s = check_record(kAuditEntryPurpose, *r, at); !s)
            return broken(fmt::format("first bad entry: {}", s.error()));
        const TrustedKey* tk = trust.find(r->key);
        if (!tk)
            return broken(
                fmt::format("{}: first bad entry: signed by key {} ('{}'), which is not in the trust file",
                            at, fingerprint(r->key), r->who));
        if (tk->name != r->who)
            return broken(
                fmt::format("{}: first bad entry: actor '{}' but the key is '{}''s", at, r->who, tk->name));
        auto role = role_for_action(r->get("action"));
        if (!role) return broken(fmt::format("{}: first bad entry: {}", at, role.error()));
        if (!tk->has(*role))
            return broken(fmt::format("{}: first bad entry: '{}' lacks the {} role needed to {}", at,
                                      tk->name, role_name(*role), r->get("action")));
        if (tk->revoked_at(r->get("time")))
            return broken(fmt::format("{}: first bad entry: a {} signed after {}", at, r->get("action"),
                                      tk->revocation_text()));
        if (reason_required(r->get("action")) && r->get("reason").empty())
            return broken(fmt::format("{}: first bad entry: a {} without a reason", at, r->get("action")));
        prev = to_hex(r->hash);
        hashes.push_back(prev);
    }
    rep.entries = lines.size();
    rep.last_hash = lines.empty() ? "" : prev;

    std::string hp = audit_head_path(log_path);
    std::error_code ec;
    if (!std::filesystem::exists(hp, ec)) {
        if (lines.empty()) return rep;
        return broken(
            fmt::format("{}: the signed head file {} is missing: truncation of the log's tail cannot be "
                        "ruled out",
                        log_path, hp));
    }
    auto ht = read_file(hp);
    if (!ht) return ht.err();
    std::string_view hl(*ht);
    while (!hl.empty() && hl.back() == '\n') hl.remove_suffix(1);
    auto head = parse_record(hl, hp);
    if (!head) return broken(head.error());
    if (auto s = check_record(kAuditHeadPurpose, *head, hp); !s) return broken(s.error());
    const TrustedKey* hk = trust.find(head->key);
    if (!hk || hk->name != head->who)
        return broken(fmt::format("{}: the head is signed by key {} ('{}'), which is not in the trust file",
                                  hp, fingerprint(head->key), head->who));
    uint64_t hseq = head->num("seq");
    if (hseq > lines.size())
        return broken(
            fmt::format("{}: truncated: the signed head records {} entries but the log holds {}: entries "
                        "{}..{} were removed from the tail",
                        log_path, hseq, lines.size(), lines.size() + 1, hseq));
    if (hseq == 0 || hashes[hseq - 1] != head->get("last"))
        return broken(
            fmt::format("{}: the entry at seq {} is not the one the signed head records (the log was "
                        "rewritten)",
                        log_path, hseq));
    if (hseq < lines.size())
        return broken(
            fmt::format("{}:{} (seq {}): first bad entry: it lies after the signed head (seq {}): appended "
                        "without updating the head, or a crash between the append and the head update",
                        log_path, hseq + 1, hseq + 1, hseq));
    rep.head_present = true;
    return rep;
}

} // namespace ethogram::govern
