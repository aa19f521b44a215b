#pragma once

#include <string>
#include <utility>

namespace ingest {

// The host and the port of a listen address, "host:port" or "[v6]:port"
// (the host keeps its brackets); the port is "" when there is no colon.
std::pair<std::string, std::string> SplitHostPort(const std::string& address);

}  // namespace ingest
