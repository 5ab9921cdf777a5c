// The controller's topic operations: CreateTopics, DeleteTopics, CreatePartitions. Config
// operations are in controller_configs.cc.

#include <algorithm>

#include "cluster/controller_run.h"
#include "cluster/replay.h"

namespace sluice::cluster {

namespace {

constexpr size_t topic_name_chars_max = 249;

bool legal_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// A fresh topic id: not zero, not Kafka's reserved metadata topic id (0...01), not in use, and
// not starting with '-' in base64 (Kafka avoids those so that command-line tools do not read the
// id as a flag).
model::uuid new_topic_id(const image& current) {
  model::uuid reserved;
  reserved.bytes.back() = 1;
  for (;;) {
    auto id = model::uuid::random();
    if (id.is_zero() || id == reserved || current.find_topic(id) != nullptr) continue;
    if (id.to_base64().front() == '-') continue;
    return id;
  }
}

}  // namespace

cresult<void> validate_topic_name(std::string_view name) {
  if (name.empty()) return make_failure(errc::invalid_topic_name, "Topic name is empty.");
  if (name == "." || name == "..")
    return make_failure(errc::invalid_topic_name, "Topic name cannot be \".\" or \"..\".");
  if (name.size() > topic_name_chars_max) {
    return make_failure(errc::invalid_topic_name,
                        fmt::format("Topic name is {} characters long; the limit is {}.",
                                    name.size(), topic_name_chars_max));
  }
  if (!std::all_of(name.begin(), name.end(), legal_topic_char)) {
    return make_failure(errc::invalid_topic_name,
                        fmt::format("Topic name '{}' contains a character other than ASCII "
                                    "letters, digits, '.', '_' and '-'.",
                                    name));
  }
  return {};
}

controller::controller(metadata_log& log, image_publisher& images,
                       const config::broker_config& config)
    : _log(log), _images(images), _config(config), _node_id(config.node_id()) {}

cresult<void> controller::start() {
  auto replayed = replay(_log);
  if (!replayed) return failure(replayed.error());
  _deleted = std::move(replayed->deleted);
  _images.publish(std::move(replayed->replayed));
  return {};
}

std::vector<deleted_topic> controller::take_deleted_topics() {
  return std::exchange(_deleted, {});
}

partition_record controller::local_partition(int32_t partition) const {
  return partition_record{
      model::partition_id(partition), {_node_id}, {_node_id}, _node_id, model::leader_epoch(0)};
}

cresult<void> controller::check_replicas(const std::vector<int32_t>& broker_ids, int32_t partition,
                                         std::optional<size_t> expected_count) const {
  if (broker_ids.empty()) {
    return make_failure(errc::invalid_replica_assignment,
                        fmt::format("Partition {} has no replicas.", partition));
  }
  if (expected_count && broker_ids.size() != *expected_count) {
    return make_failure(errc::invalid_replica_assignment,
                        fmt::format("Partition {} has {} replicas; every partition of the topic "
                                    "must have {}.",
                                    partition, broker_ids.size(), *expected_count));
  }
  std::set<int32_t> seen;
  for (int32_t id : broker_ids) {
    if (!seen.insert(id).second) {
      return make_failure(errc::invalid_replica_assignment,
                          fmt::format("Partition {} lists broker {} twice.", partition, id));
    }
    if (id != _node_id.value()) {
      return make_failure(errc::invalid_replica_assignment,
                          fmt::format("Partition {} is assigned to broker {}, which is not "
                                      "registered (the only broker is {}).",
                                      partition, id, _node_id.value()));
    }
  }
  return {};
}

cresult<std::vector<partition_record>> controller::plan_replicas(const new_topic& t) const {
  std::vector<partition_record> partitions;
  if (!t.assignments.empty()) {
    if (t.num_partitions != -1 || t.replication_factor != -1) {
      return make_failure(errc::invalid_request,
                          "A manual replica assignment was given, but num_partitions or "
                          "replication_factor is not -1.");
    }
    if (t.assignments.size() > static_cast<size_t>(partitions_per_topic_max)) {
      return make_failure(errc::invalid_partitions,
                          fmt::format("{} partitions exceed the limit of {} per topic.",
                                      t.assignments.size(), partitions_per_topic_max));
    }
    auto sorted = t.assignments;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    const size_t replicas = sorted.front().broker_ids.size();
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i].partition != static_cast<int32_t>(i)) {
        return make_failure(errc::invalid_replica_assignment,
                            "The partitions of a manual assignment must be numbered 0 to N-1, "
                            "each once.");
      }
      auto checked = check_replicas(sorted[i].broker_ids, sorted[i].partition, replicas);
      if (!checked) return failure(checked.error());
      std::vector<model::node_id> nodes;
      for (int32_t id : sorted[i].broker_ids) nodes.emplace_back(id);
      partitions.push_back(partition_record{model::partition_id(sorted[i].partition), nodes, nodes,
                                            nodes.front(), model::leader_epoch(0)});
    }
    return partitions;
  }
  if (t.num_partitions == 0 || t.num_partitions < -1) {
    return make_failure(errc::invalid_partitions,
                        "Number of partitions must be at least 1, or -1 for the broker default "
                        "(num.partitions).");
  }
  if (t.replication_factor == 0 || t.replication_factor < -1) {
    return make_failure(errc::invalid_replication_factor,
                        "Replication factor must be at least 1, or -1 for the broker default "
                        "(default.replication.factor).");
  }
  const int64_t count =
      t.num_partitions == -1 ? _config.get_int("num.partitions") : t.num_partitions;
  const int64_t factor = t.replication_factor == -1 ? _config.get_int("default.replication.factor")
                                                    : t.replication_factor;
  if (count > partitions_per_topic_max) {
    return make_failure(errc::invalid_partitions,
                        fmt::format("{} partitions exceed the limit of {} per topic.", count,
                                    partitions_per_topic_max));
  }
  if (factor > 1) {
    return make_failure(errc::invalid_replication_factor,
                        fmt::format("Replication factor {} is larger than the number of "
                                    "registered brokers (1).",
                                    factor));
  }
  for (int32_t p = 0; p < count; ++p) partitions.push_back(local_partition(p));
  return partitions;
}

