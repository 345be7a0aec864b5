"""Command line: ``python -m rnn_core {train,evaluate,predict,bench,summary,download} TASK [...]``.

``train`` and ``bench throughput`` also run under ``torchrun`` (one process per GPU, or
several on CPUs), the same command: ``torchrun --nproc_per_node=2 -m rnn_core train
sentiment ...``; only rank 0 prints and writes the checkpoint.

Each task's flags come from its `TaskSpec`: ``train`` takes one flag per field of
the task's recipe (``--hidden 256``, ``--held-out jackson``), typed as the field is,
and ``evaluate --split`` the task's own splits; anything else is a one-line
``error:`` and exit status 2.

Examples:
    python -m rnn_core train sentiment --data ../shared/data/sst2 --out assets/sentiment
    python -m rnn_core evaluate sentiment --data ../shared/data/sst2 --split dev --json
    python -m rnn_core predict sentiment --text "A gorgeous, witty movie." --json
    python -m rnn_core bench latency sentiment
    python -m rnn_core bench throughput textgen --device cuda --seconds 60
    python -m rnn_core bench all          # docs/benchmarks.md
    python -m rnn_core summary sentiment      # layers, output shapes, parameters
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
from .predict import add_parsers as add_predict_parsers, predict as run_predict
from .runtime import DEVICES, PRECISIONS
from .tasks import TASK_NAMES, TASKS


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line: ``error: ...``, exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        """Print ``message`` as one ``error:`` line and exit with status 2."""
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


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


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
    """The whole command line: one sub-parser per verb, and per task where flags differ."""
    p = Parser(prog="python -m rnn_core", description="Train, evaluate, run, benchmark and download the "
               "RNN Gallery's models.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    train = verbs.add_parser("train", help="train a model from its task's recipe and save a checkpoint",
                             description="Train TASK's model (its recipe's values unless a flag changes "
                             "them) and save model.safetensors + config.json to --out.")
    evaluate = verbs.add_parser("evaluate", help="score a checkpoint beside its baseline",
                                description="Score a checkpoint on a split, beside the task's baseline.")
    predict = verbs.add_parser("predict", help="one prediction from a model, as its tab makes it",
                               description="Run TASK's model (the shipped one unless --weights) on your "
                               "input and print its answer (--json: one line of JSON).")
    add_predict_parsers(predict)
    bench = verbs.add_parser("bench", help="latency, throughput, start-up, memory, load and gradient figures",
                             description="One measurement per sub-command, each with its own flags.")
    add_bench_parsers(bench)
    download = verbs.add_parser("download", help="fetch a task's data set into the cache (sha256-checked)",
                                description="Download TASK's data set into the cache unless a local copy "
                                "($RNN_GALLERY_DATA or the cache) already has it; print where it is.")
    summary = verbs.add_parser("summary", help="a model's layers, output shapes and parameters (Keras-style)",
                               description="Print TASK's network (the shipped one unless --weights) layer by "
                               "layer: type, output shape on an example batch, parameters, and the totals.")
    trains = train.add_subparsers(dest="task", required=True, metavar="TASK")
    evaluates = evaluate.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in TASK_NAMES:
        spec = TASKS[name]
        t = trains.add_parser(name, help=f"train {name}")
        add_recipe_flags(t, spec.recipe)
        t.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
        t.add_argument("--out", metavar="DIR", help=f"checkpoint folder (default: runs/{name})")
        t.add_argument("--preset", choices=sorted(spec.presets), default="default",
                       help="a named recipe (tiny: seconds on one core; large: for a GPU); flags given "
                            "override its values")
        t.add_argument("--max-steps", type=_positive_int, metavar="N",
                       help="stop after N optimiser steps (the final weights are still validated)")
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

    download.add_argument("task", choices=TASK_NAMES)
    summary.add_argument("task", choices=TASK_NAMES)
    summary.add_argument("--weights", metavar="DIR", help="checkpoint folder (default: assets/TASK)")
    return p


def add_bench_parsers(bench: argparse.ArgumentParser) -> None:
    """``bench MEASUREMENT``: one sub-command per measurement, each taking only its own
    flags (another measurement's flag is an ``error:``)."""
    kinds = bench.add_subparsers(dest="measurement", required=True, metavar="MEASUREMENT")

    def measurement(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        # no abbreviations: `bench load --retrain` must not pass for load's --retrainer
        return kinds.add_parser(name, help=summary, description=description, allow_abbrev=False)

    latency = measurement("latency", "one visitor's latency for TASK's tab, in-process",
                          "p50/p95 of what TASK's tab computes for one visitor, on one intra-op thread "
                          "(the server's policy).")
    latency.add_argument("task", choices=TASK_NAMES, metavar="TASK", help=", ".join(TASK_NAMES))
    latency.add_argument("--weights", metavar="DIR", help="checkpoint folder (default: assets/TASK)")
    _add_latency_flags(latency, repeats=200)
    latency.add_argument("--data", metavar="DIR", help="data folder for --retrain and the timed inputs "
                         "(speech's recordings, forecast's series)")
    throughput = measurement("throughput", "training throughput of TASK's shipped recipe on a device",
                             "Train TASK's shipped recipe on the real data for --seconds on --device, in as "
                             "many processes as torchrun started, and print the items trained per second "
                             "(validation left out). Nothing is saved.")
    throughput.add_argument("task", choices=TASK_NAMES, metavar="TASK", help=", ".join(TASK_NAMES))
    add_runtime_flags(throughput)
    throughput.add_argument("--seconds", type=float, default=60, help="how long to train")
    throughput.add_argument("--data", metavar="DIR", help="data folder in the ../shared/data/<set>/ layout")
    measurement("startup", "`python app.py`: time to its first HTTP 200, and its memory",
                "Start `python app.py`; time its first HTTP 200 and its RSS, then after one request to every tab.")
    load = measurement("load", "many visitors at once through gradio_client while one retrains",
                       "Visitors on loopback against one `python app.py`, alone and while one more retrains; "
                       "then, on a fresh server, what a long-running server keeps.")
    _add_load_flags(load, seconds_help="how long the visitors keep asking, in each phase")
    measurement("gradients", "the gradient lab's presets on one core",
                "Every gradient lab preset on one thread (vanishing, exploding, gates, clipping): accuracy "
                "against chance, gradient ratio and norms, each claim met or not.")
    every = measurement("all", "every figure, written to docs/benchmarks.md with plots",
                        "Every tab's latency and training throughput, the gradient lab, start-up and load; "
                        "the figures go to OUT/benchmarks.json, the report (with quality from each model's "
                        "metrics.json) to OUT/benchmarks.md.")
    every.add_argument("--out", metavar="DIR", default="docs", help="where benchmarks.md, .json and the plots go")
    _add_latency_flags(every, repeats=50)
    _add_load_flags(every, seconds_help="how long each task trains for its throughput and each load phase lasts")


def _add_latency_flags(parser: argparse.ArgumentParser, repeats: int) -> None:
    parser.add_argument("--repeats", type=int, default=repeats, help="timed predictions")
    parser.add_argument("--retrain", action="store_true",
                        help="also time the UI's default retrain (needs the data set)")


def _add_load_flags(parser: argparse.ArgumentParser, seconds_help: str) -> None:
    parser.add_argument("--clients", type=int, default=20, help="visitors at once")
    parser.add_argument("--seconds", type=float, default=60, help=seconds_help)
    parser.add_argument("--think", type=float, default=0.0,
                        help="average pause between a visitor's requests (0: a stress test)")
    parser.add_argument("--retrainer", choices=TASK_NAMES + ("none",), default="sentiment",
                        help="the task one more visitor retrains meanwhile (its UI defaults)")
    parser.add_argument("--sessions", type=int, default=300,
                        help="new visitors whose memory cost is measured (0: skip that part)")
    parser.add_argument("--uploads", type=int, default=100, help="new recordings uploaded, likewise")
    parser.add_argument("--flood", type=int, default=60,
                        help="retrain requests left pending while a visitor's requests are timed")
    parser.add_argument("--crowd", type=int, default=32,
                        help="sentiment visitors at once, batching off then on (0: skip that part)")
    parser.add_argument("--streams", type=int, default=8, help="text streams at once, likewise")
    parser.add_argument("--soak-minutes", type=float, default=0, metavar="M",
                        help="last, a soak test: two hours of visitors, retrains and cache sweeps compressed "
                             "into M minutes, on a fresh server (0: skip that part)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: a mistake in the command or
    its input, said in one ``error:`` line)."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # say which command lacks the flag (argparse's own line names none)
            where = " ".join(getattr(args, k) for k in ("verb", "measurement", "task") if getattr(args, k, None))
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
    """Carry out a parsed command; returns the exit status."""
    if args.verb == "predict":
        return run_predict(args)
    if args.verb == "bench":
        return run_bench(args)
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
        elif not args.json:  # --json: the one JSON object only, for scripts
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
    elif args.verb == "summary":
        from .summary import summary_text
        print(summary_text(spec.predictor.from_pretrained(args.weights).summary()))
    elif args.verb == "download":
        from .data import SOURCES, locate
        for name in (spec.data_source, *spec.more_sources):
            print(locate(SOURCES[name]))
    return 0


def run_training(spec, args: argparse.Namespace) -> None:
    """``train TASK``: one process, or one rank of a torchrun group (only rank 0 prints
    and saves; every rank trains)."""
    from .runtime import finish, start

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(spec.recipe) if hasattr(args, f.name)}
    options = {**spec.presets[args.preset], **given}  # a flag given beats the preset
    out = args.out or f"runs/{args.task}"
    runtime = start(args.device, args.precision)

    def show(p):
        if p.val is not None or p.message:
            print(f"[{p.fraction:5.1%}] step {p.step} epoch {p.epoch} {p.elapsed:6.0f}s "
                  f"loss {p.train_loss:.4f} {p.val or ''} {p.message}", flush=True)

    try:
        _, result = spec.train(options, data_dir=args.data, out_dir=out if runtime.is_main else None,
                               on_progress=show, runtime=runtime, max_steps=args.max_steps)
    finally:
        finish(runtime)
    if runtime.is_main:
        where = ", ".join(f"{k} {v}" for k, v in result.runtime.items())
        print(f"saved {out}: best {result.best} after {result.steps} steps "
              f"({result.elapsed / 60:.1f} min, {result.stopped}; {where})")


def run_bench(args: argparse.Namespace) -> int:
    """``bench MEASUREMENT``: the server benches talk to a served ``python app.py``
    (data for retraining comes from $RNN_GALLERY_DATA, which the server inherits)."""
    from . import bench
    from .bench import server
    from .jobs import share_cores
    if args.measurement == "throughput":
        from .runtime import finish, start
        runtime = start(args.device, args.precision)
        try:
            bench.train_throughput(TASKS[args.task], runtime, args.seconds, data_dir=args.data)
        finally:
            finish(runtime)
    elif args.measurement == "latency":
        share_cores()  # time what the server does: one intra-op thread (speech times two as well)
        bench.task_latency(TASKS[args.task], args.weights, repeats=args.repeats, retrain=args.retrain,
                           data_dir=args.data)
    elif args.measurement == "gradients":
        from .gradlab.bench import bench_gradients
        bench_gradients()
    elif args.measurement == "startup":
        server.startup()
    elif args.measurement == "load":
        server.load(**load_options(args))
    else:
        from .bench.report import run_all
        run_all(args.out, repeats=args.repeats, retrain=args.retrain, load=load_options(args))
    return 0


def load_options(args: argparse.Namespace) -> dict:
    """`rnn_core.bench.server.load`'s keyword arguments from ``bench load|all``'s flags."""
    return {"clients": args.clients, "seconds": args.seconds, "think": args.think, "sessions": args.sessions,
            "retrain": None if args.retrainer == "none" else args.retrainer, "uploads": args.uploads,
            "flood": args.flood, "crowd_clients": args.crowd, "streams": args.streams,
            "soak_minutes": args.soak_minutes}


if __name__ == "__main__":
    sys.exit(main())
