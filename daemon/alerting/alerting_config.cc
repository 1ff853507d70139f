#include "daemon/alerting/alerting_config.h"

#include <set>
#include <stdexcept>

#include "daemon/alerting/jsonl_sink.h"
#include "daemon/alerting/zmq_pub_sink.h"

namespace cw {

namespace {

// Reads typed keys from one TOML table, naming the file, line, table and key
// in every error, and remembers which keys it knows so that the rest can be
// refused as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string source, std::string where)
      : table_(table), source_(std::move(source)), where_(std::move(where)) {}

  std::runtime_error error(const toml::node* node, const std::string& what) const {
    std::string line;
    const toml::node& at = node ? *node : static_cast<const toml::node&>(table_);
    if (at.source().begin.line > 0) line = " line " + std::to_string(at.source().begin.line);
    return std::runtime_error("config " + source_ + line + ": " + where_ + ": " + what);
  }

  const toml::node* find(const std::string& key) {
    known_.insert(key);
    return table_.get(key);
  }

  bool string(const std::string& key, std::string* out) {
    const toml::node* node = find(key);
    if (!node) return false;
    if (!node->is_string()) throw error(node, "'" + key + "' must be a string");
    *out = **node->as_string();
    return true;
  }

  std::string required_string(const std::string& key) {
    std::string value;
    if (!string(key, &value)) throw error(nullptr, "missing '" + key + "'");
    if (value.empty()) throw error(find(key), "'" + key + "' must not be empty");
    return value;
  }

  template <typename T>
  void positive(const std::string& key, T* out) {
    const toml::node* node = find(key);
    if (!node) return;
    if (!node->is_integer() || **node->as_integer() <= 0) throw error(node, "'" + key + "' must be a positive integer");
    *out = static_cast<T>(**node->as_integer());
  }

  void millis(const std::string& key, std::chrono::milliseconds* out) {
    int64_t value = out->count();
    positive(key, &value);
    *out = std::chrono::milliseconds(value);
  }

  std::vector<std::string> required_strings(const std::string& key) {
    const toml::node* node = find(key);
    if (!node) throw error(nullptr, "missing '" + key + "'");
    const toml::array* array = node->as_array();
    if (!array || array->empty()) throw error(node, "'" + key + "' must be a non-empty array of strings");
    std::vector<std::string> values;
    for (const toml::node& item : *array) {
      if (!item.is_string()) throw error(&item, "'" + key + "' must hold only strings");
      values.push_back(**item.as_string());
    }
    return values;
  }

  void refuse_unknown_keys() const {
    for (const auto& [key, node] : table_)
      if (!known_.count(std::string(key.str()))) throw error(&node, "unknown key '" + std::string(key.str()) + "'");
  }

 private:
  const toml::table& table_;
  std::string source_, where_;
  std::set<std::string> known_;
};

void read_delivery(TableReader& reader, DeliveryPolicy* policy) {
  reader.positive("queue_capacity", &policy->queue_capacity);
  reader.millis("retry_initial_ms", &policy->initial_backoff);
  reader.millis("retry_max_ms", &policy->max_backoff);
  reader.positive("max_attempts", &policy->max_attempts);
  if (policy->max_backoff < policy->initial_backoff)
    throw reader.error(nullptr, "'retry_max_ms' must not be below 'retry_initial_ms'");
}

AlertSinkConfig read_sink(const toml::table& table, const std::string& source, size_t index,
                          const DeliveryPolicy& defaults) {
  std::string where = "[[alerts.sink]] #" + std::to_string(index + 1);
  TableReader reader(table, source, where);
  AlertSinkConfig sink;
  sink.delivery = defaults;
  std::string type = reader.required_string("type");
  if (type == "jsonl") {
    sink.type = AlertSinkType::kJsonl;
    sink.path = reader.required_string("path");
  } else if (type == "zmq") {
    sink.type = AlertSinkType::kZmq;
    sink.endpoint = reader.required_string("endpoint");
  } else if (type == "webhook") {
    sink.type = AlertSinkType::kWebhook;
    sink.webhook.url = reader.required_string("url");
    reader.millis("connect_timeout_ms", &sink.webhook.connect_timeout);
    reader.millis("read_timeout_ms", &sink.webhook.read_timeout);
    reader.string("receiver", &sink.webhook.group.receiver);
    reader.string("external_url", &sink.webhook.group.external_url);
  } else if (type == "exec") {
    sink.type = AlertSinkType::kExec;
    sink.exec.argv = reader.required_strings("command");
    reader.millis("timeout_ms", &sink.exec.timeout);
  } else {
    throw reader.error(reader.find("type"), "'type' must be one of jsonl, zmq, webhook, exec, not \"" + type + "\"");
  }
  read_delivery(reader, &sink.delivery);
  reader.refuse_unknown_keys();
  return sink;
}

}  // namespace

AlertingConfig alerting_config_from_toml(const toml::table& root, const std::string& source) {
  AlertingConfig config;
  const toml::node* alerts_node = root.get("alerts");
  if (!alerts_node) return config;
  const toml::table* alerts = alerts_node->as_table();
  if (!alerts) throw std::runtime_error("config " + source + ": 'alerts' must be a table");
  TableReader reader(*alerts, source, "[alerts]");
  read_delivery(reader, &config.delivery);
  reader.millis("shutdown_deadline_ms", &config.shutdown_deadline);
  if (const toml::node* sinks = reader.find("sink")) {
    const toml::array* array = sinks->as_array();
    if (!array) throw reader.error(sinks, "'sink' must be an array of tables: write [[alerts.sink]]");
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table* table = array->get(i)->as_table();
      if (!table) throw reader.error(array->get(i), "'sink' must be an array of tables: write [[alerts.sink]]");
      config.sinks.push_back(read_sink(*table, source, i, config.delivery));
    }
  }
  reader.refuse_unknown_keys();
  return config;
}

std::unique_ptr<AlertDispatcher> build_alert_dispatcher(const AlertingConfig& config) {
  auto dispatcher = std::make_unique<AlertDispatcher>();
  for (const AlertSinkConfig& sink : config.sinks) {
    std::unique_ptr<AlertSink> made;
    switch (sink.type) {
      case AlertSinkType::kJsonl: made = std::make_unique<JsonlSink>(sink.path); break;
      case AlertSinkType::kZmq: made = std::make_unique<ZmqPubSink>(sink.endpoint); break;
      case AlertSinkType::kWebhook: made = std::make_unique<WebhookSink>(sink.webhook); break;
      case AlertSinkType::kExec: made = std::make_unique<ExecSink>(sink.exec); break;
    }
    dispatcher->add_sink(std::move(made), sink.delivery);
  }
  return dispatcher;
}

}  // namespace cw
