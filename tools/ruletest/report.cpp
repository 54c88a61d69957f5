// report.cpp: text, JUnit XML and JSON test reports, and the coverage report.
#include "tools/ruletest/report.h"

#include "runtime/json_writer.h"

#include <fmt/format.h>

namespace ethogram::ruletest {

namespace {

const char* status_name(CaseResult::Status s) {
    return s == CaseResult::Pass ? "pass" : s == CaseResult::Fail ? "fail" : "error";
}

std::string indent(const std::string& text, const std::string& pad) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        out += pad + text.substr(pos, nl - pos) + "\n";
        pos = nl + 1;
    }
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            // Control characters other than tab and newline are not allowed in XML 1.0.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
                out += ' ';
            else
                out.push_back(c);
        }
    }
    return out;
}

std::string detections_text(const CaseResult& c) {
    std::string out;
    size_t shown = 0;
    for (const ReplayDetection& d : c.actual) {
        out +=
            fmt::format("{} key={} at {} ({}){}\n  {}\n", d.rule_name, d.key, format_offset(d.time - c.start),
                        d.trigger, d.suppressed ? " suppressed" : "", d.explain);
        if (++shown == 20 && c.actual.size() > 20) {
            out += fmt::format("... and {} more\n", c.actual.size() - 20);
            break;
        }
    }
    return out;
}

// The whole story of one failed case, as shown to people and put in JUnit <failure> bodies.
std::string failure_text(const CaseResult& c) {
    std::string out;
    for (const std::string& f : c.failures) out += f + "\n";
    if (c.status == CaseResult::Error) return out;
    out += c.actual.empty() ? "actual detections: none\n"
                            : fmt::format("actual detections ({}):\n{}", c.actual.size(),
                                          indent(detections_text(c), "  "));
    for (const Flip& f : c.flips)
        out +=
            fmt::format("flip ({} in {} jittered run(s)): {}\n", f.lost ? "lost" : "gained", f.runs, f.json);
    return out;
}

} // namespace

Totals totals(const std::vector<FileResult>& files) {
    Totals t;
    t.files = files.size();
    for (const FileResult& f : files) {
        if (!f.error.empty()) ++t.errors;
        for (const CaseResult& c : f.cases) {
            ++t.cases;
            if (c.status == CaseResult::Pass) ++t.passed;
            if (c.status == CaseResult::Fail) ++t.failed;
            if (c.status == CaseResult::Error) ++t.errors;
        }
    }
    return t;
}

std::string text_report(const std::vector<FileResult>& files, bool verbose) {
    std::string out;
    for (const FileResult& f : files) {
        out += f.path + "\n";
        if (!f.error.empty()) {
            const size_t nl = f.error.find('\n');
            out += "  ERROR " + f.error.substr(0, nl) + "\n";
            if (nl != std::string::npos) out += indent(f.error.substr(nl + 1), "        ");
        }
        for (const CaseResult& c : f.cases) {
            const char* tag = c.status == CaseResult::Pass   ? "PASS "
                              : c.status == CaseResult::Fail ? "FAIL "
                                                             : "ERROR";
            out += fmt::format("  {} {} (line {})\n", tag, c.name, c.pos.line);
            if (c.status != CaseResult::Pass) {
                out += indent(failure_text(c), "        ");
            } else {
                if (verbose && !c.actual.empty()) out += indent(detections_text(c), "        ");
                for (const Flip& fl : c.flips)
                    out += fmt::format(
                        "        note: flips under jitter ({}, {} run(s)), allowed by stable: false: {}\n",
                        fl.lost ? "lost" : "gained", fl.runs, fl.json);
            }
        }
    }
    const Totals t = totals(files);
    out += fmt::format("{} file(s), {} case(s): {} passed, {} failed, {} error(s)\n", t.files, t.cases,
                       t.passed, t.failed, t.errors);
    return out;
}

