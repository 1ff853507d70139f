"""conceptwatch hook for PyTorch training jobs.

    import conceptwatch
    watch = conceptwatch.attach(model, taps={"blocks.1.resid_post": model.blocks[1]},
                                probe=probe_tokens, every=100, run="my-run")
    for step in range(steps):
        loss = train_step()
        watch.step(step, tokens_seen=step * tokens_per_step, loss=loss.item())
    watch.close()

When the model's output on the probe is its logits [B, L, V] (or has a
`.logits` such tensor; or pass logits=callable(output, tokens)), each
snapshot also carries "kl_unigram" and "kl_bigram": the KL of the model's
next-token predictions from the probe's own unigram and bigram statistics
(conceptwatch/prediction_divergence.py). logits=False turns them off.

Snapshots go through the C++ publisher (_conceptwatch), the same code and
wire format as the LibTorch hook: publish() copies once and returns; a
background thread sends to conceptwatchd and re-sends until it is stored. A
daemon that is down or slow never blocks or crashes training.

For a daemon with CURVE keys (README "Authentication"), pass
server_key="server.pub" and secret_key="job.secret" to attach, or set
CONCEPTWATCH_SERVER_KEY and CONCEPTWATCH_SECRET_KEY; a refused key shows in
close()'s and stats()'s "last_error".

Reading back what the daemon found (conceptwatch/client.py), and the
crosscoder as a torch module (conceptwatch/crosscoder.py):

    cw = conceptwatch.connect("tcp://127.0.0.1:7782")
    t = cw.trajectories("my-run")        # t.decoder_norm: features x snapshots
    cc = conceptwatch.load_crosscoder("export-dir")   # from `conceptwatch export`
"""

import os
import time

import numpy as np
import torch

from ._conceptwatch import Publisher
from .client import Client, DaemonRefused, DaemonUnreachable, QueryError, Trajectories, connect
from .crosscoder import Crosscoder, load_crosscoder
from .prediction_divergence import NgramReference
from .safetensors import read_safetensors

__all__ = ["attach", "Watcher", "Task", "checkpoint_steps", "Publisher", "NgramReference", "connect", "Client",
           "Trajectories", "DaemonUnreachable", "DaemonRefused", "QueryError", "load_crosscoder", "Crosscoder",
           "read_safetensors"]


def checkpoint_steps(step, every, log_until=512):
    """Pythia's schedule: steps 0, 1, 2, 4, ..., log_until, then every `every`."""
    if step <= log_until:
        return step == 0 or (step & (step - 1)) == 0
    return step % every == 0


class Task:
    """A task probe: tokens plus a metric whose gradient at each tap the
    daemon turns into per-feature attribution (f * (W_D . dm/dx)).

    A metric read through a LayerNorm is scale-invariant in the residual,
    so x . dm/dx ~ 0 and a linear attribution cancels out: compute it with
    the norm's 1/sigma detached (tinygpt does, examples/tinygpt/model.h),
    and check the `explained` share the attribution query reports."""

    def __init__(self, name, tokens, metric_fn, metric="metric"):
        self.name = name
        self.tokens = tokens
        self.metric_fn = metric_fn  # (model_output, tokens) -> scalar tensor
        self.metric = metric


def _to_numpy(tensor, dtype):
    flat = tensor.detach().reshape(-1, tensor.shape[-1]).to("cpu")
    if dtype == "f32":
        return flat.float().contiguous().numpy()
    if dtype == "f16":
        return flat.half().contiguous().numpy()
    return flat.bfloat16().contiguous().view(torch.int16).numpy().view(np.uint16)


