// shard.cpp: a worker shard: interning into its own pool, running its executor, formatting detections.
#include "runtime/shard.h"

#include <utility>

namespace ethogram::runtime {

namespace {

TextRef put(std::string& text, std::string_view s) {
    auto off = static_cast<uint64_t>(text.size());
    text.append(s);
    return off << 32 | static_cast<uint64_t>(s.size());
}

std::string_view view(const std::string& text, TextRef r) {
    return std::string_view(text).substr(static_cast<size_t>(r >> 32), static_cast<size_t>(r & 0xffffffffu));
}

} // namespace

void pack_event(ir::Event&& ev, const ir::StringPool& scratch, WireEvent& w) {
    w.text.clear();
    const uint32_t key_id = ev.key, id_id = ev.id;
    w.key = key_id == ir::kNoString ? kNoText : put(w.text, scratch.view(key_id));
    w.id = id_id == ir::kNoString ? kNoText : put(w.text, scratch.view(id_id));
    for (ir::Value& v : ev.fields) {
        if (v.type != ir::Type::String) continue;
        auto sid = static_cast<uint32_t>(v.i);
        // The key field and a string id field repeat strings already packed.
        TextRef r = sid == key_id ? w.key : sid == id_id ? w.id : put(w.text, scratch.view(sid));
        v.i = static_cast<int64_t>(r);
    }
    ev.key = ir::kNoString;
    ev.id = ir::kNoString;
    w.ev = std::move(ev);
}

uint32_t shard_of(std::string_view key, uint32_t shards) {
    uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    // Mix the high bits in: FNV's low bits are weak for short decimal keys.
    h ^= h >> 29;
    return shards <= 1 ? 0 : static_cast<uint32_t>(h % shards);
}

Shard::Shard(uint32_t index, const ir::RuleSet& rs, const ExecutorFactory& make, OutputOptions out_opts,
             bool keep_suppressed, bool ordered)
    : index_(index), rs_(rs), out_opts_(out_opts), keep_suppressed_(keep_suppressed), ordered_(ordered) {
    ir::seed_string_pool(rs, pool_);
    exec_ = make(rs, pool_);
}

std::unique_ptr<ShardOutput> Shard::process(ShardInput& in) {
    if (!out_) out_ = std::make_unique<ShardOutput>();
    out_->shard = index_;
    for (WireEvent& w : in.events) {
        ir::Event& e = w.ev;
        // Intern into this shard's pool: ids are only ever compared within one pool.
        e.key = w.key == kNoText ? ir::kNoString : pool_.intern(view(w.text, w.key));
        e.id = w.id == kNoText ? ir::kNoString : pool_.intern(view(w.text, w.id));
        for (ir::Value& v : e.fields) {
            if (v.type != ir::Type::String) continue;
            auto r = static_cast<TextRef>(v.i);
            v.i = r == w.key ? e.key : r == w.id ? e.id : pool_.intern(view(w.text, r));
        }
        exec_->advance_watermark(e.time, *this);
        exec_->on_event(e, *this);
        ++processed_;
    }
    bool advanced = false;
    // At the end too, first to the last released time: the single-threaded run's last finite watermark,
    // where its executor last evicts idle keys (so live-key counts agree).
    for (int64_t wm : {in.watermark, in.end ? ir::kTimeInfinity : in.watermark}) {
        if (wm <= frontier_) continue;
        exec_->advance_watermark(wm, *this);
        frontier_ = wm;
        advanced = true;
    }
    out_->frontier = frontier_;
    out_->end = in.end;
    bool empty = out_->detections.empty() && out_->suppressed.empty() && out_->ordered.empty();
    if (empty && !in.end && !(ordered_ && advanced)) return nullptr;
    return std::move(out_);
}

bool Shard::keep(const ir::Detection& d) {
    if (out_opts_.only < 0) return true;
    if (rs_.in_subtree(rs_.rules[d.rule].label, static_cast<uint32_t>(out_opts_.only))) return true;
    ++filtered_;
    return false;
}

void Shard::add(const ir::Detection& d, bool suppressed, std::string& unordered_out) {
    if (!ordered_) {
        format_detection(d, rs_, pool_, out_opts_, unordered_out);
        unordered_out.push_back('\n');
        return;
    }
    OrderedLine l;
    l.time = d.time;
    l.key = d.key < pool_.size() ? std::string(pool_.view(d.key)) : std::string();
    l.seq = seq_++;
    l.shard = index_;
    l.suppressed = suppressed;
    format_detection(d, rs_, pool_, out_opts_, l.text);
    l.text.push_back('\n');
    out_->ordered.push_back(std::move(l));
}

void Shard::emit(ir::Detection&& d) {
    if (!keep(d)) return;
    ++emitted_;
    if (!out_) out_ = std::make_unique<ShardOutput>();
    add(d, false, out_->detections);
}

void Shard::suppressed(ir::Detection&& d) {
    if (!keep(d)) return;
    ++suppressed_;
    if (!keep_suppressed_) return;
    if (!out_) out_ = std::make_unique<ShardOutput>();
    add(d, true, out_->suppressed);
}

} // namespace ethogram::runtime
