// line_reader.cpp: buffered line splitting over stdio.
#include "runtime/line_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <sys/types.h>

namespace ethogram::runtime {

namespace {
constexpr size_t kChunk = 1 << 20;
}

Expected<std::unique_ptr<LineReader>> LineReader::open(const std::string& path) {
    if (path == "-") return std::make_unique<LineReader>(stdin, "<stdin>", false);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
    return std::make_unique<LineReader>(f, path, true);
}

LineReader::LineReader(std::FILE* f, std::string name, bool owned)
    : f_(f), name_(std::move(name)), owned_(owned) {
    buf_.resize(kChunk);
}

LineReader::~LineReader() {
    if (owned_ && f_ != nullptr) std::fclose(f_);
}

// Moves the unread bytes to the front and reads more; grows the buffer when it is full (a long line).
bool LineReader::fill() {
    if (eof_) return false;
    if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        base_ += begin_;
        begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
    end_ += n;
    if (n == 0) {
        eof_ = true;
        if (std::ferror(f_)) error_ = fmt::format("{}: read failed: {}", name_, std::strerror(errno));
        return false;
    }
    return true;
}

Expected<bool> LineReader::seek(uint64_t offset, uint64_t line_no) {
    if (::fseeko(f_, 0, SEEK_END) != 0)
        return Error{fmt::format("{}: cannot seek (a checkpoint needs a regular file): {}", name_,
                                 std::strerror(errno))};
    const auto size = ::ftello(f_);
    if (size < 0 || static_cast<uint64_t>(size) < offset)
        return Error{fmt::format("{}: the file has {} bytes but the checkpoint was taken at byte {} (was the "
                                 "input truncated or replaced?)",
                                 name_, size, offset)};
    if (::fseeko(f_, static_cast<off_t>(offset), SEEK_SET) != 0)
        return Error{fmt::format("{}: cannot seek: {}", name_, std::strerror(errno))};
    begin_ = end_ = 0;
    base_ = offset;
    eof_ = false;
    line_no_ = line_no;
    return true;
}

bool LineReader::next(std::string_view& line) {
    size_t scan = begin_;
    for (;;) {
        const void* nl = std::memchr(buf_.data() + scan, '\n', end_ - scan);
        if (nl != nullptr) {
            size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
            size_t len = pos - begin_;
            if (len > 0 && buf_[pos - 1] == '\r') --len;
            line = std::string_view(buf_.data() + begin_, len);
            begin_ = pos + 1;
            ++line_no_;
            return true;
        }
        size_t scanned = end_ - begin_; // bytes already searched, relative to begin_
        if (!fill()) {
            if (begin_ == end_) return false;
            size_t len = end_ - begin_; // last line without a newline
            if (buf_[end_ - 1] == '\r') --len;
            line = std::string_view(buf_.data() + begin_, len);
            begin_ = end_;
            ++line_no_;
            return true;
        }
        scan = begin_ + scanned;
    }
}

} // namespace ethogram::runtime
