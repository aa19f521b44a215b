#pragma once

#include <string>
#include <utility>

namespace ingest {

// The host and the port of a listen address, "host:port" or "[v6]:port"
// (the host keeps its brackets); the port is "" when there is no colon.
std::pair<std::string, std::string> SplitHostPort(const std::string& address);

// True for a host that only this machine reaches: localhost, 127.x, ::1.
bool IsLoopbackHost(const std::string& host);

}  // namespace ingest
