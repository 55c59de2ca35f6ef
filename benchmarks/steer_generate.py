"""Steered generation throughput: plain transformers ``generate`` vs our nnsight generation,
unsteered and steered (one edit at one layer, every step).

Same process, same chat-rendered prompts (the first user turn of the neutral dialogues), same
left-padded batches, greedy, fixed length (``min_new_tokens = max_new_tokens``), no result
cache. The three paths are timed in interleaved rounds (plain, unsteered, steered, plain, ...),
so a change in background load touches all three alike; each path's median, min and max over the
rounds are reported, with tokens/s (new tokens only) and process CPU seconds, the steering overhead
over unsteered nnsight generation (target < 10%; by wall time, per round, and by CPU time) and
nnsight's overhead over plain ``generate``. Also checks that the
unsteered nnsight completions equal plain ``generate``'s.

    .venv/bin/python benchmarks/steer_generate.py [--prompts N] [--new-tokens T] [--batch-size B]
        [--layer L] [--strength S] [--repeats R] [--profile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from emotion_concepts import corpus
from emotion_concepts.models import load_model
from emotion_concepts.models.loading import format_chat
from emotion_concepts.readout.activations import encode_texts, pad_batch
from emotion_concepts.steering import Steer, mean_residual_norm, steered_generate


def chat_prompts(model, n: int) -> list[str]:
    """The first user turn of the first ``n`` neutral dialogues, in the chat template."""
    dialogues = corpus.load_neutral()[:n]
    if len(dialogues) < n:
        raise SystemExit(f"only {len(dialogues)} neutral dialogues")
    return [format_chat(model.tokenizer, [d.turns[0]], d.system) for d in dialogues]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--layer", type=int, default=20)
    ap.add_argument("--strength", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also cProfile one steered and one unsteered run")
    args = ap.parse_args()
    torch.manual_seed(0)
    m = load_model(dtype="bfloat16")
    layer = m.check_layer(args.layer)
    prompts = chat_prompts(m, args.prompts)
    norm = mean_residual_norm(m, [corpus.format_dialogue(m.tokenizer, d) for d in corpus.load_neutral()[:32]],
                              [layer])[layer]
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(0))
    edit = Steer(layer, direction, args.strength, norm, label="random")
    hf, tok = m.torch_module, m.tokenizer
    ids = encode_texts(m, prompts)
    batches = [pad_batch(ids[i:i + args.batch_size], tok.pad_token_id, "left")
               for i in range(0, len(ids), args.batch_size)]
    n_new = args.new_tokens * len(prompts)
    settings = {"max_new_tokens": args.new_tokens, "batch_size": args.batch_size, "cache": False}

    def plain() -> list[str]:
        out = []
        for enc in batches:
            with torch.no_grad():
                gen = hf.generate(**enc, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                                  do_sample=False, pad_token_id=tok.pad_token_id)
            out += tok.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        return out

    def unsteered() -> list[str]:
        return steered_generate(m, prompts, None, **settings)

    def steered() -> list[str]:
        return steered_generate(m, prompts, [(edit,)] * len(prompts), **settings)

    paths = {"plain_generate": plain, "nnsight_unsteered": unsteered, "nnsight_steered": steered}
    texts = {name: fn() for name, fn in paths.items()}  # warm-up, and the completions compared below
    times: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.repeats):
        for name, fn in paths.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    results = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        results[name] = {"tokens_per_s": round(n_new / med, 1), "seconds_median": round(med, 3),
                         "seconds_min": round(min(ts), 3), "seconds_max": round(max(ts), 3),
                         "seconds_all": [round(t, 3) for t in ts],
                         "cpu_seconds_median": round(statistics.median(cpu[name]), 3)}
    med = {name: statistics.median(ts) for name, ts in times.items()}
    med_cpu = {name: statistics.median(ts) for name, ts in cpu.items()}
    # per round, so a slow round for all three does not count as overhead
    rounds = [times["nnsight_steered"][i] / times["nnsight_unsteered"][i] - 1 for i in range(args.repeats)]
    report = {"model": m.alias, "dtype": m.dtype, "layer": layer, "strength": args.strength,
              "residual_norm": round(norm, 2), "prompts": len(prompts), "new_tokens": args.new_tokens,
              "prompt_tokens": sum(len(r) for r in ids), "batch_size": args.batch_size, "repeats": args.repeats,
              "threads": torch.get_num_threads(), **results,
              "steering_overhead": round(med["nnsight_steered"] / med["nnsight_unsteered"] - 1, 3),
              "steering_overhead_per_round": [round(r, 3) for r in rounds],
              # process CPU time: less sensitive than wall time to other processes on a shared machine
              "steering_overhead_cpu": round(med_cpu["nnsight_steered"] / med_cpu["nnsight_unsteered"] - 1, 3),
              "nnsight_over_plain": round(med["nnsight_unsteered"] / med["plain_generate"] - 1, 3),
              "unsteered_equals_plain": texts["nnsight_unsteered"] == texts["plain_generate"],
              "steered_differs": texts["nnsight_steered"] != texts["nnsight_unsteered"]}
    print(json.dumps(report, indent=2))
    if args.profile:
        import cProfile
        import pstats

        for name in ("nnsight_unsteered", "nnsight_steered"):
            profiler = cProfile.Profile()
            profiler.runcall(paths[name])
            print(f"\n--- {name}: top functions by cumulative time")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
