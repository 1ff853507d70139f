// cw_science_planted: planted streams through the real conceptwatchd with
// the DEFAULT config (no [crosscoder] section; only the data directory,
// ports and --crosscoder-priority normal), one snapshot at a time as a
// training job would send them, with no job scalars; then what the daemon
// claims (its crosscoder, features and phases queries, `conceptwatch
// export`) scored against what was planted (tests/analysis/planted_scorecard.h).
// One table row per stream, an aggregate per split, and how many streams
// meet each bar of docs/CROSSCODER.md ("Planted streams: what the default
// config achieves").
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/science/science_streams.h"
#include "bench/science/stored_series.h"
#include "tests/analysis/planted_scorecard.h"
#include "tests/analysis/planted_stream.h"

namespace cw::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct StreamResult {
  ScienceStream stream;
  int64_t n_features = 0;
  double seconds = 0;
  testing::Scorecard card;
  // With --refined, `card` scores the daemon after its idle refinement and
  // this one what it claimed right after the stream's last update.
  std::optional<testing::Scorecard> streamed_card;
  // Per snapshot: its step and the feature series the daemon stored with it
  // (the transition detector's inputs), to replay detector settings offline.
  nlohmann::json series = nlohmann::json::array();
  std::string error;  // non-empty: the stream did not run through
};

// What --explain and --explain-stray print.
enum class Explain { kNothing, kWrongClaims, kWrongAndStrayClaims };

// For every late or misdated claim of a matched feature on `card` (and with
// kWrongAndStrayClaims, every stray claim), the feature's trajectory and the
// planted atom nearest to it at each head, as the daemon holds them now.
void explain_claims(const testing::DaemonProcess& daemon, const PlantedDictionary& planted,
                    const testing::Scorecard& card, const char* when, Explain explain) {
  if (explain == Explain::kNothing) return;
  for (const auto* claims : {&card.late, &card.misdated})
    for (const auto& claim : *claims) {
      if (claim.value("feature", int64_t(-1)) < 0) continue;
      std::fprintf(stderr, "  %s: atom %lld (onset step %lld) claimed at %s:\n", when,
                   (long long)claim["atom"].get<int64_t>(), (long long)claim["onset_step"].get<int64_t>(),
                   claim["emerged_step"].dump().c_str());
      testing::print_feature_history(daemon, "planted", planted, claim["feature"].get<int64_t>(), stderr);
      for (const auto& rival : claim.value("rivals", nlohmann::json::array())) {
        std::fprintf(stderr, "  %s: atom %lld is also near feature %lld (|cos| %.3f, emerged %s):\n", when,
                     (long long)claim["atom"].get<int64_t>(), (long long)rival["feature"].get<int64_t>(),
                     rival["cosine"].get<double>(), rival["emerged_step"].dump().c_str());
        testing::print_feature_history(daemon, "planted", planted, rival["feature"].get<int64_t>(), stderr);
      }
    }
  if (explain != Explain::kWrongAndStrayClaims) return;
  for (const auto& claim : card.stray) {
    std::fprintf(stderr, "  %s: stray claim at %s, nearest atom %lld (|cos| %.3f, onset step %lld):\n", when,
                 claim["emerged_step"].dump().c_str(), (long long)claim["atom"].get<int64_t>(),
                 claim["cosine"].get<double>(), (long long)claim["onset_step"].get<int64_t>());
    testing::print_feature_history(daemon, "planted", planted, claim["feature"].get<int64_t>(), stderr);
  }
}

StreamResult run_stream(const ScienceStream& stream, int index, int count, std::chrono::seconds per_snapshot,
                        std::chrono::seconds refinement, bool refined, Explain explain, bool show_daemon_log,
                        const std::string& daemon_config) {
  StreamResult result;
  result.stream = stream;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  try {
    const PlantedDictionary planted = make_planted_dictionary(stream.options());
    const int64_t T = planted.options.n_snapshots;
    std::fprintf(stderr, "[%d/%d] %s (%s): %lld tokens, planted L0 %.2f at the end\n", index, count,
                 stream.name().c_str(), stream.split.c_str(), (long long)planted.options.n_tokens,
                 planted.mean_active(T - 1));
    testing::DaemonProcess daemon(daemon_config.empty() ? std::vector<std::string>{}
                                                        : std::vector<std::string>{"--config", daemon_config});
    daemon.start();
    testing::stream_planted(
        daemon, "planted", planted, {}, {},
        [&](int64_t t) {
          std::fprintf(stderr, "  snapshot %lld/%lld taken in, %.0f s\n", (long long)t + 1, (long long)T, elapsed());
        },
        per_snapshot);
    auto report = testing::read_daemon_report(daemon, "planted");
    result.card = testing::score_planted(planted, report, testing::planted_step);
    explain_claims(daemon, planted, result.card, refined ? "as streamed" : "claim", explain);
    if (refined) {
      std::fprintf(stderr, "  scored as streamed, %.0f s; waiting for the idle refinement\n", elapsed());
      testing::wait_for_refinement(daemon, "planted", refinement, [&](int64_t left) {
        std::fprintf(stderr, "  refining: %lld steps left, %.0f s\n", (long long)left, elapsed());
      });
      result.streamed_card = result.card;
      report = testing::read_daemon_report(daemon, "planted");
      result.card = testing::score_planted(planted, report, testing::planted_step);
      explain_claims(daemon, planted, result.card, "refined", explain);
    }
    result.series = stored_series(report.crosscoder);
    result.n_features = report.directions.empty() ? 0 : int64_t(report.directions[0].size());
    if (daemon.terminate() != 0) std::fprintf(stderr, "  conceptwatchd did not stop cleanly\n");
    if (show_daemon_log) std::fprintf(stderr, "%s", daemon.log().c_str());
  } catch (const std::exception& e) {
    result.error = e.what();
    // The daemon's whole log can be long: the first lines say what failed.
    if (result.error.size() > 2000) result.error = result.error.substr(0, 2000) + " ...";
    std::fprintf(stderr, "  FAILED: %s\n", result.error.c_str());
  }
  result.seconds = elapsed();
  return result;
}

