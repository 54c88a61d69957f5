// output_file.cpp: buffered stdio output with deferred error reporting.
#include "runtime/output_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace ethogram::runtime {

OutputFile::OutputFile(std::FILE* f, std::string name, bool owned)
    : f_(f), name_(std::move(name)), owned_(owned) {
    // Our own buffer: glibc ignores setvbuf's size when it is given no buffer, and then writes in blocks of
    // st_blksize (4 KiB), a system call per 4 KiB of detections (52,000 writes on a 2M-event run).
    if (owned_) {
        buf_ = std::make_unique_for_overwrite<char[]>(kBufferBytes);
        std::setvbuf(f_, buf_.get(), _IOFBF, kBufferBytes);
    }
}

OutputFile::~OutputFile() {
    if (f_ == nullptr) return;
    if (owned_)
        std::fclose(f_);
    else
        std::fflush(f_);
}

Expected<std::unique_ptr<OutputFile>> OutputFile::open(const std::string& path) {
    if (path == "-") return stdout_stream();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr)
        return Error{fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno))};
    return std::unique_ptr<OutputFile>(new OutputFile(f, path, true));
}

Expected<std::unique_ptr<OutputFile>> OutputFile::open_untruncated(const std::string& path) {
    if (path == "-") return stdout_stream();
    // As fopen(path, "wb") opens it, but without O_TRUNC.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0666);
    std::FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "wb");
    if (f == nullptr) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        return Error{fmt::format("{}: cannot open for writing: {}", path, std::strerror(err))};
    }
    return std::unique_ptr<OutputFile>(new OutputFile(f, path, true));
}

bool OutputFile::needs_truncate() const {
    struct stat st {};
    return owned_ && f_ != nullptr && ::fstat(::fileno(f_), &st) == 0 && S_ISREG(st.st_mode) &&
           st.st_size > 0;
}

void OutputFile::truncate() {
    if (::ftruncate(::fileno(f_), 0) != 0 && error_ == 0) error_ = errno;
}

Expected<std::unique_ptr<OutputFile>> OutputFile::open_resume(const std::string& path, uint64_t length) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    if (f == nullptr)
        return Error{
            fmt::format("{}: cannot reopen to resume from a checkpoint: {}", path, std::strerror(errno))};
    std::unique_ptr<OutputFile> out(new OutputFile(f, path, true));
    if (::fseeko(f, 0, SEEK_END) != 0)
        return Error{fmt::format("{}: cannot seek: {}", path, std::strerror(errno))};
    const auto size = ::ftello(f);
    if (size < 0 || static_cast<uint64_t>(size) < length)
        return Error{fmt::format("{}: has {} bytes but the checkpoint recorded {} (was it truncated or "
                                 "replaced since?)",
                                 path, size, length)};
    // Bytes past the recorded length were written after the checkpoint: the resumed run writes them again.
    if (::ftruncate(::fileno(f), static_cast<off_t>(length)) != 0 ||
        ::fseeko(f, static_cast<off_t>(length), SEEK_SET) != 0)
        return Error{fmt::format("{}: cannot cut back to {} bytes: {}", path, length, std::strerror(errno))};
    return out;
}

Expected<uint64_t> OutputFile::sync() {
    if (f_ == nullptr || !owned_) return Error{fmt::format("{}: not a file (cannot checkpoint it)", name_)};
    flush();
    if (error_ == 0 && ::fsync(::fileno(f_)) != 0) error_ = errno;
    if (error_ != 0) return Error{fmt::format("{}: write failed: {}", name_, std::strerror(error_))};
    const auto pos = ::ftello(f_);
    if (pos < 0) return Error{fmt::format("{}: cannot tell the position: {}", name_, std::strerror(errno))};
    return static_cast<uint64_t>(pos);
}

std::unique_ptr<OutputFile> OutputFile::stdout_stream() {
    return std::unique_ptr<OutputFile>(new OutputFile(stdout, "<stdout>", false));
}

std::unique_ptr<OutputFile> OutputFile::stderr_stream() {
    return std::unique_ptr<OutputFile>(new OutputFile(stderr, "<stderr>", false));
}

void OutputFile::write(std::string_view s) {
    if (s.empty() || f_ == nullptr) return;
    if (std::fwrite(s.data(), 1, s.size(), f_) != s.size() && error_ == 0) error_ = errno ? errno : EIO;
}

void OutputFile::flush() {
    if (f_ != nullptr && std::fflush(f_) != 0 && error_ == 0) error_ = errno;
}

Expected<bool> OutputFile::close() {
    if (f_ == nullptr) return true;
    if (owned_) {
        if (std::fclose(f_) != 0 && error_ == 0) error_ = errno ? errno : EIO;
    } else {
        flush();
    }
    f_ = nullptr;
    if (error_ != 0) return Error{fmt::format("{}: write failed: {}", name_, std::strerror(error_))};
    return true;
}

} // namespace ethogram::runtime
