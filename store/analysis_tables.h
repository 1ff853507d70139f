// What the daemon derives from snapshots, per (run, tap): the crosscoder's
// state, its metrics per snapshot, every feature's trajectory, and events.
#ifndef CW_STORE_ANALYSIS_TABLES_H_
#define CW_STORE_ANALYSIS_TABLES_H_

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace cw {

// Opaque crosscoder state (weights, optimiser, schedule), one per (run, tap).
// A state longer than `part_bytes` is stored in parts (docs/STORE.md "A
// state in parts"): RocksDB refuses a value of 4 GiB or more
// (Store::kMaxValueBytes), and a crosscoder of issue-12 size is ~19 GB.
// Readers see one string either way.
class CrosscoderStateTable {
 public:
  static constexpr std::size_t kPartBytes = std::size_t(1) << 30;

  explicit CrosscoderStateTable(Store& store, std::size_t part_bytes = kPartBytes);
  // Replaces the stored state, parts and all, in one atomic batch.
  void put(const std::string& run, const std::string& tap, const std::string& state);
  // Throws StoreError when a part of a stored state is missing or of the
  // wrong size.
  std::optional<std::string> get(const std::string& run, const std::string& tap) const;
  // Every (run, tap) that has a crosscoder.
  std::vector<std::pair<std::string, std::string>> list() const;

 private:
  Store& store_;
  std::size_t part_bytes_;
};

// The phase transitions of a (run, tap) as the detectors estimate them now
// (a JSON array stored as a document, store/document_record.h; rewritten as
// estimates are refined; the events keep the values they had when raised).
class TransitionTable {
 public:
  explicit TransitionTable(Store& store) : store_(store) {}
  void put(const std::string& run, const std::string& tap, const nlohmann::json& transitions);
  std::optional<nlohmann::json> get(const std::string& run, const std::string& tap) const;

 private:
  Store& store_;
};

// Crosscoder metrics per snapshot (explained_variance, l0, ...), as JSON
// objects stored as documents (store/document_record.h), so that new
// measures need no schema change. Overwritten as the
// crosscoder refines. Records written before "dead_fraction" and
// "dense_fraction" hold them under "dead_features" and "dense_features"
// only; list() gives them the new keys too.
class MetricsTable {
 public:
  explicit MetricsTable(Store& store) : store_(store) {}
  void put(const std::string& run, const std::string& tap, const std::vector<std::pair<uint64_t, nlohmann::json>>& by_step);
  std::vector<std::pair<uint64_t, nlohmann::json>> list(const std::string& run, const std::string& tap) const;

 private:
  Store& store_;
};

// One feature's measures at one snapshot.
struct FeaturePoint {
  uint64_t step = 0;
  float decoder_norm = 0;
  float normalised_norm = 0;  // decoder_norm / max over snapshots
  float frequency = 0;        // fraction of probe tokens on which it fires
  float mean_activation = 0;  // over the tokens where it fires
  float max_activation = 0;
  float cos_previous = 0;     // decoder direction vs the previous snapshot's
  float cos_latest = 0;       // decoder direction vs the latest snapshot's
  float contextuality = 0;    // share of activation variance the current token leaves unexplained
  // Strength in the activations themselves, 1 at the strongest snapshot; NaN
  // unmeasured or stored before it existed (crosscoder/emergence_evidence.h).
  float activation_strength = NAN;
};

struct FeatureContext {
  uint32_t token_index = 0;   // row in the probe set
  float activation = 0;
};

struct FeatureTrajectory {
  uint32_t feature = 0;
  std::vector<FeaturePoint> points;           // by snapshot, in step order
  std::vector<FeatureContext> top_contexts;   // at the latest snapshot, strongest first
};

class TrajectoryTable {
 public:
  explicit TrajectoryTable(Store& store) : store_(store) {}
  // Replaces the trajectories of these features (one batch).
  void put(const std::string& run, const std::string& tap, const std::vector<FeatureTrajectory>& features);
  std::optional<FeatureTrajectory> get(const std::string& run, const std::string& tap, uint32_t feature) const;
  std::vector<FeatureTrajectory> list(const std::string& run, const std::string& tap) const;

 private:
  Store& store_;
};

// Events keep the values they had when raised. Append-only, numbered per
// run; each a JSON object stored as a document (store/document_record.h).
class EventLog {
 public:
  explicit EventLog(Store& store) : store_(store) {}
  // Stores the event with "seq" set; returns the sequence number.
  uint64_t append(const std::string& run, nlohmann::json event);
  // Events of a run (or of every run when `run` is empty) with seq > after.
  std::vector<nlohmann::json> list(const std::string& run, uint64_t after = 0) const;

 private:
  Store& store_;
};

}  // namespace cw

#endif  // CW_STORE_ANALYSIS_TABLES_H_
