#!/usr/bin/env python3
"""Fails when a folder includes a project folder it must not.

The table below is the one in docs/ARCHITECTURE.md ("Parts and allowed dependencies")
and follows the CMake targets: a folder may include what its library links.
Usage: include_rules.py SOURCE_DIR   (or --self-test)
"""
import os
import re
import sys
import tempfile

# folder -> what it may include besides itself: a folder ("schema") or one
# header ("crosscoder/crosscoder.h"). The most specific folder of a file
# decides. Folders not listed (bench/, tests/, fuzz/) may include anything.
ALLOWED = {
    "schema": [],
    "store": ["schema"],
    "detect": [],
    # CURVE keys, the listening policy, the ZAP handler and the client's
    # handshake diagnosis: libzmq only.
    "auth": [],
    # The publisher's CURVE keys (auth/client_keys.h) and handshake monitor.
    "hooks": ["schema", "auth"],
    # The Python module binds the Publisher and the CLI's query client
    # (conceptwatch.connect): DaemonClient and its QueryError.
    "hooks/python": ["hooks", "query/daemon_client.h", "query/query_handler.h"],
    "safetensors": [],
    # crosscoder_state.h reads and writes the stored state as safetensors.
    "crosscoder": ["safetensors"],
    # Alerts carry run and tap names from the wire: schema/json_text.h
    # writes them as JSON even when they are not valid UTF-8.
    "alerts": ["schema/json_text.h"],
    "ingest": ["schema", "store"],
    # DaemonClient's CURVE keys and handshake monitor.
    "query": ["schema", "store", "detect", "auth"],
    # cw_analysis links the crosscoder's header-only results library
    # (crosscoder_results.h, and crosscoder_options.h for analysis_config.h);
    # cw_analysis_workers links cw_crosscoder and includes its torch-free
    # headers only (crosscoder_state.h: the migration of stored states).
    # tap_worker.cc times each update with observe/histogram.h (for /metrics);
    # stored_rows.h implements the torch-free row_source.h (streamed training);
    # the scheduler spreads training over the torch-free trainer_ranks.h, at
    # the [analysis] trainer_listen address (observe/host_port.h).
    "analysis": ["schema", "store", "detect", "crosscoder/crosscoder_results.h", "crosscoder/crosscoder_options.h",
                 "crosscoder/crosscoder.h", "crosscoder/crosscoder_state.h", "crosscoder/row_source.h",
                 "crosscoder/trainer_ranks.h", "observe/histogram.h", "observe/host_port.h"],
    # daemon.cc checks the configured device at start-up (check_device);
    # daemon_config.cc reads [crosscoder] through crosscoder_options.h, and
    # checks [emergence] by the detector's own rules (detect/emergence.h).
    # The metrics page and the HTTP port serving it (observe/http_port.h).
    # main.cc keeps freed tensor memory in the heap (crosscoder/tensor_heap.h).
    # trainer_main.cc is the conceptwatch-trainer program (trainer_ranks.h).
    "observe": [],
    "daemon": ["schema", "store", "alerts", "ingest", "query", "analysis", "auth", "observe",
               "crosscoder/crosscoder_options.h", "crosscoder/crosscoder.h", "crosscoder/tensor_heap.h",
               "crosscoder/trainer_ranks.h", "detect/emergence.h"],
    # cli/import_command.cc publishes through hooks/publisher.h when the
    # daemon is up; refit_main.cc is the conceptwatch-refit program, which
    # links cw_crosscoder and cw_analysis (for analysis/analysis_config.h).
    # export_command.cc reads the stored state (crosscoder_state.h, torch-free);
    # main.cc reads the daemon's configuration (--config) for the answers it
    # gives with the daemon down (daemon/daemon_config.h, torch-free).
    # refit_main.cc keeps freed tensor memory in the heap (crosscoder/tensor_heap.h).
    "cli": ["schema", "store", "detect", "ingest", "query", "hooks", "analysis", "auth", "crosscoder/crosscoder.h",
            "crosscoder/crosscoder_state.h", "crosscoder/tensor_heap.h", "daemon/daemon_config.h"],
    "examples": ["schema", "hooks", "crosscoder"],
}

# Where a torch header may be included: the crosscoder's sources, the
# LibTorch tap helper for training jobs, and programs that train or test.
TORCH_ALLOWED = ["crosscoder", "hooks/torch_tap.h", "examples", "bench", "tests"]

PROJECT_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
TORCH_INCLUDE = re.compile(r"^\s*#\s*include\s+<(torch|ATen|c10|caffe2)/", re.M)
SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp")
SKIPPED_DIRS = {".git", "build", "shared"}


def under(path, prefix):
    return path == prefix or path.startswith(prefix + "/")


def rule_for(path):
    folders = [folder for folder in ALLOWED if under(path, folder)]
    return max(folders, key=len) if folders else None


def project_folders(root):
    return {name for name in os.listdir(root) if os.path.isdir(os.path.join(root, name)) and name not in SKIPPED_DIRS}


def violations(root):
    found = []
    top = project_folders(root)
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not (directory == root and d in SKIPPED_DIRS))
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            if TORCH_INCLUDE.search(text) and not any(under(path, allowed) for allowed in TORCH_ALLOWED):
                found.append(f"{path}: includes a torch header (only {', '.join(TORCH_ALLOWED)} may)")
            folder = rule_for(path)
            if folder is None:
                continue
            for included in PROJECT_INCLUDE.findall(text):
                if included.split("/")[0] not in top or under(included, folder):
                    continue
                if not any(under(included, allowed) for allowed in ALLOWED[folder]):
                    may = ", ".join(ALLOWED[folder]) or "no other project folder"
                    found.append(f'{path}: includes "{included}"; {folder}/ may include {may}')
    return found


def self_test():
    """The check on a made-up tree: each kind of violation is found, and
    allowed includes are not reported."""
    files = {
        "schema/a.h": '#include "schema/b.h"\n#include "store/c.h"\n',
        "store/c.h": '#include "schema/a.h"\n',
        "detect/d.cc": "#include <torch/torch.h>\n",
        "hooks/torch_tap.h": '#include <torch/torch.h>\n#include "schema/a.h"\n',
        "daemon/e.cc": '#include "crosscoder/crosscoder.h"\n#include "crosscoder/training_step.h"\n',
        "alerts/f.cc": '#include "alerts/g.h"\n#include "daemon/e.h"\n',
        "ingest/h.cc": '#include "store/c.h"\n#include "analysis/i.h"\n',
        "analysis/i.h": "",
        "query/j.cc": '#include "query/k.h"\n#include <torch/torch.h>\n',
        "crosscoder/crosscoder.h": "",
        "tests/t.cc": '#include "crosscoder/training_step.h"\n#include <torch/torch.h>\n',
    }
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        found = violations(root)
    expected = ['schema/a.h: includes "store/c.h"', "detect/d.cc: includes a torch header",
                'daemon/e.cc: includes "crosscoder/training_step.h"', 'alerts/f.cc: includes "daemon/e.h"',
                'ingest/h.cc: includes "analysis/i.h"', "query/j.cc: includes a torch header"]
    missing = [e for e in expected if not any(v.startswith(e) for v in found)]
    extra = [v for v in found if not any(v.startswith(e) for e in expected)]
    for line in missing:
        print("self-test: not found:", line)
    for line in extra:
        print("self-test: reported although allowed:", line)
    return 1 if missing or extra else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = violations(argv[1])
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} include(s) break the dependency rules of docs/ARCHITECTURE.md")
        return 1
    print("include rules hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
