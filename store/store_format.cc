#include "store/store_format.h"

#include <capnp/message.h>

#include <chrono>
#include <string>

#include "schema/record_codec.h"
#include "schema/unix_time.h"
#include "store/attribution_record.h"
#include "store/document_record.h"
#include "store/trajectory_record.h"

namespace cw {
namespace {

const char kFormatKey[] = "format";

std::string encode_format(uint16_t from) {
  capnp::MallocMessageBuilder builder;
  auto record = builder.initRoot<wire::StoreFormatRecord>();
  record.setVersion(Store::kFormat);
  record.setMigratedFrom(from);
  record.setMigratedUnixMs(from ? unix_now_ms() : 0);
  return encode_message_bytes(builder);
}

}  // namespace

void check_record_version(uint16_t version, const char* what) {
  if (version > Store::kFormat) {
    throw StoreError(std::string(what) + " record of format " + std::to_string(version) +
                     ", newer than this conceptwatch reads (" + std::to_string(Store::kFormat) +
                     "): use a newer conceptwatch");
  }
}

StoreFormatInfo read_store_format(const Store& store) {
  std::string bytes;
  if (!store.get(Family::kMeta, kFormatKey, &bytes)) return {};
  return decode_record<wire::StoreFormatRecord>(bytes, "store format", [](wire::StoreFormatRecord::Reader in) {
    return StoreFormatInfo{in.getVersion(), in.getMigratedFrom(), in.getMigratedUnixMs()};
  });
}

void write_store_format(Store& store, uint16_t from) { store.put(Family::kMeta, kFormatKey, encode_format(from)); }

StoreMigration migrate_store_format(Store& store, uint16_t from) {
  const auto start = std::chrono::steady_clock::now();
  StoreMigration migration;
  migration.from_format = from;
  StoreBatch batch;
  auto rewrite = [&](Family family, auto recode) {
    store.scan(family, "", [&](std::string_view key, std::string_view value) {
      try {
        batch.put(family, key, recode(value));
      } catch (const std::exception& e) {
        throw StoreError(std::string("cannot migrate a value of ") + family_name(family) + " from store format " +
                         std::to_string(from) + " (nothing was changed): " + e.what());
      }
      ++migration.records;
      return true;
    });
  };
  for (Family family : {Family::kMetrics, Family::kEvents, Family::kTransitions})
    rewrite(family, [&](std::string_view value) { return encode_document_record(decode_document_record(value, from)); });
  rewrite(Family::kTrajectories,
          [&](std::string_view value) { return encode_trajectory_record(decode_trajectory_record(0, value, from)); });
  rewrite(Family::kAttribution,
          [&](std::string_view value) { return encode_attribution_record(decode_attribution_record(value, from)); });
  batch.put(Family::kMeta, kFormatKey, encode_format(from));
  store.write(batch);
  migration.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return migration;
}

}  // namespace cw
