"""Ask conceptwatchd from Python: the CLI's queries, as Python objects.

    import conceptwatch
    cw = conceptwatch.connect("tcp://127.0.0.1:7782")
    cw.runs()                                   # as `conceptwatch --json runs`
    t = cw.trajectories("my-run")               # numpy: features x snapshots
    for event in cw.events("my-run", follow=True):
        print(event)

Each query goes through the C++ client the CLI uses (query/daemon_client.h,
bound in _conceptwatch.QueryClient) and the daemon's one query handler, so
every answer is the JSON `conceptwatch --json <command>` prints for the same
parameters, parsed with the json module. Unlike the CLI, the client does not
fall back to reading the data directory when the daemon is down: it raises
DaemonUnreachable.
"""

import json
import os
import time
from dataclasses import dataclass

import numpy as np

from ._conceptwatch import DaemonRefused, DaemonUnreachable, QueryClient, QueryError

__all__ = ["connect", "Client", "Trajectories", "DaemonUnreachable", "DaemonRefused", "QueryError"]

DEFAULT_QUERY_ENDPOINT = "tcp://127.0.0.1:7782"  # schema/defaults.h, as the CLI's --endpoint


@dataclass
class Trajectories:
    """Every feature's trajectory over the crosscoder's snapshots: row r is
    feature `features[r]`, column s the snapshot at training step `steps[s]`.
    Values are the `feature` query's trajectory points (NaN where it gives
    null: activation_strength before the activations can tell)."""
    run: str
    tap: str
    steps: np.ndarray               # [S] int64
    features: np.ndarray            # [F] int64 feature ids, in the `features` query's order
    decoder_norm: np.ndarray        # [F, S] ||W_D|| per snapshot
    normalised_norm: np.ndarray     # [F, S] decoder_norm / the feature's maximum over snapshots
    frequency: np.ndarray           # [F, S] share of probe tokens the feature fires on
    mean_activation: np.ndarray     # [F, S] mean activation where it fires
    max_activation: np.ndarray      # [F, S]
    activation_strength: np.ndarray  # [F, S]


_TRAJECTORY_FIELDS = ("decoder_norm", "normalised_norm", "frequency", "mean_activation", "max_activation",
                      "activation_strength")


def _target(run, tap):
    params = {"run": run}
    if tap:
        params["tap"] = tap  # else the run's only tap, as the CLI's --tap
    return params


