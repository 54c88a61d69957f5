// case_events.h: a test case's events (inline YAML or a file) as JSON lines, and the YAML value tests
// the runner's expectations share.
#pragma once

#include "compiler/ir/ir.h"
#include "tools/ruletest/spec.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ethogram::ruletest {

/// Whether `s` is a decimal number as strtod reads it, without hex, nan or inf.
bool is_number(const std::string& s);
/// Whether a YAML test value means null: absent, `~` or `null` (unless quoted).
bool is_null(const YAML::Node& n);

/// The events of case `tc` as the JSON lines a producer would send, in order: each inline event with its
/// time resolved (`at:` from `start` or after the previous event), the case key and the file's defaults
/// added, and values written as their field's JSON type (a value that does not fit is written as a
/// string, so that the decoder rejects it as `etho run` would); or the lines of the case's events file.
/// Every problem (an unknown type or field, a bad time, an unreadable file) goes to `error` with its
/// position; an event with a problem is left out.
std::vector<std::string> case_event_lines(const TestFile& tf, const TestCase& tc, const ir::RuleSet& rs,
                                          const std::string& type_field, int64_t start,
                                          const std::function<void(Pos, const std::string&)>& error);

} // namespace ethogram::ruletest
