"""The Python query client and load_crosscoder against the real daemon
(driven by python_client_test.cc, which streams a planted run):

  1. starts following the run's events (conceptwatch.connect(...).events(follow=True))
     and prints "following"; the C++ test then streams the last snapshots
     and creates DONE;
  2. every answer equals `conceptwatch --json <command>` (the CLI process)
     for the same query, and trajectories() equals `features`/`feature`;
  3. `conceptwatch export` then load_crosscoder: its encode/decode on the
     probe set (ACTIVATIONS, float32 [T, N, d]) give the daemon's own
     per-snapshot reconstruction error and per-feature activation
     statistics within 1e-5;
  4. the follower saw exactly events(run).

    python_client_check.py QUERY_ENDPOINT DATA_DIR CLI RUN ACTIVATIONS DONE OUT_DIR
"""
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import torch

import conceptwatch

TOLERANCE = 1e-5


def cli(args, *command):
    """`conceptwatch --json COMMAND` against the same daemon, parsed."""
    out = subprocess.run([args["cli"], "--endpoint", args["endpoint"], "--data-dir", args["data_dir"], "--json",
                          *map(str, command)], check=True, capture_output=True, text=True).stdout
    return out


def close(name, ours, theirs, tolerance=TOLERANCE):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, "%s: shapes %s and %s" % (name, ours.shape, theirs.shape)
    error = np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs)), initial=0.0)
    print("%-40s max relative difference %.3g" % (name, error))
    assert error <= tolerance, "%s differs by %g" % (name, error)


def follow(client, run, seen):
    for event in client.events(run, follow=True, poll_s=0.05):
        seen.append(event)


def check_answers(args, client, run):
    """Each answer is the CLI's for the same query, and trajectories() are
    the `feature` queries' values."""
    assert client.runs() == json.loads(cli(args, "runs"))
    assert client.snapshots(run) == json.loads(cli(args, "snapshots", "--run", run))
    assert client.crosscoder(run) == json.loads(cli(args, "crosscoder", "--run", run))
    assert client.phases(run) == json.loads(cli(args, "phases", "--run", run))
    features = json.loads(cli(args, "features", "--run", run, "--sort", "id", "--filter", "all", "--limit", 0))
    assert client.features(run, sort="id", filter="all", limit=0) == features
    t = client.trajectories(run)
    assert list(t.features) == [f["feature"] for f in features["features"]], t.features
    assert t.decoder_norm.shape == (len(features["features"]), len(client.crosscoder(run)["snapshots"]))
    assert np.array_equal(t.decoder_norm[:, -1], [f["decoder_norm"] for f in features["features"]])
    assert np.array_equal(t.frequency[:, -1], [f["frequency"] for f in features["features"]])
    for row in (0, len(t.features) // 2, len(t.features) - 1):
        points = json.loads(cli(args, "feature", "--run", run, int(t.features[row])))["trajectory"]
        assert list(t.steps) == [p["step"] for p in points]
        for name in ("decoder_norm", "normalised_norm", "frequency", "max_activation"):
            assert np.array_equal(getattr(t, name)[row], [p[name] for p in points]), (name, row)
    lines = [json.loads(line) for line in cli(args, "events", "--run", run).splitlines()]
    assert list(client.events(run)) == lines
    print("runs, snapshots, crosscoder, phases, features, events: equal to the CLI's; trajectories %s x %s"
          % t.decoder_norm.shape)
    return t


def check_crosscoder(args, client, run, t):
    """load_crosscoder on the export against the daemon's own forward pass
    on the probe set, as it stored it: the per-snapshot mse of `crosscoder`
    (its reconstruction) and the per-feature statistics of `feature` (its
    encoding)."""
    out = os.path.join(args["out"], "export")
    cli(args, "export", "--run", run, "--out", out)
    cc = conceptwatch.load_crosscoder(out)
    T, N, d = cc.n_snapshots, None, cc.d_model
    raw = np.fromfile(args["activations"], dtype=np.float32).reshape(T, -1, d)
    N = raw.shape[1]
    assert list(cc.steps.tolist()) == list(t.steps)
    x = torch.from_numpy(raw).transpose(0, 1)  # [N, T, d]: the same probe token at every snapshot
    with torch.no_grad():
        f = cc.encode(x)                                  # [N, T, F]
        x_norm = cc.normalise(x)
        x_hat = cc.decode(f, normalised=True)
        raw_hat = cc(x)
    # The daemon's metrics are of the rows it trains on, and apart of the
    # rows it holds out (their own hash here: held_out_rows).
    held = torch.from_numpy(cc.held_out_rows(N))
    assert 0 < int(held.sum()) < N, "expected some held-out rows of %d" % N
    daemon = client.crosscoder(run)["snapshots"]
    for rows, prefix in ((~held, ""), (held, "held_out_")):
        err = ((x_norm[rows] - x_hat[rows]).double() ** 2).sum(-1).mean(0).numpy()
        ev = 1 - err / (x_norm[rows].double().var(0, unbiased=False).sum(-1)).numpy()
        if not prefix:
            close("reconstruction mse per snapshot", err, [s["mse"] for s in daemon])
        close(prefix + "explained variance per snapshot", ev, [s[prefix + "explained_variance"] for s in daemon])
    close("raw reconstruction (forward) in raw units", (raw_hat * cc.scales.unsqueeze(-1)).numpy(), x_hat.numpy())
    fires = (f > 0).double()
    order = t.features  # rows of the trajectory matrices
    close("frequency [F, T]", fires.mean(0).T.numpy()[order], t.frequency)
    close("max activation [F, T]", f.amax(0).T.double().numpy()[order], t.max_activation)
    close("mean activation [F, T]", (f.double().sum(0) / fires.sum(0).clamp(min=1)).T.numpy()[order],
          t.mean_activation)
    close("decoder norms [F, T]", cc.decoder_norms().detach().T.numpy()[order], t.decoder_norm)
    print("load_crosscoder: %d snapshots x %d features x d_model %d on %d probe tokens, %d active on average"
          % (T, cc.n_features, d, N, int(fires.sum() / (N * T))))


def main():
    keys = ("endpoint", "data_dir", "cli", "run", "activations", "done", "out")
    args = dict(zip(keys, sys.argv[1:]))
    run = args["run"]
    client = conceptwatch.connect(args["endpoint"], timeout_s=10)
    seen = []
    threading.Thread(target=follow, args=(conceptwatch.connect(args["endpoint"]), run, seen), daemon=True).start()
    print("following", flush=True)
    deadline = time.time() + 60
    while not os.path.exists(args["done"]):
        assert time.time() < deadline, "the test never streamed the last snapshots"
        time.sleep(0.05)

    t = check_answers(args, client, run)
    check_crosscoder(args, client, run, t)

    expected = list(client.events(run))
    deadline = time.time() + 5
    while len(seen) < len(expected) and time.time() < deadline:
        time.sleep(0.05)
    assert seen == expected, "the follower saw %d events, events() gives %d" % (len(seen), len(expected))
    print("events(follow=True): %d events, as events() gives" % len(seen))
    try:
        conceptwatch.connect("tcp://127.0.0.1:1", timeout_s=0.2).runs()
        raise AssertionError("no daemon, yet an answer")
    except conceptwatch.DaemonUnreachable:
        pass
    try:
        client.features("no-such-run")
        raise AssertionError("an unknown run answered")
    except conceptwatch.QueryError as e:
        assert "unknown run" in str(e), e
    return 0


if __name__ == "__main__":
    sys.exit(main())
