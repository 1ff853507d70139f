"""A small PyTorch pre-training job with conceptwatch attached.

A 2-layer attention-only transformer learns "n random tokens repeated twice"
(the second copy becomes predictable once an induction head forms). Its
residual stream after block 1 is published to conceptwatchd at Pythia-style
checkpoints, with the training loss and the second-copy loss as scalars.

    /usr/bin/python3 examples/python/train_repeat.py --steps 600 --endpoint tcp://127.0.0.1:7781

Run it with conceptwatchd up (build/daemon/conceptwatchd); `conceptwatch
status` and `conceptwatch phases --run python-repeat` then show what the
daemon made of it. With the daemon down the job trains all the same and
reports the snapshots it could not deliver.
"""
import argparse
import math

import torch
import torch.nn.functional as F

import conceptwatch


class Block(torch.nn.Module):
    def __init__(self, d_model, heads, context):
        super().__init__()
        self.norm = torch.nn.LayerNorm(d_model)
        self.attn = torch.nn.MultiheadAttention(d_model, heads, batch_first=True)
        mask = torch.triu(torch.ones(context, context, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        t = x.shape[1]
        h = self.norm(x)
        out, _ = self.attn(h, h, h, attn_mask=self.mask[:t, :t], need_weights=False)
        return x + out


class TinyGPT(torch.nn.Module):
    def __init__(self, vocab, d_model, heads, layers, context):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.position = torch.nn.Parameter(torch.randn(context, d_model) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(d_model, heads, context) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(d_model)
        self.unembed = torch.nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.norm(x))


def repeated(batch, n, vocab, generator):
    half = torch.randint(0, vocab, (batch, n), generator=generator)
    return torch.cat([half, half], dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n", type=int, default=32, help="random tokens per copy")
    parser.add_argument("--vocab", type=int, default=64)
    parser.add_argument("--every", type=int, default=50, help="snapshot every N steps after the log-spaced start")
    parser.add_argument("--run", default="python-repeat")
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:7781")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = TinyGPT(args.vocab, 64, 4, 2, 2 * args.n)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    data = torch.Generator().manual_seed(args.seed + 1)
    probe = repeated(16, args.n, args.vocab, torch.Generator().manual_seed(20240917))

    watch = conceptwatch.attach(model, taps={"blocks.1.resid_post": model.blocks[1]}, probe=probe,
                                every=args.every, run=args.run, endpoint=args.endpoint,
                                schedule=lambda s: conceptwatch.checkpoint_steps(s, args.every, 64))
    print("conceptwatch: run %s, tap blocks.1.resid_post, publishing to %s" % (args.run, args.endpoint))
    for step in range(args.steps + 1):
        tokens = repeated(args.batch, args.n, args.vocab, data)
        logits = model(tokens[:, :-1])
        losses = F.cross_entropy(logits.reshape(-1, args.vocab), tokens[:, 1:].reshape(-1), reduction="none")
        losses = losses.view(args.batch, -1)
        loss = losses.mean()
        second_copy = losses[:, args.n:].mean().item()  # targets n+1 .. 2n-1
        if watch.step(step, tokens_seen=step * args.batch * 2 * args.n, loss=loss.item(),
                      second_copy_loss=second_copy):
            print("step %5d  loss %.3f  second-copy loss %.3f (ln vocab %.3f)  snapshot published"
                  % (step, loss.item(), second_copy, math.log(args.vocab)), flush=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print("conceptwatch:", watch.close())


if __name__ == "__main__":
    main()
