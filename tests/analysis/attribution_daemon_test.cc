// Task attribution through the real conceptwatchd: a planted dictionary
// streamed with a task whose gradient is one planted atom's direction, so the
// answer is known — after the atom's onset the top feature by attribution is
// the one whose decoder direction matches the atom, and it emerged at the
// onset. The daemon's numbers are checked against an independent computation
// from `conceptwatch export`'s safetensors; the CLI's --json is the daemon's
// answer, also with the daemon down.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "examples/planted/planted_dictionary.h"
#include "tests/analysis/planted_stream.h"
#include "tests/support/cli_output.h"
#include "tests/support/safetensors_file.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::planted_step;

// The rising atom the task is about: on from a middle snapshot to the end,
// with the most probe tokens using it.
int64_t task_atom(const PlantedDictionary& p) {
  const int64_t T = p.options.n_snapshots, K = p.options.n_atoms, N = p.options.n_tokens;
  int64_t best = -1, best_rows = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (p.onset[k] < 2 || p.onset[k] > T - 3 || p.fade[k] < T) continue;
    int64_t rows = 0;
    for (int64_t i = 0; i < N; ++i) rows += p.coefficients[i * K + k] > 0;
    if (rows > best_rows) best = k, best_rows = rows;
  }
  return best;
}

// attr[t][i] = Σ_rows f_i^t (W_D,i^t · g^t) / scale_t from the exported
// weights (normalised units, x_norm = x_raw · scale):
// h = Σ_t (x_norm^t W_E^t + b_E^t), f_i^t = h_i · [h_i ‖W_D,i^t‖ > exp(log τ_i)].
std::vector<std::vector<double>> independent_attribution(const std::string& safetensors,
                                                         const testing::StreamedTask& task) {
  const auto w_e = testing::read_f32_safetensor(safetensors, "W_E");  // [T, d, F]
  const auto w_d = testing::read_f32_safetensor(safetensors, "W_D");  // [T, F, d]
  const auto b_e = testing::read_f32_safetensor(safetensors, "b_E");  // [T, F]
  const auto tau = testing::read_f32_safetensor(safetensors, "log_threshold");
  const auto scales = testing::read_f32_safetensor(safetensors, "scales");
  const int64_t T = w_e.shape[0], d = w_e.shape[1], F = w_e.shape[2];
  const int64_t rows = int64_t(task.token_ids.size());
  std::vector<std::vector<double>> norm(T, std::vector<double>(F)), attr(T, std::vector<double>(F, 0));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += double(w_d.values[(t * F + i) * d + j]) * w_d.values[(t * F + i) * d + j];
      norm[t][i] = std::sqrt(s);
    }
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> h(F, 0);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < F; ++i) {
        double s = b_e.values[t * F + i];
        for (int64_t j = 0; j < d; ++j)
          s += double(task.activations[t][r * d + j]) * scales.values[t] * w_e.values[(t * d + j) * F + i];
        h[i] += s;
      }
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < F; ++i) {
        if (!(h[i] * norm[t][i] > std::exp(double(tau.values[i])))) continue;
        double dm_df = 0;
        for (int64_t j = 0; j < d; ++j)
          dm_df += double(w_d.values[(t * F + i) * d + j]) * task.gradients[t][r * d + j];
        attr[t][i] += h[i] * dm_df / scales.values[t];
      }
  }
  return attr;
}

struct CliResult {
  int status = -1;
  std::string out, err;
};

// `conceptwatch ARGS` against the daemon's endpoint and data directory.
CliResult cli(const DaemonProcess& daemon, const std::string& args) {
  const std::string err_path = daemon.scratch().sub("cli.err");
  const auto run = testing::run_command(std::string(CW_CLI_PATH) + " --data-dir " + daemon.data_dir() +
                                        " --endpoint " + daemon.query_endpoint() + " --timeout-ms 500 " + args +
                                        " 2> " + err_path);
  CliResult result;
  result.status = run.status;
  result.out = run.out;
  std::stringstream err;
  err << std::ifstream(err_path).rdbuf();
  result.err = err.str();
  return result;
}

