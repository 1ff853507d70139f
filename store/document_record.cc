#include "store/document_record.h"

#include <capnp/message.h>

#include <cmath>

#include "schema/record_codec.h"
#include "store/store.h"
#include "store/store_format.h"

namespace cw {
namespace {

using Value = nlohmann::json::value_t;

void write_value(const nlohmann::json& value, wire::JsonValue::Builder out) {
  switch (value.type()) {
    case Value::boolean: out.setBoolean(value.get<bool>()); break;
    case Value::number_integer: out.setInteger(value.get<int64_t>()); break;
    case Value::number_unsigned: out.setUnsigned(value.get<uint64_t>()); break;
    case Value::number_float:
      if (std::isfinite(value.get<double>())) {
        out.setNumber(value.get<double>());
      } else {
        out.setNull();
      }
      break;
    case Value::string: {
      const auto& text = value.get_ref<const std::string&>();
      out.setText(capnp::Text::Reader(text.data(), text.size()));
      break;
    }
    case Value::array: {
      auto items = out.initArray(unsigned(value.size()));
      for (unsigned i = 0; i < value.size(); ++i) write_value(value[i], items[i]);
      break;
    }
    case Value::object: {
      auto fields = out.initObject(unsigned(value.size()));
      unsigned i = 0;
      for (const auto& [name, item] : value.items()) {
        fields[i].setName(capnp::Text::Reader(name.data(), name.size()));
        write_value(item, fields[i].initValue());
        ++i;
      }
      break;
    }
    default: out.setNull(); break;  // null, and what JSON text cannot hold (binary, discarded)
  }
}

nlohmann::json read_value(wire::JsonValue::Reader in) {
  switch (in.which()) {
    case wire::JsonValue::NULL_: return nullptr;
    case wire::JsonValue::BOOLEAN: return in.getBoolean();
    case wire::JsonValue::INTEGER: return in.getInteger();
    case wire::JsonValue::UNSIGNED: return in.getUnsigned();
    case wire::JsonValue::NUMBER: return in.getNumber();
    case wire::JsonValue::TEXT: return to_string(in.getText());
    case wire::JsonValue::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      for (auto item : in.getArray()) out.push_back(read_value(item));
      return out;
    }
    case wire::JsonValue::OBJECT: {
      nlohmann::json out = nlohmann::json::object();
      for (auto field : in.getObject()) out[to_string(field.getName())] = read_value(field.getValue());
      return out;
    }
  }
  throw std::runtime_error("unknown JSON value kind " + std::to_string(unsigned(in.which())));
}

}  // namespace

std::string encode_document_record(const nlohmann::json& document) {
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::DocumentRecord>();
  record.setVersion(Store::kFormat);
  write_value(document, record.initDocument());
  return encode_message_bytes(builder);
}

nlohmann::json decode_document_record(std::string_view bytes, uint16_t format) {
  if (format < 2) return nlohmann::json::parse(bytes);
  return decode_record<wire::DocumentRecord>(bytes, "document", [](wire::DocumentRecord::Reader in) {
    check_record_version(in.getVersion(), "document");
    return read_value(in.getDocument());
  });
}

}  // namespace cw
