// model_file.cpp: encoding, atomic writing and verified reading of the model container.
#include "models/model_file.h"

#include <sodium.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ethogram::models {

namespace {

constexpr size_t kChecksumBytes = 32;
// magic + version + header length + payload length + checksum: the smallest possible file.
constexpr size_t kFixedBytes = sizeof(kModelMagic) + 4 + 4 + 8 + kChecksumBytes;
// Loading refuses absurd header sizes before allocating: a header is a few hundred bytes in practice.
constexpr uint32_t kMaxHeaderBytes = 1u << 20;

void blake2b(std::span<const uint8_t> data, uint8_t out[kChecksumBytes]) {
    // sodium_init() is idempotent and thread-safe; it selects the fastest BLAKE2b for this CPU.
    static const int init = sodium_init();
    (void)init;
    crypto_generichash(out, kChecksumBytes, data.data(), data.size(), nullptr, 0);
}

std::vector<uint8_t> encode_header(const ModelMeta& m) {
    std::vector<std::pair<std::string, std::string>> kv = {
        {"kind", m.kind},
        {"engine_version", m.engine_version},
        {"training_data_hash", m.training_data_hash},
        {"sequences", std::to_string(m.sequences)},
        {"events", std::to_string(m.events)},
        {"created_unix", std::to_string(m.created_unix)},
    };
    // Hyper-parameters are namespaced so that a parameter can never shadow a fixed field.
    for (const auto& [k, v] : m.hyper_params) kv.emplace_back("hp." + k, v);
    // Written only when set, so that files without them keep the exact bytes of earlier builds.
    if (!m.field.empty()) kv.emplace_back("field", m.field);
    if (!m.event_types.empty()) {
        std::string joined;
        for (size_t i = 0; i < m.event_types.size(); ++i) {
            if (i) joined += ',';
            joined += m.event_types[i];
        }
        kv.emplace_back("event_types", joined);
    }
    if (m.vocabulary_size != 0) kv.emplace_back("vocabulary_size", std::to_string(m.vocabulary_size));
    for (const auto& [k, v] : m.training) kv.emplace_back("train." + k, v);
    for (const auto& [k, v] : m.baseline) kv.emplace_back("baseline." + k, v);
    ByteWriter w;
    w.u32(static_cast<uint32_t>(kv.size()));
    for (const auto& [k, v] : kv) {
        w.str(k);
        w.str(v);
    }
    return w.take();
}

bool parse_u64(const std::string& s, uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool parse_i64(const std::string& s, int64_t& out) {
    bool neg = !s.empty() && s[0] == '-';
    uint64_t mag = 0;
    if (!parse_u64(neg ? s.substr(1) : s, mag)) return false;
    if (mag > static_cast<uint64_t>(INT64_MAX) + (neg ? 1u : 0u)) return false;
    out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    return true;
}

Expected<ModelMeta> decode_header(std::span<const uint8_t> bytes, const std::string& name) {
    auto bad = [&](const std::string& what) {
        return Error{fmt::format("{}: corrupt model header: {}", name, what)};
    };
    ByteReader r(bytes);
    uint32_t n = 0;
    if (!r.u32(n)) return bad("missing entry count");
    ModelMeta m;
    bool seen_kind = false, seen_seq = false, seen_ev = false, seen_created = false;
    for (uint32_t i = 0; i < n; ++i) {
        std::string k, v;
        if (!r.str(k) || !r.str(v)) return bad(fmt::format("entry {} of {} is truncated", i + 1, n));
        if (k == "kind") {
            m.kind = v;
            seen_kind = true;
        } else if (k == "engine_version") {
            m.engine_version = v;
        } else if (k == "training_data_hash") {
            m.training_data_hash = v;
        } else if (k == "sequences") {
            if (!parse_u64(v, m.sequences)) return bad("sequences is not a number: '" + v + "'");
            seen_seq = true;
        } else if (k == "events") {
            if (!parse_u64(v, m.events)) return bad("events is not a number: '" + v + "'");
            seen_ev = true;
        } else if (k == "created_unix") {
            if (!parse_i64(v, m.created_unix)) return bad("created_unix is not a number: '" + v + "'");
            seen_created = true;
        } else if (k.starts_with("hp.")) {
            m.hyper_params[k.substr(3)] = v;
        } else if (k == "field") {
            m.field = v;
        } else if (k == "event_types") {
            m.event_types.clear();
            for (size_t at = 0; at <= v.size();) {
                size_t comma = v.find(',', at);
                if (comma == std::string::npos) comma = v.size();
                m.event_types.push_back(v.substr(at, comma - at));
                at = comma + 1;
            }
        } else if (k == "vocabulary_size") {
            if (!parse_u64(v, m.vocabulary_size)) return bad("vocabulary_size is not a number: '" + v + "'");
        } else if (k.starts_with("train.")) {
            m.training[k.substr(6)] = v;
        } else if (k.starts_with("baseline.")) {
            m.baseline[k.substr(9)] = v;
        } else {
            return bad("unknown field '" + k + "'");
        }
    }
    if (r.remaining() != 0) return bad(fmt::format("{} trailing bytes", r.remaining()));
    if (!seen_kind || !seen_seq || !seen_ev || !seen_created) return bad("a required field is missing");
    return m;
}

} // namespace

void ByteWriter::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::f64(double v) {
    u64(std::bit_cast<uint64_t>(v));
}

void ByteWriter::str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
}

