#pragma once

// Listener endpoints as Kafka writes them: `NAME://host:port`, comma-separated, with the
// security protocol of each name from listener.security.protocol.map.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::server {

enum class security_protocol { plaintext, ssl, sasl_plaintext, sasl_ssl };

struct endpoint {
  std::string listener_name;  // upper case, e.g. "PLAINTEXT"
  std::string host;           // empty: every interface
  uint16_t port = 0;          // 0: any free port, chosen at bind time
  security_protocol protocol = security_protocol::plaintext;
};

struct endpoint_error {
  std::string message;
};

// Parses `listener.security.protocol.map` ("NAME:PROTOCOL,...").
result<std::map<std::string, security_protocol>, endpoint_error> parse_protocol_map(
    const std::string& text);

// Parses a `listeners` / `advertised.listeners` value. Listener names must be unique and known
// to the protocol map; hosts may be names, IPv4 or bracketed IPv6 addresses.
result<std::vector<endpoint>, endpoint_error> parse_endpoints(
    const std::string& text, const std::map<std::string, security_protocol>& protocols);

}  // namespace sluice::server
