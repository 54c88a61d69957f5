// event_ring.h: the interpreter's event buffer: a growable ring of EventPtr that allocates nothing while
// empty (std::deque allocates a 512-byte node even then, which dominated the memory of idle keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// A FIFO with the part of std::deque's interface the interpreter uses: push_back, pop_front, front,
/// back, size, empty, clear and forward iteration (oldest first). Capacity grows by doubling, never
/// shrinks except on clear(), which releases the storage.
template <class T>
class Ring {
public:
    class const_iterator {
    public:
        const_iterator(const Ring* r, size_t i) : r_(r), i_(i) {}
        const T& operator*() const { return (*r_)[i_]; }
        const T* operator->() const { return &(*r_)[i_]; }
        const_iterator& operator++() {
            ++i_;
            return *this;
        }
        bool operator==(const const_iterator& o) const { return i_ == o.i_; }
        bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

    private:
        const Ring* r_;
        size_t i_;
    };

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    size_t capacity() const { return buf_.size(); }
    const T& operator[](size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
    const T& front() const { return buf_[head_]; }
    const T& back() const { return (*this)[size_ - 1]; }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, size_); }

    void push_back(T v) {
        if (size_ == buf_.size()) grow();
        buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(v);
        ++size_;
    }
    void pop_front() {
        buf_[head_] = T();
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
    }
    void clear() {
        std::vector<T>().swap(buf_);
        head_ = size_ = 0;
    }

private:
    void grow() {
        std::vector<T> next(buf_.empty() ? 2 : buf_.size() * 2);
        for (size_t i = 0; i < size_; ++i) next[i] = std::move(buf_[(head_ + i) & (buf_.size() - 1)]);
        buf_.swap(next);
        head_ = 0;
    }

    std::vector<T> buf_; // size is 0 or a power of two
    size_t head_ = 0;
    size_t size_ = 0;
};

} // namespace ethogram::interp
