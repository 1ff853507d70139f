#include "store/snapshot_table.h"

#include "schema/dtype.h"
#include "schema/record_codec.h"
#include "store/key_encoding.h"

namespace cw {

std::string snapshot_key(const SnapshotKey& key) {
  return KeyBuilder().text(key.run).text(key.tap).u8(uint8_t(key.kind)).text(key.task).u64(key.step).str();
}

void SnapshotTable::put(const SnapshotMeta& meta, std::string_view data) {
  const std::string key = snapshot_key(meta.key);
  StoreBatch batch;
  batch.put_unowned(Family::kSnapshotData, key, data);
  batch.put(Family::kSnapshotMeta, key, encode_snapshot_meta(meta));
  store_.write(batch);
}

std::optional<SnapshotMeta> SnapshotTable::meta(const SnapshotKey& key) const {
  std::string bytes;
  if (!store_.get(Family::kSnapshotMeta, snapshot_key(key), &bytes)) return std::nullopt;
  return decode_snapshot_meta(bytes);
}

bool SnapshotTable::read(const SnapshotKey& key, std::string* data) const {
  return store_.get(Family::kSnapshotData, snapshot_key(key), data);
}

std::vector<float> SnapshotTable::read_f32(const SnapshotMeta& meta) const {
  std::string bytes;
  if (!read(meta.key, &bytes)) throw StoreError("snapshot " + meta.key.describe() + " has no data");
  std::vector<float> values(uint64_t(meta.n_tokens) * meta.d_model);
  to_f32(meta.dtype, bytes.data(), values.size(), values.data());
  return values;
}

std::vector<SnapshotMeta> SnapshotTable::list(const std::string& run, const std::string& tap) const {
  std::vector<SnapshotMeta> metas;
  for (auto& meta : list_all(run)) {
    if (meta.key.kind == ArrayKind::kProbeActivations && (tap.empty() || meta.key.tap == tap)) {
      metas.push_back(std::move(meta));
    }
  }
  return metas;
}

std::vector<SnapshotMeta> SnapshotTable::list_all(const std::string& run) const {
  std::vector<SnapshotMeta> metas;
  store_.scan(Family::kSnapshotMeta, KeyBuilder().text(run).str(), [&](std::string_view, std::string_view value) {
    metas.push_back(decode_snapshot_meta(value));
    return true;
  });
  return metas;
}

}  // namespace cw
