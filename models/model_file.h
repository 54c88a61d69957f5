// model_file.h: the checksummed on-disk container shared by every model kind (Markov chain, HMM, classifier).
#pragma once

#include "models/expected.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::models {

/// The 16 bytes every model file starts with.
inline constexpr char kModelMagic[16] = {'E', 'T', 'H', 'O', 'G', 'R', 'A',  'M',
                                         '-', 'M', 'O', 'D', 'E', 'L', '\0', '\0'};
/// The container format this engine writes and the only one it reads. Bump on any layout change.
inline constexpr uint32_t kModelFormatVersion = 1;
/// Engine version recorded in files written by this build (informational: compatibility is decided by
/// kModelFormatVersion and by each payload's own checks, never by this string).
inline constexpr const char* kEngineVersion = "0.1.0";

/// Appends little-endian scalars and length-prefixed strings: the encoding of every payload, so a later
/// mmap loader can read the arrays in place on little-endian hosts.
class ByteWriter {
public:
    void u8(uint8_t v) { out_.push_back(v); }
    void u32(uint32_t v);
    void u64(uint64_t v);
    void f64(double v);
    void bytes(std::span<const uint8_t> b) {
        // resize + memcpy rather than insert: GCC 12 misreads vector::_M_range_insert into an empty
        // vector under -fPIC -O3 (-Wstringop-overflow false positive).
        const size_t n = out_.size();
        out_.resize(n + b.size());
        if (!b.empty()) std::memcpy(out_.data() + n, b.data(), b.size());
    }
    void reserve(size_t n) { out_.reserve(n); }
    /// u32 length, then the bytes.
    void str(std::string_view s);
    std::vector<uint8_t>& data() { return out_; }
    std::vector<uint8_t> take() { return std::move(out_); }

private:
    std::vector<uint8_t> out_;
};

/// Reads what ByteWriter wrote. Every read is bounds-checked: past the end it fails and the reader stays
/// failed (`ok()` false), so a decoder can read a whole record and check once.
class ByteReader {
public:
    explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}
    bool u8(uint8_t& v);
    bool u32(uint32_t& v);
    bool u64(uint64_t& v);
    bool f64(double& v);
    bool str(std::string& s);
    bool ok() const { return ok_; }
    size_t remaining() const { return in_.size() - pos_; }
    size_t position() const { return pos_; }

private:
    bool take(size_t n, const uint8_t*& p);
    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

/// Incremental BLAKE2b-256 of a training set, for ModelMeta::training_data_hash. Symbols, sequences and
/// labels are framed (type tag + length), so ("ab","c") and ("a","bc"), or one sequence and the same
/// events split in two, hash differently. Feed the data in a deterministic order.
class TrainingDataHash {
public:
    TrainingDataHash();
    ~TrainingDataHash();
    TrainingDataHash(const TrainingDataHash&) = delete;
    TrainingDataHash& operator=(const TrainingDataHash&) = delete;

    void add_sequence(std::span<const std::string> symbols);
    void add_sequence(std::span<const uint32_t> ids);
    /// The class label of the sequence that follows (classifier training data).
    void add_label(std::string_view label);
    /// Lower-case hex of the digest of everything added so far (the hash can still be extended).
    std::string hex() const;

private:
    struct State;
    void update(std::span<const uint8_t> bytes);
    std::unique_ptr<State> state_;
};

/// Everything about a model except its parameters: provenance, sizes and hyper-parameters.
struct ModelMeta {
    std::string kind;               ///< "markov", "hmm", "classifier".
    std::string engine_version;     ///< Engine that trained the model (kEngineVersion by default).
    std::string training_data_hash; ///< Hex digest of the training data, as the trainer computed it.
    uint64_t sequences = 0;         ///< Training sequences seen.
    uint64_t events = 0;            ///< Training events (symbols) seen.
    std::map<std::string, std::string> hyper_params; ///< e.g. {"order","2"}, {"discount","0.75"}.
    int64_t created_unix = 0;                        ///< Creation time, seconds since the Unix epoch.
    // Compatibility and provenance written by `etho train` (all optional: empty/0 = not recorded, and
    // then not written, so files without them are byte-identical to those of earlier builds).
    std::string field;                    ///< "field": the categorical event field the model reads.
    std::vector<std::string> event_types; ///< "event_types" (comma-separated): the types it was trained on.
    uint64_t vocabulary_size = 0;         ///< "vocabulary_size": symbols, <unk> included.
    std::map<std::string, std::string> training; ///< "train.<name>": spec, source, split, time range.
    std::map<std::string, std::string> baseline; ///< "baseline.<name>": drift baseline (models/drift.h).

    bool operator==(const ModelMeta&) const = default;
};

/// A file as read back: its metadata and the opaque payload bytes (the model kind decodes them).
struct LoadedModel {
    ModelMeta meta;
    std::vector<uint8_t> payload;
};

/// Writes `meta` and `payload` to `path` atomically: a temporary file in the same directory is written,
/// fsync'ed, then renamed over `path`, so a reader never sees a half-written model.
/// Layout (all integers little-endian):
///   magic[16] | u32 format version | u32 header length | header | u64 payload length | payload |
///   BLAKE2b-256 of every byte before it (32 bytes).
/// The header is a list of (key, value) string pairs: u32 count, then per pair u32 length + bytes twice.
Status write_model_file(const std::string& path, const ModelMeta& meta, std::span<const uint8_t> payload);

/// Serializes to the exact bytes write_model_file() puts on disk (exposed for tests and for in-memory use).
std::vector<uint8_t> encode_model_file(const ModelMeta& meta, std::span<const uint8_t> payload);

/// Reads and verifies a model file: size, magic, format version, lengths, checksum, header fields.
/// Errors name the file and what is wrong, e.g. "model.etm: model format version 2, this engine reads 1".
Expected<LoadedModel> read_model_file(const std::string& path);

/// A model file mapped read-only into memory (mmap) and verified like read_model_file(); `payload` points
/// into the mapping, which lives as long as this object: the flat little-endian arrays are read in place,
/// with no copy of the payload. Move-only.
class MappedModelFile {
public:
    MappedModelFile() = default;
    MappedModelFile(MappedModelFile&& o) noexcept;
    MappedModelFile& operator=(MappedModelFile&& o) noexcept;
    MappedModelFile(const MappedModelFile&) = delete;
    MappedModelFile& operator=(const MappedModelFile&) = delete;
    ~MappedModelFile();

    ModelMeta meta;
    std::span<const uint8_t> payload;

private:
    friend Expected<MappedModelFile> map_model_file(const std::string& path);
    void* base_ = nullptr;
    size_t size_ = 0;
};

/// Maps `path` and verifies it exactly as read_model_file() does (same checks, same messages).
Expected<MappedModelFile> map_model_file(const std::string& path);

/// Verifies and decodes an in-memory image; `name` is used in error messages in place of a path.
Expected<LoadedModel> decode_model_file(std::span<const uint8_t> bytes, const std::string& name);

} // namespace ethogram::models