std::string share(int part, int whole) {
  if (whole == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%d/%d", part, whole);
  return text;
}

void print_row(const StreamResult& r) {
  const auto& c = r.card;
  if (!r.error.empty()) {
    std::printf("| %s | %s | failed: %.80s |\n", r.stream.name().c_str(), r.stream.split.c_str(), r.error.c_str());
    return;
  }
  std::string steps;
  for (auto s : c.transition_steps) steps += (steps.empty() ? "" : ",") + std::to_string(s);
  char held[32] = "-";
  if (!std::isnan(c.held_out_explained_variance))
    std::snprintf(held, sizeof held, "%.3f%s", c.held_out_explained_variance, c.memorised ? " (memorised)" : "");
  // Results saved before false fades were counted have no count.
  const std::string false_fades = c.lasting_matched < 0 ? "-" : share(c.false_fades, c.lasting_matched);
  std::printf("| %s | %s | %lld | %.3f | %.3f | %s | %.2f/%.2f (%.2f) | %s | %s | %s | %s | %d/%d | %s | %s | %s | %d [%s] | %d (%d, %d, %d)/%d | %.0f |\n",
              r.stream.name().c_str(), r.stream.split.c_str(), (long long)r.n_features, c.mean_max_cosine,
              c.explained_variance, held, c.l0, c.planted_l0, c.l0_ratio(), share(c.dated_exact, c.rising).c_str(),
              share(c.dated_within_one, c.rising).c_str(), share(c.rising - c.rising_matched, c.rising).c_str(),
              share(c.late_claims, c.from_start_matched).c_str(), c.strengthened_from_start, c.strengthened_rising,
              share(c.faded, c.fading).c_str(), false_fades.c_str(),
              share(c.mass_flagged, int(c.mass_snapshots.size())).c_str(), c.false_alarms, steps.c_str(),
              c.stray_claims, c.stray_copies, c.stray_copies_dated_right, c.stray_partial, c.live, r.seconds);
}

// The bars, per stream: (name, applies, met).
std::vector<std::tuple<std::string, bool, bool>> bars(const testing::Scorecard& c) {
  return {
      {"mean max cos >= 0.95", true, c.mean_max_cosine >= 0.95},
      {"EV >= 0.9", true, c.explained_variance >= 0.9},
      {"L0 within 25% of planted", true, std::fabs(c.l0_ratio() - 1) <= 0.25},
      {"emergence exact >= 90%", c.rising > 0, c.dated_exact_share() >= 0.9},
      {"every mass emergence flagged +-1", !c.mass_snapshots.empty(), c.mass_flagged == int(c.mass_snapshots.size())},
      {"no false alarm", true, c.false_alarms == 0},
      {"late claims <= 5% of from-start atoms", c.from_start_matched > 0, c.late_claim_share() <= 0.05},
  };
}

void print_table(const std::vector<StreamResult>& results) {
  std::printf(
      "| stream | split | features | mean max cos | EV | held-out EV | L0/planted (ratio) | emergence exact | ±1 | rising unmatched | "
      "late claims (from-start matched) | strengthened from-start/rising | faded | false fades (lasting matched) | "
      "mass flagged ±1 | "
      "false alarms [transition steps] | stray claims (copies, copies dated at their atom's onset, partial copies)/live | s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) print_row(r);

  // Pooled per split (and over all): shares over atoms, counts over streams.
  std::map<std::string, std::vector<const StreamResult*>> splits;
  for (const auto& r : results) {
    if (!r.error.empty()) continue;
    splits[r.stream.split].push_back(&r);
    splits["all"].push_back(&r);
  }
  std::printf("\n| split | streams | mean of mean max cos | min EV | exact | ±1 | late claims | faded | mass flagged | false alarms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& [split, rows] : splits) {
    double cos = 0, min_ev = 1;
    int exact = 0, within = 0, rising = 0, late = 0, start = 0, faded = 0, fading = 0, mass = 0, flagged = 0, alarms = 0;
    for (const auto* r : rows) {
      const auto& c = r->card;
      cos += c.mean_max_cosine / rows.size();
      min_ev = std::min(min_ev, c.explained_variance);
      exact += c.dated_exact, within += c.dated_within_one, rising += c.rising;
      late += c.late_claims, start += c.from_start_matched, faded += c.faded, fading += c.fading;
      mass += int(c.mass_snapshots.size()), flagged += c.mass_flagged, alarms += c.false_alarms;
    }
    std::printf("| %s | %zu | %.3f | %.3f | %s | %s | %s | %s | %s | %d |\n", split.c_str(), rows.size(), cos, min_ev,
                share(exact, rising).c_str(), share(within, rising).c_str(), share(late, start).c_str(),
                share(faded, fading).c_str(), share(flagged, mass).c_str(), alarms);
  }

  std::printf("\n| bar | streams meeting it |\n|---|---|\n");
  std::map<std::string, std::pair<int, int>> met;
  std::vector<std::string> order;
  for (const auto& r : results) {
    if (!r.error.empty()) continue;
    for (const auto& [name, applies, ok] : bars(r.card)) {
      if (!met.count(name)) order.push_back(name);
      auto& m = met[name];
      if (applies) m.second++, m.first += ok;
    }
  }
  for (const auto& name : order) std::printf("| %s | %s |\n", name.c_str(), share(met[name].first, met[name].second).c_str());
}

// With --refined: the bars' measures as streamed -> refined, per stream.
void print_refinement_table(const std::vector<StreamResult>& results) {
  bool any = false;
  for (const auto& r : results) any |= r.error.empty() && r.streamed_card.has_value();
  if (!any) return;
  std::printf("\n| stream | split | mean max cos | EV | L0 ratio | emergence exact | late claims | mass flagged | false alarms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    if (!r.error.empty() || !r.streamed_card) continue;
    const auto &a = *r.streamed_card, &b = r.card;
    std::printf("| %s | %s | %.3f → %.3f | %.3f → %.3f | %.2f → %.2f | %s → %s | %s → %s | %s → %s | %d → %d |\n",
                r.stream.name().c_str(), r.stream.split.c_str(), a.mean_max_cosine, b.mean_max_cosine,
                a.explained_variance, b.explained_variance, a.l0_ratio(), b.l0_ratio(),
                share(a.dated_exact, a.rising).c_str(), share(b.dated_exact, b.rising).c_str(),
                share(a.late_claims, a.from_start_matched).c_str(), share(b.late_claims, b.from_start_matched).c_str(),
                share(a.mass_flagged, int(a.mass_snapshots.size())).c_str(),
                share(b.mass_flagged, int(b.mass_snapshots.size())).c_str(), a.false_alarms, b.false_alarms);
  }
}

// Results saved by --json runs, read back (several runs in parallel, one
// table).
std::vector<StreamResult> read_results(const std::vector<std::string>& paths) {
  std::vector<StreamResult> results;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    for (const auto& row : nlohmann::json::parse(in)) {
      StreamResult r;
      r.stream = parse_science_stream(row.at("stream").get<std::string>());
      r.stream.split = row.at("split").get<std::string>();
      r.seconds = row.at("seconds").get<double>();
      if (row.contains("error")) {
        r.error = row["error"].get<std::string>();
      } else {
        r.n_features = row.at("n_features").get<int64_t>();
        r.card = testing::Scorecard::from_json(row.at("score"));
        if (row.contains("score_streamed")) r.streamed_card = testing::Scorecard::from_json(row["score_streamed"]);
        r.series = row.value("series", nlohmann::json::array());
      }
      results.push_back(std::move(r));
    }
  }
  return results;
}

nlohmann::json results_json(const std::vector<StreamResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json row = {{"stream", r.stream.name()}, {"split", r.stream.split}, {"seconds", r.seconds}};
    if (!r.error.empty()) {
      row["error"] = r.error;
    } else {
      row["n_features"] = r.n_features;
      row["score"] = r.card.to_json();
      if (r.streamed_card) row["score_streamed"] = r.streamed_card->to_json();
      row["series"] = r.series;
      nlohmann::json met = nlohmann::json::object();
      for (const auto& [name, applies, ok] : bars(r.card)) met[name] = applies ? nlohmann::json(ok) : nlohmann::json();
      row["bars"] = met;
    }
    out.push_back(row);
  }
  return out;
}

}  // namespace
}  // namespace cw::bench

