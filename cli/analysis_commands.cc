#include "cli/analysis_commands.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/run_target.h"
#include "cli/text_table.h"

namespace cw {
namespace {

std::string text(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// "contradicted (strength 0.97 before, 1.00 at)": what the activations say
// about an emergence or fade (crosscoder/emergence_evidence.h).
std::string evidence_text(const nlohmann::json& evidence) {
  if (evidence.is_null()) return "-";
  const std::string verdict = evidence.value("verdict", "none");
  if (verdict == "none" || verdict == "unmeasured") return verdict;
  const std::string strengths = " (strength " + fixed(evidence["activation_strength_before"], 2) + " before, " +
                                fixed(evidence["activation_strength_at"], 2) + " at)";
  // Dated by the activations (detect/emergence.h, activation_dates).
  if (verdict == "earlier") return "earlier: the activations switched on here, the decoder norm rose later" + strengths;
  return verdict + strengths;
}

// " sustained_surprise_share↑ icl_score↓": the moves of a transition event
// whose series are among `names` (every move when `names` is null), with
// their direction; " none" if none.
std::string moved_series(const nlohmann::json& e, const nlohmann::json& names = nullptr) {
  std::string out;
  for (const auto& move : e["series"]) {
    const bool named = names.is_null() || std::find(names.begin(), names.end(), move["series"]) != names.end();
    if (named) out += " " + text(move["series"]) + (move.value("direction", 0) > 0 ? "↑" : "↓");
  }
  return out.empty() ? std::string(" none") : out;
}

void print_event(const nlohmann::json& e) {
  const std::string type = e.value("type", "");
  std::cout << "#" << e.value("seq", 0) << " " << e.value("run", "") << "/" << e.value("tap", "") << " ";
  if (type == "phase_transition") {
    // `phases` answers current estimates (with raised_onset_step); an event
    // holds what was known when raised, while the move was under way.
    if (e.contains("raised_onset_step") || !e.contains("began_step")) {
      std::cout << "PHASE TRANSITION at step " << text(e["onset_step"]);
      if (e.contains("began_step")) std::cout << " (began " << text(e["began_step"]) << ")";
      std::cout << ", raised at step " << text(e.value("raised_at_step", e["alarm_step"]));
      if (e.contains("features_joined_at_step"))
        std::cout << ", the features joining at step " << text(e["features_joined_at_step"]);
    } else {
      std::cout << "PHASE TRANSITION raised at step " << text(e.value("raised_at_step", e["alarm_step"])) << " (began "
                << text(e["began_step"])
                << ", half done so far at step " << text(e["onset_step"]) << "; `phases` has the refined step)";
    }
    std::cout << (e.value("confirmed", false) ? ", confirmed by PELT" : "");
    // Which kind of signal flagged it: the crosscoder's feature series, the
    // job's scalars, or both (events from before the split list series only).
    if (e.contains("feature_signals")) {
      std::cout << "; feature signals:" << moved_series(e, e["feature_signals"])
                << "; scalars:" << moved_series(e, e["scalar_signals"]);
    } else {
      std::cout << "; series:" << moved_series(e);
    }
  } else if (type == "phase_transition_features") {
    std::cout << "phase transition (began " << text(e["began_step"]) << ") now seen in the features:"
              << moved_series(e, e["feature_signals"]) << " (at step " << text(e["raised_at_step"])
              << "); scalars:" << moved_series(e, e["scalar_signals"]);
  } else if (type == "phase_transition_resolved") {
    std::cout << "phase transition resolved (at step " << text(e["onset_step"]) << "): no series has moved since; "
              << "resolved at step " << text(e["step"]);
  } else if (type == "phase") {
    std::cout << "phase " << text(e["previous_phase"]) << " -> " << text(e["phase"]) << " at step " << text(e["step"])
              << " (loss " << fixed(e["loss"]) << ", unigram " << fixed(e["unigram_entropy"]) << ", bigram "
              << fixed(e["bigram_entropy"]) << ")";
  } else if (e.contains("feature")) {
    std::cout << "feature " << text(e["feature"]) << " " << text(e["kind"]) << " at step " << text(e["step"])
              << " (seen at step " << text(e["detected_at_step"]) << ")";
    if (e.contains("evidence") && e["evidence"].contains("verdict")) std::cout << "; activations: " << evidence_text(e["evidence"]);
  } else {
    std::cout << e.dump();
  }
  std::cout << "\n";
}

// Each command's options, owned by its callback (which the app keeps).
struct FeaturesArgs {
  RunTarget target;
  std::string sort = "emergence", filter = "live";
  int64_t limit = 50;
};

struct FeatureArgs {
  RunTarget target;
  uint32_t id = 0;
};

struct EventsArgs {
  std::string run, type;
  bool follow = false;
};

}  // namespace

std::string sparkline(const std::vector<double>& values) {
  static const char* bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string out;
  for (double v : values) {
    if (!std::isfinite(v)) {
      out += " ";
      continue;
    }
    const int level = int(std::lround(std::clamp(v, 0.0, 1.0) * 7));
    out += bars[level];
  }
  return out;
}

void add_analysis_commands(CLI::App& app, const CliContext& context, int* exit_code) {
  (void)exit_code;

  auto* crosscoder = app.add_subcommand("crosscoder", "crosscoder metrics per snapshot (explained variance, L0, ...)");
  auto cc_target = std::make_shared<RunTarget>();
  add_run_target(crosscoder, cc_target.get());
  crosscoder->callback([&context, cc_target] {
    print_answer(context, ask(context, "crosscoder", cc_target->params()).json, [](const nlohmann::json& j) {
      std::cout << text(j["run"]) << "/" << text(j["tap"]) << "\n";
      // KL_UNI / KL_BI: the job's predictions against the probe's unigram and
      // bigram statistics (hooks/prediction_divergence.h), when it sends them.
      // HELD_EV: the explained variance on the probe rows it never trains
      // on (crosscoder/held_out_rows.h); "-" in a store written before them.
      TextTable table({"STEP", "EXPLAINED_VAR", "HELD_EV", "L0", "DEAD", "DENSE", "MSE", "SURPRISE", "MISSED",
                       "EMERGING", "DIM_RATE", "KL_UNI", "KL_BI", "PHASE"});
      for (const auto& s : j["snapshots"]) {
        const auto series = s.value("series", nlohmann::json::object());
        auto value = [&](const char* name, int digits) {
          return series.contains(name) ? fixed(series[name], digits) : std::string("-");
        };
        const std::string held_ev = s.contains("held_out_explained_variance") ? fixed(s["held_out_explained_variance"]) : "-";
        table.add({text(s["step"]), fixed(s["explained_variance"]), held_ev, fixed(s["l0"], 1), fixed(s["dead_fraction"]),
                   fixed(s["dense_fraction"]), fixed(s["mse"], 4), value("surprise", 4), value("surprise_share", 3),
                   value("emergence_share", 3),
                   value("dimensionality_rate", 3), value("kl_unigram", 3), value("kl_bigram", 3),
                   series.contains("phase") ? text(series["phase"]) : "-"});
      }
      table.print(std::cout);
      // MISSED: share of the snapshot the dictionary missed as it arrived
      // (surprise / its energy); EMERGING: share of live features whose
      // emergence is dated at that snapshot; DIM_RATE: the feature-dimensionality rate (docs/ARCHITECTURE.md).
      const auto& newest = j["snapshots"].back();
      if (newest.contains("held_out_rows")) {
        std::cout << "held out: " << text(newest["held_out_rows"]) << " probe rows never trained on: explained variance "
                  << fixed(newest["held_out_explained_variance"]) << " ± "
                  << fixed(newest.value("held_out_explained_variance_se", nlohmann::json(0.0))) << " (" << fixed(newest["explained_variance"])
                  << " on the rows trained on), L0 " << fixed(newest["held_out_l0"], 1) << " ("
                  << fixed(newest["l0"], 1) << ")\n";
        if (newest.value("memorised", false))
          std::cout << "MEMORISED: the crosscoder fits the rows it trains on far better than the held-out ones; its "
                       "features and dates are not to be trusted until the probe set has more tokens (32 or more per "
                       "dimension of d_model: docs/CROSSCODER.md)\n";
      }
      const auto& flicker = j.value("flicker", nlohmann::json());
      if (!flicker.is_null()) {
        std::cout << "flicker: " << fixed(flicker["share"]) << " of live features (" << text(flicker["flickering_features"])
                  << " of " << text(flicker["live_features"]) << ") cross the emergence threshold more than once\n";
        if (!flicker.value("returned_share", nlohmann::json()).is_null())
          std::cout << "returned: " << fixed(flicker["returned_share"]) << " of live features ("
                    << text(flicker["returned_features"]) << ") are reported back after a fade (re-emerged)\n";
      }
    });
  });

  auto* features = app.add_subcommand("features", "features: when each emerged, how strong, how contextual");
  auto features_args = std::make_shared<FeaturesArgs>();
  add_run_target(features, &features_args->target);
  features->add_option("--sort", features_args->sort, "emergence, strength, contextuality or id")->capture_default_str();
  features->add_option("--filter", features_args->filter, "live, emerged, strengthened, transient, faded, present or all")
      ->capture_default_str();
  features->add_option("--limit", features_args->limit, "at most this many (0: all)")->capture_default_str();
  features->callback([&context, features_args] {
    const FeaturesArgs& args = *features_args;
    nlohmann::json params = args.target.params();
    params.update({{"sort", args.sort}, {"filter", args.filter}, {"limit", args.limit}});
    print_answer(context, ask(context, "features", params).json, [](const nlohmann::json& j) {
      // STRENGTHENED: the norm rose there but the activations say the
      // feature was already present (not an emergence).
      TextTable table({"FEATURE", "EMERGED", "STRENGTHENED", "FADED", "INIT", "NORM", "EVIDENCE", "FREQ", "CONTEXTUAL",
                       "TOP_CONTEXT"});
      for (const auto& f : j["features"]) {
        const nlohmann::json evidence = f.value("emergence_evidence", nlohmann::json());
        table.add({text(f["feature"]), text(f["emerged_step"]), text(f.value("strengthened_step", nlohmann::json())),
                   text(f["faded_step"]), f.value("initially_present", false) ? "yes" : "", fixed(f["decoder_norm"]),
                   evidence.is_null() ? "-" : evidence.value("verdict", "-"), fixed(f["frequency"], 4),
                   fixed(f["contextuality"], 2), f.value("top_context", "")});
      }
      table.print(std::cout);
      std::cout << j["features"].size() << " of " << j["matched"] << " features shown\n";
    });
  });

  auto* feature = app.add_subcommand("feature", "one feature's trajectory, sparkline and top contexts");
  auto feature_args = std::make_shared<FeatureArgs>();
  add_run_target(feature, &feature_args->target);
  feature->add_option("id", feature_args->id, "feature id")->required();
  feature->callback([&context, feature_args] {
    nlohmann::json params = feature_args->target.params();
    params["id"] = feature_args->id;
    print_answer(context, ask(context, "feature", params).json, [](const nlohmann::json& j) {
      std::vector<double> norms, strengths;
      for (const auto& p : j["trajectory"]) {
        norms.push_back(p["normalised_norm"].get<double>());
        const auto strength = p.value("activation_strength", nlohmann::json());
        strengths.push_back(strength.is_number() ? strength.get<double>() : NAN);
      }
      std::cout << "feature " << j["feature"] << " of " << text(j["run"]) << "/" << text(j["tap"])
                << ": emerged at step " << text(j["emerged_step"]);
      if (!j.value("strengthened_step", nlohmann::json()).is_null())
        std::cout << ", strengthened (present before, by its activations) at step " << text(j["strengthened_step"]);
      if (!j.value("transient_step", nlohmann::json()).is_null())
        std::cout << ", transient at step " << text(j["transient_step"])
                  << " (a direction of one snapshot: gone by the next, or turned to another)";
      std::cout << ", faded at step " << text(j["faded_step"]) << ", contextuality " << fixed(j["contextuality"], 2)
                << "\n";
      const nlohmann::json evidence = j.value("emergence_evidence", nlohmann::json());
      if (!evidence.is_null())
        std::cout << "evidence from the activations for the " << text(evidence["kind"]) << " at step "
                  << text(evidence["step"]) << ": " << evidence_text(evidence) << "\n";
      std::cout << "normalised decoder norm  " << sparkline(norms) << "\n";
      std::cout << "activation strength      " << sparkline(strengths) << "\n\n";
      TextTable table({"STEP", "NORM", "NORMALISED", "ACT_STRENGTH", "FREQ", "MEAN_ACT", "MAX_ACT", "COS_PREV",
                       "COS_LATEST"});
      for (const auto& p : j["trajectory"]) {
        table.add({text(p["step"]), fixed(p["decoder_norm"]), fixed(p["normalised_norm"]),
                   fixed(p.value("activation_strength", nlohmann::json())), fixed(p["frequency"], 4),
                   fixed(p["mean_activation"]), fixed(p["max_activation"]), fixed(p["cos_previous"]),
                   fixed(p["cos_latest"])});
      }
      table.print(std::cout);
      std::cout << "\ntop contexts (latest snapshot)\n";
      for (const auto& c : j["top_contexts"]) std::cout << "  " << fixed(c["activation"]) << "  " << text(c["text"]) << "\n";
      for (const auto& e : j["events"]) print_event(e);
    });
  });

  auto* events = app.add_subcommand("events", "emergence and phase-transition events");
  auto events_args = std::make_shared<EventsArgs>();
  events->add_option("--run", events_args->run, "only this run");
  events->add_option("--type", events_args->type,
                     "phase_transition, phase, feature_emerged, feature_strengthened, feature_faded, feature");
  events->add_flag("--follow,-f", events_args->follow, "keep printing new events (Ctrl-C to stop)");
  events->callback([&context, events_args] {
    const EventsArgs& args = *events_args;
    uint64_t after = 0;
    while (true) {
      nlohmann::json params = {{"run", args.run}, {"type", args.type}, {"after", after}};
      const Answer answer = ask(context, "events", params);
      for (const auto& e : answer.json) {
        after = std::max(after, e.value("seq", uint64_t(0)));
        if (context.json) {
          std::cout << e.dump() << "\n";  // JSON lines, one event each
        } else {
          print_event(e);
        }
      }
      std::cout.flush();
      if (!args.follow) break;
      // With the daemon down every poll opens the store read-only (~0.1 s
      // of CPU): poll it rarely, and ask the daemon again each time.
      std::this_thread::sleep_for(std::chrono::milliseconds(answer.from_daemon ? 500 : 5000));
      context.offline_store.reset();
    }
  });

  auto* phases = app.add_subcommand("phases", "phase transitions and the paper's training phases");
  auto phases_target = std::make_shared<RunTarget>();
  add_run_target(phases, phases_target.get());
  phases->callback([&context, phases_target] {
    print_answer(context, ask(context, "phases", phases_target->params()).json, [](const nlohmann::json& j) {
      std::cout << text(j["run"]) << "/" << text(j["tap"]) << ": current phase " << text(j["phase"]) << "\n";
      for (const auto& e : j["phase_changes"]) print_event(e);
      for (const auto& e : j["transitions"]) print_event(e);
      if (j["transitions"].empty()) std::cout << "no phase transition detected\n";
    });
  });
}

}  // namespace cw
