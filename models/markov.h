// markov.h: order-k Markov chains over symbol ids with interpolated Kneser-Ney smoothing and back-off.
#pragma once

#include "models/expected.h"
#include "models/model_file.h"
#include "models/vocabulary.h"

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace ethogram::models {

/// Largest supported order. Beyond a handful of symbols of context, categorical event data is too sparse
/// for the longer contexts to matter, and a bound keeps the per-key online state allocation-free.
inline constexpr uint32_t kMaxMarkovOrder = 8;

/// Hyper-parameters of a chain.
struct MarkovConfig {
    uint32_t order = 1;             ///< k: symbols of context, 1..kMaxMarkovOrder.
    double discount = 0.75;         ///< Absolute discount D in (0, 1], used at every context length...
    bool estimate_discount = false; ///< ...unless true: D = n1 / (n1 + 2 n2) per context length.
};

/// One candidate next symbol and its probability.
struct Prediction {
    uint32_t symbol;
    double prob;
};

/// An order-k chain over ids 0..vocab_size-1 (id 0 = <unk>, see Vocabulary), smoothed with interpolated
/// Kneser-Ney (docs/models.md has the formulas). Every sequence is padded at its start with k copies of a
/// begin symbol `bos()` (= vocab_size), which is context only and is never predicted. Probabilities for
/// every context sum to one over the vocabulary, <unk> included; contexts never seen back off to shorter
/// ones, down to the uniform distribution 1/vocab_size. Scoring never throws and never allocates.
class MarkovChain {
public:
    /// An untrained chain (every probability is 1/vocab_size); refuses an invalid configuration.
    static Expected<MarkovChain> create(const MarkovConfig& config, uint32_t vocab_size);

    /// Adds the n-grams of `sequences` and re-derives the smoothed statistics. May be called repeatedly:
    /// counts accumulate. Fails (changing nothing) if an id is >= vocab_size.
    Status train(std::span<const std::vector<uint32_t>> sequences);

    /// P(next | context). `context` is oldest first; only its last k ids matter, and a shorter context
    /// simply uses fewer levels (pad with bos() to mean "start of sequence"). Ids >= vocab_size other than
    /// bos() - in the context or as `next` - are read as <unk>.
    double prob(std::span<const uint32_t> context, uint32_t next) const;
    /// Natural logarithm of prob().
    double log_prob(std::span<const uint32_t> context, uint32_t next) const;
    /// Surprise of `next` in bits: -log2 P(next | context).
    double surprise(std::span<const uint32_t> context, uint32_t next) const;
    /// The `n` most probable next symbols, most probable first (ties: smaller id first). O(vocab * k).
    std::vector<Prediction> predict_next(std::span<const uint32_t> context, size_t n) const;

    /// k copies of bos(): the context before a sequence's first symbol.
    std::vector<uint32_t> start_context() const { return std::vector<uint32_t>(order_, bos()); }
    /// The begin-of-sequence padding id (context only).
    uint32_t bos() const { return vocab_size_; }
    uint32_t order() const { return order_; }
    uint32_t vocab_size() const { return vocab_size_; }
    /// Discount applied to contexts of `length` symbols (0..k).
    double discount(uint32_t length) const { return discounts_[length]; }
    uint64_t sequences() const { return sequences_; }
    uint64_t events() const { return events_; }
    /// Distinct contexts stored (all lengths, the empty one included).
    size_t context_count() const { return nodes_.size(); }
    /// Stored (context, next) entries: raw counts for length k, continuation counts below.
    size_t entry_count() const { return counts_.size(); }
    /// Hyper-parameters as ModelMeta::hyper_params entries (order, discounts, estimation, vocab size).
    std::map<std::string, std::string> hyper_params() const;

    /// Appends the chain as flat little-endian arrays (docs/models.md, "Markov payload").
    void serialize(ByteWriter& w) const;
    std::vector<uint8_t> serialize() const;
    /// Reads what serialize() wrote, verifying every index and that the stored totals add up.
    static Expected<MarkovChain> deserialize(ByteReader& r);
    static Expected<MarkovChain> deserialize(std::span<const uint8_t> payload);

private:
    // A context, stored as a trie read newest symbol first: a node's parent is the same context without its
    // oldest symbol, i.e. exactly the shorter context that Kneser-Ney backs off to.
    struct Node {
        uint32_t parent = 0;
        uint32_t symbol = 0;   // newest-to-oldest edge label (may be bos())
        uint32_t depth = 0;    // context length
        uint32_t distinct = 0; // N1+(h .): distinct followers with a non-zero count
        uint64_t total = 0;    // sum of the counts of the followers
    };
    using Chain = std::array<uint32_t, kMaxMarkovOrder + 1>;

    MarkovChain(const MarkovConfig& config, uint32_t vocab_size);
    static uint64_t key(uint32_t hi, uint32_t lo) { return (uint64_t{hi} << 32) | lo; }
    uint32_t clamp_symbol(uint32_t s) const { return s < vocab_size_ || s == bos() ? s : 0; }
    uint32_t child(uint32_t node, uint32_t symbol) const;
    // Fills `chain` with the nodes of the context's suffixes, shortest (root) first; returns how many.
    size_t walk(std::span<const uint32_t> context, Chain& chain) const;
    double prob_on(const Chain& chain, size_t len, uint32_t next) const;
    uint64_t count(uint32_t node, uint32_t next) const;
    void rebuild();

    uint32_t order_;
    uint32_t vocab_size_;
    MarkovConfig config_;
    std::array<double, kMaxMarkovOrder + 1> discounts_{};
    uint64_t sequences_ = 0;
    uint64_t events_ = 0;
    std::vector<Node> nodes_;                         // nodes_[0] is the empty context
    std::unordered_map<uint64_t, uint32_t> children_; // key(parent, symbol) -> node
    std::unordered_map<uint64_t, uint64_t> counts_;   // key(node, next) -> count
};

/// The online scoring state of one key (one user, session, client): the last k symbols and a running
/// log-likelihood. Observing an event costs O(k) hash lookups and no allocation; the state is a small
/// fixed-size value, safe to keep per key by the million.
class MarkovState {
public:
    /// A state at the start of a sequence (context = k copies of bos()).
    explicit MarkovState(const MarkovChain& chain);

    /// ln P(symbol | last k symbols) without changing the state.
    double peek_log_prob(const MarkovChain& chain, uint32_t symbol) const;
    /// Scores `symbol` (returns ln P), adds it to the running sums and shifts it into the context.
    double observe(const MarkovChain& chain, uint32_t symbol);
    /// Back to the start-of-sequence state.
    void reset(const MarkovChain& chain);

    /// The current context, oldest first (k ids).
    std::span<const uint32_t> context() const { return {ctx_.data(), order_}; }
    uint64_t count() const { return count_; }
    /// Sum of ln P over the observed symbols: the sequence's log-likelihood so far.
    double sum_log_prob() const { return sum_log_prob_; }
    /// sum_log_prob() / count(), 0 before the first event: comparable across sequence lengths.
    double mean_log_likelihood() const { return count_ == 0 ? 0.0 : sum_log_prob_ / double(count_); }
    /// Sets the state to what context(), count() and sum_log_prob() returned (checkpoint restore); false
    /// when `context` does not have the chain's order.
    bool assign(std::span<const uint32_t> context, uint64_t count, double sum_log_prob) {
        if (context.size() != order_) return false;
        for (size_t i = 0; i < context.size(); ++i) ctx_[i] = context[i];
        count_ = count;
        sum_log_prob_ = sum_log_prob;
        return true;
    }

private:
    std::array<uint32_t, kMaxMarkovOrder> ctx_{};
    uint32_t order_;
    uint64_t count_ = 0;
    double sum_log_prob_ = 0.0;
};

/// A chain with the vocabulary its ids come from: what a "markov" model file holds.
struct MarkovModel {
    Vocabulary vocabulary;
    MarkovChain chain;
};

/// Writes a "markov" model file (payload: the vocabulary, then the chain). `meta` supplies provenance
/// (training data hash, creation time; engine version defaults to kEngineVersion); kind, sequence and
/// event counts and hyper-parameters are filled in from the chain. Fails if the sizes disagree.
Status save_markov_model(const std::string& path, const Vocabulary& vocabulary, const MarkovChain& chain,
                         ModelMeta meta);
/// Reads a file written by save_markov_model(), refusing other kinds and inconsistent payloads; errors
/// name the file.
Expected<MarkovModel> load_markov_model(const std::string& path);

} // namespace ethogram::models
