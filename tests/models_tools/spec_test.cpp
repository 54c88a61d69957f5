// spec_test.cpp: training specs: a full spec parses; every kind of mistake is refused with file:line:col.
#include "tools/model_spec.h"

#include <gtest/gtest.h>

namespace ethogram::tools {
namespace {

std::string err(const std::string& text) {
    auto s = parse_spec(text, "spec.yaml");
    return s.ok() ? "(accepted)" : s.error();
}

const char* kBase = "events:\n  field: page\n  key: session\n";

TEST(Spec, FullClassifierSpecParses) {
    auto s = parse_spec(R"(model:
  kind: classifier
  classes: [human, bot]
  positive: bot
  order: 3
  discount: 0.5
  estimate_discount: true
  priors: {human: 0.9, bot: 0.1}
events:
  types: [page_view, click]
  field: page
  type_field: kind
  key: session
  time: at
  epoch_unit: s
sequences:
  gap: 30m
  max_length: 100
validation:
  fraction: 0.3
  seed: 99
)",
                        "spec.yaml");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->kind, ModelKind::Classifier);
    EXPECT_EQ(s->classes, (std::vector<std::string>{"human", "bot"}));
    EXPECT_EQ(s->positive, "bot");
    EXPECT_EQ(s->chain.order, 3u);
    EXPECT_EQ(s->chain.discount, 0.5);
    EXPECT_TRUE(s->chain.estimate_discount);
    EXPECT_EQ(s->priors, (std::vector<double>{0.9, 0.1}));
    EXPECT_EQ(s->event_types, (std::vector<std::string>{"page_view", "click"}));
    EXPECT_EQ(s->type_field, "kind");
    EXPECT_EQ(s->time_field, "at");
    EXPECT_TRUE(s->epoch_seconds);
    EXPECT_EQ(s->gap_us, 30LL * 60 * 1000000);
    EXPECT_EQ(s->max_length, 100u);
    EXPECT_EQ(s->fraction, 0.3);
    EXPECT_EQ(s->seed, 99u);
}

TEST(Spec, DefaultsMatchTheRuntime) {
    auto s = parse_spec(std::string("model: {kind: hmm, states: 3, restarts: 2, seed: 5}\n") + kBase, "x");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->kind, ModelKind::Hmm);
    EXPECT_EQ(s->hmm.n_states, 3u);
    EXPECT_EQ(s->hmm.restarts, 2u);
    EXPECT_EQ(s->hmm.seed, 5u);
    EXPECT_EQ(s->type_field, "type"); // runtime config input.type_field default
    EXPECT_EQ(s->time_field, "ts");
    EXPECT_FALSE(s->epoch_seconds);
    EXPECT_EQ(s->fraction, 0.2);
    EXPECT_EQ(s->folds, 0u);
    // The default positive class is the last one listed; balanced weights are a keyword.
    auto c = parse_spec(
        std::string("model: {kind: classifier, classes: [a, b, c], class_weights: balanced}\n") + kBase, "x");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->positive, "c");
    EXPECT_TRUE(c->balanced_weights);
}

TEST(Spec, UnknownKind) {
    EXPECT_EQ(err(std::string("model:\n  kind: forest\n") + kBase),
              "spec.yaml:2:9: error: model.kind: unknown kind 'forest' (expected markov, hmm or classifier)");
    EXPECT_EQ(err(std::string("model:\n  order: 2\n") + kBase),
              "spec.yaml:2:3: error: model.kind is missing (expected markov, hmm or classifier)");
}

TEST(Spec, MissingFieldOrKey) {
    EXPECT_EQ(err("model: {kind: markov}\nevents:\n  key: session\n"),
              "spec.yaml:3:3: error: events.field is missing: name the categorical field the model reads");
    EXPECT_EQ(
        err("model: {kind: markov}\nevents:\n  field: page\n"),
        "spec.yaml:3:3: error: events.key is missing: name the field that groups events into sequences");
    EXPECT_EQ(err("model: {kind: markov}\n"),
              "spec.yaml:1:1: error: missing section 'events' (with at least field: and key:)");
}

TEST(Spec, BadSplit) {
    const std::string head = std::string("model: {kind: markov}\n") + kBase;
    EXPECT_EQ(err(head + "validation:\n  fraction: 1.5\n"),
              "spec.yaml:6:13: error: validation.fraction must be in [0, 1), got 1.5");
    EXPECT_EQ(err(head + "validation:\n  folds: 1\n"),
              "spec.yaml:6:10: error: validation.folds must be between 2 and 100, got 1");
    EXPECT_EQ(err(head + "validation:\n  fraction: 0.2\n  folds: 5\n"),
              "spec.yaml:6:3: error: validation: give either fraction or folds, not both");
    EXPECT_EQ(err(head + "validation:\n  fraction: lots\n"),
              "spec.yaml:6:13: error: validation.fraction must be a number, got 'lots'");
}

TEST(Spec, KeysOfAnotherKindOrUnknownKeys) {
    EXPECT_EQ(err(std::string("model: {kind: markov, states: 3}\n") + kBase),
              "spec.yaml:1:23: error: model.states applies to kind hmm only, not markov");
    EXPECT_EQ(
        err(std::string("model: {kind: markov}\n") + kBase + "sequences: {gap: soon}\n"),
        "spec.yaml:5:18: error: sequences.gap must be a positive duration such as \"30m\": bad duration "
        "\"soon\": expected a non-negative integer and a unit (us, ms, s, m, h, d), e.g. \"30s\"");
    EXPECT_NE(err(std::string("model: {kind: markov}\n") + kBase + "extra: 1\n")
                  .find("spec.yaml:5:1: error: unknown key 'extra'"),
              std::string::npos);
    EXPECT_NE(err(std::string("model: {kind: markov, oder: 2}\n") + kBase).find("unknown key 'model.oder'"),
              std::string::npos);
}

TEST(Spec, ClassifierMistakes) {
    EXPECT_EQ(err(std::string("model: {kind: classifier}\n") + kBase),
              "spec.yaml:1:8: error: model.classes is missing: a classifier lists its classes, e.g. classes: "
              "[human, bot]");
    EXPECT_EQ(err(std::string("model: {kind: classifier, classes: [a, b], positive: c}\n") + kBase),
              "spec.yaml:1:54: error: model.positive: 'c' is not one of model.classes");
    EXPECT_EQ(err(std::string("model: {kind: classifier, classes: [a, b], priors: {a: 1}}\n") + kBase),
              "spec.yaml:1:52: error: model.priors: no value for class 'b'");
    EXPECT_EQ(err(std::string("model: {kind: classifier, classes: [a, a]}\n") + kBase),
              "spec.yaml:1:40: error: model.classes: 'a' is listed twice");
}

TEST(Spec, InvalidYamlAndEmptyAndMissingFile) {
    EXPECT_NE(err("model: [unclosed\n").find("spec.yaml:"), std::string::npos);
    EXPECT_NE(err("model: [unclosed\n").find("invalid YAML"), std::string::npos);
    EXPECT_EQ(err(""), "spec.yaml: error: the spec is empty");
    EXPECT_EQ(load_spec("/nonexistent/spec.yaml").error(),
              "/nonexistent/spec.yaml: cannot read the spec: no such file or not readable");
}

} // namespace
} // namespace ethogram::tools
