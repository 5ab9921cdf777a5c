#include "cluster/image.h"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::cluster {

namespace {

failure<error> contradiction(model::offset offset, std::string what) {
  return make_failure(errc::log_corrupt,
                      fmt::format("metadata record at offset {}: {}", offset.value(), what));
}

bool partitions_continue(const std::vector<partition_record>& parts, int32_t first) {
  for (size_t i = 0; i < parts.size(); ++i)
    if (parts[i].partition.value() != first + static_cast<int32_t>(i)) return false;
  return true;
}

}  // namespace

bool topic_info::is_internal() const {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

std::string normalized_topic_name(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

topic_ptr image::find_topic(std::string_view name) const {
  auto it = _by_name.find(name);
  return it == _by_name.end() ? nullptr : it->second;
}

topic_ptr image::find_topic(const model::uuid& id) const {
  auto it = _by_id.find(id);
  return it == _by_id.end() ? nullptr : it->second;
}

topic_ptr image::find_colliding_topic(std::string_view name) const {
  auto it = _collision_index.find(normalized_topic_name(name));
  return it == _collision_index.end() ? nullptr : find_topic(it->second);
}

const config_map& image::broker_configs(std::string_view resource_name) const {
  static const config_map empty;
  auto it = _broker_configs.find(resource_name);
  return it == _broker_configs.end() ? empty : it->second;
}

cresult<void> image_builder::apply(const logged_record& record) {
  if (record.offset <= _image._offset) {
    return contradiction(record.offset,
                         fmt::format("offset does not follow {}", _image._offset.value()));
  }
  cresult<void> applied = std::visit(
      [&](const auto& r) -> cresult<void> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, topic_record>) return apply_topic(r);
        if constexpr (std::is_same_v<T, partitions_added_record>) return apply_partitions(r);
        if constexpr (std::is_same_v<T, topic_deleted_record>)
          return apply_delete(r, record.offset);
        if constexpr (std::is_same_v<T, config_set_record>)
          return apply_config(r.resource_type, r.resource_name, r.key, &r.value);
        if constexpr (std::is_same_v<T, config_removed_record>)
          return apply_config(r.resource_type, r.resource_name, r.key, nullptr);
        if constexpr (std::is_same_v<T, producer_ids_record>) {
          if (r.next_producer_id <= _image._next_producer_id) {
            return make_failure(errc::log_corrupt,
                                fmt::format("producer ids go back from {} to {}",
                                            _image._next_producer_id, r.next_producer_id));
          }
          _image._next_producer_id = r.next_producer_id;
          return cresult<void>();
        }
      },
      record.record);
  if (!applied) return contradiction(record.offset, applied.error().message);
  _image._offset = record.offset;
  return {};
}

void image_builder::put(topic_ptr topic) {
  _image._by_id[topic->id] = topic;
  _image._by_name[topic->name] = std::move(topic);
}

cresult<void> image_builder::apply_topic(const topic_record& r) {
  if (_image.find_topic(r.name) != nullptr)
    return make_failure(errc::log_corrupt, fmt::format("topic {} created twice", r.name));
  if (r.topic_id.is_zero() || _image.find_topic(r.topic_id) != nullptr) {
    return make_failure(errc::log_corrupt, fmt::format("topic {} has a zero or reused id {}",
                                                       r.name, r.topic_id.to_base64()));
  }
  if (!partitions_continue(r.partitions, 0))
    return make_failure(errc::log_corrupt, fmt::format("topic {}: partitions not 0..n-1", r.name));
  auto topic = std::make_shared<topic_info>();
  topic->name = r.name;
  topic->id = r.topic_id;
  topic->partitions = r.partitions;
  _image._partition_count += r.partitions.size();
  _image._collision_index[normalized_topic_name(r.name)] = r.name;
  put(std::move(topic));
  return {};
}

cresult<void> image_builder::apply_partitions(const partitions_added_record& r) {
  auto existing = _image.find_topic(r.topic_id);
  if (existing == nullptr) {
    return make_failure(errc::log_corrupt, fmt::format("partitions added to unknown topic id {}",
                                                       r.topic_id.to_base64()));
  }
  if (!partitions_continue(r.partitions, existing->partition_count())) {
    return make_failure(
        errc::log_corrupt,
        fmt::format("partitions added to {} do not continue its numbering", existing->name));
  }
  auto topic = std::make_shared<topic_info>(*existing);
  topic->partitions.insert(topic->partitions.end(), r.partitions.begin(), r.partitions.end());
  _image._partition_count += r.partitions.size();
  put(std::move(topic));
  return {};
}

cresult<void> image_builder::apply_delete(const topic_deleted_record& r, model::offset offset) {
  auto existing = _image.find_topic(r.topic_id);
  if (existing == nullptr || existing->name != r.name) {
    return make_failure(errc::log_corrupt, fmt::format("deletion of unknown topic {} ({})", r.name,
                                                       r.topic_id.to_base64()));
  }
  _deleted.push_back(deleted_topic{r.topic_id, r.name, existing->partition_count(), offset});
  _image._partition_count -= existing->partitions.size();
  _image._collision_index.erase(normalized_topic_name(r.name));
  _image._by_id.erase(r.topic_id);
  _image._by_name.erase(r.name);  // drops the topic's config overrides with it
  return {};
}

cresult<void> image_builder::apply_config(config_resource_type type, const std::string& name,
                                          const std::string& key, const std::string* value) {
  if (type == config_resource_type::broker) {
    auto& configs = _image._broker_configs[name];
    if (value != nullptr) {
      configs[key] = *value;
    } else {
      configs.erase(key);
      if (configs.empty()) _image._broker_configs.erase(name);
    }
    return {};
  }
  auto existing = _image.find_topic(name);
  if (existing == nullptr)
    return make_failure(errc::log_corrupt, fmt::format("config of unknown topic {}", name));
  auto topic = std::make_shared<topic_info>(*existing);
  if (value != nullptr) {
    topic->configs[key] = *value;
  } else {
    topic->configs.erase(key);
  }
  put(std::move(topic));
  return {};
}

}  // namespace sluice::cluster
