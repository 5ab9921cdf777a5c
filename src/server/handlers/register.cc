#include "protocol/messages/metadata.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

void register_all(api_registry& registry) {
  registry.add<protocol::api_versions_request>(api_versions);
  registry.add<protocol::metadata_request>(metadata);
}

}  // namespace sluice::server::handlers
