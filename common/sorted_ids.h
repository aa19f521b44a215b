#pragma once

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
  // The position of `id`: the last one's when it is the last id added, else
  // a new one at the end. Ids must come in order: `id` must not sort before
  // the last one (checked).
  size_t Extend(std::string_view id);
  // The position of `id`; nullopt when it was never added.
  std::optional<size_t> Find(std::string_view id) const;
  std::string_view at(size_t position) const;
  size_t size() const { return starts_.size(); }
  // Once complete: lets go of the room left for more.
  void ShrinkToFit();

 private:
  std::string ids_;
  std::vector<uint64_t> starts_;  // of each id in ids_
};

}  // namespace ingest
