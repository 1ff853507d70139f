#include "tests/analysis/planted_stream.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "hooks/publisher.h"
#include "schema/checksum.h"
#include "tests/support/safetensors_file.h"
#include "tests/support/test_data.h"

#ifndef CW_CLI_PATH
#error "CW_CLI_PATH must name the conceptwatch binary"
#endif

namespace cw::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kSequenceLength = 64;

RunDescription planted_run(const std::string& run, const PlantedDictionary& planted,
                           const std::vector<StreamedTask>& tasks) {
  const auto& o = planted.options;
  RunDescription description =
      make_run(run, {"resid"}, uint32_t(o.d_model), uint32_t(o.n_tokens), kSequenceLength, /*probe_seed=*/7);
  for (const auto& task : tasks) description.tasks.push_back({task.name, task.token_ids, kSequenceLength, task.metric});
  return description;
}

void publish_and_flush(Publisher& publisher, const SnapshotMeta& meta, const float* data, int64_t t) {
  if (!publisher.publish(meta, data)) throw std::runtime_error("publish refused");
  if (!publisher.flush(std::chrono::seconds(30))) {
    throw std::runtime_error("snapshot " + std::to_string(t) + " not stored: " + publisher.stats().last_error);
  }
}

// Publishes task array `data` of `kind` at snapshot t.
void publish_task(Publisher& publisher, const SnapshotMeta& probe, const StreamedTask& task, ArrayKind kind,
                  const std::vector<float>& data, int64_t t) {
  SnapshotMeta meta = probe;
  meta.key.kind = kind;
  meta.key.task = task.name;
  meta.n_tokens = uint32_t(task.token_ids.size());
  meta.scalars = {};
  if (t < int64_t(task.values.size())) meta.scalars = {{"task." + task.name, task.values[t]}};
  if (data.size() != uint64_t(meta.n_tokens) * meta.d_model) throw std::invalid_argument("task array of wrong size");
  meta.checksum = checksum64(data.data(), data.size() * sizeof(float));
  if (!publisher.publish(meta, data.data())) throw std::runtime_error("publish of task " + task.name + " refused");
}

}  // namespace

void wait_for_worker(const DaemonProcess& daemon, const std::string& run, std::chrono::seconds timeout,
                     std::chrono::milliseconds poll, const std::function<bool(const nlohmann::json&)>& done,
                     const std::string& what, WorkerErrors errors,
                     const std::function<void(const nlohmann::json&)>& on_poll) {
  const auto deadline = Clock::now() + timeout;
  nlohmann::json worker;
  while (Clock::now() < deadline) {
    worker = worker_status(daemon, run);
    if (errors == WorkerErrors::kFinal && !worker.is_null() && worker.value("state", "") == "error") {
      throw std::runtime_error("crosscoder failed: " + worker.dump() + "\n" + daemon.log());
    }
    if (!worker.is_null() && done(worker)) return;
    if (on_poll) on_poll(worker);
    std::this_thread::sleep_for(poll);
  }
  throw std::runtime_error("crosscoder of " + run + " did not " + what + " within " + std::to_string(timeout.count()) +
                           " s: " + worker.dump() + "\n" + daemon.log());
}

StreamedTask atom_task(const PlantedDictionary& p, int64_t k, const std::vector<uint32_t>& probe_ids,
                       std::size_t max_rows) {
  const int64_t T = p.options.n_snapshots, K = p.options.n_atoms, N = p.options.n_tokens, d = p.options.d_model;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < N && rows.size() < max_rows; ++i)
    if (p.coefficients[i * K + k] > 0) rows.push_back(i);
  rows.resize(rows.size() / kSequenceLength * kSequenceLength);
  StreamedTask task;
  task.name = "atom";
  task.metric = "sum over task tokens of the planted atom's direction . x";
  for (const int64_t i : rows) task.token_ids.push_back(probe_ids[i]);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> x, g;
    double m = 0;
    for (const int64_t i : rows) {
      for (int64_t j = 0; j < d; ++j) {
        x.push_back(p.activations[t][i * d + j]);
        g.push_back(p.atoms[t][k * d + j]);
        m += double(x.back()) * g.back();
      }
    }
    task.activations.push_back(std::move(x));
    task.gradients.push_back(std::move(g));
    task.values.push_back(m);
  }
  return task;
}

nlohmann::json worker_status(const DaemonProcess& daemon, const std::string& run) {
  const auto status = daemon.query("status", {{"run", run}}, std::chrono::seconds(10));
  for (const auto& worker : status["daemon"].value("crosscoders", nlohmann::json::array())) {
    if (worker.value("run", "") == run) return worker;
  }
  return nullptr;
}

void wait_for_crosscoder(const DaemonProcess& daemon, const std::string& run, int64_t snapshots,
                         std::chrono::seconds timeout) {
  wait_for_worker(
      daemon, run, timeout, std::chrono::milliseconds(50),
      [&](const nlohmann::json& worker) {
        return worker.value("snapshots", int64_t(0)) == snapshots && worker.value("state", "") == "idle" &&
               worker.value("backlog", int64_t(0)) == 0;
      },
      "reach " + std::to_string(snapshots) + " snapshots");
}

void wait_for_refinement(const DaemonProcess& daemon, const std::string& run, std::chrono::seconds timeout,
                         const std::function<void(int64_t left)>& progress) {
  auto next_progress = Clock::now() + std::chrono::seconds(30);
  wait_for_worker(
      daemon, run, timeout, std::chrono::milliseconds(100),
      [](const nlohmann::json& worker) {
        return worker.value("refine_steps_left", int64_t(-1)) == 0 && worker.value("state", "") == "idle";
      },
      "finish its refinement", WorkerErrors::kFinal,
      [&](const nlohmann::json& worker) {
        const int64_t left = worker.is_null() ? -1 : worker.value("refine_steps_left", int64_t(-1));
        if (progress && left > 0 && Clock::now() >= next_progress) {
          progress(left);
          next_progress = Clock::now() + std::chrono::seconds(30);
        }
      });
}

