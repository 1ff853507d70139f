"""Notebook-style tour of the Python query client: what conceptwatchd found
in a run, pulled into numpy (and torch), cell by cell.

    /usr/bin/python3 examples/python/query_features.py --run python-repeat
    /usr/bin/python3 examples/python/query_features.py --run python-repeat --export out/export

Run a job first (examples/python/train_repeat.py, or tinygpt) with the daemon
up. With matplotlib installed it saves the features x snapshots heatmap and a
few trajectories as PNG; without it, it prints them.
"""
import argparse
import subprocess

import numpy as np

import conceptwatch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:7782", help="conceptwatchd's query endpoint")
    parser.add_argument("--run", help="run id (default: the first run the daemon lists)")
    parser.add_argument("--tap", help="tap (default: the run's only tap)")
    parser.add_argument("--export", help="also `conceptwatch export` the crosscoder here and load it in torch")
    parser.add_argument("--cli", default="build/cli/conceptwatch", help="the conceptwatch CLI, for --export")
    parser.add_argument("--out", default="features_python.png", help="where the heatmap goes (with matplotlib)")
    args = parser.parse_args()

    # %% Connect (server_key=/secret_key= for a daemon with CURVE keys) and list the runs.
    cw = conceptwatch.connect(args.endpoint)
    runs = cw.runs()
    for run in runs:
        print(run["run"], [(tap["name"], tap["snapshots"]) for tap in run["taps"]])
    if not runs:
        print("no runs yet: start a job with conceptwatch.attach first")
        return
    run = args.run or runs[0]["run"]

    # %% Crosscoder quality per snapshot (the same JSON as `conceptwatch --json crosscoder`).
    for s in cw.crosscoder(run, args.tap)["snapshots"]:
        print("step %6d  explained variance %.3f  L0 %.1f" % (s["step"], s["explained_variance"], s["l0"]))

    # %% Trajectories: features x snapshots matrices, live features sorted by emergence (the paper's figure).
    t = cw.trajectories(run, args.tap, sort="emergence", filter="live")
    print("%d live features x %d snapshots (steps %s)" % (t.decoder_norm.shape + (list(t.steps),)))

    # %% Plot with matplotlib when it is there, else print the strongest features' rows.
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        fig, (heat, lines) = plt.subplots(1, 2, figsize=(12, 5))
        image = heat.imshow(t.normalised_norm, aspect="auto", interpolation="nearest", cmap="viridis")
        heat.set_xticks(range(len(t.steps)), [str(s) for s in t.steps], rotation=90)
        heat.set(xlabel="training step", ylabel="feature (sorted by emergence)", title="normalised decoder norm")
        fig.colorbar(image, ax=heat)
        for row in np.argsort(-t.decoder_norm[:, -1])[:5]:
            lines.plot(np.maximum(t.steps, 1), t.decoder_norm[row], label="feature %d" % t.features[row])
        lines.set(xscale="log", xlabel="training step", ylabel="decoder norm", title="strongest features")
        lines.legend()
        fig.tight_layout()
        fig.savefig(args.out)
        print("wrote", args.out)
    else:
        print("(no matplotlib: printing instead)")
        for row in np.argsort(-t.decoder_norm[:, -1])[:5]:
            print("feature %4d  " % t.features[row] + " ".join("%.2f" % v for v in t.normalised_norm[row]))

    # %% Events so far (events(run, follow=True) keeps waiting for new ones) and the phases.
    for event in cw.events(run):
        print("#%d %s step %s" % (event["seq"], event["type"], event.get("step")))
    print("current phase:", cw.phases(run, args.tap)["phase"])

    # %% The crosscoder itself in torch: encode/decode as the daemon computes them.
    if args.export:
        # export reads the stored crosscoder from the data directory (the daemon's, as `status` tells).
        subprocess.run([args.cli, "--data-dir", cw.status()["data_dir"], "export", "--run", run, "--out", args.export]
                       + (["--tap", args.tap] if args.tap else []), check=True)
        cc = conceptwatch.load_crosscoder(args.export)
        print("crosscoder: %d snapshots x %d features x d_model %d" % (cc.n_snapshots, cc.n_features, cc.d_model))
        print("decoder norms at the last snapshot equal the trajectories':",
              np.allclose(cc.decoder_norms()[-1].detach().numpy()[t.features], t.decoder_norm[:, -1], rtol=1e-6))


if __name__ == "__main__":
    main()
