// Writes the fuzzers' seed corpora: real frames and real stored records of
// the seed runs (seed_data.h), and the shipped configuration files.
//   cw_fuzz_seeds OUT_DIR [CONFIG.toml ...]
// makes OUT_DIR/{frame,record,ingest,query,config}/ (named as the targets), one file per seed.
// fuzz/build.sh runs it after building, so the seeds always match the wire
// format of the tree being fuzzed.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz/frame_sequence.h"
#include "fuzz/scratch_store.h"
#include "fuzz/seed_data.h"
#include "store/key_encoding.h"

namespace {

namespace fs = std::filesystem;

class Corpus {
 public:
  Corpus(const fs::path& root, const std::string& name) : dir_(root / name) { fs::create_directories(dir_); }
  void add(const std::string& bytes) {
    std::ofstream out(dir_ / ("seed-" + std::to_string(count_++)), std::ios::binary);
    out << bytes;
  }
  std::size_t count() const { return count_; }

 private:
  fs::path dir_;
  std::size_t count_ = 0;
};

// Every record of `family`, as record_fuzzer.cc takes it: its selector byte, then the value.
void add_records(cw::Store& store, cw::Family family, char selector, Corpus* corpus) {
  store.scan(family, "", [&](std::string_view, std::string_view value) {
    corpus->add(std::string(1, selector) + std::string(value));
    return true;
  });
}

// The key suffixes after (run, tap) in `family`, for record_fuzzer.cc's key cases.
void add_key_suffixes(cw::Store& store, cw::Family family, char selector, Corpus* corpus) {
  store.scan(family, "", [&](std::string_view key, std::string_view) {
    cw::KeyReader reader(key);
    const std::size_t prefix = reader.text().size() + reader.text().size() + 2;
    corpus->add(std::string(1, selector) + std::string(key.substr(prefix)));
    return true;
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: cw_fuzz_seeds OUT_DIR [CONFIG.toml ...]\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::off);
  const fs::path root = argv[1];
  Corpus frames(root, "frame"), records(root, "record"), ingest(root, "ingest"), query(root, "query"),
      config(root, "config");

  std::vector<cw::Frame> all;
  for (const auto& run : cw::fuzz::seed_runs()) {
    const auto session = cw::fuzz::seed_session(run);
    for (const auto& frame : session) frames.add(frame);
    ingest.add(cw::fuzz::join_frames(session));
    all.insert(all.end(), session.begin(), session.end());
  }
  ingest.add(cw::fuzz::join_frames(all));
  all.insert(all.end(), all.begin(), all.end());  // every snapshot re-sent: the duplicate path
  ingest.add(cw::fuzz::join_frames(all));

  for (const auto& request : cw::fuzz::seed_queries()) {
    query.add(cw::encode_query_frame(request));
    frames.add(cw::encode_query_frame(request));
  }
  frames.add(cw::encode_hello_ack_frame({"seed-words", 64 << 20}));
  frames.add(cw::encode_snapshot_ack_frame({{"seed-words", "blocks.0.resid_post", 100, cw::ArrayKind::kProbeActivations, ""}, true}));
  frames.add(cw::encode_error_frame({cw::wire::ErrorCode::CONFLICT, "stored once",
                                     cw::SnapshotKey{"seed-words", "blocks.0.resid_post", 100, cw::ArrayKind::kProbeActivations, ""}}));
  frames.add(cw::encode_reply_frame({true, R"({"runs":[]})", ""}));

  cw::fuzz::ScratchStore scratch(~uint64_t(0));
  cw::fuzz::fill_seed_store(scratch.store());
  cw::Store& store = scratch.store();
  add_records(store, cw::Family::kRuns, 0, &records);
  add_records(store, cw::Family::kProbes, 1, &records);
  add_records(store, cw::Family::kSnapshotMeta, 2, &records);
  // record_fuzzer.cc's selector: kind + 10 × (format - 1); the store is in format 2.
  add_records(store, cw::Family::kTrajectories, 13, &records);
  add_records(store, cw::Family::kAttribution, 14, &records);
  add_records(store, cw::Family::kMetrics, 15, &records);
  add_records(store, cw::Family::kEvents, 15, &records);
  add_records(store, cw::Family::kTransitions, 15, &records);
  add_records(store, cw::Family::kMetrics, 16, &records);
  add_records(store, cw::Family::kEvents, 17, &records);
  add_key_suffixes(store, cw::Family::kTrajectories, 8, &records);
  add_key_suffixes(store, cw::Family::kAttribution, 9, &records);

  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::cerr << "cw_fuzz_seeds: cannot read " << argv[i] << "\n";
      return 1;
    }
    config.add(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  std::cout << "seeds: " << frames.count() << " frames, " << records.count() << " records, " << ingest.count()
            << " ingest sessions, " << query.count() << " queries, " << config.count() << " configs in " << root.string()
            << "\n";
  return 0;
}
