"""Command line: ``python -m rnn_core {train,evaluate,bench,download} TASK [...]``.

``train`` and ``bench --device`` also run under ``torchrun`` (one process per GPU, or
several on CPUs), the same command: ``torchrun --nproc_per_node=2 -m rnn_core train
sentiment ...``; only rank 0 prints and writes the checkpoint.

Each task's flags come from its `TaskSpec`: ``train`` takes one flag per field of
the task's recipe (``--hidden 256``, ``--held-out jackson``), typed as the field is,
and ``evaluate --split`` the task's own splits; anything else is a one-line
``error:`` and exit status 2.

Examples:
    python -m rnn_core train sentiment --data ../shared/data/sst2 --out assets/sentiment
    python -m rnn_core evaluate sentiment --data ../shared/data/sst2 --split dev --json
    python -m rnn_core bench sentiment
    python -m rnn_core bench all          # docs/benchmarks.md
    python -m rnn_core download sentiment
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing

from .checkpoint import CheckpointError, assets_dir
from .data import DataError
from .runtime import DEVICES, PRECISIONS
from .tasks import TASK_NAMES, TASKS

SERVER_BENCHES = ("startup", "load", "all")
# benches of no task: the gradient lab trains live (no data set, no shipped weights)
LAB_BENCHES = ("gradients",)


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line: ``error: ...``, exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _optional(kind: type):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


def _flag_type(annotation) -> tuple[typing.Callable, str | None]:
    """(argparse type, metavar) for a recipe field's type: bool, int, float, str, or
    one of them | None (the word "none" gives None)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args:  # X | None
        return _optional(args[0]), f"{args[0].__name__.upper()}|none"
    if annotation is bool:
        return _bool, "true|false"
    return annotation, None


def add_recipe_flags(parser: argparse.ArgumentParser, recipe: type) -> None:
    """One ``--field-name`` flag per field of ``recipe`` (a dataclass), typed as the
    field and defaulting to "not given" (the recipe's own default then holds)."""
    hints = typing.get_type_hints(recipe)
    for f in dataclasses.fields(recipe):
        kind, metavar = _flag_type(hints[f.name])
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, metavar=metavar,
                            default=argparse.SUPPRESS, help=f"default: {f.default!r}")


