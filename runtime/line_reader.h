// line_reader.h: reads a text stream line by line with large buffered reads (files or stdin).
#pragma once

#include "runtime/expected.h"

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace ethogram::runtime {

/// Yields the lines of a file or of stdin ("-"). A trailing "\r" is stripped (CRLF input), the last line
/// may lack its newline, and lines of any length are supported (the buffer grows as needed).
class LineReader {
public:
    /// Opens `path` ("-" = stdin); an error names the file and why.
    static Expected<std::unique_ptr<LineReader>> open(const std::string& path);
    /// Reads from an already open stream (not closed by the reader).
    explicit LineReader(std::FILE* f, std::string name = "<stream>", bool owned = false);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// The next line (without "\n" / "\r\n"), valid until the next call; false at end of input.
    bool next(std::string_view& line);
    /// 1-based number of the line last returned.
    uint64_t line_number() const { return line_no_; }
    /// Non-empty when reading failed (as opposed to reaching the end).
    const std::string& error() const { return error_; }
    /// Byte offset in the file of the first unread byte (just after the line last returned).
    uint64_t offset() const { return base_ + begin_; }
    /// Continues reading at byte `offset`, numbering the next line `line_no + 1` (checkpoint resume).
    /// Fails on a stream that cannot seek (stdin, a pipe) or an offset past the end of the file.
    Expected<bool> seek(uint64_t offset, uint64_t line_no);

private:
    bool fill();

    std::FILE* f_;
    std::string name_;
    bool owned_;
    std::string buf_;
    size_t begin_ = 0, end_ = 0; // unread bytes are buf_[begin_, end_)
    uint64_t base_ = 0;          // file offset of buf_[0]
    bool eof_ = false;
    uint64_t line_no_ = 0;
    std::string error_;
};

} // namespace ethogram::runtime
