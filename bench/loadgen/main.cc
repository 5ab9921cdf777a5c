// loadgen: a Kafka load generator on librdkafka. Produces N records of S bytes to a topic with T
// partitions from P producer instances (flat out, or at a fixed total rate), consumes them with C
// consumers (assigned partitions, no consumer group), and reports throughput, acknowledgment and
// end-to-end latency percentiles and the broker's CPU time and peak RSS read from /proc/<pid>.
//
//   loadgen --brokers 127.0.0.1:9092 --topic t --partitions 6 --records 1000000 --acks all
//   loadgen --mode e2e --rate 50000 --records 500000 --broker-pid 1234 --json
//
// Every record's value starts with the CLOCK_MONOTONIC time at which it was (or, at a fixed
// rate, was scheduled to be) sent; latency is measured against it.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <thread>

#include "json.h"
#include "loadgen.h"
#include "proc_stats.h"

namespace sluice::bench::loadgen {
namespace {

struct report {
  options o;
  topic_result topic;
  phase_result produced;
  phase_result consumed;
  std::optional<proc_sample> broker_before, broker_after;
  double wall_s = 0;
  double client_cpu_s = 0;
};

double mb_s(const phase_result& r) {
  return r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
}
double per_s(const phase_result& r) {
  return r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
}
double us(uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

void latency_json(json_writer& j, const char* key, const histogram& h) {
  j.begin(key)
      .integer("count", static_cast<int64_t>(h.count()))
      .num("p50", us(h.percentile(0.50)))
      .num("p99", us(h.percentile(0.99)))
      .num("p999", us(h.percentile(0.999)))
      .num("max", us(h.max()))
      .num("mean", h.mean() / 1e3)
      .end();
}

void phase_json(json_writer& j, const char* key, const phase_result& r, const char* lat) {
  j.begin(key)
      .integer("records", r.records)
      .integer("bytes", r.bytes)
      .num("seconds", r.seconds)
      .num("mb_s", mb_s(r))
      .num("records_s", per_s(r))
      .integer("errors", r.errors)
      .str("first_error", r.first_error);
  latency_json(j, lat, r.latency_ns);
  j.end();
}

std::string to_json(const report& r) {
  json_writer j;
  const options& o = r.o;
  j.str("mode", o.mode)
      .begin("config")
      .str("brokers", o.brokers)
      .str("topic", o.topic)
      .integer("partitions", o.partitions)
      .integer("records", o.records)
      .integer("record_size", o.record_size)
      .str("acks", o.acks)
      .integer("linger_ms", o.linger_ms)
      .integer("batch_size", o.batch_size)
      .str("compression", o.compression)
      .integer("producers", o.producers)
      .integer("consumers", o.consumers)
      .num("rate", o.rate)
      .end();
  j.begin("topic")
      .boolean("created", r.topic.created)
      .boolean("existed", r.topic.existed)
      .num("create_ms", r.topic.create_ms)
      .num("metadata_ms", r.topic.metadata_ms)
      .end();
  if (r.produced.ran) phase_json(j, "produce", r.produced, "ack_latency_us");
  if (r.consumed.ran) phase_json(j, "consume", r.consumed, "e2e_latency_us");
  if (r.broker_before && r.broker_after) {
    j.begin("broker")
        .num("cpu_s", r.broker_after->cpu_s - r.broker_before->cpu_s)
        .num("cpu_per_wall", (r.broker_after->cpu_s - r.broker_before->cpu_s) / r.wall_s)
        .integer("vm_hwm_kb", static_cast<int64_t>(r.broker_after->vm_hwm_kb))
        .integer("vm_rss_kb", static_cast<int64_t>(r.broker_after->vm_rss_kb))
        .end();
  }
  j.num("wall_s", r.wall_s).num("client_cpu_s", r.client_cpu_s);
  return j.finish();
}

void print_phase(const char* name, const phase_result& r, const char* lat) {
  const auto& h = r.latency_ns;
  std::printf(
      "%-8s %10lld %12.0f %9.1f %8.2f %7lld   %s p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms\n", name,
      static_cast<long long>(r.records), per_s(r), mb_s(r), r.seconds,
      static_cast<long long>(r.errors), lat, us(h.percentile(0.5)) / 1e3,
      us(h.percentile(0.99)) / 1e3, us(h.percentile(0.999)) / 1e3, us(h.max()) / 1e3);
  if (!r.first_error.empty()) std::printf("         first error: %s\n", r.first_error.c_str());
}

void print_table(const report& r) {
  const options& o = r.o;
  std::printf(
      "loadgen %s: %lld x %d B, topic '%s' (%d partitions), acks=%s linger.ms=%d "
      "batch.size=%d compression=%s, %d producer(s), %d consumer(s), %s\n",
      o.mode.c_str(), static_cast<long long>(o.records), o.record_size, o.topic.c_str(),
      o.partitions, o.acks.c_str(), o.linger_ms, o.batch_size, o.compression.c_str(), o.producers,
      o.consumers, o.rate > 0 ? fmt::format("{:.0f} records/s", o.rate).c_str() : "flat out");
  std::printf("topic    %s in %.1f ms (until Metadata lists every partition); Metadata %.1f ms\n",
              r.topic.created ? "created" : (r.topic.existed ? "existed" : "used"),
              r.topic.create_ms, r.topic.metadata_ms);
  if (r.produced.ran || r.consumed.ran) {
    std::printf("%-8s %10s %12s %9s %8s %7s\n", "phase", "records", "records/s", "MB/s", "seconds",
                "errors");
  }
  if (r.produced.ran) print_phase("produce", r.produced, "ack");
  if (r.consumed.ran) print_phase("consume", r.consumed, "end-to-end");
  if (r.broker_before && r.broker_after) {
    double cpu = r.broker_after->cpu_s - r.broker_before->cpu_s;
    std::printf(
        "broker   cpu %.2f s (%.0f%% of one core over %.2f s), VmHWM %.1f MiB, "
        "VmRSS %.1f MiB\n",
        cpu, 100 * cpu / r.wall_s, r.wall_s, static_cast<double>(r.broker_after->vm_hwm_kb) / 1024,
        static_cast<double>(r.broker_after->vm_rss_kb) / 1024);
  }
  std::printf("client   cpu %.2f s\n", r.client_cpu_s);
}

int run(const options& o) {
  report r;
  r.o = o;
  r.topic = create_topic(o);
  if (!r.topic.error.empty()) {
    std::fprintf(stderr, "loadgen: %s\n", r.topic.error.c_str());
    return 1;
  }
  if (o.broker_pid > 0) r.broker_before = sample_process(o.broker_pid);
  double cpu_start = own_cpu_s();
  int64_t start = now_ns();
  if (o.mode == "produce") {
    r.produced = produce(o);
  } else if (o.mode == "consume") {
    consume_run c(o);
    r.consumed = c.wait();
  } else if (o.mode == "e2e") {
    consume_run c(o);
    // The consumers look up their start offsets before the first record is sent, so that
    // set-up is not counted as latency.
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_s));
    start = now_ns();
    r.produced = produce(o);
    r.consumed = c.wait();
  }
  r.wall_s = static_cast<double>(now_ns() - start) / 1e9;
  r.client_cpu_s = own_cpu_s() - cpu_start;
  if (o.broker_pid > 0) r.broker_after = sample_process(o.broker_pid);
  if (o.json) {
    std::printf("%s\n", to_json(r).c_str());
  } else {
    print_table(r);
  }
  bool short_count = (r.produced.ran && r.produced.records < o.records) ||
                     (r.consumed.ran && r.consumed.records < o.records);
  bool errors = r.produced.errors > 0 || r.consumed.errors > 0;
  return short_count || errors ? 2 : 0;
}

}  // namespace
}  // namespace sluice::bench::loadgen

