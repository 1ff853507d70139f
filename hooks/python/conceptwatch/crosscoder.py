"""The daemon's crosscoder as a torch.nn.Module, from `conceptwatch export`.

    cc = conceptwatch.load_crosscoder("out/export")   # crosscoder.safetensors + config.json
    f = cc.encode(x)        # x [..., T, d_model] raw activations of the same tokens at every snapshot
    x_hat = cc.decode(f)    # [..., T, d_model], raw units
    x_hat = cc(x)

The math is the daemon's (crosscoder/crosscoder.cc Impl::forward,
crosscoder/crosscoder.h, docs/CROSSCODER.md), in the order it computes it so
that the results agree to float32 rounding:

    x_norm^t = x_raw^t * scales[t]                      (fitted when snapshot t arrived)
    h        = concat_t(x_norm^t) @ W_E.reshape(T*d, F) + sum_t b_E[t]
    f^t_i    = h_i * [h_i * ||W_D[t, i]|| > exp(log_threshold_i)]   (JumpReLU, per snapshot)
    x_hat^t  = f^t @ W_D[t] + b_D[t]                    (normalised units; / scales[t] for raw)
"""

import json
import os

import numpy as np
import torch

from .safetensors import read_safetensors

__all__ = ["Crosscoder", "load_crosscoder"]


