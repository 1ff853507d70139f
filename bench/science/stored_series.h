// The series conceptwatchd stored with each snapshot, from its `crosscoder`
// query answer (what `conceptwatch --json crosscoder` prints): what the
// science benchmark keeps per stream and cw_replay_transitions replays.
#ifndef CW_BENCH_SCIENCE_STORED_SERIES_H_
#define CW_BENCH_SCIENCE_STORED_SERIES_H_

#include <nlohmann/json.hpp>

namespace cw::bench {

// [{"step": s, series name: value, ...}], one per snapshot, in step order.
inline nlohmann::json stored_series(const nlohmann::json& crosscoder_answer) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& snapshot : crosscoder_answer.at("snapshots")) {
    nlohmann::json row = snapshot.value("series", nlohmann::json::object());
    row["step"] = snapshot.at("step");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace cw::bench

#endif  // CW_BENCH_SCIENCE_STORED_SERIES_H_
