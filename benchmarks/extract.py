"""Extraction throughput: our nnsight read-out (float32 and bfloat16) vs a plain transformers forward.

Same process, same texts, same batches. The plain forward runs the whole float32 model with
``output_hidden_states=True`` (every block, the final norm and the 49k-vocabulary logits); ours
stops after the deepest requested layer, in float32 (``ours``) and in bfloat16 (``ours_bf16``).
Reports tokens/s of each, their ratios, the peak resident memory of each phase, the machine's
measured float32 and bfloat16 matmul GFLOP/s, and the fraction of the matching FLOP bound each
path reaches.

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
from emotion_concepts.models import load_model
from emotion_concepts.readout.activations import encode_texts, pad_batch, position_ids_for, residual_means


def matmul_gflops(n: int = 2048, repeats: int = 10, dtype: torch.dtype = torch.float32) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
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
    hf = model.torch_module
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
    m = load_model(dtype="float32")
    m16 = load_model(dtype="bfloat16")
    layer = m.check_layer(m.default_layer if args.layer is None else args.layer)
    texts = [s.text for s in corpus.load_stories(voices=["narrative"])[: args.texts]]
    hf = m.torch_module
    ids = encode_texts(m, texts)
    encoded = [pad_batch(ids[i:i + args.batch_size], m.tokenizer.pad_token_id, "right")
               for i in range(0, len(ids), args.batch_size)]
    n_tokens = sum(int(e["attention_mask"].sum()) for e in encoded)

    def plain():
        for enc in encoded:
            with torch.no_grad():
                hf(**enc, position_ids=position_ids_for(enc["attention_mask"]), output_hidden_states=True)

    def read(model):
        return lambda: residual_means(model, texts, [layer], start_token=1, batch_size=args.batch_size,
                                      progress=False, cache=False)

    gflops = {"fp32": matmul_gflops(), "bf16": matmul_gflops(dtype=torch.bfloat16)}
    results = {}
    for name, fn, peak in (("plain", plain, "fp32"), ("ours", read(m), "fp32"), ("ours_bf16", read(m16), "bf16")):
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
                         "gflops": round(achieved, 1), "fraction_of_flop_bound": round(achieved / gflops[peak], 3)}
    report = {"model": m.alias, "layer": layer, "n_layers": m.n_layers, "texts": len(texts),
              "tokens": n_tokens, "batch_size": args.batch_size, "threads": torch.get_num_threads(),
              "matmul_gflops": round(gflops["fp32"], 1), "matmul_gflops_bf16": round(gflops["bf16"], 1), **results,
              "speedup": round(results["ours"]["tokens_per_s"] / results["plain"]["tokens_per_s"], 2),
              "bf16_over_fp32": round(results["ours_bf16"]["tokens_per_s"] / results["ours"]["tokens_per_s"], 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
