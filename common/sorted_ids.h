#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ingest {

// Document ids added in sorted order, packed in one buffer and found by
// binary search: the per-document indexes a run holds for every document
// (an artifact's ranges, a pass's results) cost the id and eight bytes, not
// a map node and a string each. Callers keep what belongs to each id in a
// vector beside it, at the same position.
class SortedIds {
 public:
  SortedIds() = default;
  SortedIds(const SortedIds& other);
  SortedIds(SortedIds&& other) noexcept;
  SortedIds& operator=(const SortedIds& other);
  SortedIds& operator=(SortedIds&& other) noexcept;
  ~SortedIds() = default;

  // The position of `id`: the last one's when it is the last id added, else
  // a new one at the end. Ids must come in order: `id` must not sort before
  // the last one (checked).
  size_t Extend(std::string_view id);
  // The position of `id`; nullopt when it was never added. Lookups mostly
  // come in id order (a pass plans its tasks in it, and each asks for its
  // document's upstream records): the position found last and the one after
  // it are tried before a binary search.
  std::optional<size_t> Find(std::string_view id) const;
  std::string_view at(size_t position) const;
  size_t size() const { return starts_.size(); }
  // Once complete: lets go of the room left for more.
  void ShrinkToFit();

 private:
  std::string ids_;
  std::vector<uint64_t> starts_;  // of each id in ids_
  // Where Find found an id last: a hint, so threads that share the ids may
  // overwrite each other's.
  mutable std::atomic<size_t> last_found_{0};
};

}  // namespace ingest
