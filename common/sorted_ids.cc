#include "common/sorted_ids.h"

#include <algorithm>
#include <utility>

#include "common/check.h"

namespace ingest {

size_t SortedIds::Extend(std::string_view id) {
  if (!starts_.empty()) {
    const std::string_view last = at(starts_.size() - 1);
    if (last == id) return starts_.size() - 1;
    INGEST_CHECK(last < id);
  }
  starts_.push_back(ids_.size());
  ids_.append(id);
  return starts_.size() - 1;
}

std::string_view SortedIds::at(size_t position) const {
  const uint64_t end = position + 1 < starts_.size() ? starts_[position + 1] : ids_.size();
  return std::string_view(ids_).substr(starts_[position], end - starts_[position]);
}

SortedIds::SortedIds(const SortedIds& other) : ids_(other.ids_), starts_(other.starts_) {}

SortedIds::SortedIds(SortedIds&& other) noexcept : ids_(std::move(other.ids_)), starts_(std::move(other.starts_)) {}

SortedIds& SortedIds::operator=(const SortedIds& other) {
  ids_ = other.ids_;
  starts_ = other.starts_;
  last_found_.store(0, std::memory_order_relaxed);
  return *this;
}

SortedIds& SortedIds::operator=(SortedIds&& other) noexcept {
  ids_ = std::move(other.ids_);
  starts_ = std::move(other.starts_);
  last_found_.store(0, std::memory_order_relaxed);
  return *this;
}

std::optional<size_t> SortedIds::Find(std::string_view id) const {
  const size_t hint = last_found_.load(std::memory_order_relaxed);
  for (size_t position = hint; position < std::min(hint + 2, starts_.size()); ++position) {
    if (at(position) == id) {
      last_found_.store(position, std::memory_order_relaxed);
      return position;
    }
  }
  size_t low = 0;
  size_t high = starts_.size();
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    if (at(middle) < id) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  if (low == starts_.size() || at(low) != id) return std::nullopt;
  last_found_.store(low, std::memory_order_relaxed);
  return low;
}

void SortedIds::ShrinkToFit() {
  ids_.shrink_to_fit();
  starts_.shrink_to_fit();
}

}  // namespace ingest
