// checkpoint.cpp: the checkpoint file format (little-endian): magic "ETHOCKPT", u32 format version, u32
// reserved (0), u64 generation, 32-byte rule-set hash, 32-byte run hash, u32 length + engine version, u64
// payload size, then a 32-byte BLAKE2b-256 of everything before it plus the payload, then the payload.
#include "runtime/checkpoint.h"

#include "compiler/ir/snapshot_bytes.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace ethogram::runtime {

namespace {

constexpr char kMagic[8] = {'E', 'T', 'H', 'O', 'C', 'K', 'P', 'T'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHashBytes = 32;

void blake2b(const std::string& a, const std::string& b, unsigned char out[kHashBytes]) {
    static const bool ready = sodium_init() >= 0;
    (void)ready;
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, kHashBytes);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(a.data()), a.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(b.data()), b.size());
    crypto_generichash_final(&st, out, kHashBytes);
}

std::string hex(const unsigned char* h, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", h[i]);
    return s;
}

// 64 hex digits -> 32 bytes (appended); false on anything else.
bool append_unhex(std::string& out, const std::string& hx) {
    if (hx.size() != 2 * kHashBytes) return false;
    for (size_t i = 0; i < kHashBytes; ++i) {
        unsigned v = 0;
        for (int k = 0; k < 2; ++k) {
            char c = hx[2 * i + k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return false;
            v = v * 16 + static_cast<unsigned>(d);
        }
        out.push_back(static_cast<char>(v));
    }
    return true;
}

Status write_all(int fd, const char* p, size_t n, const std::string& path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return Error{fmt::format("{}: write failed: {}", path, std::strerror(errno))};
        p += w;
        n -= static_cast<size_t>(w);
    }
    return ok_status();
}

std::string fs_parent(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

std::string blake2b_hex(const std::string& bytes) {
    unsigned char h[kHashBytes];
    blake2b(bytes, {}, h);
    return hex(h, kHashBytes);
}

std::string ruleset_hash(const ir::RuleSet& rs) {
    std::string id;
    ir::SnapWriter w(id);
    w.str(rs.name);
    w.str(rs.version);
    w.str(rs.content_hash);
    w.u64(rs.events.size());
    for (const ir::EventType& e : rs.events) {
        w.str(e.name);
        w.u64(e.fields.size());
        for (const ir::FieldDef& f : e.fields) {
            w.str(f.name);
            w.u8(static_cast<uint8_t>(f.type));
            w.boolean(f.optional);
        }
    }
    w.u64(rs.rules.size());
    w.u64(rs.sessions.size());
    w.u64(rs.exprs.size());
    w.u64(rs.strings.size());
    for (const std::string& s : rs.strings) w.str(s);
    w.u64(rs.models.size());
    for (const ir::Model& m : rs.models) {
        w.str(m.name);
        w.str(m.hash);
    }
    return blake2b_hex(id);
}

std::string format_checkpoint(const CheckpointHeader& h, const std::string& payload) {
    std::string out(kMagic, sizeof kMagic);
    ir::SnapWriter w(out);
    w.u32(kFormatVersion);
    w.u32(0);
    w.u64(h.generation);
    if (!append_unhex(out, h.ruleset_hash)) out.append(kHashBytes, '\0');
    if (!append_unhex(out, h.run_hash)) out.append(kHashBytes, '\0');
    w.u32(static_cast<uint32_t>(h.engine_version.size()));
    out += h.engine_version;
    w.u64(payload.size());
    unsigned char sum[kHashBytes];
    blake2b(out, payload, sum);
    out.append(reinterpret_cast<const char*>(sum), kHashBytes);
    out += payload;
    return out;
}

Expected<CheckpointDir::Loaded> parse_checkpoint(const std::string& bytes) {
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        return Error{bytes.empty() ? "empty file" : "not a checkpoint (bad magic)"};
    ir::SnapReader r(std::string_view(bytes).substr(sizeof kMagic));
    const uint32_t version = r.u32();
    if (r.ok() && version != kFormatVersion)
        return Error{fmt::format("checkpoint format version {} (this engine reads version {})", version,
                                 kFormatVersion)};
    r.u32();
    CheckpointDir::Loaded out;
    out.header.generation = r.u64();
    if (r.remaining() < 2 * kHashBytes) return Error{"truncated header"};
    size_t at = sizeof kMagic + r.position();
    auto hx = [&](size_t off) {
        return hex(reinterpret_cast<const unsigned char*>(bytes.data()) + off, kHashBytes);
    };
    out.header.ruleset_hash = hx(at);
    out.header.run_hash = hx(at + kHashBytes);
    r = ir::SnapReader(std::string_view(bytes).substr(at + 2 * kHashBytes));
    const uint32_t vlen = r.u32();
    if (r.failed() || r.remaining() < vlen) return Error{"truncated header"};
    out.header.engine_version = bytes.substr(at + 2 * kHashBytes + 4, vlen);
    r = ir::SnapReader(std::string_view(bytes).substr(at + 2 * kHashBytes + 4 + vlen));
    const uint64_t size = r.u64();
    const size_t head = at + 2 * kHashBytes + 4 + vlen + 8;
    if (r.failed() || bytes.size() < head + kHashBytes) return Error{"truncated header"};
    if (bytes.size() - head - kHashBytes != size)
        return Error{
            fmt::format("truncated or padded: the header announces {} payload bytes, the file has {}", size,
                        bytes.size() - head - kHashBytes)};
    unsigned char sum[kHashBytes];
    out.payload = bytes.substr(head + kHashBytes);
    blake2b(bytes.substr(0, head), out.payload, sum);
    if (std::memcmp(sum, bytes.data() + head, kHashBytes) != 0)
        return Error{"checksum mismatch (the file is corrupt)"};
    return out;
}

Expected<CheckpointDir> CheckpointDir::open(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{fmt::format("{}: cannot create the checkpoint directory: {}", dir, ec.message())};
    if (!std::filesystem::is_directory(dir, ec))
        return Error{fmt::format("{}: not a directory (--checkpoint-dir)", dir)};
    return CheckpointDir(dir);
}

std::vector<std::pair<uint64_t, std::string>> CheckpointDir::list() const {
    std::vector<std::pair<uint64_t, std::string>> out;
    std::error_code ec;
    for (const auto& ent : std::filesystem::directory_iterator(dir_, ec)) {
        const std::string name = ent.path().filename().string();
        if (name.rfind("ckpt-", 0) != 0 || name.size() <= 10 || name.substr(name.size() - 5) != ".snap")
            continue;
        const std::string num = name.substr(5, name.size() - 10);
        if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
        out.emplace_back(std::strtoull(num.c_str(), nullptr, 10), ent.path().string());
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    return out;
}

void CheckpointDir::test_kill_point(uint64_t generation, const char* phase) {
    static const std::string spec = [] {
        const char* s = std::getenv("ETHOGRAM_TEST_CKPT_KILL");
        return std::string(s ? s : "");
    }();
    if (spec.empty()) return;
    if (spec == fmt::format("{}:{}", generation, phase)) ::kill(::getpid(), SIGKILL);
}

Status write_file_atomic(const std::string& path, const std::string& bytes, uint64_t test_generation) {
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Error{fmt::format("{}: cannot create: {}", tmp, std::strerror(errno))};
    const size_t half = bytes.size() / 2;
    const uint64_t g = test_generation;
    Status st = write_all(fd, bytes.data(), half, tmp);
    if (st && g) CheckpointDir::test_kill_point(g, "partial");
    if (st) st = write_all(fd, bytes.data() + half, bytes.size() - half, tmp);
    if (st && ::fsync(fd) != 0) st = Error{fmt::format("{}: fsync failed: {}", tmp, std::strerror(errno))};
    if (::close(fd) != 0 && st) st = Error{fmt::format("{}: close failed: {}", tmp, std::strerror(errno))};
    if (!st) {
        ::unlink(tmp.c_str());
        return st;
    }
    if (g) CheckpointDir::test_kill_point(g, "before-rename");
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        return Error{fmt::format("{}: cannot rename into place: {}", path, err)};
    }
    if (g) CheckpointDir::test_kill_point(g, "after-rename");
    const std::string dir = fs_parent(path);
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        (void)::fsync(dfd); // best effort: some file systems refuse fsync on a directory
        ::close(dfd);
    }
    return ok_status();
}

