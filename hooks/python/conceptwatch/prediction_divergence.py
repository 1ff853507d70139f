"""The probe's "kl_unigram" and "kl_bigram" scalars, as the C++ hooks compute
them (hooks/prediction_divergence.h, which states the definition):

    kl_unigram = mean over probe positions of KL(p_model || q_uni)
    kl_bigram  = mean over probe positions of KL(p_model || q_bi(. | current token))
    q_uni(v)    = (c(v) + 1/V) / (N + 1)
    q_bi(v | u) = (c(u v) + q_uni(v)) / (c(u) + 1)

counted on the probe's own tokens (pairs within a sequence). Computed in
torch on the logits' device, in chunks of positions, without a V x V table:
a token never seen after u has q_bi(v | u) = q_uni(v) / (c(u) + 1), so only
the pairs seen in the probe need a correction term.
"""

import numpy as np
import torch

# Positions x vocabulary per chunk (float64: 128 MiB).
_CHUNK_ELEMENTS = 1 << 24


class NgramReference:
    """The probe's own unigram and bigram statistics, from its tokens
    [sequences, sequence_length] over a vocabulary of vocab_size ids."""

    def __init__(self, tokens, vocab_size):
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim != 2:
            raise ValueError("prediction divergence: probe tokens must be [sequences, sequence_length]")
        V = int(vocab_size)
        if tokens.min() < 0 or tokens.max() >= V:
            raise ValueError("prediction divergence: probe token ids must be in [0, %d)" % V)
        self.vocab_size = V
        self.tokens = tokens.reshape(-1)
        n = tokens.size
        counts = np.bincount(self.tokens, minlength=V).astype(np.float64)
        self.log_unigram = np.log((counts + 1.0 / V) / (n + 1))
        previous, following = tokens[:, :-1].reshape(-1), tokens[:, 1:].reshape(-1)
        self.log_pairs_from = np.log(np.bincount(previous, minlength=V).astype(np.float64) + 1.0)
        pairs, pair_counts = np.unique(previous * V + following, return_counts=True)  # sorted by u, then v
        pair_u, pair_v = pairs // V, pairs % V
        q_v = np.exp(self.log_unigram[pair_v])
        pair_gain = np.log(pair_counts + q_v) - self.log_unigram[pair_v]
        # Incidences (position i, pair j with u_j = token_i): position i
        # gains p_i(v_j) * gain_j in its bigram cross-entropy.
        start = np.searchsorted(pair_u, np.arange(V), side="left")
        end = np.searchsorted(pair_u, np.arange(V), side="right")
        lengths = (end - start)[self.tokens]
        self._position = np.repeat(np.arange(n), lengths)
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        pair_index = np.repeat(start[self.tokens], lengths) + (np.arange(lengths.sum()) - offsets)
        self._v = pair_v[pair_index]
        self._gain = pair_gain[pair_index]

    def divergence(self, logits):
        """logits (or log-probabilities): a tensor [sequences, sequence_length, V]
        on any device. Returns (kl_unigram, kl_bigram) in nats."""
        V = self.vocab_size
        flat = logits.detach().reshape(-1, logits.shape[-1])
        if flat.shape[0] != self.tokens.size or flat.shape[1] != V:
            raise ValueError("prediction divergence: logits are %s, the probe needs [%d positions, %d]"
                             % (tuple(logits.shape), self.tokens.size, V))
        device = flat.device
        log_unigram = torch.as_tensor(self.log_unigram, device=device)
        position = torch.as_tensor(self._position, device=device)
        v = torch.as_tensor(self._v, device=device)
        gain = torch.as_tensor(self._gain, device=device)
        log_pairs_from = torch.as_tensor(self.log_pairs_from[self.tokens], device=device)
        kl_unigram = kl_bigram = 0.0
        rows = max(1, _CHUNK_ELEMENTS // V)
        for begin in range(0, flat.shape[0], rows):
            end = min(flat.shape[0], begin + rows)
            log_p = torch.log_softmax(flat[begin:end].double(), dim=-1)
            p = log_p.exp()
            kl_uni = (p * log_p).sum(-1) - p @ log_unigram
            lo, hi = np.searchsorted(self._position, [begin, end])
            seen = torch.zeros(end - begin, dtype=torch.float64, device=device)
            local = position[lo:hi] - begin
            seen.index_add_(0, local, p[local, v[lo:hi]] * gain[lo:hi])
            kl_unigram += float(kl_uni.sum())
            kl_bigram += float((kl_uni + log_pairs_from[begin:end] - seen).sum())
        n = float(self.tokens.size)
        return kl_unigram / n, kl_bigram / n