cresult<controller::planned<created_topic>> controller::plan_create(const new_topic& t,
                                                                    const image& current) {
  if (auto valid = validate_topic_name(t.name); !valid) return failure(valid.error());
  if (t.name == metadata_topic_name) {
    return make_failure(errc::invalid_request,
                        fmt::format("The name {} is reserved for the metadata log.", t.name));
  }
  if (current.find_topic(t.name) != nullptr) {
    return make_failure(errc::topic_already_exists,
                        fmt::format("Topic '{}' already exists.", t.name));
  }
  if (auto other = current.find_colliding_topic(t.name)) {
    return make_failure(errc::invalid_topic_name,
                        fmt::format("Topic '{}' collides with existing topic '{}': names that "
                                    "differ only in '.' versus '_' are not allowed.",
                                    t.name, other->name));
  }
  auto partitions = plan_replicas(t);
  if (!partitions) return failure(partitions.error());

  config_map overrides;
  for (const auto& entry : t.configs) {
    if (!entry.value) {
      return make_failure(
          errc::invalid_config,
          fmt::format("Null value not supported for topic config '{}'.", entry.key));
    }
    if (!overrides.emplace(entry.key, *entry.value).second) {
      return make_failure(errc::invalid_request,
                          fmt::format("Config '{}' is given twice.", entry.key));
    }
  }
  auto valid = validate_overrides({config_resource_type::topic, t.name}, overrides);
  if (!valid) return failure(valid.error());

  topic_record record{t.name, new_topic_id(current), std::move(*partitions)};
  planned<created_topic> out{
      created_topic{record.topic_id, static_cast<int32_t>(record.partitions.size()),
                    static_cast<int16_t>(record.partitions.front().replicas.size()), overrides},
      {}};
  out.records.emplace_back(std::move(record));
  for (const auto& [key, value] : overrides)
    out.records.emplace_back(config_set_record{config_resource_type::topic, t.name, key, value});
  return out;
}

std::vector<cresult<created_topic>> controller::create_topics(const std::vector<new_topic>& topics,
                                                              bool validate_only) {
  auto repeated = repeated_keys(topics, [](const new_topic& t) { return t.name; });
  return run<created_topic>(
      topics, validate_only,
      [&](const new_topic& t, const image& current) -> cresult<planned<created_topic>> {
        if (repeated.contains(t.name)) {
          return make_failure(
              errc::invalid_request,
              fmt::format("Topic '{}' appears more than once in the request.", t.name));
        }
        return plan_create(t, current);
      });
}