bool ByteReader::take(size_t n, const uint8_t*& p) {
    if (!ok_ || n > remaining()) {
        ok_ = false;
        return false;
    }
    p = in_.data() + pos_;
    pos_ += n;
    return true;
}

bool ByteReader::u8(uint8_t& v) {
    const uint8_t* p = nullptr;
    if (!take(1, p)) return false;
    v = *p;
    return true;
}

bool ByteReader::u32(uint32_t& v) {
    const uint8_t* p = nullptr;
    if (!take(4, p)) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return true;
}

bool ByteReader::u64(uint64_t& v) {
    const uint8_t* p = nullptr;
    if (!take(8, p)) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return true;
}

bool ByteReader::f64(double& v) {
    uint64_t bits = 0;
    if (!u64(bits)) return false;
    v = std::bit_cast<double>(bits);
    return true;
}

bool ByteReader::str(std::string& s) {
    uint32_t n = 0;
    const uint8_t* p = nullptr;
    if (!u32(n) || !take(n, p)) return false;
    s.assign(reinterpret_cast<const char*>(p), n);
    return true;
}

struct TrainingDataHash::State {
    crypto_generichash_state h;
};

TrainingDataHash::TrainingDataHash() : state_(std::make_unique<State>()) {
    static const int init = sodium_init();
    (void)init;
    crypto_generichash_init(&state_->h, nullptr, 0, kChecksumBytes);
}

TrainingDataHash::~TrainingDataHash() = default;

void TrainingDataHash::update(std::span<const uint8_t> bytes) {
    crypto_generichash_update(&state_->h, bytes.data(), bytes.size());
}

void TrainingDataHash::add_sequence(std::span<const std::string> symbols) {
    ByteWriter w;
    w.u8('S');
    w.u64(symbols.size());
    for (const auto& s : symbols) w.str(s);
    update(w.data());
}

void TrainingDataHash::add_sequence(std::span<const uint32_t> ids) {
    ByteWriter w;
    w.u8('I');
    w.u64(ids.size());
    for (uint32_t id : ids) w.u32(id);
    update(w.data());
}

void TrainingDataHash::add_label(std::string_view label) {
    ByteWriter w;
    w.u8('L');
    w.str(label);
    update(w.data());
}

std::string TrainingDataHash::hex() const {
    // Finalizing consumes the state, so finalize a copy.
    crypto_generichash_state copy = state_->h;
    uint8_t out[kChecksumBytes];
    crypto_generichash_final(&copy, out, kChecksumBytes);
    std::string hex;
    for (uint8_t b : out) hex += fmt::format("{:02x}", b);
    return hex;
}

std::vector<uint8_t> encode_model_file(const ModelMeta& meta, std::span<const uint8_t> payload) {
    std::vector<uint8_t> header = encode_header(meta);
    ByteWriter w;
    // One allocation for the whole image.
    w.reserve(sizeof(kModelMagic) + 8 + header.size() + 8 + payload.size() + kChecksumBytes);
    w.bytes({reinterpret_cast<const uint8_t*>(kModelMagic), sizeof(kModelMagic)});
    w.u32(kModelFormatVersion);
    w.u32(static_cast<uint32_t>(header.size()));
    w.bytes(header);
    w.u64(payload.size());
    w.bytes(payload);
    uint8_t sum[kChecksumBytes];
    blake2b(w.data(), sum);
    w.bytes({sum, kChecksumBytes});
    return w.take();
}

