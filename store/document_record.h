// The values of `metrics`, `events` and `transitions`: JSON documents whose
// fields belong to the analysis and the queries (which answer them
// verbatim), stored as a DocumentRecord (schema/conceptwatch.capnp). A
// document reads back as the JSON it was written from, except that a
// non-finite number reads as null (as it did from the JSON text of format 1).
#ifndef CW_STORE_DOCUMENT_RECORD_H_
#define CW_STORE_DOCUMENT_RECORD_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cw {

std::string encode_document_record(const nlohmann::json& document);
// `format`: the store format the value was written in (Store::format());
// format 1 values are JSON text. Throws on a corrupt value or one of a
// newer format.
nlohmann::json decode_document_record(std::string_view bytes, uint16_t format);

}  // namespace cw

#endif  // CW_STORE_DOCUMENT_RECORD_H_
