// The produce and consume phases and topic creation, on librdkafka's C API.

#include <librdkafka/rdkafka.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "loadgen.h"

namespace sluice::bench::loadgen {

int64_t now_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    fail("librdkafka config " + key + "=" + value + ": " + err);
  }
}

void set_props(rd_kafka_conf_t* conf, const std::vector<std::string>& props) {
  for (const auto& kv : props) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) fail("expected key=value, got " + kv);
    set(conf, kv.substr(0, eq), kv.substr(eq + 1));
  }
}

rd_kafka_t* new_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) fail(std::string("rd_kafka_new: ") + err);
  return rk;
}

// Metadata for `topic`: the partition count when every partition has a leader, else -1.
int ready_partitions(rd_kafka_t* rk, rd_kafka_topic_t* rkt, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int n = -1;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    n = md->topics[0].partition_cnt;
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      if (md->topics[0].partitions[i].leader < 0) n = -1;
    }
  }
  rd_kafka_metadata_destroy(md);
  return n;
}

double ms_between(int64_t start_ns, int64_t end_ns) {
  return static_cast<double>(end_ns - start_ns) / 1e6;
}

}  // namespace

topic_result create_topic(const options& o) {
  topic_result out;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o.brokers);
  // librdkafka drops a connection whose request has no answer within socket.timeout.ms (60 s),
  // whatever the admin request timeout says; creating many partitions can take longer.
  set(conf, "socket.timeout.ms", "300000");
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, conf);
  char err[512];
  int64_t start = now_ns();
  if (o.create) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof err);
    if (nt == nullptr) fail(std::string("NewTopic: ") + err);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    // Creating many partitions can take a broker a while: wait up to 5 minutes.
    rd_kafka_AdminOptions_set_request_timeout(ao, 300000, err, sizeof err);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 300000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 310000);
    if (ev == nullptr) {
      out.error = "CreateTopics: no answer within 310 s";
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.error = std::string("CreateTopics: ") + rd_kafka_event_error_string(ev);
    } else {
      size_t cnt = 0;
      const rd_kafka_topic_result_t** res =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
      rd_kafka_resp_err_t e =
          cnt == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__BAD_MSG;
      if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        out.existed = true;
      } else if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* msg = cnt == 1 ? rd_kafka_topic_result_error_string(res[0]) : nullptr;
        out.error = std::string("CreateTopics: ") + rd_kafka_err2name(e) + " " +
                    (msg != nullptr ? msg : "");
      } else {
        out.created = true;
      }
    }
    if (ev != nullptr) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
  }
  // The topic handle only now: it makes librdkafka ask for the topic's metadata, which a
  // broker with auto-creation would answer by creating it with the default partitions.
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  if (out.error.empty()) {
    // Metadata is asked until it lists every partition: the topic is usable from then on.
    int64_t deadline = now_ns() + static_cast<int64_t>(o.idle_timeout_s * 1e9);
    int n = -1;
    while ((n = ready_partitions(rk, rkt, 5000)) < 0 && now_ns() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (n < 0) out.error = "topic not in Metadata within the idle timeout";
    if (n > 0 && o.partitions != n) {
      out.error =
          "topic has " + std::to_string(n) + " partitions, not " + std::to_string(o.partitions);
    }
    out.create_ms = ms_between(start, now_ns());
    int64_t md_start = now_ns();
    ready_partitions(rk, rkt, 30000);
    out.metadata_ms = ms_between(md_start, now_ns());
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return out;
}

namespace {

struct producer_state {
  histogram ack_ns;
  int64_t delivered = 0;
  int64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<producer_state*>(opaque);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
    return;
  }
  ++st->delivered;
  int64_t sent = 0;
  if (m->len >= sizeof sent) std::memcpy(&sent, m->payload, sizeof sent);
  int64_t now = now_ns();
  st->ack_ns.record(now > sent ? static_cast<uint64_t>(now - sent) : 0);
}

// One producer instance: `count` records, the k-th to partition (k + index) % partitions, paced
// at `rate` records/s when rate > 0. In paced mode the timestamp in the payload is the scheduled
// send time, so a producer that falls behind shows it as latency (no coordinated omission).
void run_producer(const options& o, int index, int64_t count, double rate, producer_state& st) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o.brokers);
  set(conf, "acks", o.acks);
  set(conf, "linger.ms", std::to_string(o.linger_ms));
  set(conf, "batch.size", std::to_string(o.batch_size));
  set(conf, "compression.type", o.compression);
  set_props(conf, o.producer_props);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);

  // Half the payload repeats a short pattern and half is pseudo-random, so compression codecs
  // have something to do without making the data trivially small.
  std::vector<char> value(static_cast<size_t>(std::max(o.record_size, 8)));
  uint64_t x = 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(index);
  for (size_t i = 8; i < value.size(); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    value[i] = i < value.size() / 2 ? static_cast<char>('a' + i % 16) : static_cast<char>(x);
  }
  int64_t start = now_ns();
  double interval_ns = rate > 0 ? 1e9 / rate : 0;
  for (int64_t k = 0; k < count; ++k) {
    int64_t ts = now_ns();
    if (rate > 0) {
      int64_t scheduled = start + static_cast<int64_t>(static_cast<double>(k) * interval_ns);
      if (scheduled > ts + 20000) {
        timespec t{scheduled / 1000000000, scheduled % 1000000000};
        ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr);
      }
      ts = scheduled;
    }
    std::memcpy(value.data(), &ts, sizeof ts);
    auto partition = static_cast<int32_t>((k + index) % o.partitions);
    while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, value.data(), value.size(),
                            nullptr, 0, nullptr) != 0) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) fail(std::string("produce: ") + rd_kafka_err2str(e));
      rd_kafka_poll(rk, 1);
    }
    // Delivery reports are timed when they are served: at a fixed rate, after every record
    // (the sleeps between records are short), flat out every 64 records.
    if (rate > 0 || (k & 63) == 0) rd_kafka_poll(rk, 0);
  }
  // Waits for the outstanding acknowledgments; "progress" is any delivery report.
  int64_t last_progress = now_ns();
  int64_t seen = -1;
  while (rd_kafka_outq_len(rk) > 0) {
    rd_kafka_poll(rk, 50);
    int64_t done = st.delivered + st.failed;
    if (done != seen) {
      seen = done;
      last_progress = now_ns();
    } else if (now_ns() - last_progress > static_cast<int64_t>(o.idle_timeout_s * 1e9)) {
      st.first_error = "no acknowledgment for " + std::to_string(o.idle_timeout_s) + " s";
      st.failed += count - done;
      break;
    }
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

}  // namespace

