// InitProducerId: a producer id and epoch for an idempotent producer.
//
// Without a transactional id Kafka hands out a new producer id with epoch 0 every time, also when
// the request names the producer's current id and epoch (KIP-360): the old id's state simply
// expires. Ids come from the controller's durable block (cluster::controller::next_producer_id).
// A transactional id needs a transaction coordinator, which Sluice does not have yet: such
// requests are validated as Kafka does and then answered COORDINATOR_NOT_AVAILABLE.

#include "protocol/messages/init_producer_id.h"

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> init_producer_id(request_context& ctx) {
  auto req = decode_request<protocol::init_producer_id_request>(ctx);
  if (!req) co_return close_connection{"malformed InitProducerId request: " + req.error().message};
  protocol::init_producer_id_response resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  using protocol::error_code;
  if (req->transactional_id) {
    const int64_t timeout_max = ctx.broker->config->get_int("transaction.max.timeout.ms");
    if (req->transactional_id->empty()) {
      resp.error_code = static_cast<int16_t>(error_code::invalid_request);
    } else if (req->transaction_timeout_ms <= 0 || req->transaction_timeout_ms > timeout_max) {
      resp.error_code = static_cast<int16_t>(error_code::invalid_transaction_timeout);
    } else {
      logger("server")->debug(
          "InitProducerId for transactional id {} from {}: transactions are "
          "not supported yet",
          *req->transactional_id, ctx.client_address);
      resp.error_code = static_cast<int16_t>(error_code::coordinator_not_available);
    }
    co_return respond(ctx, resp);
  }
  // A plain value crosses threads: co_spawn needs a default-constructible result.
  struct allocated {
    int64_t id = -1;
    std::optional<cluster::error> error;
  };
  auto call = call_controller(*ctx.broker, [](cluster::controller& c) {
    auto id = c.next_producer_id();
    return id ? allocated{*id, std::nullopt} : allocated{-1, id.error()};
  });
  auto got = co_await std::move(call);
  if (got.error) {
    logger("server")->error("InitProducerId from {}: {}", ctx.client_address, got.error->message);
    resp.error_code =
        static_cast<int16_t>(kafka_error(got.error->code, error_code::unknown_server_error));
    co_return respond(ctx, resp);
  }
  resp.producer_id = got.id;
  resp.producer_epoch = 0;
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