class Watcher:
    """A model with conceptwatch attached (see attach): captures the taps'
    outputs on the probe at the schedule's steps and publishes them."""

    def __init__(self, model, taps, probe, every=100, run=None, endpoint="tcp://127.0.0.1:7781",
                 dtype="f32", vocabulary=None, tasks=(), forward=None, schedule=None, logits=None,
                 server_key=None, secret_key=None, **publisher_options):
        if not taps:
            raise ValueError("conceptwatch.attach: give at least one tap {name: module}")
        self.model = model
        self.taps = dict(taps)
        self.probe = probe
        self.every = every
        self.dtype = dtype
        self.tasks = list(tasks)
        self.forward = forward or (lambda m, tokens: m(tokens))
        self.schedule = schedule or (lambda step: checkpoint_steps(step, every))
        self.run = run or "run-%d" % int(time.time())
        self.logits = logits  # None: the output when it is logits; False: never; or callable(output, tokens)
        self._ngrams = None
        self._captured = {}
        self._capturing = False
        self._handles = [module.register_forward_hook(self._hook(name)) for name, module in self.taps.items()]
        d_models = self._probe_shapes()
        self.publisher = Publisher(
            run=self.run,
            taps=[(name, d_models[name]) for name in self.taps],
            probe_tokens=[int(t) for t in probe.reshape(-1).tolist()],
            sequence_length=int(probe.shape[-1]),
            vocabulary=list(vocabulary or []),
            dtype=dtype,
            tasks=[(t.name, [int(x) for x in t.tokens.reshape(-1).tolist()], int(t.tokens.shape[-1]), t.metric)
                   for t in self.tasks],
            endpoint=endpoint,
            # CURVE key files for a daemon with [auth] keys: its .pub and this
            # job's .secret (README "Authentication"); the environment's as
            # for the CLI when not given.
            server_key=server_key or os.environ.get("CONCEPTWATCH_SERVER_KEY", ""),
            secret_key=secret_key or os.environ.get("CONCEPTWATCH_SECRET_KEY", ""),
            **publisher_options)

    def _hook(self, name):
        def hook(module, inputs, output):
            if self._capturing:
                tensor = output[0] if isinstance(output, tuple) else output
                self._captured[name] = tensor
        return hook

    def _capture(self, tokens):
        self._captured = {}
        self._capturing = True
        try:
            output = self.forward(self.model, tokens)
        finally:
            self._capturing = False
        return output, self._captured

    def _probe_shapes(self):
        with torch.no_grad():
            _, captured = self._capture(self.probe[:1])
        return {name: int(t.shape[-1]) for name, t in captured.items()}

    def step(self, step, tokens_seen=0, **scalars):
        """Call once per training step; snapshots when the schedule says so."""
        if self.schedule(step):
            self.snapshot(step, tokens_seen, **scalars)
            return True
        return False

    def snapshot(self, step, tokens_seen=0, **scalars):
        """Publishes the taps' outputs on the probe now (and the tasks'
        activations and gradients), with the scalars given, whatever the
        schedule says."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                output, captured = self._capture(self.probe)
                divergence = self._prediction_divergence(output)
            values = {k: float(v) for k, v in scalars.items()}
            for name, value in divergence.items():
                values.setdefault(name, value)
            for task in self.tasks:
                values.update(self._publish_task(task, step, tokens_seen))
            for name, tensor in captured.items():
                self.publisher.publish(name, step, _to_numpy(tensor, self.dtype), tokens_seen, values)
        finally:
            self.model.train(was_training)

    def _probe_logits(self, output):
        if self.logits is False:
            return None
        if callable(self.logits):
            return self.logits(output, self.probe)
        # Only a tensor shaped like the probe with a last dimension that can
        # index every probe token is taken for logits (hidden states of a
        # model whose width exceeds the vocabulary would pass: then say
        # logits=False).
        candidate = getattr(output, "logits", output)
        if (torch.is_tensor(candidate) and candidate.dim() == 3
                and tuple(candidate.shape[:2]) == tuple(self.probe.shape)
                and candidate.shape[-1] > int(self.probe.max())):
            return candidate
        return None

    def _prediction_divergence(self, output):
        logits = self._probe_logits(output)
        if logits is None:
            return {}
        if self._ngrams is None or self._ngrams.vocab_size != logits.shape[-1]:
            self._ngrams = NgramReference(self.probe.detach().cpu().numpy(), logits.shape[-1])
        kl_unigram, kl_bigram = self._ngrams.divergence(logits)
        return {"kl_unigram": kl_unigram, "kl_bigram": kl_bigram}

    def _publish_task(self, task, step, tokens_seen):
        with torch.enable_grad():
            output, captured = self._capture(task.tokens)
            metric = task.metric_fn(output, task.tokens)
            tensors = list(captured.values())
            grads = torch.autograd.grad(metric, tensors, allow_unused=True)
        for (name, tensor), grad in zip(captured.items(), grads):
            if grad is None:
                grad = torch.zeros_like(tensor)
            scalars = {"task." + task.name: float(metric)}
            self.publisher.publish(name, step, _to_numpy(tensor, self.dtype), tokens_seen, scalars,
                                   kind="task-activations", task=task.name)
            self.publisher.publish(name, step, _to_numpy(grad, self.dtype), tokens_seen, scalars,
                                   kind="task-gradient", task=task.name)
        return {"task." + task.name: float(metric)}

    def stats(self):
        """The publisher's counters: published, acked, dropped, queued, last_error, ..."""
        return self.publisher.stats()

    def close(self, timeout_s=30.0):
        """Waits (bounded) for the daemon to store what is queued; returns stats."""
        for handle in self._handles:
            handle.remove()
        self.publisher.flush(timeout_s)
        return self.publisher.stats()


def attach(model, taps, probe, every=100, **options):
    """Attach conceptwatch to `model`: taps maps names to submodules whose
    outputs are captured on the fixed `probe` token batch at checkpoints."""
    return Watcher(model, taps, probe, every=every, **options)
