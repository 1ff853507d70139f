// Planted-dictionary snapshots streamed through the real conceptwatchd, one
// at a time, waiting for the daemon's crosscoder to take each in before the
// next (online mode, as checkpoints would arrive from a slow training job).
#ifndef CW_TESTS_ANALYSIS_PLANTED_STREAM_H_
#define CW_TESTS_ANALYSIS_PLANTED_STREAM_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "examples/planted/planted_dictionary.h"
#include "tests/support/daemon_process.h"

namespace cw::testing {

// The [crosscoder] section the recovery fixture is measured with: 64 features
// at L0 ≈ 3, λ scaled down from the paper's 0.3 (docs/CROSSCODER.md).
inline const char* kRecoveryCrosscoder =
    "n_features = 64\nbatch_size = 256\nsteps_per_update = 600\nlr = 0.003\nsparsity_lambda = 0.02\n"
    "seed = 2\nthreads = 1\n";

// The training step of snapshot index t in these tests.
inline uint64_t planted_step(int64_t t) { return uint64_t(t) * 100; }

// A task probe registered with the run and sent with every snapshot, before
// its probe activations (so the crosscoder's update finds it): at snapshot t
// the activations[t] and gradients[t], each [token_ids.size() × d_model],
// and the metric's value values[t] (as the scalar "task.<name>"). No
// gradients: only the activations are sent (a hook without gradients).
struct StreamedTask {
  std::string name;
  std::string metric;
  std::vector<uint32_t> token_ids;
  std::vector<std::vector<float>> activations, gradients;
  std::vector<double> values;
};

// The task "atom" on probe rows that use planted atom k (the first ones, a
// whole number of 64-token sequences, at most `max_rows`), metric
// m = Σ_rows a_k^t · x, so ∂m/∂x is a_k^t on every row. `probe_ids` are the
// probe's token ids as stream_planted registers them.
StreamedTask atom_task(const PlantedDictionary& planted, int64_t k, const std::vector<uint32_t>& probe_ids,
                       std::size_t max_rows = 256);

// Publishes every snapshot of `planted` as run `run`, tap "resid", each after
// the crosscoder has finished with the one before, and waits for the last.
// Scalars, if given, are sent with snapshot t as scalars[t]; without them a
// snapshot carries no scalars at all. `taken_in(t)`, if given, is called once
// the crosscoder has taken in snapshot t; each snapshot may take up to
// `per_snapshot` to be taken in.
void stream_planted(DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                    const std::vector<std::vector<std::pair<std::string, double>>>& scalars = {},
                    const std::vector<StreamedTask>& tasks = {},
                    const std::function<void(int64_t t)>& taken_in = {},
                    std::chrono::seconds per_snapshot = std::chrono::minutes(5));

// Publishes snapshot t of `planted` alone (run `run`, tap "resid") and waits
// until the daemon has stored it, not for its crosscoder update.
void publish_planted_snapshot(DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                              int64_t t);

// The daemon's status of the crosscoder worker of (run, "resid"), or null
// before it exists.
nlohmann::json worker_status(const DaemonProcess& daemon, const std::string& run);

// Whether a worker's "error" state ends a wait (kFinal: throws at once) or
// is one the caller expects to pass (kTransient: a failed update retried).
enum class WorkerErrors { kFinal, kTransient };

// Polls the worker of (run, "resid") every `poll` until `done(worker)`;
// throws with the daemon's log when it reports an error (unless
// `errors` is kTransient) or `timeout` passes ("did not WHAT within ...").
// `on_poll`, if given, sees every status polled that was not done.
void wait_for_worker(const DaemonProcess& daemon, const std::string& run, std::chrono::seconds timeout,
                     std::chrono::milliseconds poll, const std::function<bool(const nlohmann::json&)>& done,
                     const std::string& what, WorkerErrors errors = WorkerErrors::kFinal,
                     const std::function<void(const nlohmann::json&)>& on_poll = {});

// Waits (`timeout` at most) until that crosscoder holds `snapshots` heads
// and is idle; throws with the daemon's log otherwise.
void wait_for_crosscoder(const DaemonProcess& daemon, const std::string& run, int64_t snapshots,
                         std::chrono::seconds timeout = std::chrono::minutes(5));

// Waits (`timeout` at most) until that crosscoder has spent the refinement
// its last update granted ([crosscoder] refine_steps: `refine_steps_left` 0)
// and is idle; `progress(left)`, if given, is called about every 30 s with
// the steps still to train. Throws with the daemon's log otherwise.
void wait_for_refinement(const DaemonProcess& daemon, const std::string& run, std::chrono::seconds timeout,
                         const std::function<void(int64_t left)>& progress = {});

// `conceptwatch export` (the CLI process) of (run, "resid") into the daemon's
// scratch directory; returns the directory (crosscoder.safetensors in it).
std::string export_crosscoder(const DaemonProcess& daemon, const std::string& run);

// A daemon config file (in the daemon's scratch directory) with these
// [crosscoder] settings; returns its path.
std::string write_crosscoder_config(const TempDir& dir, const std::string& crosscoder_section);

// W_D at every snapshot, [T][n_features][d_model], unit rows (zero rows
// stay zero), read from `conceptwatch export` (the CLI process) of (run,
// "resid").
std::vector<std::vector<std::vector<float>>> exported_decoder(const DaemonProcess& daemon, const std::string& run);

// W_D at one snapshot, [n_features × d_model], unit rows, as above.
std::vector<std::vector<float>> exported_directions(const DaemonProcess& daemon, const std::string& run,
                                                    int64_t snapshot);

// Cosine of unit vector `a` with unit vector `b` of length d.
double cosine(const float* a, const float* b, int64_t d);

// Prints (to `out`), for a test that failed on one feature, what the daemon
// holds of it: its normalised decoder norm, activation strength and
// frequency per snapshot, and at each head the planted atom its decoder row
// is nearest to.
void print_feature_history(const DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                           int64_t feature, std::FILE* out = stdout);

}  // namespace cw::testing

#endif  // CW_TESTS_ANALYSIS_PLANTED_STREAM_H_