namespace {

// Verifies an image and decodes its header; the payload is returned as a view into `bytes`.
Expected<std::pair<ModelMeta, std::span<const uint8_t>>>
decode_model_file_view(std::span<const uint8_t> bytes, const std::string& name) {
    if (bytes.empty()) return Error{name + ": empty file, not a model"};
    if (bytes.size() < kFixedBytes)
        return Error{fmt::format("{}: truncated model file ({} bytes, at least {} needed)", name,
                                 bytes.size(), kFixedBytes)};
    if (std::memcmp(bytes.data(), kModelMagic, sizeof(kModelMagic)) != 0)
        return Error{name + ": not an Ethogram model file (bad magic)"};
    ByteReader r(bytes.subspan(sizeof(kModelMagic)));
    uint32_t version = 0, header_len = 0;
    r.u32(version);
    // The version is checked before the checksum: a file from another engine release is intact, and the
    // user needs to hear "wrong version", not "corrupt".
    if (version != kModelFormatVersion)
        return Error{fmt::format("{}: model format version {}, this engine reads {}", name, version,
                                 kModelFormatVersion)};
    r.u32(header_len);
    if (header_len > kMaxHeaderBytes || header_len > bytes.size() - kFixedBytes)
        return Error{fmt::format("{}: truncated or corrupt model file (header length {} exceeds the file)",
                                 name, header_len)};
    const size_t header_at = sizeof(kModelMagic) + 8;
    ByteReader pr(bytes.subspan(header_at + header_len));
    uint64_t payload_len = 0;
    pr.u64(payload_len);
    const size_t expected_size = kFixedBytes + header_len;
    if (payload_len > bytes.size() - expected_size)
        return Error{fmt::format("{}: truncated model file (payload of {} bytes declared, {} present)", name,
                                 payload_len, bytes.size() - expected_size)};
    if (bytes.size() != expected_size + payload_len)
        return Error{fmt::format("{}: corrupt model file ({} unexpected trailing bytes)", name,
                                 bytes.size() - expected_size - payload_len)};
    const size_t sum_at = bytes.size() - kChecksumBytes;
    uint8_t sum[kChecksumBytes];
    blake2b(bytes.first(sum_at), sum);
    if (std::memcmp(sum, bytes.data() + sum_at, kChecksumBytes) != 0)
        return Error{name + ": checksum mismatch, the model file is corrupt"};
    auto meta = decode_header(bytes.subspan(header_at, header_len), name);
    if (!meta) return Error{meta.error()};
    const size_t payload_at = header_at + header_len + 8;
    return std::pair<ModelMeta, std::span<const uint8_t>>{std::move(*meta),
                                                          bytes.subspan(payload_at, sum_at - payload_at)};
}

} // namespace

Expected<LoadedModel> decode_model_file(std::span<const uint8_t> bytes, const std::string& name) {
    auto view = decode_model_file_view(bytes, name);
    if (!view) return Error{view.error()};
    LoadedModel out{std::move(view->first), std::vector<uint8_t>(view->second.begin(), view->second.end())};
    return out;
}

Status write_model_file(const std::string& path, const ModelMeta& meta, std::span<const uint8_t> payload) {
    std::vector<uint8_t> bytes = encode_model_file(meta, payload);
    // pid + a process-wide counter: concurrent writers (processes or threads) never share a temporary.
    static std::atomic<uint64_t> serial{0};
    std::string tmp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), serial.fetch_add(1));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Error{fmt::format("{}: cannot create: {}", tmp, std::strerror(errno))};
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::string err = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return Error{fmt::format("{}: write failed: {}", tmp, err)};
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        return Error{fmt::format("{}: fsync/close failed: {}", tmp, err)};
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        return Error{fmt::format("{}: cannot rename into place: {}", path, err)};
    }
    // Make the rename itself durable. Best effort: some file systems refuse fsync on a directory, and the
    // model is already complete and in place either way.
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return ok_status();
}

Expected<LoadedModel> read_model_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{fmt::format("{}: cannot open model file: {}", path, std::strerror(errno))};
    std::vector<uint8_t> bytes;
    uint8_t buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            std::string err = std::strerror(errno);
            ::close(fd);
            return Error{fmt::format("{}: read failed: {}", path, err)};
        }
        if (n == 0) break;
        bytes.insert(bytes.end(), buf, buf + n);
    }
    ::close(fd);
    return decode_model_file(bytes, path);
}

MappedModelFile::MappedModelFile(MappedModelFile&& o) noexcept
    : meta(std::move(o.meta)), payload(o.payload), base_(o.base_), size_(o.size_) {
    o.base_ = nullptr;
    o.size_ = 0;
    o.payload = {};
}

MappedModelFile& MappedModelFile::operator=(MappedModelFile&& o) noexcept {
    if (this != &o) {
        if (base_) ::munmap(base_, size_);
        meta = std::move(o.meta);
        payload = o.payload;
        base_ = o.base_;
        size_ = o.size_;
        o.base_ = nullptr;
        o.size_ = 0;
        o.payload = {};
    }
    return *this;
}

MappedModelFile::~MappedModelFile() {
    if (base_) ::munmap(base_, size_);
}

Expected<MappedModelFile> map_model_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{fmt::format("{}: cannot open model file: {}", path, std::strerror(errno))};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        std::string err = std::strerror(errno);
        ::close(fd);
        return Error{fmt::format("{}: cannot stat model file: {}", path, err)};
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{path + ": not a regular file, cannot be mapped (read_model_file reads pipes)"};
    }
    const size_t size = static_cast<size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return Error{path + ": empty file, not a model"};
    }
    void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd); // the mapping keeps the file open
    if (base == MAP_FAILED)
        return Error{fmt::format("{}: cannot map model file: {}", path, std::strerror(errno))};
    MappedModelFile out;
    out.base_ = base;
    out.size_ = size;
    std::span<const uint8_t> bytes(static_cast<const uint8_t*>(base), size);
    // Exactly decode_model_file()'s checks, without copying the payload out of the mapping.
    auto decoded = decode_model_file_view(bytes, path);
    if (!decoded) return Error{decoded.error()};
    out.meta = std::move(decoded->first);
    out.payload = decoded->second;
    return out;
}

} // namespace ethogram::models
