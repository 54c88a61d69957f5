// model_spec.cpp: parsing and validation of training specs (yaml-cpp; its exceptions stop here).
#include "tools/model_spec.h"

#include "runtime/time.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace ethogram::tools {

std::string_view kind_name(ModelKind k) {
    switch (k) {
    case ModelKind::Markov: return "markov";
    case ModelKind::Hmm: return "hmm";
    case ModelKind::Classifier: return "classifier";
    }
    return "?";
}

namespace {

// Thrown inside the reader only (never across the API): carries the node's position.
struct SpecError {
    YAML::Mark mark;
    std::string message;
};

[[noreturn]] void fail(const YAML::Node& at, std::string msg) {
    throw SpecError{at.Mark(), std::move(msg)};
}

std::string scalar(const YAML::Node& v, const std::string& path, const char* what) {
    if (!v.IsScalar()) fail(v, fmt::format("{} must be {}", path, what));
    return v.Scalar();
}

uint64_t as_uint(const YAML::Node& v, const std::string& path, uint64_t lo, uint64_t hi) {
    std::string s = scalar(v, path, "an integer");
    uint64_t x = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc{} || p != s.data() + s.size())
        fail(v, fmt::format("{} must be a non-negative integer, got '{}'", path, s));
    if (x < lo || x > hi) fail(v, fmt::format("{} must be between {} and {}, got {}", path, lo, hi, x));
    return x;
}

double as_double(const YAML::Node& v, const std::string& path) {
    std::string s = scalar(v, path, "a number");
    double x = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(x))
        fail(v, fmt::format("{} must be a number, got '{}'", path, s));
    return x;
}

bool as_bool(const YAML::Node& v, const std::string& path) {
    std::string s = scalar(v, path, "true or false");
    if (s == "true") return true;
    if (s == "false") return false;
    fail(v, fmt::format("{} must be true or false, got '{}'", path, s));
}

std::string as_name(const YAML::Node& v, const std::string& path) {
    std::string s = scalar(v, path, "a string");
    if (s.empty()) fail(v, fmt::format("{} must not be empty", path));
    return s;
}

std::vector<std::string> as_names(const YAML::Node& v, const std::string& path) {
    if (!v.IsSequence()) fail(v, fmt::format("{} must be a list, e.g. [a, b]", path));
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& e : v) {
        std::string s = as_name(e, path + "[]");
        if (s.find(',') != std::string::npos)
            fail(e, fmt::format("{}: '{}' must not contain a comma", path, s));
        if (!seen.insert(s).second) fail(e, fmt::format("{}: '{}' is listed twice", path, s));
        out.push_back(std::move(s));
    }
    return out;
}

class SpecReader {
public:
    explicit SpecReader(TrainSpec& s) : s_(s) {}

    void read(const YAML::Node& root) {
        if (!root.IsMap())
            fail(root, "the spec must be a mapping with model:, events:, sequences:, validation:");
        // std::optional: a default-constructed YAML::Node is a defined null, and assigning to one rebinds
        // nothing (it writes through), so "present" is tracked here.
        std::optional<YAML::Node> model, events, sequences, validation;
        for (const auto& kv : root) {
            std::string key = kv.first.as<std::string>();
            if (key == "model")
                model.emplace(kv.second);
            else if (key == "events")
                events.emplace(kv.second);
            else if (key == "sequences")
                sequences.emplace(kv.second);
            else if (key == "validation")
                validation.emplace(kv.second);
            else
                fail(kv.first,
                     fmt::format("unknown key '{}' (expected model, events, sequences, validation)", key));
        }
        if (!model) fail(root, "missing section 'model' (with at least kind:)");
        if (!events) fail(root, "missing section 'events' (with at least field: and key:)");
        read_model(*model);
        read_events(*events);
        if (sequences) read_sequences(*sequences);
        if (validation) read_validation(*validation);
    }

private:
    static void mapping(const YAML::Node& n, const char* name) {
        if (!n.IsMap()) fail(n, fmt::format("'{}' must be a mapping", name));
    }