phase_result produce(const options& o) {
  phase_result out;
  out.ran = true;
  std::vector<producer_state> states(static_cast<size_t>(o.producers));
  std::vector<std::thread> threads;
  std::mutex error_mutex;
  std::string thread_error;
  int64_t start = now_ns();
  for (int i = 0; i < o.producers; ++i) {
    int64_t count = o.records / o.producers + (i < o.records % o.producers ? 1 : 0);
    threads.emplace_back([&, i, count] {
      try {
        run_producer(o, i, count, o.rate / o.producers, states[static_cast<size_t>(i)]);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        thread_error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  out.seconds = static_cast<double>(now_ns() - start) / 1e9;
  if (!thread_error.empty()) fail(thread_error);
  for (auto& st : states) {
    out.records += st.delivered;
    out.errors += st.failed;
    if (out.first_error.empty()) out.first_error = st.first_error;
    out.latency_ns.merge(st.ack_ns);
  }
  out.bytes = out.records * std::max(o.record_size, 8);
  return out;
}

struct consume_run::state {
  options o;
  std::atomic<int64_t> received{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<histogram> latency;
  std::vector<int64_t> bytes, errors, first_ns, last_ns;
  std::mutex error_mutex;
  std::string first_error;
};

namespace {

// One consumer instance on partitions index, index + consumers, ... from the beginning, with
// the simple (group-less) consumer API: the broker needs no consumer groups.
void run_consumer(consume_run::state& s, int index) {
  const options& o = s.o;
  auto i = static_cast<size_t>(index);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o.brokers);
  set(conf, "enable.partition.eof", "false");
  set_props(conf, o.consumer_props);
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  std::vector<int32_t> mine;
  for (int p = index; p < o.partitions; p += o.consumers) {
    if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue) != 0) {
      fail("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
    }
    mine.push_back(p);
  }
  std::vector<rd_kafka_message_t*> batch(4096);
  int64_t last_progress = now_ns();
  while (!s.stop.load(std::memory_order_relaxed) && !mine.empty()) {
    // Waits for one record, then takes what else is queued without waiting:
    // rd_kafka_consume_batch_queue with a timeout waits for a full batch, which would add up to
    // the timeout to every record's latency.
    ssize_t n = 0;
    batch[0] = rd_kafka_consume_queue(queue, 100);
    if (batch[0] != nullptr) {
      ssize_t more = rd_kafka_consume_batch_queue(queue, 0, batch.data() + 1, batch.size() - 1);
      n = 1 + std::max<ssize_t>(more, 0);
    }
    int64_t now = now_ns();
    if (n <= 0) {
      if (now - last_progress > static_cast<int64_t>(o.idle_timeout_s * 1e9)) {
        std::lock_guard lock(s.error_mutex);
        if (s.first_error.empty()) s.first_error = "no record for the idle timeout";
        ++s.errors[i];
        s.stop = true;
      }
      continue;
    }
    int64_t got = 0;
    for (ssize_t m = 0; m < n; ++m) {
      rd_kafka_message_t* msg = batch[static_cast<size_t>(m)];
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::lock_guard lock(s.error_mutex);
        if (s.first_error.empty()) s.first_error = rd_kafka_message_errstr(msg);
        ++s.errors[i];
      } else {
        int64_t sent = 0;
        if (msg->len >= sizeof sent) std::memcpy(&sent, msg->payload, sizeof sent);
        s.latency[i].record(now > sent ? static_cast<uint64_t>(now - sent) : 0);
        s.bytes[i] += static_cast<int64_t>(msg->len);
        ++got;
      }
      rd_kafka_message_destroy(msg);
    }
    if (got > 0) {
      if (s.first_ns[i] == 0) s.first_ns[i] = now;
      s.last_ns[i] = now;
      last_progress = now;
      if (s.received.fetch_add(got) + got >= o.records) s.stop = true;
    }
  }
  for (int32_t p : mine) rd_kafka_consume_stop(rkt, p);
  rd_kafka_queue_destroy(queue);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

}  // namespace

consume_run::consume_run(const options& o) : _state(new state) {
  _state->o = o;
  auto n = static_cast<size_t>(o.consumers);
  _state->latency.resize(n);
  _state->bytes.assign(n, 0);
  _state->errors.assign(n, 0);
  _state->first_ns.assign(n, 0);
  _state->last_ns.assign(n, 0);
  for (int i = 0; i < o.consumers; ++i) {
    _state->threads.emplace_back([this, i] {
      try {
        run_consumer(*_state, i);
      } catch (const std::exception& e) {
        std::lock_guard lock(_state->error_mutex);
        _state->first_error = e.what();
        _state->stop = true;
      }
    });
  }
}

consume_run::~consume_run() {
  _state->stop = true;
  for (auto& t : _state->threads) {
    if (t.joinable()) t.join();
  }
  delete _state;
}

phase_result consume_run::wait() {
  for (auto& t : _state->threads) t.join();
  phase_result out;
  out.ran = true;
  int64_t first = 0;
  int64_t last = 0;
  for (size_t i = 0; i < _state->latency.size(); ++i) {
    out.latency_ns.merge(_state->latency[i]);
    out.bytes += _state->bytes[i];
    out.errors += _state->errors[i];
    if (_state->first_ns[i] != 0 && (first == 0 || _state->first_ns[i] < first)) {
      first = _state->first_ns[i];
    }
    last = std::max(last, _state->last_ns[i]);
  }
  out.records = static_cast<int64_t>(out.latency_ns.count());
  out.first_error = _state->first_error;
  // From the first record received to the last: connection set-up is not part of the figure.
  out.seconds = first != 0 ? static_cast<double>(last - first) / 1e9 : 0;
  return out;
}

}  // namespace sluice::bench::loadgen
