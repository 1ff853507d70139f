#!/usr/bin/python3
"""The main job's transitions against the job's own loss drop.

Reads OUT/tinygpt.jsonl (the job's log), OUT/phases.json (`conceptwatch
--json phases`) and OUT/features.json (`conceptwatch --json features
--filter all --limit 0`), as deploy/demo.sh and bench/science/
tinygpt_seeds.sh write them. By default prints the demo's summary; with
--row SEED D_MODEL prints one markdown table row (loss drop, transitions
with their feature signals and job scalars, the largest emergence burst,
flicker from OUT/flicker.txt: the share of live features crossing the
emergence threshold more than once / the share reported back after a fade).
  deploy/transition_summary.py OUT [--ended-ms MS]
  deploy/transition_summary.py OUT --row SEED D_MODEL
"""
import argparse
import json
import os


def loss_drop_step(out):
    """First step at which the job's second-copy loss is below 2.0 (None: never)."""
    for line in open(os.path.join(out, "tinygpt.jsonl")):
        row = json.loads(line)
        if row.get("second_copy_loss", 9) < 2.0:
            return row["step"]
    return None


def emergence_burst(out, snapshot_steps):
    """(step, features) of the snapshot where most features' emergence is dated, past the run's
    first three snapshots (the crosscoder's own start); None without features.json."""
    path = os.path.join(out, "features.json")
    if not os.path.exists(path):
        return None
    counts = {}
    for feature in json.load(open(path))["features"]:
        if feature.get("live") and feature.get("emerged_step") is not None:
            counts[feature["emerged_step"]] = counts.get(feature["emerged_step"], 0) + 1
    steps = [step for step in counts if step not in snapshot_steps[:3]]
    if not steps:
        return None
    step = max(steps, key=lambda s: counts[s])
    return step, counts[step]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--ended-ms", type=int, default=None, help="when training ended (unix ms)")
    parser.add_argument("--row", nargs=2, metavar=("SEED", "D_MODEL"), help="print one table row")
    args = parser.parse_args()

    drop = loss_drop_step(args.out)
    phases = json.load(open(os.path.join(args.out, "phases.json")))
    transitions = phases["transitions"]
    snaps = [s["step"] for s in phases["series"]]
    if args.row:
        moves = ["%d: %s / %s" % (t["onset_step"], ",".join(t.get("feature_signals", [])) or "-",
                                  ",".join(t.get("scalar_signals", [])) or "-") for t in transitions]
        flicker_path = os.path.join(args.out, "flicker.txt")
        lines = open(flicker_path).read().splitlines() if os.path.exists(flicker_path) else []
        shares = {line.split(":")[0]: line.split(":")[1].split(" of")[0].strip() for line in lines if ":" in line}
        flicker = "%s / %s" % (shares.get("flicker", "-"), shares.get("returned", "-"))
        burst = emergence_burst(args.out, snaps)
        burst_text = "%d: %d" % burst if burst else "-"
        print("| %s | %s | %s | %s | %s | %s |" % (args.row[0], args.row[1], drop, "; ".join(moves) or "none", burst_text,
                                                   flicker))
        return

    print("second-copy loss first below 2.0 at step %s (the job's own log)" % drop)

    def snapshots_from_drop(step):
        # snapshots between a step and the first snapshot at or after the loss drop
        after = [i for i, s in enumerate(snaps) if s >= drop] if drop is not None else []
        return abs(snaps.index(step) - after[0]) if after and step in snaps else None

    print("%d phase transition(s) flagged (goal: one, within 1 snapshot of the loss drop)" % len(transitions))
    for t in transitions:
        when = ""
        if args.ended_ms is not None:
            when = ", %s training ended" % ("before" if t.get("raised_unix_ms", 0) <= args.ended_ms else "after")
        # Which feature signals (the crosscoder's series) and which of the job's
        # scalars flagged it: the claim is that the features show the transition.
        # Raised on the scalars first, the features joining later (the
        # crosscoder trails the job): when they did.
        joined = ""
        if t.get("features_joined_at_step") is not None:
            joined = ", the features joining at step %d" % t["features_joined_at_step"]
        print("phase transition at step %d (began %s, raised at step %d%s%s): %s snapshot(s) from the loss drop; "
              "feature signals: %s; scalars: %s"
              % (t["onset_step"], t.get("began_step"), t.get("raised_at_step", t["alarm_step"]), when, joined,
                 snapshots_from_drop(t["onset_step"]), ", ".join(t.get("feature_signals", [])) or "none",
                 ", ".join(t.get("scalar_signals", [])) or "none"))
    burst = emergence_burst(args.out, snaps)
    if burst:
        # Read back once the crosscoder has trained on later snapshots: online,
        # these features are recruited and dated back some snapshots later.
        print("largest burst of feature emergence: %d features dated at step %d, %s snapshot(s) from the loss drop"
              % (burst[1], burst[0], snapshots_from_drop(burst[0])))
    print("figures: %s/features.png (features x snapshots, sorted by emergence), %s/feature.png" % (args.out, args.out))


if __name__ == "__main__":
    main()