    void read_model(const YAML::Node& m) {
        mapping(m, "model");
        YAML::Node kind = m["kind"];
        if (!kind) fail(m, "model.kind is missing (expected markov, hmm or classifier)");
        std::string k = scalar(kind, "model.kind", "markov, hmm or classifier");
        if (k == "markov")
            s_.kind = ModelKind::Markov;
        else if (k == "hmm")
            s_.kind = ModelKind::Hmm;
        else if (k == "classifier")
            s_.kind = ModelKind::Classifier;
        else
            fail(kind, fmt::format("model.kind: unknown kind '{}' (expected markov, hmm or classifier)", k));
        const bool chain = s_.kind != ModelKind::Hmm;
        const bool hmm = s_.kind == ModelKind::Hmm;
        const bool cls = s_.kind == ModelKind::Classifier;
        std::optional<YAML::Node> priors, weights, positive;
        for (const auto& kv : m) {
            std::string key = kv.first.as<std::string>();
            std::string path = "model." + key;
            const YAML::Node& v = kv.second;
            auto only = [&](bool ok, const char* kinds) {
                if (!ok) fail(kv.first, fmt::format("{} applies to kind {} only, not {}", path, kinds, k));
            };
            if (key == "kind") continue;
            if (key == "order") {
                only(chain, "markov or classifier");
                s_.chain.order = static_cast<uint32_t>(as_uint(v, path, 1, models::kMaxMarkovOrder));
            } else if (key == "discount") {
                only(chain, "markov or classifier");
                s_.chain.discount = as_double(v, path);
                if (!(s_.chain.discount > 0 && s_.chain.discount <= 1))
                    fail(v, fmt::format("{} must be in (0, 1], got {}", path, s_.chain.discount));
            } else if (key == "estimate_discount") {
                only(chain, "markov or classifier");
                s_.chain.estimate_discount = as_bool(v, path);
            } else if (key == "states") {
                only(hmm, "hmm");
                s_.hmm.n_states = as_uint(v, path, 1, 1024);
            } else if (key == "restarts") {
                only(hmm, "hmm");
                s_.hmm.restarts = as_uint(v, path, 1, 1000);
            } else if (key == "seed") {
                only(hmm, "hmm");
                s_.hmm.seed = as_uint(v, path, 0, UINT64_MAX);
            } else if (key == "max_iterations") {
                only(hmm, "hmm");
                s_.hmm.max_iterations = as_uint(v, path, 1, 1000000);
            } else if (key == "tolerance") {
                only(hmm, "hmm");
                s_.hmm.tolerance = as_double(v, path);
                if (!(s_.hmm.tolerance >= 0)) fail(v, path + " must be >= 0");
            } else if (key == "pseudo_count") {
                only(hmm, "hmm");
                s_.hmm.pseudo_count = as_double(v, path);
                if (!(s_.hmm.pseudo_count > 0)) fail(v, path + " must be > 0");
            } else if (key == "classes") {
                only(cls, "classifier");
                s_.classes = as_names(v, path);
                if (s_.classes.size() < 2) fail(v, path + " needs at least two classes");
            } else if (key == "positive") {
                only(cls, "classifier");
                s_.positive = as_name(v, path);
                positive.emplace(v);
            } else if (key == "priors") {
                only(cls, "classifier");
                priors.emplace(v);
            } else if (key == "class_weights") {
                only(cls, "classifier");
                weights.emplace(v);
            } else {
                fail(kv.first,
                     fmt::format("unknown key '{}' (expected kind, order, discount, estimate_discount, "
                                 "states, restarts, seed, max_iterations, tolerance, pseudo_count, "
                                 "classes, positive, priors, class_weights)",
                                 path));
            }
        }
        if (cls && s_.classes.empty())
            fail(m, "model.classes is missing: a classifier lists its classes, e.g. classes: [human, bot]");
        if (cls) {
            if (s_.positive.empty()) s_.positive = s_.classes.back();
            if (std::find(s_.classes.begin(), s_.classes.end(), s_.positive) == s_.classes.end())
                fail(*positive, fmt::format("model.positive: '{}' is not one of model.classes", s_.positive));
        }
        if (priors && weights) fail(*weights, "model.priors and model.class_weights exclude each other");
        if (priors) s_.priors = per_class(*priors, "model.priors");
        if (weights) {
            if (weights->IsScalar() && weights->Scalar() == "balanced")
                s_.balanced_weights = true;
            else
                s_.class_weights = per_class(*weights, "model.class_weights");
        }
    }

    std::vector<double> per_class(const YAML::Node& v, const std::string& path) {
        if (!v.IsMap())
            fail(v, fmt::format("{} must map each class to a positive number, e.g. {{human: 1, bot: 3}}{}",
                                path, path == "model.class_weights" ? " (or be 'balanced')" : ""));
        std::vector<double> out(s_.classes.size(), 0.0);
        for (const auto& kv : v) {
            std::string c = kv.first.as<std::string>();
            auto it = std::find(s_.classes.begin(), s_.classes.end(), c);
            if (it == s_.classes.end())
                fail(kv.first, fmt::format("{}: '{}' is not one of model.classes", path, c));
            double x = as_double(kv.second, path + "." + c);
            if (!(x > 0)) fail(kv.second, fmt::format("{}.{} must be positive, got {}", path, c, x));
            out[static_cast<size_t>(it - s_.classes.begin())] = x;
        }
        for (size_t i = 0; i < out.size(); ++i)
            if (out[i] == 0) fail(v, fmt::format("{}: no value for class '{}'", path, s_.classes[i]));
        return out;
    }

