#!/usr/bin/env python3
"""Latent trajectories read from an exported crosscoder's decoder rows.

For each export directory (written by `conceptwatch export` or
`conceptwatch refit --out`), from W_D [snapshots, latents, d_model] alone:

  flicker     share of latents (with any non-zero row) whose normalised
              decoder norm (‖W_D^t‖ / its largest over t) crosses 0.5 more
              than once: the measure `conceptwatch crosscoder` reports,
              without its frequency condition;
  shapes      the commonest on/off patterns of that norm ("01": emerges and
              stays, "010": on for a stretch, "1010": on, off, on, off);
  direction   whether a latent keeps one direction where it is on: the
              median over latents of the smallest cosine between its row at
              an "on" snapshot and its row at its strongest snapshot, and
              the share of on-snapshots whose row is below cosine 0.5 —
              a latent that carries another concept in another era (or a
              penalty on norms that a rotating row would satisfy) shows
              here, not in the flicker.

Usage: decoder_trajectories.py EXPORT_DIR... (docs/CROSSCODER.md "Fused
decoder rows" has the tables it printed)
"""
import collections
import itertools
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load_tensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    header_len = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + header_len])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in DTYPES:
            continue
        begin, end = entry["data_offsets"]
        data = raw[8 + header_len + begin:8 + header_len + end]
        tensors[name] = np.frombuffer(data, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return tensors


def describe(directory, threshold=0.5):
    tensors = load_tensors(os.path.join(directory, "crosscoder.safetensors"))
    w_dec = tensors["W_D"].astype(np.float64)  # [T, F, d]
    norms = np.linalg.norm(w_dec, axis=2)  # [T, F]
    largest = norms.max(axis=0)
    latents = np.flatnonzero(largest > 0)
    on = norms[:, latents] / largest[latents] >= threshold  # [T, live]
    crossings = (on[1:] != on[:-1]).sum(axis=0)
    shapes = collections.Counter("".join(k for k, _ in itertools.groupby("1" if x else "0" for x in on[:, j]))
                                 for j in range(len(latents)))
    strongest = w_dec[norms[:, latents].argmax(axis=0), latents]  # [live, d]
    rows = w_dec[:, latents]  # [T, live, d]
    cosine = (rows * strongest[None]).sum(axis=2) / (norms[:, latents] * np.linalg.norm(strongest, axis=1)[None] + 1e-30)
    smallest = np.array([cosine[on[:, j], j].min() for j in range(len(latents))])
    turned = np.array([(cosine[on[:, j], j] < 0.5).mean() for j in range(len(latents))])
    return {
        "latents": int(len(latents)),
        "flicker": float((crossings > 1).mean()),
        "shapes": shapes.most_common(6),
        "median_smallest_on_cosine": float(np.median(smallest)),
        "on_snapshots_turned_share": float(turned.mean()),
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for directory in sys.argv[1:]:
        r = describe(directory)
        shapes = ", ".join(f"{shape} {count}" for shape, count in r["shapes"])
        print(f"{directory}: {r['latents']} latents, flicker {r['flicker']:.3f}; shapes {shapes}; "
              f"median smallest cosine where on {r['median_smallest_on_cosine']:.2f}, "
              f"on-snapshots turned (cos < 0.5) {r['on_snapshots_turned_share']:.3f}")


if __name__ == "__main__":
    main()
