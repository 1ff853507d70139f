"""The installed tree works on its own: `cmake --install` into a staging
directory (DESTDIR, prefix /usr: the .deb's layout), then the daemon started
as the installed systemd unit's ExecStart says (its program and its
/etc/conceptwatch configuration, under the staging directory), one snapshot
published through the installed Python package, and the installed CLI's
`--json status` must show it stored.

    staged_install_test.py CMAKE BUILD_DIR PYTHON_DIR

PYTHON_DIR is CW_PYTHON_INSTALL_DIR (relative to the prefix). Ports are the
kernel's pick, as tests/support/daemon_process.h's free_port() does.
"""
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PYTHON = "/usr/bin/python3"  # Debian's, which has numpy and torch

# Published through the installed hook: a tiny model, one snapshot.
PUBLISH = """
import sys, torch, conceptwatch
print(conceptwatch.__file__)
model = torch.nn.Sequential(torch.nn.Embedding(50, 16), torch.nn.Linear(16, 16))
watch = conceptwatch.attach(model, taps={"lin": model[1]}, probe=torch.randint(0, 50, (4, 8)),
                            every=1, run="staged", endpoint=sys.argv[1])
watch.snapshot(0, tokens_seen=0, loss=1.0)
stats = watch.close(timeout_s=20)
sys.exit(0 if stats["acked"] == 1 else "not stored: %s" % stats)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fail(message, daemon_log=None):
    print("FAIL:", message)
    if daemon_log and os.path.exists(daemon_log):
        print("--- installed conceptwatchd's log:\n" + open(daemon_log).read()[-4000:])
    sys.exit(1)


def unit_exec_start(root, name="conceptwatchd.service"):
    """The installed unit's ExecStart, its absolute paths moved under root."""
    unit = os.path.join(root, "usr/lib/systemd/system", name)
    lines = [l for l in open(unit) if l.startswith("ExecStart=")]
    if len(lines) != 1:
        fail("%s: expected one ExecStart line, found %d" % (unit, len(lines)))
    args = shlex.split(lines[0][len("ExecStart="):])
    return [root + a if a.startswith("/") else a for a in args]


def main():
    t0 = time.monotonic()
    global say
    say = lambda m: print("%5.1f s %s" % (time.monotonic() - t0, m))
    cmake, build_dir, python_dir = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="cw-install-") as tmp:
        root = os.path.join(tmp, "root")
        started = time.monotonic()
        subprocess.run([cmake, "--install", build_dir, "--prefix", "/usr"], env=dict(os.environ, DESTDIR=root),
                       check=True, stdout=subprocess.DEVNULL)
        print("installed into %s in %.1f s" % (root, time.monotonic() - started))
        cli = os.path.join(root, "usr/bin/conceptwatch")
        command = unit_exec_start(root)
        if command[0] != os.path.join(root, "usr/bin/conceptwatchd") or not os.access(command[0], os.X_OK):
            fail("the unit's ExecStart runs %s: not the installed daemon" % command[0])
        trainer = unit_exec_start(root, "conceptwatch-trainer@.service")
        if trainer[0] != os.path.join(root, "usr/bin/conceptwatch-trainer") or not os.access(trainer[0], os.X_OK):
            fail("the trainer unit's ExecStart runs %s: not the installed conceptwatch-trainer" % trainer[0])
        if trainer[1:3] != ["--rank", "%i"]:
            fail("the trainer unit's ExecStart does not name the instance as the rank: %s" % trainer)

        ingest, query = "tcp://127.0.0.1:%d" % free_port(), "tcp://127.0.0.1:%d" % free_port()
        http = "127.0.0.1:%d" % free_port()
        # The unit's command line; only the machine-wide places are moved into
        # the test's own (data, ports); --store-only: no crosscoder to train.
        command += ["--data-dir", os.path.join(tmp, "data"), "--ingest", ingest, "--query", query,
                    "--http", http, "--store-only"]
        log_path = os.path.join(tmp, "daemon.log")
        with open(log_path, "w") as log:
            daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            status = None
            for _ in range(100):
                if daemon.poll() is not None:
                    fail("the installed daemon exited (%d)" % daemon.returncode, log_path)
                answer = subprocess.run([cli, "--endpoint", query, "--timeout-ms", "300", "--json", "status"],
                                        capture_output=True, text=True)
                if answer.returncode == 0:
                    status = json.loads(answer.stdout)
                    break
                time.sleep(0.2)
            if status is None:
                fail("the installed CLI got no status from the installed daemon", log_path)
            if status["daemon"]["query_endpoint"] != query or status["snapshots_stored"] != 0:
                fail("unexpected status of a fresh daemon: %s" % answer.stdout)
            with urllib.request.urlopen("http://%s/readyz" % http, timeout=5) as ready:
                if ready.status != 200:
                    fail("/readyz answered %d" % ready.status)

            env = dict(os.environ, PYTHONPATH=os.path.join(root, "usr", python_dir))
            published = subprocess.run([PYTHON, "-c", PUBLISH, ingest], env=env, capture_output=True, text=True,
                                       timeout=60)
            if published.returncode != 0:
                fail("publishing through the installed Python package: " + published.stdout + published.stderr,
                     log_path)
            imported_from = published.stdout.strip().splitlines()[0]
            if not imported_from.startswith(root):
                fail("python3 imported conceptwatch from %s, not the installed package" % imported_from)

            answer = subprocess.run([cli, "--endpoint", query, "--json", "status"], capture_output=True, text=True,
                                    check=True)
            status = json.loads(answer.stdout)
            if status["snapshots_stored"] != 1 or [r["run"] for r in status["runs"]] != ["staged"]:
                fail("after one published snapshot the status is: %s" % answer.stdout, log_path)
            # `conceptwatch refit` finds the installed conceptwatch-refit beside it.
            refit = subprocess.run([cli, "refit", "--help"], capture_output=True, text=True)
            if refit.returncode != 0:
                fail("installed `conceptwatch refit --help`: " + refit.stdout + refit.stderr)
        finally:
            daemon.terminate()
            code = daemon.wait(timeout=30)
        if code != 0:
            fail("the installed daemon exited %d on SIGTERM" % code, log_path)
        print("installed daemon, CLI and Python package: one snapshot published and stored")


if __name__ == "__main__":
    main()
