// Writes the fixture store of tests/fixtures/store_v1 and its golden query
// answers: a small planted stream (one run, tap "resid", 8 snapshots at
// d 16, 1,024 probe tokens, a task with gradients, a "loss" scalar that
// drops half-way) through the real conceptwatchd, the data directory
// flushed and compacted into a few files, then the answers of a fresh
// daemon started on a copy of it. Not part of the suite: run it by hand,
// with the binaries of the commit whose store format the fixture keeps.
//
//   cw_store_fixture_writer OUT_DIR   (writes OUT_DIR/data, OUT_DIR/answers.json)
#include <rocksdb/db.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/loss_step_stream.h"
#include "tests/analysis/planted_stream.h"
#include "tests/store/store_fixture.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

// The first atom that switches on after snapshot 1 and stays on.
int64_t rising_atom(const PlantedDictionary& p) {
  const int64_t T = p.options.n_snapshots, K = p.options.n_atoms;
  for (int64_t k = 0; k < K; ++k)
    if (p.onset[k] >= 2 && p.fade[k] >= T) return k;
  throw std::runtime_error("no atom rises in the middle of the fixture stream");
}

// Flushes every family into table files and compacts them, then drops what
// RocksDB rebuilds on open (LOCK, info logs), so the fixture is a few files.
void compact(const std::string& dir) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, dir, &names).ok()) throw std::runtime_error("no store in " + dir);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) {
    rocksdb::ColumnFamilyOptions family;
    if (name == "snapshot_data") family.enable_blob_files = true, family.min_blob_size = 4096;
    families.emplace_back(name, family);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, dir, families, &handles, &db).ok()) throw std::runtime_error("cannot open " + dir);
  for (auto* handle : handles) {
    db->Flush(rocksdb::FlushOptions(), handle);
    db->CompactRange(rocksdb::CompactRangeOptions(), handle, nullptr, nullptr);
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  db->Close();
  delete db;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename();
    if (name == "LOCK" || name.rfind("LOG", 0) == 0) std::filesystem::remove(entry.path());
  }
}

int run(const std::string& out) {
  const testing::LossStepStream stream = testing::loss_step_stream();
  const auto& p = stream.planted;
  const PlantedOptions& options = p.options;
  const auto probe_ids = testing::make_run(testing::kFixtureRun, {"resid"}, uint32_t(options.d_model),
                                           uint32_t(options.n_tokens), 64, 7)
                             .probe.token_ids;
  const auto& scalars = stream.scalars;

  testing::TempDir config_dir;
  const std::string config = testing::write_crosscoder_config(config_dir, testing::kFixtureCrosscoder);
  std::filesystem::remove_all(out);
  {
    testing::DaemonProcess writer({"--config", config});
    writer.start();
    testing::StreamedTask task = testing::atom_task(p, rising_atom(p), probe_ids, 64);
    task.metric = "sum over task tokens of a planted atom's direction . x";  // as store_v1 holds it
    testing::stream_planted(writer, testing::kFixtureRun, p, scalars, {task});
    if (writer.terminate() != 0) throw std::runtime_error("conceptwatchd did not stop cleanly:\n" + writer.log());
    testing::copy_directory(writer.data_dir(), out + "/data");
  }
  compact(out + "/data");

  // The answers of a daemon that opens the fixture, twice: both must agree.
  nlohmann::json answers[2];
  for (auto& answer : answers) {
    testing::DaemonProcess reader({"--config", config});
    testing::copy_directory(out + "/data", reader.data_dir());
    reader.start();
    testing::wait_until_workers_idle(reader);
    answer = testing::store_fixture_answers(reader);
    if (reader.terminate() != 0) throw std::runtime_error("conceptwatchd did not stop cleanly:\n" + reader.log());
  }
  std::ofstream(out + "/answers.json") << answers[0].dump(1) << "\n";
  std::ofstream(out + "/crosscoder.toml") << "[crosscoder]\n" << testing::kFixtureCrosscoder;
  if (answers[0] != answers[1]) {
    std::cerr << "two opens of the fixture answered differently:\n"
              << nlohmann::json::diff(answers[0], answers[1]).dump(1) << "\n";
    return 1;
  }
  std::printf("fixture in %s: %zu events, %zu answers\n", out.c_str(), answers[0]["events"].size(), answers[0].size());
  return 0;
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    return cw::run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