Expected<std::string> read_whole_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    std::string bytes;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return Error{fmt::format("{}: read failed", path)};
    return bytes;
}

Status CheckpointDir::write(const CheckpointHeader& h, const std::string& payload) const {
    const std::string path = fmt::format("{}/ckpt-{:020}.snap", dir_, h.generation);
    if (auto st = write_file_atomic(path, format_checkpoint(h, payload), h.generation); !st) return st;
    // Keep this one and the one before it.
    auto all = list();
    for (size_t i = 2; i < all.size(); ++i) ::unlink(all[i].second.c_str());
    return ok_status();
}

Expected<bool> CheckpointDir::load_latest(Loaded& out, std::vector<std::string>& rejected) const {
    // Temporaries are leftovers of a crash mid-write: never valid, removed.
    std::error_code ec;
    for (const auto& ent : std::filesystem::directory_iterator(dir_, ec)) {
        const std::string name = ent.path().filename().string();
        if (name.rfind("ckpt-", 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".tmp")
            std::filesystem::remove(ent.path(), ec);
    }
    for (const auto& [gen, path] : list()) {
        auto bytes = read_whole_file(path);
        if (!bytes) {
            rejected.push_back(bytes.error());
            continue;
        }
        auto parsed = parse_checkpoint(*bytes);
        if (!parsed) {
            rejected.push_back(fmt::format("{}: {}", path, parsed.error()));
            continue;
        }
        if (parsed->header.generation != gen) {
            rejected.push_back(
                fmt::format("{}: the header says generation {}", path, parsed->header.generation));
            continue;
        }
        out = std::move(*parsed);
        out.path = path;
        return true;
    }
    return false;
}

Status CheckpointDir::clear() const {
    for (const auto& [gen, path] : list())
        if (::unlink(path.c_str()) != 0)
            return Error{fmt::format("{}: cannot remove: {}", path, std::strerror(errno))};
    return ok_status();
}

} // namespace ethogram::runtime