int main(int argc, char** argv) {
  using namespace cw::bench;
  CLI::App app{
      "cw_science_planted: planted streams through the real conceptwatchd with the default config, "
      "what it claims scored against what was planted"};
  std::vector<std::string> names;
  std::vector<uint64_t> seeds;
  std::string split = "all";
  bool json = false, list = false, daemon_log = false, refined = false, explain = false, explain_stray = false;
  int per_snapshot_s = 900;
  // The idle refinement (4,000 steps) took ~1,400 s of one core at d 256
  // (2,048 features, 6 snapshots) on this 2-core machine.
  int refinement_s = 3600;
  std::vector<std::string> tables;
  app.add_option("--stream", names,
                 "a stream by name, STRUCTURE/dD/kK/tT/sS, optionally then /aA (atoms per token), /rR (drift per "
                 "snapshot), /nN (noise) (repeatable; default: every built-in one of --split)");
  app.add_option("--seed", seeds, "run each chosen stream at these seeds instead of its own (repeatable; ad hoc)");
  app.add_option("--split", split, "the built-in streams to run: tune, held-out, fresh or all")
      ->check(CLI::IsMember({"tune", "held-out", "fresh", "all"}));
  app.add_flag("--json", json, "print the results as JSON (progress still goes to stderr)");
  app.add_flag("--refined", refined,
               "score each stream again once the daemon has refined its crosscoder while idle ([crosscoder] "
               "refine_steps, on by default): the table is the refined state, a second one compares");
  app.add_flag("--explain", explain,
               "print to stderr, for every late or misdated claim of a matched feature, the feature's trajectory and "
               "the planted atom nearest to it at each head (with --refined: the claims as streamed, then the refined ones)");
  app.add_flag("--explain-stray", explain_stray,
               "--explain, and the same for every stray claim (a live feature matched to no atom that claims an "
               "emergence), with the atom nearest to it");
  app.add_flag("--daemon-log", daemon_log, "print each stream's conceptwatchd log to stderr once it is scored");
  app.add_flag("--list", list, "list the built-in streams and exit");
  app.add_option("--snapshot-timeout", per_snapshot_s, "seconds one snapshot may take to be taken in")
      ->check(CLI::Range(1, 86400));
  app.add_option("--refinement-timeout", refinement_s, "seconds the idle refinement may take (with --refined)")
      ->check(CLI::Range(1, 86400));
  std::string daemon_config;
  app.add_option("--daemon-config", daemon_config,
                 "run the daemon with this TOML file instead of the default config (to try a setting; the "
                 "bars are for the defaults)")
      ->check(CLI::ExistingFile);
  app.add_option("--table", tables, "print the table of results saved by earlier --json runs (files), run nothing");
  CLI11_PARSE(app, argc, argv);

  if (!tables.empty()) {
    try {
      const auto results = read_results(tables);
      if (json) {
        std::cout << results_json(results).dump(1) << "\n";
      } else {
        print_table(results);
        print_refinement_table(results);
      }
    } catch (const std::exception& e) {
      std::cerr << "cw_science_planted: " << e.what() << "\n";
      return 2;
    }
    return 0;
  }

  std::vector<ScienceStream> streams;
  try {
    if (names.empty()) {
      for (const auto& s : science_streams())
        if (split == "all" || s.split == split) streams.push_back(s);
    } else {
      for (const auto& name : names) streams.push_back(parse_science_stream(name));
    }
  } catch (const std::exception& e) {
    std::cerr << "cw_science_planted: " << e.what() << "\n";
    return 2;
  }
  if (!seeds.empty()) {
    std::vector<ScienceStream> reseeded;
    for (auto s : streams)
      for (uint64_t seed : seeds) {
        s.seed = seed;
        s.split = "ad hoc";
        reseeded.push_back(s);
      }
    streams = reseeded;
  }
  if (list) {
    for (const auto& s : streams) std::printf("%s\t%s\n", s.name().c_str(), s.split.c_str());
    return 0;
  }

  std::vector<StreamResult> results;
  for (std::size_t i = 0; i < streams.size(); ++i)
    results.push_back(run_stream(streams[i], int(i) + 1, int(streams.size()), std::chrono::seconds(per_snapshot_s),
                                 std::chrono::seconds(refinement_s), refined,
                                 explain_stray ? Explain::kWrongAndStrayClaims
                                 : explain     ? Explain::kWrongClaims
                                               : Explain::kNothing,
                                 daemon_log, daemon_config));
  if (json) {
    std::cout << results_json(results).dump(1) << "\n";
  } else {
    print_table(results);
    print_refinement_table(results);
  }
  for (const auto& r : results)
    if (!r.error.empty()) return 1;
  return 0;
}
