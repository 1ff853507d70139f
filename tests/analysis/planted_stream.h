// Planted-dictionary snapshots streamed through the real conceptwatchd, one
// at a time, waiting for the daemon's crosscoder to take each in before the
// next (online mode, as checkpoints would arrive from a slow training job).
#ifndef CW_TESTS_ANALYSIS_PLANTED_STREAM_H_
#define CW_TESTS_ANALYSIS_PLANTED_STREAM_H_

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "examples/planted/planted_dictionary.h"
#include "tests/support/daemon_process.h"

namespace cw::testing {

// The training step of snapshot index t in these tests.
inline uint64_t planted_step(int64_t t) { return uint64_t(t) * 100; }

// Publishes every snapshot of `planted` as run `run`, tap "resid", each after
// the crosscoder has finished with the one before, and waits for the last.
// Scalars, if given, are sent with snapshot t as scalars[t].
void stream_planted(DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                    const std::vector<std::vector<std::pair<std::string, double>>>& scalars = {});

// A daemon config file (in the daemon's scratch directory) with these
// [crosscoder] settings; returns its path.
std::string write_crosscoder_config(const TempDir& dir, const std::string& crosscoder_section);

// W_D at the final snapshot, [n_features × d_model], unit rows, read from
// `conceptwatch export` (the CLI process) of (run, "resid").
std::vector<std::vector<float>> exported_directions(const DaemonProcess& daemon, const std::string& run,
                                                    int64_t snapshot);

// Cosine of unit vector `a` with unit vector `b` of length d.
double cosine(const float* a, const float* b, int64_t d);

}  // namespace cw::testing

#endif  // CW_TESTS_ANALYSIS_PLANTED_STREAM_H_