class Client:
    """A connection to conceptwatchd's query socket (see connect). One
    client may be shared by threads; queries from them take turns."""

    def __init__(self, endpoint=DEFAULT_QUERY_ENDPOINT, timeout_s=5.0, server_key=None, secret_key=None):
        self._client = QueryClient(endpoint, timeout_s, server_key or "", secret_key or "")

    @property
    def endpoint(self):
        """The daemon's query endpoint."""
        return self._client.endpoint

    def query(self, command, **params):
        """Any query by name with its parameters (the CLI's options, as the
        daemon takes them: run, tap, sort, filter, limit, id, after, ...).
        Returns the parsed answer; raises DaemonUnreachable (no answer within
        the timeout), DaemonRefused (CURVE keys refused) or QueryError (the
        daemon's message: unknown run, no crosscoder yet, ...)."""
        params = {k: v for k, v in params.items() if v is not None}
        return json.loads(self._client.query(command, json.dumps(params)))

    def status(self, run=None, taps=None, limit=None):
        """The daemon's state: as `conceptwatch --json status`. A summary by
        default (counts of crosscoders by state, the taps that need
        attention, the first `limit` runs); `run` adds that run's per-tap
        crosscoders (daemon.crosscoders), `taps=True` every run's and tap's."""
        return self.query("status", run=run, taps=taps, limit=limit)

    def runs(self):
        """Runs and their taps: as `conceptwatch --json runs`."""
        return self.query("runs")

    def snapshots(self, run, tap=None):
        """Stored snapshots of a run (one tap, or all): as
        `conceptwatch --json snapshots --run RUN [--tap TAP]`."""
        return self.query("snapshots", **_target(run, tap))

    def crosscoder(self, run, tap=None):
        """Crosscoder metrics per snapshot (explained_variance, l0, mse, ...,
        and the feature and scalar series): as `conceptwatch --json
        crosscoder --run RUN [--tap TAP]`."""
        return self.query("crosscoder", **_target(run, tap))

    def features(self, run, tap=None, sort="emergence", filter="live", limit=50):
        """Feature summaries (emerged/faded steps, latest norm, frequency,
        top context): as `conceptwatch --json features --run RUN --sort S
        --filter F --limit N` (limit 0: all)."""
        return self.query("features", sort=sort, filter=filter, limit=limit, **_target(run, tap))

    def feature(self, run, feature, tap=None):
        """One feature's summary, trajectory, top contexts and events: as
        `conceptwatch --json feature --run RUN ID`."""
        return self.query("feature", id=int(feature), **_target(run, tap))

    def trajectories(self, run, tap=None, sort="id", filter="all", limit=0):
        """The features x snapshots matrices of the paper's figure (decoder
        norm and the rest, see Trajectories) for the features the `features`
        query lists with these options (default: every feature, by id), from
        one `feature` query each: the values are those the CLI prints. A
        dictionary of F features costs F queries (about a millisecond each
        on loopback): pass filter="live" or a limit to ask fewer."""
        for _ in range(3):  # an update landing between two queries shifts the steps: ask again
            listed = self.features(run, tap, sort=sort, filter=filter, limit=limit)
            ids = [f["feature"] for f in listed["features"]]
            points = [self.feature(run, i, listed["tap"])["trajectory"] for i in ids]
            steps = [p["step"] for p in points[0]] if points else []
            if all([p["step"] for p in row] == steps for row in points):
                break
        else:
            raise QueryError("the crosscoder of %s kept updating while its trajectories were read" % run)
        matrices = {name: np.array([[np.nan if p.get(name) is None else p[name] for p in row] for row in points],
                                   dtype=np.float64).reshape(len(ids), len(steps))
                    for name in _TRAJECTORY_FIELDS}
        return Trajectories(run=listed["run"], tap=listed["tap"], steps=np.array(steps, dtype=np.int64),
                            features=np.array(ids, dtype=np.int64), **matrices)

    def events(self, run=None, type=None, follow=False, after=0, poll_s=0.5):
        """Yields events (dicts, each a line of `conceptwatch --json events`)
        with sequence number above `after`, of one run and type if given.
        follow=True keeps polling for new ones every poll_s seconds, as
        `events --follow` does, until the caller stops iterating; a daemon
        that stops answering raises DaemonUnreachable."""
        while True:
            for event in self.query("events", run=run or "", type=type or "", after=after):
                after = max(after, event.get("seq", 0))
                yield event
            if not follow:
                return
            time.sleep(poll_s)

    def phases(self, run, tap=None):
        """Phase transitions, the phase labels and the watched series: as
        `conceptwatch --json phases --run RUN [--tap TAP]`."""
        return self.query("phases", **_target(run, tap))


def connect(endpoint=DEFAULT_QUERY_ENDPOINT, timeout_s=5.0, server_key=None, secret_key=None):
    """Connects to conceptwatchd's query endpoint (the CLI's --endpoint).

    For a daemon with CURVE keys (README "Authentication"), server_key is
    the daemon's .pub file and secret_key this client's .secret file, whose
    public key is in the daemon's query_keys; without them, the
    environment's CONCEPTWATCH_SERVER_KEY and CONCEPTWATCH_SECRET_KEY, as
    for the CLI and conceptwatch.attach. `timeout_s` bounds each query.
    Raises ValueError for an unusable key file; the connection itself is
    made at the first query."""
    return Client(endpoint, timeout_s,
                  server_key or os.environ.get("CONCEPTWATCH_SERVER_KEY", ""),
                  secret_key or os.environ.get("CONCEPTWATCH_SECRET_KEY", ""))
