"""Publishes one snapshot through the Python hook (conceptwatch.attach on a
small PyTorch model) and writes the exact tensor the hook captured, so that
the C++ test can publish the same bytes through the C++ hook.

    python_hook_publish.py ENDPOINT RUN TAP STEP OUT_RAW
"""
import sys

import numpy as np
import torch

import conceptwatch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(50, 32)
        self.block = torch.nn.Linear(32, 32)

    def forward(self, tokens):
        return self.block(self.embed(tokens))


def main():
    endpoint, run, tap, step, out_raw = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    torch.manual_seed(0)
    model = Tiny()
    probe = torch.randint(0, 50, (8, 16))
    watch = conceptwatch.attach(model, taps={tap: model.block}, probe=probe, every=1, run=run, endpoint=endpoint)
    watch.snapshot(step, tokens_seen=step * 128, loss=1.5)
    captured = watch._captured[tap].detach().reshape(-1, 32).float().contiguous().numpy()
    captured.astype(np.float32).tofile(out_raw)
    stats = watch.close(timeout_s=30)
    if stats["acked"] != 1:
        print("not stored:", stats, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