TEST(AttributionDaemon, TopFeatureOfAnAtomTaskIsTheAtomsFeatureAndEmergedAtItsOnset) {
  const auto p = make_planted_dictionary(recovery_fixture());
  const int64_t T = p.options.n_snapshots, d = p.options.d_model;
  const int64_t k = task_atom(p);
  ASSERT_GE(k, 0) << "the fixture has no atom rising in the middle";
  const int64_t onset = p.onset[k];
  // The probe ids stream_planted registers (make_run with probe seed 7).
  const auto probe_ids = testing::make_run("planted", {"resid"}, uint32_t(d), uint32_t(p.options.n_tokens), 64, 7)
                             .probe.token_ids;
  const testing::StreamedTask task = testing::atom_task(p, k, probe_ids);
  testing::StreamedTask no_gradient = task;
  no_gradient.name = "nograd";
  no_gradient.gradients.clear();

  testing::TempDir config_dir;
  DaemonProcess daemon({"--config", testing::write_crosscoder_config(config_dir, testing::kRecoveryCrosscoder)});
  daemon.start();
  testing::stream_planted(daemon, "planted", p, {}, {task, no_gradient});

  const auto answer = daemon.query("attribution", {{"run", "planted"}, {"task", "atom"}, {"top", 5}});
  ASSERT_EQ(answer["snapshots"].size(), std::size_t(T));
  EXPECT_TRUE(answer["complete"].get<bool>());
  EXPECT_EQ(answer["task_tokens"], task.token_ids.size());

  // Independent computation from the exported crosscoder (the state the
  // attribution was computed from: the last update's).
  const std::string out = daemon.scratch().sub("export");
  ASSERT_EQ(cli(daemon, "export --run planted --out " + out).status, 0);
  const auto expected = independent_attribution(out + "/crosscoder.safetensors", task);
  const int64_t F = int64_t(expected[0].size());
  ASSERT_EQ(answer["n_features"], F);

  for (int64_t t = 0; t < T; ++t) {
    const auto& snapshot = answer["snapshots"][t];
    ASSERT_EQ(snapshot["step"], planted_step(t));
    EXPECT_NEAR(snapshot["metric"].get<double>(), task.values[t], 1e-6 * std::abs(task.values[t]) + 1e-6);
    double total_abs = 0;
    int64_t argmax = 0;
    for (int64_t i = 0; i < F; ++i) {
      total_abs += std::abs(expected[t][i]);
      if (std::abs(expected[t][i]) > std::abs(expected[t][argmax])) argmax = i;
    }
    EXPECT_NEAR(snapshot["total_abs"].get<double>(), total_abs, 1e-3 * total_abs + 1e-6) << "step " << t;
    const auto& top = snapshot["top"][0];
    EXPECT_EQ(top["feature"], argmax) << "step " << t;
    for (const auto& row : snapshot["top"]) {
      const double want = expected[t][row["feature"].get<int64_t>()];
      EXPECT_NEAR(row["attribution"].get<double>(), want, 1e-3 * std::abs(want) + 1e-5) << "step " << t;
    }
    std::printf("step %llu: top feature %lld attribution %.4f (independent %.4f), share %.3f, emerged %s\n",
                (unsigned long long)planted_step(t), (long long)top["feature"].get<int64_t>(),
                top["attribution"].get<double>(), expected[t][top["feature"].get<int64_t>()],
                top["share"].get<double>(), top["emerged_step"].dump().c_str());
  }

  // The known answer: from the onset on, the top feature is the one whose
  // decoder direction is the atom's, carrying most of the task, and it
  // emerged at the onset.
  for (int64_t t = onset; t < T; ++t) {
    const auto directions = testing::exported_directions(daemon, "planted", t);
    const auto& top = answer["snapshots"][t]["top"][0];
    const int64_t feature = top["feature"].get<int64_t>();
    const double cos = testing::cosine(&p.atoms[t][k * d], directions[feature].data(), d);
    std::printf("atom %lld (onset step %llu) at step %llu: top feature %lld, cos with the atom %.3f\n", (long long)k,
                (unsigned long long)planted_step(onset), (unsigned long long)planted_step(t), (long long)feature, cos);
    EXPECT_GE(cos, 0.9) << "step " << planted_step(t);
    EXPECT_GE(top["share"].get<double>(), 0.5) << "step " << planted_step(t);
    EXPECT_EQ(top["emerged_step"], planted_step(onset)) << "step " << planted_step(t);
  }
  // "features": the top features at the last snapshot with their history;
  // the atom's feature carried almost none of the task before the onset.
  const auto& carrier = answer["features"][0];
  EXPECT_EQ(carrier["feature"], answer["snapshots"][T - 1]["top"][0]["feature"]);
  ASSERT_EQ(carrier["share"].size(), std::size_t(T));
  for (int64_t t = 0; t < onset; ++t) std::printf("before the onset, step %llu: share %.3f\n",
                                                  (unsigned long long)planted_step(t), carrier["share"][t].get<double>());
  for (int64_t t = 0; t + 1 < onset; ++t) EXPECT_LT(carrier["share"][t].get<double>(), 0.2) << "step " << t;

  // --step: that snapshot only.
  const auto one = daemon.query("attribution", {{"run", "planted"}, {"task", "atom"}, {"step", planted_step(onset)}});
  ASSERT_EQ(one["snapshots"].size(), 1u);
  EXPECT_EQ(one["snapshots"][0]["top"][0], answer["snapshots"][onset]["top"][0]);

  // The task without gradients is skipped, and the worker says why.
  const auto status = daemon.query("status", {{"run", "planted"}});
  const auto& worker = status["daemon"]["crosscoders"][0];
  EXPECT_EQ(worker["attribution"]["atom"]["state"], "computed") << worker.dump();
  EXPECT_EQ(worker["attribution"]["nograd"]["state"], "skipped") << worker.dump();
  EXPECT_NE(worker["attribution"]["nograd"].value("reason", "").find("no task gradient"), std::string::npos);

  // The CLI: --json is the daemon's answer; errors name what is wrong and list the tasks.
  const auto json = cli(daemon, "--json attribution --run planted --task atom --top 5");
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out), answer);
  const auto text = cli(daemon, "attribution --run planted --task atom --top 3");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("features carrying the task"), std::string::npos) << text.out;
  std::printf("%s", text.out.c_str());
  const auto no_task = cli(daemon, "attribution --run planted");
  EXPECT_EQ(no_task.status, 1);
  EXPECT_NE(no_task.err.find("missing parameter 'task'"), std::string::npos) << no_task.err;
  EXPECT_NE(no_task.err.find("atom"), std::string::npos) << no_task.err;
  EXPECT_NE(no_task.err.find("nograd"), std::string::npos) << no_task.err;
  const auto unknown = cli(daemon, "attribution --run planted --task ioi");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("has no task 'ioi'; its tasks: atom"), std::string::npos) << unknown.err;
  const auto gradless = cli(daemon, "attribution --run planted --task nograd");
  EXPECT_EQ(gradless.status, 1);
  EXPECT_NE(gradless.err.find("no gradients"), std::string::npos) << gradless.err;
  EXPECT_NE(cli(daemon, "attribution --run nosuchrun --task atom").err.find("unknown run"), std::string::npos);
  EXPECT_NE(cli(daemon, "attribution --run planted --tap mlp --task atom").err.find("has no tap 'mlp'"),
            std::string::npos);

  // With the daemon down the CLI answers the same from the read-only store.
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  const auto offline = cli(daemon, "--json attribution --run planted --task atom --top 5");
  ASSERT_EQ(offline.status, 0) << offline.err;
  EXPECT_EQ(nlohmann::json::parse(offline.out), answer);
}

}  // namespace
}  // namespace cw
