// output_file.h: a buffered output stream over a file, stdout or stderr (stdio, no iostreams).
#pragma once

#include "runtime/expected.h"

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// A writable text stream. Writing never throws; the first I/O error is remembered and reported by
/// `close()` so that the pipeline can fail with "cannot write PATH: why" instead of losing output silently.
class OutputFile {
public:
    /// Opens (truncates) `path`; "-" is stdout.
    static Expected<std::unique_ptr<OutputFile>> open(const std::string& path);
    static std::unique_ptr<OutputFile> stdout_stream();
    /// Opens an existing `path` for a checkpoint resume: cuts it to `length` bytes (what was durably
    /// written when the checkpoint was taken) and appends from there. Fails when the file is missing or
    /// shorter than `length`.
    static Expected<std::unique_ptr<OutputFile>> open_resume(const std::string& path, uint64_t length);
    static std::unique_ptr<OutputFile> stderr_stream();
    /// Opens (creates) `path` without truncating it, for a caller that cuts it with truncate() before its
    /// first write (the parallel pipeline does it on another thread: cutting a large previous output takes
    /// milliseconds of kernel time). "-" is stdout.
    static Expected<std::unique_ptr<OutputFile>> open_untruncated(const std::string& path);
    /// Whether the file opened by open_untruncated has bytes to cut (a regular file that is not empty).
    bool needs_truncate() const;
    /// Cuts the file to nothing (what open's O_TRUNC does); a failure is reported by close().
    void truncate();

    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write(std::string_view s);
    void flush();
    /// Flushes and fsyncs a file, and returns its length: what a checkpoint records. Fails (naming the
    /// file) on a std stream or an I/O error.
    Expected<uint64_t> sync();
    /// Flushes and closes (std streams are flushed only). Returns an error when any write failed.
    Expected<bool> close();
    const std::string& name() const { return name_; }
    bool is_stdout() const { return f_ == stdout; }

private:
    OutputFile(std::FILE* f, std::string name, bool owned);
    static constexpr size_t kBufferBytes = size_t{1} << 20;
    std::FILE* f_;
    std::unique_ptr<char[]> buf_; ///< the stream's buffer (a file's): it outlives f_, closed first
    std::string name_;
    bool owned_;
    int error_ = 0; ///< errno of the first failure
};

} // namespace ethogram::runtime
