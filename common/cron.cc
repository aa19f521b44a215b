#include "common/cron.h"

#include <absl/time/civil_time.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <vector>

#include "common/utf8.h"

namespace ingest {
namespace {

// Cron looks this far ahead (or back) for a firing; "30 2 31 2 *" never fires.
constexpr int kSearchDays = 366 * 5;

struct FieldSpec {
  const char* name;
  int min;
  int max;
  std::map<std::string, int> names;
};

const FieldSpec kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month",
     1,
     12,
     {{"jan", 1},
      {"feb", 2},
      {"mar", 3},
      {"apr", 4},
      {"may", 5},
      {"jun", 6},
      {"jul", 7},
      {"aug", 8},
      {"sep", 9},
      {"oct", 10},
      {"nov", 11},
      {"dec", 12}}},
    {"day-of-week", 0, 7, {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}}},
};

Result<int> ParseValue(const FieldSpec& spec, const std::string& text) {
  const std::string lower = AsciiLower(text);
  if (auto it = spec.names.find(lower); it != spec.names.end()) return it->second;
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < spec.min || v > spec.max) {
    return InvalidArgument(std::string(spec.name) + " '" + text + "' is not in " + std::to_string(spec.min) + ".." +
                           std::to_string(spec.max));
  }
  return static_cast<int>(v);
}

// Sets the bits a field selects; values are spec.min..spec.max.
Status ParseField(const FieldSpec& spec, const std::string& field, std::vector<bool>* selected) {
  selected->assign(spec.max + 1, false);
  std::stringstream items(field);
  std::string item;
  while (std::getline(items, item, ',')) {
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string::npos) {
      char* end = nullptr;
      step = static_cast<int>(std::strtol(item.c_str() + slash + 1, &end, 10));
      if (step <= 0 || *end != '\0') return InvalidArgument(std::string(spec.name) + ": bad step in '" + item + "'");
      item = item.substr(0, slash);
    }
    int low = spec.min;
    int high = spec.max;
    if (item != "*") {
      size_t dash = item.find('-');
      INGEST_ASSIGN_OR_RETURN(low, ParseValue(spec, item.substr(0, dash)));
      high = low;
      if (dash != std::string::npos) {
        INGEST_ASSIGN_OR_RETURN(high, ParseValue(spec, item.substr(dash + 1)));
      } else if (step > 1) {
        high = spec.max;  // "5/15" means from 5 on
      }
      if (high < low) return InvalidArgument(std::string(spec.name) + ": range '" + item + "' runs backwards");
    }
    for (int v = low; v <= high; v += step) (*selected)[v] = true;
  }
  if (field.empty()) return InvalidArgument(std::string(spec.name) + " is empty");
  return Status::Ok();
}

int Weekday(const absl::CivilDay& day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

}  // namespace

Result<CronExpression> CronExpression::Parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return InvalidArgument("cron '" + std::string(text) + "': expected 5 fields, got " + std::to_string(fields.size()));
  }
  CronExpression cron;
  cron.text_ = std::string(text);
  std::vector<bool> bits;
  for (int i = 0; i < 5; ++i) {
    Status parsed = ParseField(kFields[i], fields[i], &bits);
    if (!parsed.ok()) return InvalidArgument("cron '" + std::string(text) + "': " + parsed.message());
    for (int v = kFields[i].min; v <= kFields[i].max; ++v) {
      if (!bits[v]) continue;
      switch (i) {
        case 0:
          cron.minutes_.set(v);
          break;
        case 1:
          cron.hours_.set(v);
          break;
        case 2:
          cron.days_.set(v);
          break;
        case 3:
          cron.months_.set(v);
          break;
        case 4:
          cron.weekdays_.set(v % 7);
          break;  // 7 is Sunday too
      }
    }
  }
  cron.any_day_ = fields[2] == "*";
  cron.any_weekday_ = fields[4] == "*";
  return cron;
}

bool CronExpression::MatchesDay(const absl::CivilDay& day) const {
  if (!months_.test(day.month())) return false;
  const bool dom = days_.test(day.day());
  const bool dow = weekdays_.test(Weekday(day));
  if (any_day_ && any_weekday_) return true;
  if (any_day_) return dow;
  if (any_weekday_) return dom;
  return dom || dow;
}

absl::Time CronExpression::Resolve(const absl::CivilMinute& minute, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(minute));
  // Skipped: the clock jumped over it, so it fires at the jump. Repeated:
  // its first occurrence. Unique: the one instant.
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

absl::Time CronExpression::Next(absl::Time after, const absl::TimeZone& zone) const {
  const absl::CivilMinute start = absl::CivilMinute(absl::ToCivilSecond(after, zone));
  absl::CivilDay day = absl::CivilDay(start);
  for (int d = 0; d < kSearchDays; ++d, ++day) {
    if (!MatchesDay(day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(m)) continue;
        const absl::CivilMinute candidate(day.year(), day.month(), day.day(), h, m);
        if (candidate < start) continue;
        const absl::Time at = Resolve(candidate, zone);
        if (at > after) return at;
      }
    }
  }
  return absl::InfiniteFuture();
}

absl::Time CronExpression::Previous(absl::Time at, const absl::TimeZone& zone) const {
  const absl::CivilMinute end = absl::CivilMinute(absl::ToCivilSecond(at, zone));
  absl::CivilDay day = absl::CivilDay(end);
  for (int d = 0; d < 366; ++d, --day) {
    if (!MatchesDay(day)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!hours_.test(h)) continue;
      for (int m = 59; m >= 0; --m) {
        if (!minutes_.test(m)) continue;
        const absl::CivilMinute candidate(day.year(), day.month(), day.day(), h, m);
        if (candidate > end) continue;
        const absl::Time fired = Resolve(candidate, zone);
        if (fired <= at) return fired;
      }
    }
  }
  return absl::InfinitePast();
}

std::optional<absl::Time> ParseTimestamp(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  if (rfc3339.empty() || !absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) return std::nullopt;
  return t;
}

Result<absl::TimeZone> LoadZone(const std::string& name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(name, &zone)) {
    return InvalidArgument("time zone '" + name + "' is not a known IANA zone (is tzdata installed?)");
  }
  return zone;
}

}  // namespace ingest
