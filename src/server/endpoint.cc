#include "server/endpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace sluice::server {

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t next = text.find(sep, pos);
    if (next == std::string::npos) next = text.size();
    std::string item = text.substr(pos, next - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    pos = next + 1;
  }
  return out;
}

failure<endpoint_error> error(std::string message) {
  return failure(endpoint_error{std::move(message)});
}

}  // namespace

result<std::map<std::string, security_protocol>, endpoint_error> parse_protocol_map(
    const std::string& text) {
  static const std::map<std::string, security_protocol> known = {
      {"PLAINTEXT", security_protocol::plaintext},
      {"SSL", security_protocol::ssl},
      {"SASL_PLAINTEXT", security_protocol::sasl_plaintext},
      {"SASL_SSL", security_protocol::sasl_ssl}};
  std::map<std::string, security_protocol> out;
  for (const auto& entry : split(text, ',')) {
    auto colon = entry.find(':');
    if (colon == std::string::npos)
      return error(
          fmt::format("listener.security.protocol.map entry '{}' is not NAME:PROTOCOL", entry));
    auto protocol = known.find(upper(entry.substr(colon + 1)));
    if (protocol == known.end())
      return error(fmt::format("unknown security protocol in '{}'", entry));
    out[upper(entry.substr(0, colon))] = protocol->second;
  }
  return out;
}

result<std::vector<endpoint>, endpoint_error> parse_endpoints(
    const std::string& text, const std::map<std::string, security_protocol>& protocols) {
  std::vector<endpoint> out;
  std::set<std::string> names;
  for (const auto& item : split(text, ',')) {
    auto scheme = item.find("://");
    if (scheme == std::string::npos || scheme == 0)
      return error(fmt::format("listener '{}' is not of the form NAME://host:port", item));
    endpoint ep;
    ep.listener_name = upper(item.substr(0, scheme));
    std::string rest = item.substr(scheme + 3);
    std::string port_text;
    if (!rest.empty() && rest[0] == '[') {
      auto close = rest.find(']');
      if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
        return error(fmt::format("listener '{}' has a malformed IPv6 address", item));
      ep.host = rest.substr(1, close - 1);
      port_text = rest.substr(close + 2);
    } else {
      auto colon = rest.rfind(':');
      if (colon == std::string::npos) return error(fmt::format("listener '{}' has no port", item));
      ep.host = rest.substr(0, colon);
      port_text = rest.substr(colon + 1);
    }
    int port = -1;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
      return error(fmt::format("listener '{}' has an invalid port '{}'", item, port_text));
    ep.port = static_cast<uint16_t>(port);
    auto protocol = protocols.find(ep.listener_name);
    if (protocol == protocols.end())
      return error(fmt::format("listener name '{}' is not in listener.security.protocol.map",
                               ep.listener_name));
    ep.protocol = protocol->second;
    if (!names.insert(ep.listener_name).second)
      return error(fmt::format("listener name '{}' is used twice", ep.listener_name));
    out.push_back(std::move(ep));
  }
  if (out.empty()) return error("no listener given");
  return out;
}

}  // namespace sluice::server