    void read_events(const YAML::Node& e) {
        mapping(e, "events");
        for (const auto& kv : e) {
            std::string key = kv.first.as<std::string>();
            std::string path = "events." + key;
            if (key == "types")
                s_.event_types = as_names(kv.second, path);
            else if (key == "field")
                s_.field = as_name(kv.second, path);
            else if (key == "type_field")
                s_.type_field = as_name(kv.second, path);
            else if (key == "key")
                s_.key_field = as_name(kv.second, path);
            else if (key == "time")
                s_.time_field = as_name(kv.second, path);
            else if (key == "epoch_unit") {
                std::string u = scalar(kv.second, path, "ms or s");
                if (u != "ms" && u != "s")
                    fail(kv.second, fmt::format("{} must be ms or s, got '{}'", path, u));
                s_.epoch_seconds = u == "s";
            } else {
                fail(
                    kv.first,
                    fmt::format("unknown key '{}' (expected types, field, type_field, key, time, epoch_unit)",
                                path));
            }
        }
        if (s_.field.empty()) fail(e, "events.field is missing: name the categorical field the model reads");
        if (s_.key_field.empty())
            fail(e, "events.key is missing: name the field that groups events into sequences");
    }

    void read_sequences(const YAML::Node& q) {
        mapping(q, "sequences");
        for (const auto& kv : q) {
            std::string key = kv.first.as<std::string>();
            std::string path = "sequences." + key;
            if (key == "gap") {
                std::string g = scalar(kv.second, path, "a duration such as \"30m\"");
                auto d = runtime::parse_duration(g);
                if (!d || *d <= 0)
                    fail(kv.second, fmt::format("{} must be a positive duration such as \"30m\"{}", path,
                                                d ? "" : ": " + d.error()));
                s_.gap_us = *d;
            } else if (key == "max_length") {
                s_.max_length = as_uint(kv.second, path, 1, UINT64_MAX);
            } else {
                fail(kv.first, fmt::format("unknown key '{}' (expected gap, max_length)", path));
            }
        }
    }

    void read_validation(const YAML::Node& v) {
        mapping(v, "validation");
        bool has_fraction = false;
        for (const auto& kv : v) {
            std::string key = kv.first.as<std::string>();
            std::string path = "validation." + key;
            if (key == "fraction") {
                s_.fraction = as_double(kv.second, path);
                if (!(s_.fraction >= 0 && s_.fraction < 1))
                    fail(kv.second, fmt::format("{} must be in [0, 1), got {}", path, s_.fraction));
                has_fraction = true;
            } else if (key == "folds") {
                s_.folds = static_cast<uint32_t>(as_uint(kv.second, path, 2, 100));
            } else if (key == "seed") {
                s_.seed = as_uint(kv.second, path, 0, UINT64_MAX);
            } else {
                fail(kv.first, fmt::format("unknown key '{}' (expected fraction, folds, seed)", path));
            }
        }
        if (has_fraction && s_.folds) fail(v, "validation: give either fraction or folds, not both");
    }

    TrainSpec& s_;
};

} // namespace

models::Expected<TrainSpec> parse_spec(std::string_view text, const std::string& name) {
    TrainSpec s;
    s.text = std::string(text);
    try {
        YAML::Node root = YAML::Load(s.text);
        if (!root || root.IsNull()) return models::Error{name + ": error: the spec is empty"};
        SpecReader(s).read(root);
    } catch (const SpecError& e) {
        return models::Error{
            fmt::format("{}:{}:{}: error: {}", name, e.mark.line + 1, e.mark.column + 1, e.message)};
    } catch (const YAML::Exception& e) {
        return models::Error{fmt::format("{}:{}:{}: error: invalid YAML: {}", name, e.mark.line + 1,
                                         e.mark.column + 1, e.msg)};
    }
    return s;
}

models::Expected<TrainSpec> load_spec(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return models::Error{fmt::format("{}: cannot read the spec: no such file or not readable", path)};
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_spec(ss.str(), path);
}

} // namespace ethogram::tools
