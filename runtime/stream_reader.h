// stream_reader.h: input lines as they arrive (a pipe, stdin, or a file, optionally followed like `tail -f`),
// with a timeout, for the watching pipeline.
#pragma once

#include "runtime/expected.h"

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>

namespace ethogram::runtime {

/// Reads with read(2), never stdio's fread (which waits for a full buffer on a pipe), and waits with a
/// timeout so that the caller can do its periodic work (deployment checks) while the input is idle.
class StreamReader {
public:
    enum class Got { Line, Timeout, End, Error };

    /// Opens `path` ("-": stdin). `follow`: a regular file is followed like `tail -f`: at its end the reader
    /// waits for appended lines instead of ending; a file cut shorter (truncated) is read again from its
    /// start, and a file replaced at `path` (rotated) is read to its end and then the new one from its start,
    /// each with a warning. The input then ends only by stop().
    static Expected<std::unique_ptr<StreamReader>> open(const std::string& path, bool follow = false);
    StreamReader(int fd, std::string path, bool owned, bool follow);
    ~StreamReader();
    StreamReader(const StreamReader&) = delete;
    StreamReader& operator=(const StreamReader&) = delete;

    /// The next line (without its newline or CR), or Timeout when none came within `timeout_ms` (or a signal
    /// interrupted the wait), End at the end of the input, Error (see error()).
    Got next(std::string& line, int timeout_ms);
    /// A followed file ends here: what it holds is read to its end, a last line without newline included,
    /// then End.
    void stop() {
        follow_ = false;
        eof_ = false; // lines appended since the last look are read too
    }
    uint64_t line_number() const { return line_no_; }
    const std::string& error() const { return error_; }

private:
    Got fail(const char* what);
    bool take_line(std::string& line);
    Got take_rest(std::string& line);
    Got at_end_of_file(std::string& line, int timeout_ms);

    int fd_;
    std::string path_, name_;
    bool owned_, follow_;
    std::string buf_, error_;
    size_t scan_ = 0;
    uint64_t line_no_ = 0;
    uint64_t offset_ = 0; ///< bytes read from the current file (truncation shows as a smaller size)
    bool eof_ = false;
};

} // namespace ethogram::runtime
