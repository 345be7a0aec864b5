"""Command line: ``python -m rnn_core {train,evaluate,bench,download} TASK [...]``.

Examples:
    python -m rnn_core train sentiment --data ../shared/data/sst2 --out assets/sentiment
    python -m rnn_core evaluate sentiment --data ../shared/data/sst2 --split dev --json
    python -m rnn_core bench sentiment
    python -m rnn_core bench all          # docs/benchmarks.md
    python -m rnn_core download sentiment
"""
from __future__ import annotations

import argparse
import json
import sys

from .checkpoint import CheckpointError, assets_dir
from .data import DataError
from .tasks import TASK_NAMES, get_task


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def parse_overrides(pairs: list[str], preset: dict) -> dict:
    """``["members=3", "lr=0.001"]`` -> typed values, checked against ``preset``."""
    out = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or key not in preset:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(preset))}")
        default = preset[key]
        try:
            if isinstance(default, bool):
                out[key] = _bool(text)
            elif isinstance(default, (int, float)):
                out[key] = type(default)(text)
            elif default is None:
                out[key] = None if text.lower() == "none" else float(text)
            else:
                out[key] = text
        except (ValueError, argparse.ArgumentTypeError) as e:
            raise ValueError(f"--set {pair!r}: {key} takes a {type(default).__name__}") from e
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rnn_core", description="Train, evaluate, benchmark "
                                "and download the RNN Gallery's models.")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    t = sub.add_parser("train", help="train a model from its task preset and save a checkpoint",
                       description="Train TASK's model (preset values unless overridden) and save "
                       "model.safetensors + config.json to --out.")
    t.add_argument("task", choices=TASK_NAMES)
    t.add_argument("--cell", choices=("rnn", "lstm", "gru"))
    t.add_argument("--bidirectional", type=_bool, metavar="true|false")
    t.add_argument("--hidden", type=int, help="hidden units per direction")
    t.add_argument("--embed", type=int, help="embedding size")
    t.add_argument("--layers", type=int)
    t.add_argument("--dropout", type=float)
    t.add_argument("--lr", type=float, help="peak learning rate (cosine decay)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--max-minutes", type=float, help="wall-clock budget")
    t.add_argument("--seed", type=int)
    t.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
    t.add_argument("--out", metavar="DIR", help="checkpoint folder (default: runs/TASK)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any other preset value, checked against its type "
                        "(e.g. --set members=3 --set subword_buckets=20000)")

    e = sub.add_parser("evaluate", help="score a checkpoint beside its baseline",
                       description="Score a checkpoint on a split, beside the task's baseline.")
    e.add_argument("task", choices=TASK_NAMES)
    e.add_argument("--weights", metavar="DIR", help="checkpoint folder (default: assets/TASK)")
    e.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
    e.add_argument("--split", choices=("dev", "test", "all", "speakers"), default="dev",
                   help="all: every item in --data (unseen data); speakers (speech): --weights holds "
                        "one checkpoint per held-out speaker")
    e.add_argument("--json", action="store_true", help="end the output with one line of JSON")
    e.add_argument("--write-metrics", action="store_true",
                   help="save the figures as metrics.json beside the weights (the model card's source)")

    b = sub.add_parser("bench", help="latency, throughput, start-up, memory and load figures",
                       description="TASK: inference latency (p50/p95) and training throughput. "
                       "startup: `python app.py`'s time to its first HTTP 200 and its memory. "
                       "load: many visitors at once through gradio_client while one retrains. "
                       "all: every figure, written to docs/benchmarks.md with plots.")
    b.add_argument("task", choices=TASK_NAMES + ("startup", "load", "all"))
    b.add_argument("--weights", metavar="DIR", help="checkpoint folder (default: assets/TASK)")
    b.add_argument("--repeats", type=int, default=200, help="timed predictions")
    b.add_argument("--retrain", action="store_true",
                   help="also time the UI's default retrain (needs the data set; with all: every task's)")
    b.add_argument("--data", metavar="DIR", help="data folder for --retrain")
    b.add_argument("--clients", type=int, default=20, help="load: visitors at once")
    b.add_argument("--seconds", type=float, default=60, help="load: how long they keep asking")
    b.add_argument("--think", type=float, default=0.0,
                   help="load: average pause between a visitor's requests (0: a stress test)")
    b.add_argument("--retrainer", choices=TASK_NAMES + ("none",), default="sentiment",
                   help="load: the task one more visitor retrains meanwhile (its UI defaults)")
    b.add_argument("--out", metavar="DIR", default="docs", help="all: where benchmarks.md goes")

    d = sub.add_parser("download", help="fetch a task's data set into the cache (sha256-checked)",
                       description="Download TASK's data set into the cache unless a local copy "
                       "($RNN_GALLERY_DATA or the cache) already has it; print where it is.")
    d.add_argument("task", choices=TASK_NAMES)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (DataError, CheckpointError, ValueError) as e:
        # A user's mistake (bad path, wrong split): one clear line, no traceback.
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.verb == "bench" and args.task not in TASK_NAMES:
        return run_server_bench(args)
    task = get_task(args.task)
    if args.verb == "train":
        keys = ("cell", "bidirectional", "hidden", "embed", "layers", "dropout", "lr", "epochs",
                "max_minutes", "seed")
        options = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
        options.update(parse_overrides(args.set, task.PRESET))
        out = args.out or f"runs/{args.task}"

        def show(p):
            if p.val is not None or p.message:
                print(f"[{p.fraction:5.1%}] step {p.step} epoch {p.epoch} {p.elapsed:6.0f}s "
                      f"loss {p.train_loss:.4f} {p.val or ''} {p.message}", flush=True)

        _, result = task.train(options, data_dir=args.data, out_dir=out, on_progress=show)
        print(f"saved {out}: best {result.best} after {result.steps} steps "
              f"({result.elapsed / 60:.1f} min, {result.stopped})")
    elif args.verb == "evaluate":
        from .checkpoint import write_metrics
        weights = args.weights or assets_dir(args.task)
        metrics = task.evaluate(weights, data_dir=args.data, split=args.split)
        for k, v in metrics.items():
            print(f"{k:>20}: {v}")
        if args.write_metrics:
            write_metrics(weights, metrics)
            print(f"wrote {weights}/metrics.json")
        if args.json:
            print(json.dumps(metrics))
    elif args.verb == "bench":
        from .jobs import share_cores
        share_cores()  # time what the server does: one intra-op thread (speech times two as well)
        task.bench(args.weights, repeats=args.repeats, retrain=args.retrain, data_dir=args.data)
    elif args.verb == "download":
        from .data import SOURCES, locate
        print(locate(SOURCES[task.DATA_SOURCE]))
    return 0


def run_server_bench(args: argparse.Namespace) -> int:
    """``bench startup|load|all``: the gallery as a served app (data for retraining
    comes from $RNN_GALLERY_DATA, which the server inherits)."""
    from . import server_bench
    if args.task == "startup":
        server_bench.startup()
    elif args.task == "load":
        server_bench.load(args.clients, args.seconds, None if args.retrainer == "none" else args.retrainer,
                          think=args.think)
    else:
        from .report import run_all
        run_all(args.out, clients=args.clients, seconds=args.seconds, retrain=args.retrain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