void publish_planted_snapshot(DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                              int64_t t) {
  const RunDescription description = planted_run(run, planted, {});
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  Publisher publisher(description, options);
  publish_and_flush(publisher, probe_meta(description, "resid", planted_step(t), planted.activations[t]),
                    planted.activations[t].data(), t);
}

void stream_planted(DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                    const std::vector<std::vector<std::pair<std::string, double>>>& scalars,
                    const std::vector<StreamedTask>& tasks, const std::function<void(int64_t t)>& taken_in,
                    std::chrono::seconds per_snapshot) {
  const auto& o = planted.options;
  const RunDescription description = planted_run(run, planted, tasks);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  Publisher publisher(description, options);
  for (int64_t t = 0; t < o.n_snapshots; ++t) {
    SnapshotMeta meta = probe_meta(description, "resid", planted_step(t), planted.activations[t]);
    meta.scalars = t < int64_t(scalars.size()) ? scalars[t] : std::vector<std::pair<std::string, double>>{};
    for (const auto& task : tasks) {
      publish_task(publisher, meta, task, ArrayKind::kTaskActivations, task.activations.at(t), t);
      if (!task.gradients.empty()) publish_task(publisher, meta, task, ArrayKind::kTaskGradient, task.gradients.at(t), t);
    }
    publish_and_flush(publisher, meta, planted.activations[t].data(), t);
    wait_for_crosscoder(daemon, run, t + 1, per_snapshot);
    if (taken_in) taken_in(t);
  }
}

std::string write_crosscoder_config(const TempDir& dir, const std::string& crosscoder_section) {
  const std::string path = dir.sub("crosscoder.toml");
  std::ofstream(path) << "[crosscoder]\n" << crosscoder_section << "\n";
  return path;
}

std::string export_crosscoder(const DaemonProcess& daemon, const std::string& run) {
  const std::string out = daemon.scratch().sub("export-" + run);
  const std::string command = std::string(CW_CLI_PATH) + " --data-dir " + daemon.data_dir() + " --endpoint " +
                              daemon.query_endpoint() + " export --run " + run + " --out " + out + " > " + out +
                              ".log 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("conceptwatch export failed: " + command);
  return out;
}

std::vector<std::vector<std::vector<float>>> exported_decoder(const DaemonProcess& daemon, const std::string& run) {
  const std::string out = export_crosscoder(daemon, run);
  const F32Tensor exported = read_f32_safetensor(out + "/crosscoder.safetensors", "W_D");  // [T, F, d]
  const auto& shape = exported.shape;
  if (shape.size() != 3) throw std::runtime_error("W_D has an unexpected shape");
  const int64_t T = shape[0], F = shape[1], d = shape[2];
  std::vector<std::vector<std::vector<float>>> rows(T, std::vector<std::vector<float>>(F, std::vector<float>(d)));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) {
      const float* src = &exported.values[(t * F + i) * d];
      double norm = 0;
      for (int64_t j = 0; j < d; ++j) norm += double(src[j]) * src[j];
      norm = std::sqrt(std::max(norm, 1e-30));
      for (int64_t j = 0; j < d; ++j) rows[t][i][j] = float(src[j] / norm);
    }
  return rows;
}

std::vector<std::vector<float>> exported_directions(const DaemonProcess& daemon, const std::string& run,
                                                    int64_t snapshot) {
  auto all = exported_decoder(daemon, run);
  if (snapshot >= int64_t(all.size())) throw std::runtime_error("W_D has no snapshot " + std::to_string(snapshot));
  return std::move(all[snapshot]);
}

double cosine(const float* a, const float* b, int64_t d) {
  double dot = 0;
  for (int64_t j = 0; j < d; ++j) dot += double(a[j]) * b[j];
  return dot;
}

void print_feature_history(const DaemonProcess& daemon, const std::string& run, const PlantedDictionary& planted,
                           int64_t feature, std::FILE* out) {
  std::string norms;
  const auto answer = daemon.query("feature", {{"run", run}, {"id", feature}});
  for (const auto& point : answer.value("trajectory", nlohmann::json::array())) {
    const auto& strength = point["activation_strength"];
    char text[80];
    std::snprintf(text, sizeof text, " %.2f/%.2f/%.3f/%.2f", point["normalised_norm"].get<double>(),
                  strength.is_number() ? strength.get<double>() : NAN, point["frequency"].get<double>(),
                  point["cos_previous"].get<double>());
    norms += text;
  }
  std::fprintf(out, "  feature %lld, normalised decoder norm/activation strength/frequency/decoder cosine with the previous "
               "snapshot, per snapshot:%s\n",
               (long long)feature, norms.c_str());
  const int64_t d = planted.options.d_model;
  const auto decoder = exported_decoder(daemon, run);
  for (std::size_t t = 0; t < decoder.size(); ++t) {
    int64_t best_atom = -1;
    double best = 0;
    for (int64_t j = 0; j < planted.options.n_atoms; ++j) {
      const double c = cosine(&planted.atoms[t][j * d], decoder[t][feature].data(), d);
      if (std::fabs(c) > std::fabs(best)) best = c, best_atom = j;
    }
    std::fprintf(out, "  head %zu: nearest atom %lld cos %.3f (on %d)\n", t, (long long)best_atom, best,
                 int(best_atom >= 0 && planted.is_on(best_atom, int64_t(t))));
  }
}

}  // namespace cw::testing
