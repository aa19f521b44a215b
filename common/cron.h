#pragma once

#include <absl/time/time.h>

#include <array>
#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ingest {

// A 5-field cron expression (minute hour day-of-month month day-of-week)
// with `*`, lists, ranges, steps and month/day names, evaluated in an IANA
// time zone. Like Vixie cron: when both day fields are restricted, either
// matching is enough. Across DST changes a local time that does not exist
// (spring forward) fires at the transition, and a local time that happens
// twice (fall back) fires once, at its first occurrence.
class CronExpression {
 public:
  // InvalidArgument naming the field.
  static Result<CronExpression> Parse(std::string_view text);

  // The first firing strictly after `after`.
  absl::Time Next(absl::Time after, const absl::TimeZone& zone) const;
  // The last firing at or before `at` (absl::InfinitePast() when none in a
  // year): how a daemon finds a run it missed while it was down.
  absl::Time Previous(absl::Time at, const absl::TimeZone& zone) const;

  const std::string& text() const { return text_; }

 private:
  bool MatchesDay(const absl::CivilDay& day) const;
  // The instant a matching civil minute stands for (see the class comment).
  static absl::Time Resolve(const absl::CivilMinute& minute, const absl::TimeZone& zone);

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month field is `*`
  bool any_weekday_ = true;  // day-of-week field is `*`
};

// A timestamp the state store wrote (RFC 3339); nullopt when empty or not one.
std::optional<absl::Time> ParseTimestamp(const std::string& rfc3339);

// Loads an IANA zone ("Europe/Paris", "UTC") from the system's tzdata.
Result<absl::TimeZone> LoadZone(const std::string& name);

}  // namespace ingest
