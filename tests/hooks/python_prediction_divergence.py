"""The probe's kl_unigram / kl_bigram: publishes one snapshot through the
Python hook (a small model whose output is logits), checks the hook's
numbers against an independent dense numpy computation, and writes the
probe tokens, the logits and the expected values so that the C++ test can
check the stored scalars and the C++ implementation against the same.

    python_prediction_divergence.py ENDPOINT RUN STEP OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch

import conceptwatch

V = 40


class TinyLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, 16)
        self.head = torch.nn.Linear(16, V)

    def forward(self, tokens):
        return self.head(torch.tanh(self.embed(tokens)))


def dense_expected(tokens, logits):
    """Straight from the definition, with a V x V bigram table."""
    tokens = np.asarray(tokens, dtype=np.int64)
    n = tokens.size
    unigram_counts = np.zeros(V)
    for t in tokens.reshape(-1):
        unigram_counts[t] += 1
    q_uni = (unigram_counts + 1.0 / V) / (n + 1)
    pair_counts = np.zeros((V, V))
    for row in tokens:
        for a, b in zip(row[:-1], row[1:]):
            pair_counts[a, b] += 1
    q_bi = (pair_counts + q_uni[None, :]) / (pair_counts.sum(1, keepdims=True) + 1)
    z = logits.reshape(-1, V).astype(np.float64)
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    p = np.exp(log_p)
    current = tokens.reshape(-1)
    kl_uni = (p * (log_p - np.log(q_uni)[None, :])).sum(1)
    kl_bi = (p * (log_p - np.log(q_bi[current]))).sum(1)
    return float(kl_uni.mean()), float(kl_bi.mean())


def main():
    endpoint, run, step, out_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    torch.manual_seed(3)
    model = TinyLM()
    # Ids 0..29 only (30..39 never seen: the smoothing's case), with a
    # repeated pattern so that some bigrams are frequent.
    probe = torch.randint(0, 30, (6, 12))
    probe[:, 1::2] = (probe[:, 0::2] + 1) % 30
    watch = conceptwatch.attach(model, taps={"embed": model.embed}, probe=probe, every=1, run=run, endpoint=endpoint)
    watch.snapshot(step, tokens_seen=step * 72, loss=2.0)
    with torch.no_grad():
        logits = model(probe).numpy().astype(np.float32)
    expected = dense_expected(probe.numpy(), logits)
    got = conceptwatch.NgramReference(probe.numpy(), V).divergence(torch.from_numpy(logits))
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        print("hook", got, "numpy", expected, file=sys.stderr)
        return 1
    # Chunked: the same numbers when positions are split across chunks.
    import conceptwatch.prediction_divergence as pd
    saved, pd._CHUNK_ELEMENTS = pd._CHUNK_ELEMENTS, 5 * V
    chunked = conceptwatch.NgramReference(probe.numpy(), V).divergence(torch.from_numpy(logits))
    pd._CHUNK_ELEMENTS = saved
    if not np.allclose(chunked, expected, rtol=1e-9, atol=1e-12):
        print("chunked", chunked, "numpy", expected, file=sys.stderr)
        return 1
    probe.numpy().astype(np.uint32).tofile(os.path.join(out_dir, "tokens.u32"))
    logits.tofile(os.path.join(out_dir, "logits.f32"))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"kl_unigram": expected[0], "kl_bigram": expected[1], "vocab_size": V,
                   "sequence_length": int(probe.shape[1])}, f)
    stats = watch.close(timeout_s=30)
    if stats["acked"] != 1:
        print("not stored:", stats, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