cresult<controller::planned<removed_topic>> controller::plan_delete(const topic_ref& ref,
                                                                    const image& current) {
  if (!_config.get_bool("delete.topic.enable")) {
    return make_failure(errc::topic_deletion_disabled,
                        "Topic deletion is disabled (delete.topic.enable=false).");
  }
  const bool by_name = ref.name.has_value();
  if (by_name == !ref.id.is_zero()) {
    return make_failure(errc::invalid_request,
                        "A topic to delete needs exactly one of a name and a topic id.");
  }
  topic_ptr topic = by_name ? current.find_topic(*ref.name) : current.find_topic(ref.id);
  if (topic == nullptr && by_name) {
    return make_failure(errc::unknown_topic, fmt::format("Topic '{}' does not exist.", *ref.name));
  }
  if (topic == nullptr) {
    return make_failure(errc::unknown_topic_id,
                        fmt::format("Topic id {} does not exist.", ref.id.to_base64()));
  }
  planned<removed_topic> out{removed_topic{topic->name, topic->id}, {}};
  out.records.emplace_back(topic_deleted_record{topic->id, topic->name});
  return out;
}

std::vector<cresult<removed_topic>> controller::delete_topics(
    const std::vector<topic_ref>& topics) {
  auto key = [](const topic_ref& r) {
    return r.name ? "name:" + *r.name : "id:" + r.id.to_base64();
  };
  auto repeated = repeated_keys(topics, key);
  return run<removed_topic>(
      topics, /*validate_only=*/false,
      [&](const topic_ref& r, const image& current) -> cresult<planned<removed_topic>> {
        if (repeated.contains(key(r))) {
          return make_failure(errc::invalid_request,
                              "The topic appears more than once in the request.");
        }
        return plan_delete(r, current);
      });
}

cresult<controller::planned<bool>> controller::plan_increase(const partition_increase& inc,
                                                             const image& current) {
  auto topic = current.find_topic(inc.name);
  if (topic == nullptr) {
    return make_failure(errc::unknown_topic, fmt::format("Topic '{}' does not exist.", inc.name));
  }
  const int32_t existing = topic->partition_count();
  if (inc.count > partitions_per_topic_max) {
    return make_failure(errc::invalid_partitions,
                        fmt::format("{} partitions exceed the limit of {} per topic.", inc.count,
                                    partitions_per_topic_max));
  }
  if (inc.count == existing) {
    return make_failure(errc::invalid_partitions,
                        fmt::format("Topic already has {} partitions.", existing));
  }
  if (inc.count < existing) {
    return make_failure(errc::invalid_partitions,
                        fmt::format("Topic currently has {} partitions; {} would not be an "
                                    "increase.",
                                    existing, inc.count));
  }
  const size_t added = static_cast<size_t>(inc.count - existing);
  const size_t replicas = topic->partitions.front().replicas.size();
  partitions_added_record record{topic->id, {}};
  if (inc.assignments && inc.assignments->size() != added) {
    return make_failure(errc::invalid_replica_assignment,
                        fmt::format("Increasing the partition count from {} to {} needs {} "
                                    "assignments, but {} were given.",
                                    existing, inc.count, added, inc.assignments->size()));
  }
  for (size_t i = 0; i < added; ++i) {
    const int32_t partition = existing + static_cast<int32_t>(i);
    if (inc.assignments) {
      auto checked = check_replicas((*inc.assignments)[i], partition, replicas);
      if (!checked) return failure(checked.error());
    }
    record.partitions.push_back(local_partition(partition));
  }
  planned<bool> out{true, {}};
  out.records.emplace_back(std::move(record));
  return out;
}

std::vector<cresult<void>> controller::create_partitions(
    const std::vector<partition_increase>& increases, bool validate_only) {
  auto repeated = repeated_keys(increases, [](const partition_increase& i) { return i.name; });
  return without_values(
      run<bool>(increases, validate_only,
                [&](const partition_increase& inc, const image& current) -> cresult<planned<bool>> {
                  if (repeated.contains(inc.name)) {
                    return make_failure(
                        errc::invalid_request,
                        fmt::format("Topic '{}' appears more than once in the request.", inc.name));
                  }
                  return plan_increase(inc, current);
                }));
}

cresult<int64_t> controller::next_producer_id() {
  if (_producer_ids_next < _producer_ids_end) return _producer_ids_next++;
  std::vector<int32_t> one{producer_id_block_size};
  auto results = run<int64_t>(
      one, false, [this](int32_t n, const image& current) -> cresult<planned<int64_t>> {
        int64_t first = current.next_producer_id();
        if (first > INT64_MAX - n) {
          return make_failure(errc::invalid_request, "producer ids are exhausted");
        }
        record_group records;
        records.emplace_back(producer_ids_record{_node_id, first + n});
        return planned<int64_t>{first, std::move(records)};
      });
  if (!results.front()) return failure(results.front().error());
  _producer_ids_next = *results.front() + 1;
  _producer_ids_end = *results.front() + producer_id_block_size;
  return *results.front();
}

}  // namespace sluice::cluster
