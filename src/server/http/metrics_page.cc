#include "server/http/metrics_page.h"

#include <cctype>
#include <string>

#include "server/api_registry.h"
#include "server/http/exposition.h"

namespace sluice::server::metrics {

namespace {

void one_counter(exposition& out, std::string_view name, std::string_view help, uint64_t value) {
  out.family(name, metric_type::counter, help);
  out.sample(name, value);
}

void one_gauge(exposition& out, std::string_view name, std::string_view help, uint64_t value) {
  out.family(name, metric_type::gauge, help);
  out.sample(name, value);
}

// Kafka's name of an API (ApiKeys: "ListOffsets") from Sluice's ("list_offsets").
std::string kafka_api_name(int16_t key) {
  std::string out;
  bool upper = true;
  for (char c : api_registry::api_name(key)) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

}  // namespace

std::string render_metrics_page(const totals& counted, const broker_gauges& gauges) {
  exposition out;
  one_counter(out, "kafka_server_brokertopicmetrics_bytes_in_total",
              "Record bytes appended by Produce requests, all topics "
              "(kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec).",
              counted.bytes_in);
  one_counter(out, "kafka_server_brokertopicmetrics_bytes_out_total",
              "Record bytes sent in Fetch responses, all topics "
              "(kafka.server:type=BrokerTopicMetrics,name=BytesOutPerSec).",
              counted.bytes_out);
  one_counter(out, "kafka_server_brokertopicmetrics_messages_in_total",
              "Records appended by Produce requests, all topics "
              "(kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec).",
              counted.messages_in);
  one_counter(out, "kafka_server_brokertopicmetrics_produce_message_conversions_total",
              "Records of message format 0 or 1 (Produce v0-v2) converted up to record batch v2 "
              "(kafka.server:type=BrokerTopicMetrics,name=ProduceMessageConversionsPerSec).",
              counted.produce_conversions);
  one_counter(out, "kafka_server_brokertopicmetrics_fetch_message_conversions_total",
              "Records converted down to message format 0 or 1 for Fetch v0-v3 "
              "(kafka.server:type=BrokerTopicMetrics,name=FetchMessageConversionsPerSec).",
              counted.fetch_conversions);

  constexpr std::string_view requests = "kafka_network_requestmetrics_requests_total";
  out.family(requests, metric_type::counter,
             "Requests received, by API name and version "
             "(kafka.network:type=RequestMetrics,name=RequestsPerSec,request=<name>,version=<v>).");
  for (size_t key = 0; key < counted.requests.size(); ++key) {
    for (size_t version = 0; version < counted.requests[key].size(); ++version) {
      uint64_t n = counted.requests[key][version];
      if (n == 0) continue;
      std::string name = kafka_api_name(static_cast<int16_t>(key));
      std::string v = std::to_string(version);
      out.sample(requests, {{"request", name}, {"version", v}}, n);
    }
  }

  one_gauge(out, "kafka_server_socketservermetrics_connection_count",
            "Open Kafka client connections, all listeners "
            "(kafka.server:type=socket-server-metrics,name=connection-count).",
            static_cast<uint64_t>(std::max<int64_t>(gauges.connections, 0)));
  one_gauge(out, "kafka_controller_kafkacontroller_global_topic_count",
            "Topics, internal ones included (kafka.controller:type=KafkaController,"
            "name=GlobalTopicCount).",
            gauges.topics);
  one_gauge(out, "kafka_controller_kafkacontroller_global_partition_count",
            "Partitions of every topic (kafka.controller:type=KafkaController,"
            "name=GlobalPartitionCount).",
            gauges.partitions);
  constexpr std::string_view groups = "kafka_coordinator_group_groupmetadatamanager_num_groups";
  out.family(groups, metric_type::gauge,
             "Consumer groups, any state, with or without members (kafka.coordinator.group:"
             "type=GroupMetadataManager,name=NumGroups); no sample while the group coordinator "
             "loads.");
  if (gauges.groups) out.sample(groups, *gauges.groups);
  return std::move(out).take();
}

}  // namespace sluice::server::metrics
