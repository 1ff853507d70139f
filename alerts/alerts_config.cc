#include "alerts/alerts_config.h"

#include <toml++/toml.h>

#include <set>
#include <stdexcept>

namespace cw {

namespace {

// Reads typed keys from one TOML table and remembers which it read, so the
// leftovers can be reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw std::runtime_error(where_ + " " + key + ": " + what);
  }

  bool has(const std::string& key) {
    known_.insert(key);
    return table_.contains(key);
  }

  void text(const std::string& key, std::string* out) {
    if (!has(key)) return;
    auto value = table_[key].value<std::string>();
    if (!table_[key].is_string() || !value) fail(key, "must be a string");
    *out = *value;
  }

  void flag(const std::string& key, bool* out) {
    if (!has(key)) return;
    if (!table_[key].is_boolean()) fail(key, "must be true or false");
    *out = *table_[key].value<bool>();
  }

  int64_t integer(const std::string& key, int64_t current, int64_t min) {
    if (!has(key)) return current;
    if (!table_[key].is_integer()) fail(key, "must be an integer");
    int64_t value = *table_[key].value<int64_t>();
    if (value < min) fail(key, "must be at least " + std::to_string(min));
    return value;
  }

  void millis(const std::string& key, std::chrono::milliseconds* out, int64_t min = 0) {
    *out = std::chrono::milliseconds(integer(key, out->count(), min));
  }

  // A string list, or (when `single` is given) one string.
  void strings(const std::string& key, std::vector<std::string>* out) {
    if (!has(key)) return;
    out->clear();
    if (auto one = table_[key].value<std::string>(); table_[key].is_string()) {
      out->push_back(*one);
      return;
    }
    const toml::array* items = table_[key].as_array();
    if (items == nullptr) fail(key, "must be a string or a list of strings");
    for (const toml::node& item : *items) {
      if (!item.is_string()) fail(key, "must be a list of strings");
      out->push_back(*item.value<std::string>());
    }
  }

  void reject_unknown() const {
    for (const auto& [key, node] : table_) {
      std::string name(key.str());
      if (!known_.count(name)) fail(name, "unknown key");
    }
  }

 private:
  const toml::table& table_;
  std::string where_;
  std::set<std::string> known_;
};

void read_queue_and_retry(TableReader& reader, SinkOptions* options) {
  options->queue_capacity = static_cast<size_t>(
      reader.integer("queue_capacity", static_cast<int64_t>(options->queue_capacity), 1));
  reader.millis("initial_delay_ms", &options->retry.initial_delay);
  reader.millis("max_delay_ms", &options->retry.max_delay);
  options->retry.max_attempts = static_cast<int>(reader.integer("max_attempts", options->retry.max_attempts, 1));
}

SinkType sink_type(TableReader& reader) {
  std::string type;
  reader.text("type", &type);
  if (type == "jsonl") return SinkType::kJsonLines;
  if (type == "zmq") return SinkType::kZmqPub;
  if (type == "webhook") return SinkType::kWebhook;
  if (type == "exec") return SinkType::kExec;
  if (type == "alertmanager") return SinkType::kAlertmanager;
  reader.fail("type", "must be \"jsonl\", \"zmq\", \"webhook\", \"exec\" or \"alertmanager\" (got \"" + type + "\")");
}

SinkConfig read_sink(const toml::table& table, const std::string& where, const SinkOptions& defaults) {
  TableReader reader(table, where);
  SinkConfig sink;
  sink.type = sink_type(reader);
  sink.options = defaults;
  reader.text("name", &sink.options.name);
  read_queue_and_retry(reader, &sink.options);
  if (sink.options.retry.max_delay < sink.options.retry.initial_delay)
    reader.fail("max_delay_ms", "must not be below initial_delay_ms");
  auto require = [&](const std::string& key, const std::string& value) {
    if (value.empty()) reader.fail(key, "is required for this sink type");
  };
  switch (sink.type) {
    case SinkType::kJsonLines:
      reader.text("path", &sink.path);
      require("path", sink.path);
      break;
    case SinkType::kZmqPub:
      reader.text("endpoint", &sink.endpoint);
      require("endpoint", sink.endpoint);
      break;
    case SinkType::kWebhook:
      reader.text("url", &sink.webhook.url);
      require("url", sink.webhook.url);
      reader.millis("connect_timeout_ms", &sink.webhook.connect_timeout, 1);
      reader.millis("read_timeout_ms", &sink.webhook.read_timeout, 1);
      break;
    case SinkType::kExec:
      reader.strings("command", &sink.exec.command);
      if (sink.exec.command.empty() || sink.exec.command[0].empty()) reader.fail("command", "is required");
      reader.flag("shell", &sink.exec.shell);
      if (sink.exec.shell && sink.exec.command.size() != 1)
        reader.fail("command", "must be a single string when shell = true");
      reader.millis("timeout_ms", &sink.exec.timeout, 1);
      break;
    case SinkType::kAlertmanager:
      reader.text("url", &sink.alertmanager.url);
      require("url", sink.alertmanager.url);
      reader.millis("repost_interval_ms", &sink.alertmanager.repost_interval, 1);
      reader.millis("connect_timeout_ms", &sink.alertmanager.connect_timeout, 1);
      reader.millis("read_timeout_ms", &sink.alertmanager.read_timeout, 1);
      break;
  }
  reader.reject_unknown();
  return sink;
}

void read_alerts(const toml::table& root, const std::string& source, AlertsConfig* config) {
  const toml::node* node = root.get("alerts");
  if (node == nullptr) return;
  const toml::table* alerts = node->as_table();
  if (alerts == nullptr) throw std::runtime_error(source + ": [alerts] must be a table");
  TableReader reader(*alerts, source + ": [alerts]");
  reader.text("receiver", &config->receiver);
  reader.text("external_url", &config->external_url);
  reader.millis("shutdown_deadline_ms", &config->shutdown_deadline);
  SinkOptions defaults;
  read_queue_and_retry(reader, &defaults);
  if (reader.has("sinks")) {
    const toml::array* sinks = (*alerts)["sinks"].as_array();
    if (sinks == nullptr) reader.fail("sinks", "must be an array of tables ([[alerts.sinks]])");
    config->sinks.clear();
    for (size_t i = 0; i < sinks->size(); ++i) {
      std::string where = source + ": [[alerts.sinks]] #" + std::to_string(i + 1);
      const toml::table* sink = (*sinks)[i].as_table();
      if (sink == nullptr) throw std::runtime_error(where + " must be a table");
      config->sinks.push_back(read_sink(*sink, where, defaults));
    }
  }
  reader.reject_unknown();
}

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(source + ": " + std::string(e.description()) + " at line " +
                             std::to_string(e.source().begin.line));
  }
}

}  // namespace

void load_alerts_config(const std::string& toml_path, AlertsConfig* config) {
  toml::table root;
  try {
    root = toml::parse_file(toml_path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + toml_path + ": " + std::string(e.description()) + " at line " +
                             std::to_string(e.source().begin.line));
  }
  read_alerts(root, "config " + toml_path, config);
}

void parse_alerts_config(const std::string& toml_text, const std::string& source_name, AlertsConfig* config) {
  read_alerts(parse_toml(toml_text, source_name), source_name, config);
}

}  // namespace cw
