"""Extraction throughput: our nnsight read-out vs a plain transformers forward.

Same process, same texts, same batches. The plain forward runs the whole model with
``output_hidden_states=True`` (every block, the final norm and the 49k-vocabulary logits); ours
stops after the deepest requested layer. Reports tokens/s of both, their ratio, the peak
resident memory of each phase, the machine's measured matmul GFLOP/s and the fraction of that
FLOP bound each path reaches.

    .venv/bin/python benchmarks/extract.py [--layer L] [--texts N] [--batch-size B] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import torch

from emotion_concepts import corpus
from emotion_concepts.activations import _tokenize, position_ids_for, residual_means
from emotion_concepts.models import load_model


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


class PeakRSS:
    """Peak resident set size (MB) while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.peak, self._stop = self._rss(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    def _watch(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())


def flops_per_token(model, upto_layer: int | None) -> float:
    """2 x parameters touched per token (embedding lookups excluded; attention's quadratic term
    ignored, small at these lengths)."""
    hf = model.lm._module
    layers = hf.model.layers
    n = len(layers) if upto_layer is None else upto_layer + 1
    body = sum(p.numel() for layer in list(layers)[:n] for p in layer.parameters())
    head = hf.lm_head.weight.numel() if upto_layer is None else 0
    return 2.0 * (body + head)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", type=int, default=None)
    ap.add_argument("--texts", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    m = load_model()
    layer = m.check_layer(m.default_layer if args.layer is None else args.layer)
    texts = [s.text for s in corpus.load_stories()[: args.texts]]
    hf = m.lm._module
    batches = [texts[i:i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    encoded = [_tokenize(m, b, "right") for b in batches]
    n_tokens = sum(int(e["attention_mask"].sum()) for e in encoded)

    def plain():
        for enc in encoded:
            with torch.no_grad():
                hf(**enc, position_ids=position_ids_for(enc["attention_mask"]), output_hidden_states=True)

    def ours():
        residual_means(m, texts, [layer], start_token=1, batch_size=args.batch_size,
                       progress=False, cache=False)

    gflops = matmul_gflops()
    results = {}
    for name, fn in (("plain", plain), ("ours", ours)):
        fn()  # warm-up
        times = []
        with PeakRSS() as mem:
            for _ in range(args.repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
        t = statistics.median(times)
        tps = n_tokens / t
        fpt = flops_per_token(m, None if name == "plain" else layer)
        achieved = tps * fpt / 1e9
        results[name] = {"tokens_per_s": round(tps, 1), "seconds": round(t, 3), "peak_rss_mb": round(mem.peak),
                         "gflops": round(achieved, 1), "fraction_of_flop_bound": round(achieved / gflops, 3)}
    report = {"model": m.alias, "layer": layer, "n_layers": m.n_layers, "texts": len(texts),
              "tokens": n_tokens, "batch_size": args.batch_size, "threads": torch.get_num_threads(),
              "matmul_gflops": round(gflops, 1), **results,
              "speedup": round(results["ours"]["tokens_per_s"] / results["plain"]["tokens_per_s"], 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
