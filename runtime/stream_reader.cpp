// stream_reader.cpp: lines as they arrive, with a timeout; a followed file's truncation and rotation.
#include "runtime/stream_reader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ethogram::runtime {

Expected<std::unique_ptr<StreamReader>> StreamReader::open(const std::string& path, bool follow) {
    const bool std_in = path == "-";
    int fd = std_in ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    if (follow) {
        struct stat st {};
        if (std_in || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (!std_in) ::close(fd);
            return Error{
                fmt::format("{}: --follow needs a regular file (a pipe or stdin is read as it arrives "
                            "anyway)",
                            std_in ? "<stdin>" : path)};
        }
    }
    return std::make_unique<StreamReader>(fd, path, !std_in, follow);
}

StreamReader::StreamReader(int fd, std::string path, bool owned, bool follow)
    : fd_(fd), path_(std::move(path)), name_(path_ == "-" ? "<stdin>" : path_), owned_(owned),
      follow_(follow) {}

StreamReader::~StreamReader() {
    if (owned_) ::close(fd_);
}

StreamReader::Got StreamReader::fail(const char* what) {
    error_ = fmt::format("{}: {}: {}", name_, what, std::strerror(errno));
    return Got::Error;
}

bool StreamReader::take_line(std::string& line) {
    const size_t nl = buf_.find('\n', scan_);
    if (nl == std::string::npos) {
        scan_ = buf_.size();
        return false;
    }
    line.assign(buf_, 0, nl);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    buf_.erase(0, nl + 1);
    scan_ = 0;
    ++line_no_;
    return true;
}

// A last line without its newline (the end of the input, or of a file cut or replaced under us).
StreamReader::Got StreamReader::take_rest(std::string& line) {
    line.swap(buf_);
    buf_.clear();
    scan_ = 0;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_no_;
    return Got::Line;
}

StreamReader::Got StreamReader::next(std::string& line, int timeout_ms) {
    for (;;) {
        if (take_line(line)) return Got::Line;
        if (eof_ && !follow_) return buf_.empty() ? Got::End : take_rest(line);
        if (!eof_) {
            // A regular file always polls readable; a pipe waits here.
            pollfd pfd{fd_, POLLIN, 0};
            const int r = ::poll(&pfd, 1, timeout_ms);
            if (r == 0 || (r < 0 && errno == EINTR)) return Got::Timeout;
            if (r < 0) return fail("poll failed");
        }
        char chunk[65536];
        const ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) return Got::Timeout;
        if (n < 0) return fail("read failed");
        if (n > 0) {
            eof_ = false;
            offset_ += static_cast<uint64_t>(n);
            buf_.append(chunk, static_cast<size_t>(n));
            continue;
        }
        eof_ = true;
        if (follow_) return at_end_of_file(line, timeout_ms);
    }
}

// Following, at the end of the file: was it cut short or replaced? Else wait for more (the timeout).
StreamReader::Got StreamReader::at_end_of_file(std::string& line, int timeout_ms) {
    struct stat now {
    }, named{};
    if (::fstat(fd_, &now) != 0) return fail("stat failed");
    const bool replaced =
        ::stat(path_.c_str(), &named) == 0 && (named.st_ino != now.st_ino || named.st_dev != now.st_dev);
    const bool truncated = static_cast<uint64_t>(now.st_size) < offset_;
    if (replaced || truncated) {
        // A partial line left from the old content is a line of its own (probably a dead letter), not glued
        // to the new content.
        if (!buf_.empty()) return take_rest(line);
        if (replaced) {
            const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) return fail("cannot open the file that replaced it");
            spdlog::warn(
                "{}: the file was replaced (rotated) after {} bytes: reading the new one from its start",
                name_, offset_);
            ::close(fd_);
            fd_ = fd;
        } else {
            spdlog::warn(
                "{}: the file was truncated to {} bytes after {} were read: reading it again from its "
                "start",
                name_, static_cast<uint64_t>(now.st_size), offset_);
            if (::lseek(fd_, 0, SEEK_SET) < 0) return fail("cannot seek");
        }
        offset_ = 0;
        eof_ = false;
        return Got::Timeout; // the caller comes back at once (a timeout of 0) and reads the new content
    }
    if (timeout_ms > 0) ::poll(nullptr, 0, timeout_ms); // a regular file has no readiness to wait for
    return Got::Timeout;
}

} // namespace ethogram::runtime