def add_runtime_flags(parser: argparse.ArgumentParser, default: str | None = "auto",
                      device_help: str = "where to train (auto: cuda, then mps, then cpu)") -> None:
    """``--device`` and ``--precision`` (mixed precision: auto is bf16 or fp16 on CUDA,
    fp32 elsewhere)."""
    parser.add_argument("--device", choices=DEVICES, default=default, help=device_help)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto: bf16 (or fp16) autocast on CUDA, fp32 elsewhere")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m rnn_core", description="Train, evaluate, benchmark and download the "
               "RNN Gallery's models.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    train = verbs.add_parser("train", help="train a model from its task's recipe and save a checkpoint",
                             description="Train TASK's model (its recipe's values unless a flag changes "
                             "them) and save model.safetensors + config.json to --out.")
    evaluate = verbs.add_parser("evaluate", help="score a checkpoint beside its baseline",
                                description="Score a checkpoint on a split, beside the task's baseline.")
    bench = verbs.add_parser("bench", help="latency, throughput, start-up, memory and load figures",
                             description="TASK: inference latency (p50/p95) and training throughput. "
                             "startup: `python app.py`'s time to its first HTTP 200 and its memory. "
                             "load: many visitors at once through gradio_client while one retrains. "
                             "all: every figure, written to docs/benchmarks.md with plots. "
                             "gradients: the gradient lab's presets on one core (vanishing, exploding, "
                             "gates, clipping).")
    download = verbs.add_parser("download", help="fetch a task's data set into the cache (sha256-checked)",
                                description="Download TASK's data set into the cache unless a local copy "
                                "($RNN_GALLERY_DATA or the cache) already has it; print where it is.")
    trains = train.add_subparsers(dest="task", required=True, metavar="TASK")
    evaluates = evaluate.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in TASK_NAMES:
        spec = TASKS[name]
        t = trains.add_parser(name, help=f"train {name}")
        add_recipe_flags(t, spec.recipe)
        t.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
        t.add_argument("--out", metavar="DIR", help=f"checkpoint folder (default: runs/{name})")
        add_runtime_flags(t)
        e = evaluates.add_parser(name, help=f"evaluate {name}")
        e.add_argument("--weights", metavar="DIR", help=f"checkpoint folder (default: assets/{name})")
        e.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
        e.add_argument("--split", choices=spec.splits, default=spec.splits[0],
                       help="all: every item in --data (unseen data)"
                            + ("; speakers: --weights holds one checkpoint per held-out speaker"
                               if "speakers" in spec.splits else ""))
        e.add_argument("--device", choices=DEVICES, default="auto", help="where the network runs "
                       "(auto: cuda, then mps, then cpu)")
        if spec.suites:
            e.add_argument("--suite", choices=sorted(spec.suites),
                           help="print this table of the figures instead of every figure")
        e.add_argument("--json", action="store_true", help="end the output with one line of JSON")
        e.add_argument("--write-metrics", action="store_true",
                       help="save the figures as metrics.json beside the weights (the model card's source)")

    bench.add_argument("task", choices=TASK_NAMES + SERVER_BENCHES + LAB_BENCHES,
                       metavar="TASK|startup|load|all|gradients")
    bench.add_argument("--weights", metavar="DIR", help="checkpoint folder (default: assets/TASK)")
    add_runtime_flags(bench, default=None, device_help="time the task's shipped recipe training on the real "
                      "data (--data) on this device for --seconds, in as many processes as torchrun "
                      "started, instead of one visitor's latency on the CPU")
    bench.add_argument("--repeats", type=int, default=200, help="timed predictions")
    bench.add_argument("--retrain", action="store_true",
                       help="also time the UI's default retrain (needs the data set; with all: every task's)")
    bench.add_argument("--data", metavar="DIR", help="data folder for --retrain")
    bench.add_argument("--clients", type=int, default=20, help="load: visitors at once")
    bench.add_argument("--seconds", type=float, default=60,
                       help="load: how long they keep asking; --device: how long to train")
    bench.add_argument("--think", type=float, default=0.0,
                       help="load: average pause between a visitor's requests (0: a stress test)")
    bench.add_argument("--retrainer", choices=TASK_NAMES + ("none",), default="sentiment",
                       help="load: the task one more visitor retrains meanwhile (its UI defaults)")
    bench.add_argument("--sessions", type=int, default=300,
                       help="load: new visitors whose memory cost is measured (0: skip that part)")
    bench.add_argument("--uploads", type=int, default=100, help="load: new recordings uploaded, likewise")
    bench.add_argument("--flood", type=int, default=60,
                       help="load: retrain requests left pending while a visitor's requests are timed")
    bench.add_argument("--out", metavar="DIR", default="docs", help="all: where benchmarks.md goes")
    download.add_argument("task", choices=TASK_NAMES)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: a mistake in the command or
    its input, said in one ``error:`` line)."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # say which task lacks the flag (argparse's own line names no task)
            where = f"{args.verb} {args.task}"
            parser.error(f"{where} does not take {' '.join(unknown)} "
                         f"(see python -m rnn_core {where} --help)")
    except SystemExit as e:  # argparse's exit (an error, or --help): its status, returned
        return e.code
    try:
        return run(args)
    except (DataError, CheckpointError, ValueError) as e:
        # A user's mistake (bad path, wrong split): one clear line, no traceback.
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.verb == "bench" and args.task in SERVER_BENCHES:
        return run_server_bench(args)
    if args.verb == "bench" and args.task in LAB_BENCHES:
        from .gradlab.bench import bench_gradients
        bench_gradients()
        return 0
    spec = TASKS[args.task]
    if args.verb == "train":
        run_training(spec, args)
    elif args.verb == "evaluate":
        from .checkpoint import write_metrics
        from .runtime import resolve_device
        weights = args.weights or assets_dir(args.task)
        metrics = spec.evaluate(weights, data_dir=args.data, split=args.split, device=str(resolve_device(args.device)))
        if getattr(args, "suite", None):
            print(spec.suites[args.suite](metrics))
        else:
            for k, v in metrics.items():
                print(f"{k:>20}: {v}")
        if args.write_metrics:
            # companions first: metrics.json is the newest file, the record of what is there
            for path in spec.companions(weights, args.data) if spec.companions else ():
                print(f"wrote {path}")
            write_metrics(weights, metrics)
            print(f"wrote {weights}/metrics.json")
        if args.json:
            print(json.dumps(metrics))
    elif args.verb == "bench" and args.device:
        from .bench import training_throughput
        from .runtime import finish, start
        runtime = start(args.device, args.precision)
        try:
            training_throughput(spec, runtime, args.seconds, data_dir=args.data)
        finally:
            finish(runtime)
    elif args.verb == "bench":
        from .bench import bench_task
        from .jobs import share_cores
        share_cores()  # time what the server does: one intra-op thread (speech times two as well)
        bench_task(spec, args.weights, repeats=args.repeats, retrain=args.retrain, data_dir=args.data)
    elif args.verb == "download":
        from .data import SOURCES, locate
        for name in (spec.data_source, *spec.more_sources):
            print(locate(SOURCES[name]))
    return 0


def run_training(spec, args: argparse.Namespace) -> None:
    """``train TASK``: one process, or one rank of a torchrun group (only rank 0 prints
    and saves; every rank trains)."""
    from .runtime import finish, start

    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(spec.recipe) if hasattr(args, f.name)}
    out = args.out or f"runs/{args.task}"
    runtime = start(args.device, args.precision)

    def show(p):
        if p.val is not None or p.message:
            print(f"[{p.fraction:5.1%}] step {p.step} epoch {p.epoch} {p.elapsed:6.0f}s "
                  f"loss {p.train_loss:.4f} {p.val or ''} {p.message}", flush=True)

    try:
        _, result = spec.train(options, data_dir=args.data, out_dir=out if runtime.is_main else None,
                               on_progress=show, runtime=runtime)
    finally:
        finish(runtime)
    if runtime.is_main:
        where = ", ".join(f"{k} {v}" for k, v in runtime.record().items())
        print(f"saved {out}: best {result.best} after {result.steps} steps "
              f"({result.elapsed / 60:.1f} min, {result.stopped}; {where})")


def run_server_bench(args: argparse.Namespace) -> int:
    """``bench startup|load|all``: the gallery as a served app (data for retraining
    comes from $RNN_GALLERY_DATA, which the server inherits)."""
    from .bench import server
    if args.task == "startup":
        server.startup()
    elif args.task == "load":
        server.load(args.clients, args.seconds, None if args.retrainer == "none" else args.retrainer,
                    think=args.think, sessions=args.sessions, uploads=args.uploads, flood=args.flood)
    else:
        from .bench.report import run_all
        run_all(args.out, clients=args.clients, seconds=args.seconds, retrain=args.retrain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