int main(int argc, char** argv) {
  using sluice::bench::loadgen::options;
  options o;
  CLI::App app{"loadgen: Kafka load generator (librdkafka) with latency percentiles"};
  app.add_option("--brokers,-b", o.brokers, "bootstrap servers")->capture_default_str();
  app.add_option("--topic,-t", o.topic, "topic")->capture_default_str();
  app.add_option("--partitions", o.partitions, "partitions of the topic")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--mode", o.mode, "produce | consume (from the beginning) | e2e | create")
      ->check(CLI::IsMember({"produce", "consume", "e2e", "create"}))
      ->capture_default_str();
  bool no_create = false;
  app.add_flag("--no-create", no_create, "use an existing topic instead of creating it");
  app.add_option("--records,-n", o.records, "records to produce / consume")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--record-size,-s", o.record_size, "bytes per record value (>= 8)")
      ->check(CLI::Range(8, 100 << 20))
      ->capture_default_str();
  app.add_option("--acks", o.acks, "0, 1 or all")->capture_default_str();
  app.add_option("--linger-ms", o.linger_ms, "producer linger.ms")->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "producer batch.size")->capture_default_str();
  app.add_option("--compression", o.compression, "none, gzip, snappy, lz4, zstd")
      ->capture_default_str();
  app.add_option("--producers,-P", o.producers, "producer instances (threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--consumers,-C", o.consumers, "consumer instances (threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--rate", o.rate, "records/s over all producers; 0 = flat out")
      ->capture_default_str();
  app.add_option("--broker-pid", o.broker_pid, "broker pid: CPU time and RSS from /proc");
  app.add_option("--idle-timeout-s", o.idle_timeout_s, "fail a phase without progress")
      ->capture_default_str();
  app.add_option("--settle-s", o.settle_s, "e2e: consumer start-up before producing")
      ->capture_default_str();
  app.add_option("-X,--producer-prop", o.producer_props, "extra producer config key=value");
  app.add_option("-Y,--consumer-prop", o.consumer_props, "extra consumer config key=value");
  app.add_flag("--json", o.json, "one JSON object on stdout instead of the table");
  CLI11_PARSE(app, argc, argv);
  o.create = !no_create;
  if (o.consumers > o.partitions) o.consumers = o.partitions;
  try {
    return sluice::bench::loadgen::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
