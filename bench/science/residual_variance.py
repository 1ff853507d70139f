#!/usr/bin/env python3
"""What tinygpt's residual stream is made of, snapshot by snapshot.

An independent PyTorch replica of tinygpt's repeat-task model (2 attention-only
pre-LN blocks, 4 heads, GPT-2 init N(0, 0.02^2), Adam lr 3e-4, batch 32,
sequences of 32 random tokens of 64 repeated twice; its own random numbers, so
the steps differ a little from the C++ job's) trained with learned or rotary
positions. At each snapshot it regresses blocks.1.resid_post of a fixed probe
on one-hot position, current token, previous token and (on the second copy)
next token, and prints the share of variance each adds: how much of what a
crosscoder on that tap reconstructs is position, and how much is the token the
induction heads copy. docs/CROSSCODER.md "tinygpt: positions in the residual
stream" has the numbers. Usage:
    /usr/bin/python3 bench/science/residual_variance.py [--positions rotary|learned] [--seed S] [--d-model D]
"""
import argparse
import math

import numpy as np
import torch

V, N, HEADS, LAYERS, BATCH = 64, 32, 4, 2, 32
T = 2 * N


class Attention(torch.nn.Module):
    def __init__(self, d, rotary):
        super().__init__()
        self.d, self.rotary = d, rotary
        self.qkv, self.out = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.register_buffer('mask', torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def rotate(self, z):
        half = z.shape[-1] // 2
        angle = torch.arange(z.shape[2]).float()[:, None] * 10000.0 ** (-torch.arange(half).float() / half)
        a, b = z[..., :half], z[..., half:]
        return torch.cat([a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()], -1)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.view(b, t, HEADS, d // HEADS).transpose(1, 2) for z in self.qkv(x).split(d, -1))
        if self.rotary:
            q, k = self.rotate(q), self.rotate(k)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(d // HEADS)).masked_fill(self.mask[:t, :t], float('-inf'))
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))


class Model(torch.nn.Module):
    def __init__(self, d, rotary):
        super().__init__()
        self.rotary = rotary
        self.embed, self.position = torch.nn.Embedding(V, d), torch.nn.Embedding(T, d)
        self.norms = torch.nn.ModuleList([torch.nn.LayerNorm(d) for _ in range(LAYERS + 1)])
        self.attention = torch.nn.ModuleList([Attention(d, rotary) for _ in range(LAYERS)])
        self.unembed = torch.nn.Linear(d, V, bias=False)
        for name, w in self.named_parameters():
            if not name.startswith('norms'):
                w.data.zero_() if name.endswith('bias') else w.data.normal_(0, 0.02)

    def forward(self, tokens):
        x = self.embed(tokens) + (0 if self.rotary else self.position(torch.arange(tokens.shape[1])))
        for norm, attention in zip(self.norms, self.attention):
            x = x + attention(norm(x))
        return self.unembed(self.norms[-1](x)), x


def repeated(generator, rows):
    half = torch.randint(0, V, (rows, N), generator=generator)
    return torch.cat([half, half], 1)


def variance_shares(resid, probe):
    rows = resid.shape[0]
    position = np.tile(np.arange(T), probe.shape[0])
    previous = np.concatenate([np.full((probe.shape[0], 1), -1), probe[:, :-1]], 1).reshape(-1)
    following = np.concatenate([probe[:, 1:], np.full((probe.shape[0], 1), -1)], 1).reshape(-1)
    following = np.where(position >= N, following, -1)

    def onehot(index, k):
        out = np.zeros((rows, k))
        ok = index >= 0
        out[np.arange(rows)[ok], index[ok]] = 1
        return out

    y = resid / np.sqrt((resid ** 2).sum(1).mean())
    shares, design = [], np.ones((rows, 1))
    for block in (onehot(position, T), onehot(probe.reshape(-1), V), onehot(previous, V), onehot(following, V)):
        design = np.concatenate([design, block], 1)
        fit, *_ = np.linalg.lstsq(design, y, rcond=None)
        shares.append(1 - ((y - design @ fit) ** 2).sum() / ((y - y.mean(0)) ** 2).sum())
    return shares[0], shares[1] - shares[0], shares[2] - shares[1], shares[3] - shares[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--positions', choices=['rotary', 'learned'], default='rotary')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--d-model', type=int, default=64)
    parser.add_argument('--steps', type=int, default=1000)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = Model(args.d_model, args.positions == 'rotary')
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-4)
    batches = torch.Generator().manual_seed(1000 + args.seed)
    probe = repeated(torch.Generator().manual_seed(20240917), 16)
    snapshots = {0, 1, 2, 4, 8, 16, 32, 64, *range(80, args.steps + 1, 20)}
    print(f'positions {args.positions}, seed {args.seed}, d_model {args.d_model}: share of blocks.1.resid_post variance')
    print('| step | second-copy loss | position | + current token | + previous token | + next token (copied) |')
    print('|---|---|---|---|---|---|')
    for step in range(args.steps + 1):
        if step in snapshots:
            with torch.no_grad():
                logits, resid = model(probe)
                loss = torch.nn.functional.cross_entropy(logits[:, N:-1].reshape(-1, V), probe[:, N + 1:].reshape(-1))
            shares = variance_shares(resid.reshape(-1, args.d_model).numpy(), probe.numpy())
            print(f'| {step} | {loss.item():.2f} | ' + ' | '.join(f'{s:.3f}' for s in shares) + ' |', flush=True)
        if step == args.steps:
            break
        tokens = repeated(batches, BATCH)
        logits, _ = model(tokens)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


if __name__ == '__main__':
    main()
