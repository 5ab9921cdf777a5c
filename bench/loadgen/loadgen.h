#pragma once

// The load generator's parts: options, the produce and consume phases on librdkafka's C API, and
// topic creation with its admin API. One librdkafka instance per producer or consumer thread.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.h"

namespace sluice::bench::loadgen {

struct options {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "loadgen";
  int partitions = 1;
  std::string mode = "produce";  // produce | consume | e2e | create
  bool create = true;            // create the topic (admin API) first
  int64_t records = 100000;
  int record_size = 1024;
  std::string acks = "all";
  int linger_ms = 5;         // librdkafka's default
  int batch_size = 1000000;  // librdkafka's default
  std::string compression = "none";
  int producers = 1;
  int consumers = 1;
  double rate = 0;  // records per second over all producers; 0: as fast as possible
  pid_t broker_pid = 0;
  bool json = false;
  double idle_timeout_s = 30;               // a phase with no progress for this long fails
  double settle_s = 1;                      // e2e: consumers run this long before producing starts
  std::vector<std::string> producer_props;  // key=value, passed to librdkafka
  std::vector<std::string> consumer_props;
};

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process of the machine, so a
// timestamp written by a producer can be compared by a consumer in another process.
int64_t now_ns();

struct phase_result {
  bool ran = false;
  int64_t records = 0;
  int64_t bytes = 0;  // record values only
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  histogram latency_ns;  // produce: send to acknowledgment; consume: send to receipt (e2e)
};

struct topic_result {
  bool created = false;
  bool existed = false;
  double create_ms = 0;    // CreateTopics until Metadata shows every partition with a leader
  double metadata_ms = 0;  // one Metadata request for the topic
  std::string error;
};

// Creates the topic (unless it exists) and waits until Metadata shows all its partitions.
topic_result create_topic(const options& o);

// Produces o.records records with `o.producers` instances; blocks until all are acknowledged.
phase_result produce(const options& o);

// Starts `o.consumers` consumers on the topic from the beginning (partitions dealt round-robin)
// and returns a handle; wait() blocks until `o.records` records have arrived or progress stops.
class consume_run {
 public:
  explicit consume_run(const options& o);
  ~consume_run();
  consume_run(const consume_run&) = delete;
  consume_run& operator=(const consume_run&) = delete;
  phase_result wait();

  struct state;  // shared with the consumer threads

 private:
  state* _state;
};

}  // namespace sluice::bench::loadgen