class Crosscoder(torch.nn.Module):
    """A cross-snapshot crosscoder (Ge et al. 2025) with T heads, F features.

    Parameters as exported: W_E [T, d, F], W_D [T, F, d], b_E [T, F],
    b_D [T, d], log_threshold [F]; buffers scales [T] (raw -> normalised)
    and steps [T] (the training step of each snapshot). `options` holds the
    daemon's [crosscoder] options it was trained with."""

    def __init__(self, W_E, W_D, b_E, b_D, log_threshold, scales, steps, options=None):
        super().__init__()
        self.W_E = torch.nn.Parameter(torch.as_tensor(W_E, dtype=torch.float32))
        self.W_D = torch.nn.Parameter(torch.as_tensor(W_D, dtype=torch.float32))
        self.b_E = torch.nn.Parameter(torch.as_tensor(b_E, dtype=torch.float32))
        self.b_D = torch.nn.Parameter(torch.as_tensor(b_D, dtype=torch.float32))
        self.log_threshold = torch.nn.Parameter(torch.as_tensor(log_threshold, dtype=torch.float32))
        self.register_buffer("scales", torch.as_tensor(scales, dtype=torch.float32))
        self.register_buffer("steps", torch.as_tensor(steps, dtype=torch.int64))
        self.options = dict(options or {})
        T, d, F = self.W_E.shape
        if tuple(self.W_D.shape) != (T, F, d) or tuple(self.b_E.shape) != (T, F) or tuple(self.b_D.shape) != (T, d) \
                or tuple(self.log_threshold.shape) != (F,) or tuple(self.scales.shape) != (T,):
            raise ValueError("crosscoder tensors of inconsistent shapes: W_E %s, W_D %s, b_E %s, b_D %s, "
                             "log_threshold %s, scales %s" % tuple(tuple(t.shape) for t in (
                                 self.W_E, self.W_D, self.b_E, self.b_D, self.log_threshold, self.scales)))

    @property
    def n_snapshots(self):
        """T: the snapshots (heads) the crosscoder spans."""
        return self.W_E.shape[0]

    @property
    def d_model(self):
        """The tap's width."""
        return self.W_E.shape[1]

    @property
    def n_features(self):
        """F: the dictionary size."""
        return self.W_E.shape[2]

    def decoder_norms(self):
        """||W_D[t, i]|| per snapshot and feature, [T, F]: the trajectories
        the daemon tracks (the `features` query's decoder_norm is the last
        column's)."""
        return self.W_D.norm(dim=2)

    def _check(self, x, last, name):
        if x.dim() < 2 or tuple(x.shape[-2:]) != (self.n_snapshots, last):
            raise ValueError("%s must be [..., %d snapshots, %d], not %s" % (name, self.n_snapshots, last,
                                                                             tuple(x.shape)))

    def normalise(self, x):
        """Raw activations [..., T, d] -> the crosscoder's units (x * scales[t]),
        as the daemon normalises each snapshot's activations."""
        self._check(x, self.d_model, "x")
        return x.to(torch.float32) * self.scales.unsqueeze(-1)

    def pre_activation(self, x, normalised=False):
        """h [..., F]: the shared pre-activation of tokens x [..., T, d]."""
        x = x.to(torch.float32) if normalised else self.normalise(x)
        self._check(x, self.d_model, "x")
        lead = x.shape[:-2]
        x_cat = x.reshape(-1, self.n_snapshots * self.d_model)
        h = torch.addmm(self.b_E.sum(0), x_cat, self.W_E.reshape(-1, self.n_features))
        return h.reshape(*lead, self.n_features)

    def encode(self, x, normalised=False):
        """Feature activations f [..., T, F] of tokens x [..., T, d] (raw
        activations of the same tokens at every snapshot; normalised=True if
        they are already in the crosscoder's units). f^t = h where
        h * ||W_D[t]|| exceeds the feature's threshold, else 0."""
        h = self.pre_activation(x, normalised).unsqueeze(-2)          # [..., 1, F]
        gate = h * self.decoder_norms() > self.log_threshold.exp()   # [..., T, F]
        return h * gate.to(h.dtype)

    def decode(self, f, normalised=False):
        """Reconstruction x_hat [..., T, d] from feature activations
        f [..., T, F]: raw units (divided by scales[t]) unless normalised=True."""
        self._check(f, self.n_features, "f")
        lead = f.shape[:-2]
        f = f.reshape(-1, self.n_snapshots, self.n_features)
        x_hat = torch.bmm(f.transpose(0, 1), self.W_D).transpose(0, 1) + self.b_D
        if not normalised:
            x_hat = x_hat / self.scales.unsqueeze(-1)
        return x_hat.reshape(*lead, self.n_snapshots, self.d_model)

    def forward(self, x, normalised=False):
        """decode(encode(x)): the reconstruction of x [..., T, d], in x's units."""
        return self.decode(self.encode(x, normalised), normalised)

    def held_out_rows(self, n_rows):
        """Bool numpy mask [n_rows]: the probe rows the daemon never trained
        this crosscoder on (its `hold_out_every` option; crosscoder/held_out_rows.h):
        evaluate on them to see how it does on tokens it has not seen."""
        every = int(self.options.get("hold_out_every", 0))
        if every < 2 or n_rows < 16 * every:
            return np.zeros(n_rows, dtype=bool)
        x = np.arange(n_rows, dtype=np.uint64)  # SplitMix64's finaliser of the row index
        with np.errstate(over="ignore"):
            x = x + np.uint64(0x9e3779b97f4a7c15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
            x = x ^ (x >> np.uint64(31))
        return x % np.uint64(every) == 0


def load_crosscoder(export_dir, device="cpu"):
    """Builds a Crosscoder from what `conceptwatch export --out DIR` wrote
    (DIR/crosscoder.safetensors, and DIR/config.json for the options).
    Raises FileNotFoundError without the file, ValueError when it is not a
    conceptwatch crosscoder."""
    path = os.path.join(export_dir, "crosscoder.safetensors")
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != "conceptwatch crosscoder":
        raise ValueError("%s is not a conceptwatch crosscoder export (format %r)" % (path, metadata.get("format")))
    options = json.loads(metadata["options"]) if "options" in metadata else {}
    missing = [k for k in ("W_E", "W_D", "b_E", "b_D", "log_threshold", "scales", "steps") if k not in tensors]
    if missing:
        raise ValueError("%s lacks %s" % (path, ", ".join(missing)))
    cc = Crosscoder(*(np.ascontiguousarray(tensors[k]) for k in ("W_E", "W_D", "b_E", "b_D", "log_threshold",
                                                                 "scales", "steps")), options=options)
    return cc.to(device).eval()