std::string junit_report(const std::vector<FileResult>& files) {
    const Totals t = totals(files);
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    size_t file_errors = 0;
    for (const FileResult& f : files) file_errors += f.error.empty() ? 0 : 1;
    out += fmt::format("<testsuites name=\"etho test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                       t.cases + file_errors, t.failed, t.errors);
    for (const FileResult& f : files) {
        size_t failures = 0, errors = f.error.empty() ? 0 : 1;
        for (const CaseResult& c : f.cases) {
            failures += c.status == CaseResult::Fail;
            errors += c.status == CaseResult::Error;
        }
        const size_t tests = f.cases.size() + (f.error.empty() ? 0 : 1);
        out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                           xml_escape(f.path), tests, failures, errors);
        if (!f.error.empty())
            out += fmt::format("    <testcase name=\"(test file)\" classname=\"{}\">\n      <error "
                               "message=\"{}\">{}</error>\n"
                               "    </testcase>\n",
                               xml_escape(f.path), xml_escape(f.error.substr(0, f.error.find('\n'))),
                               xml_escape(f.error));
        for (const CaseResult& c : f.cases) {
            out += fmt::format("    <testcase name=\"{}\" classname=\"{}\"", xml_escape(c.name),
                               xml_escape(f.path));
            if (c.status == CaseResult::Pass) {
                out += "/>\n";
                continue;
            }
            const char* tag = c.status == CaseResult::Fail ? "failure" : "error";
            out += fmt::format(">\n      <{} message=\"{}\">{}</{}>\n    </testcase>\n", tag,
                               xml_escape(c.failures.empty()
                                              ? ""
                                              : c.failures.front().substr(0, c.failures.front().find('\n'))),
                               xml_escape(failure_text(c)), tag);
        }
        out += "  </testsuite>\n";
    }
    out += "</testsuites>\n";
    return out;
}

std::string json_report(const std::vector<FileResult>& files, const std::string& coverage_json) {
    using runtime::append_json_string;
    using runtime::append_json_uint;
    std::string out = "{\"files\":[";
    for (size_t i = 0; i < files.size(); ++i) {
        const FileResult& f = files[i];
        out += i ? ",\n" : "\n";
        out += "{\"path\":";
        append_json_string(out, f.path);
        out += ",\"error\":";
        if (f.error.empty())
            out += "null";
        else
            append_json_string(out, f.error);
        out += ",\"cases\":[";
        for (size_t j = 0; j < f.cases.size(); ++j) {
            const CaseResult& c = f.cases[j];
            out += j ? ",\n " : "\n ";
            out += "{\"name\":";
            append_json_string(out, c.name);
            out += ",\"line\":";
            append_json_uint(out, c.pos.line);
            out += ",\"status\":";
            append_json_string(out, status_name(c.status));
            out += ",\"failures\":[";
            for (size_t k = 0; k < c.failures.size(); ++k) {
                if (k) out.push_back(',');
                append_json_string(out, c.failures[k]);
            }
            out += "],\"detections\":[";
            for (size_t k = 0; k < c.actual.size(); ++k) {
                out += k ? "," : "";
                out += c.actual[k].json;
            }
            out += "],\"dead_letters\":";
            append_json_uint(out, c.dead.size());
            out += ",\"flips\":[";
            for (size_t k = 0; k < c.flips.size(); ++k) {
                out += k ? ",{\"change\":" : "{\"change\":";
                append_json_string(out, c.flips[k].lost ? "lost" : "gained");
                out += ",\"runs\":";
                append_json_uint(out, c.flips[k].runs);
                out += ",\"detection\":" + c.flips[k].json + "}";
            }
            out += "]}";
        }
        out += "]}";
    }
    const Totals t = totals(files);
    out +=
        fmt::format("\n],\"summary\":{{\"files\":{},\"cases\":{},\"passed\":{},\"failed\":{},\"errors\":{}}}",
                    t.files, t.cases, t.passed, t.failed, t.errors);
    if (!coverage_json.empty()) out += ",\"coverage\":" + coverage_json;
    out += "}\n";
    return out;
}

} // namespace ethogram::ruletest
