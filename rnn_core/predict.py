"""``python -m rnn_core predict TASK``: one prediction without a browser, for scripts and
people, through the same predictor classes the tabs use, so the command line and the
tab give the same answers and refuse bad input with the same sentences.

Each task has its flags (`FLAGS`) and a function from the parsed flags to a dict of
what it found, a ``notes`` list among them (`PREDICTIONS`). The human text goes to stdout
and the notes to stderr (``note: ...``), so that a generated text pipes cleanly;
``--json`` prints the dict as one line instead. Unlike the tabs, which clamp an
out-of-range setting and say so, the command line refuses it: a script should hear
of its mistake, not get something it did not ask for.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .encoders.melody import METERS
from .tasks import TASK_NAMES, TASKS


def read_input(source: str) -> bytes:
    """The bytes of a file a flag names (``-``: standard input); one sentence if unreadable."""
    if source == "-":
        data = sys.stdin.buffer.read()
        if not data:
            raise ValueError("nothing came on standard input (-)")
        return data
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read {source}: {e.strerror or e}") from None


def _text(value: str) -> str:
    """A text flag's value, or standard input for ``-``."""
    return read_input("-").decode("utf-8", errors="replace") if value == "-" else value


def _load(args: argparse.Namespace, **choice):
    """The task's predictor from ``--weights`` (default: the shipped one)."""
    return TASKS[args.task].predictor.from_pretrained(args.weights or None, **choice)


def _settings(predictor, args: argparse.Namespace, names: tuple[str, ...]) -> dict:
    """The generation settings the flags give (unset: the predictor's defaults); one
    out of its bounds is refused, naming the flag."""
    values = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    for name, value in values.items():
        opt = predictor.generation_options[name]
        if opt.low is not None and not opt.low <= value <= opt.high:
            raise ValueError(f"--{name.replace('_', '-')} must be between {opt.low:g} and {opt.high:g}, "
                             f"not {value:g}")
    return predictor.generation_settings(values)[0]


def sentiment(args: argparse.Namespace) -> tuple[dict, str]:
    """The verdict on ``--text``, its confidence and the bag of words' second opinion."""
    predictor = _load(args)
    text = _text(args.text)
    r = predictor.predict(text, explain=False)  # raises ValueError (no words) as the tab shows it
    bow = predictor.second_opinion(text)
    n = r["words"]
    line = f"{r['label']}, {r['confidence']:.0%} confident ({n} word{'s' * (n != 1)} read)"
    if r["guess"]:  # the tab's wording: a confident-looking number from unknown words means nothing
        line = f"a guess: {line}"
    out = {k: r[k] for k in ("label", "confidence", "p_positive", "words", "unknown", "guess", "notes")}
    out["second_opinion"] = None
    if bow is not None:
        label = "positive" if bow >= 0.5 else "negative"
        out["second_opinion"] = {"label": label, "p_positive": bow}
        line += (f"\nsecond opinion, a bag of words (TF-IDF + logistic regression, word order thrown away): "
                 f"{label}, {max(bow, 1 - bow):.0%}{'' if label == r['label'] else ' (the two disagree)'}")
    return out, line


def textgen(args: argparse.Namespace) -> tuple[dict, str]:
    """``--prime`` and ``--length`` characters after it, sampled as the tab samples them."""
    gen = _load(args)
    settings = _settings(gen, args, ("length", "temperature", "top_k", "top_p", "seed"))
    prime, notes = gen.prepare(_text(args.prime))
    text = "".join(step.char for step in gen.generate(prime, **settings))
    # printed after its prime, as the tab shows it; --json keeps the two apart
    return {"prime": prime, "text": text, "settings": settings, "notes": notes}, prime + text


def _primer(args: argparse.Namespace, meter: str):
    """(the primer ``--primer`` or ``--primer-midi`` gives, or None; notes)."""
    from .encoders.midi import melody_from_midi
    from .encoders.notation import parse_notes
    from .tasks.melody.predictor import MAX_PRIMER_BARS

    if args.primer_midi:
        melody, notes = melody_from_midi(read_input(args.primer_midi), max_steps=MAX_PRIMER_BARS * 16)
    elif args.primer is not None:
        melody, notes = parse_notes(args.primer, meter), []
    else:
        return None, []
    if not melody.notes:
        raise ValueError("The primer has only rests: give it at least one note.")
    return melody, notes


def melody(args: argparse.Namespace) -> tuple[dict, str]:
    """A continuation of the primer (or a tune from nothing) written as MIDI to ``--out``."""
    from .encoders.melody import STEPS_PER_QUARTER, bar_steps
    from .encoders.midi import melody_to_midi

    gen = _load(args)
    s = _settings(gen, args, ("bars", "temperature", "tempo", "seed", "meter"))
    primer, notes = _primer(args, s["meter"])
    (r,), more = gen.generate(primer, bars=s["bars"], temperature=s["temperature"], meter=s["meter"],
                              seed=s["seed"])
    m = r.melody
    segments = [(0, r.primer_steps, "primer"), (r.primer_steps, m.length, "continuation")] if r.primer_steps else None
    try:
        melody_to_midi(m, s["tempo"], segments=segments).write(args.out)
    except OSError as e:
        raise ValueError(f"cannot write {args.out}: {e.strerror or e}") from None
    meter = m.meter_at(0)
    bars = m.length / bar_steps(meter)
    out = {"out": args.out, "key": r.key, "meter": meter, "bars": round(bars, 2), "tempo": s["tempo"],
           "steps_per_quarter": STEPS_PER_QUARTER, "primer_steps": r.primer_steps,
           "notes_played": [list(n) for n in m.notes], "settings": s, "notes": notes + more}
    return out, (f"wrote {args.out}: {bars:g} bars in {r.key}, {meter} at {s['tempo']:g} bpm, "
                 f"{len(m.notes)} notes" + (" (the primer first)" if r.primer_steps else ""))


def speech(args: argparse.Namespace) -> tuple[dict, str]:
    """The digits heard in ``--wav`` (``-``: the WAV's bytes on standard input)."""
    rec = _load(args)
    if args.wav == "-":  # load_audio reads files: stdin goes through one, so its checks are the same
        with tempfile.TemporaryDirectory(prefix="rnn-gallery-") as folder:
            path = Path(folder) / "stdin.wav"
            path.write_bytes(read_input("-"))
            r = rec.transcribe(str(path))
    else:
        r = rec.transcribe(args.wav)  # raises AudioError (unreadable, silent...) as the tab shows it
    out = {k: r[k] for k in ("text", "digits", "confidence", "greedy", "duration", "notes")}
    out["alignment"] = [[letter, seconds] for letter, _, seconds in r["alignment"]]
    if r["text"]:
        line = f"{r['text']} -> {r['digits']} (confidence {r['confidence']:.0%}, {r['duration']:.2f} s of audio)"
    else:
        line = (f"no digits heard ({r['duration']:.2f} s of audio; letter by letter: "
                f"{r['greedy'] or 'nothing'})")
    return out, line


def _series(args: argparse.Namespace, enc):
    """The series to forecast: ``--csv`` read as the model's columns (``--target`` and
    ``--covariates`` name others to read in their place), else the model's own built-in one."""
    from .data.timeseries import TableError, load_series, read_table

    if args.csv is None:
        if args.target or args.covariates is not None:
            raise ValueError("--target and --covariates choose columns of --csv: give the CSV too")
        if not enc.series or enc.series == "upload":
            raise ValueError("this model was trained on a CSV of its own: give it with --csv FILE")
        return load_series(enc.series, args.data)
    target = args.target or enc.columns[0]
    covariates = enc.columns[1:] if args.covariates is None else [c.strip() for c in args.covariates.split(",")
                                                                   if c.strip()]
    try:
        series = read_table(read_input(args.csv), target, tuple(covariates))
    except TableError as e:
        raise ValueError(f"{args.csv}: {str(e).rstrip('.')}; the {enc.series} model reads {', '.join(enc.columns)}, "
                         "so name the columns to read in their place (--target, --covariates) or pick another "
                         "--series") from None
    if len(series.columns) != len(enc.columns):
        raise ValueError(f"the {enc.series} model reads {len(enc.columns)} column(s) ({', '.join(enc.columns)}), "
                         f"not {len(series.columns)}: give --covariates as many as it has besides its target")
    return series


def forecast(args: argparse.Namespace) -> tuple[dict, str]:
    """The next ``--horizon`` steps after the series' last row: the network's median and
    80% interval beside the baselines, as the tab forecasts from 100% of the test tail.
    A ``--csv`` alone (no ``--series`` or ``--weights``) gets a network of its own."""
    import numpy as np

    from .tasks.forecast.outlook import forecast_from, model_view

    if args.csv is not None and args.series is None and args.weights is None:
        return any_csv(args)
    predictor = _load(args, series=args.series)
    enc = predictor.encoder
    series = _series(args, enc)
    horizon = enc.horizon if args.horizon is None else args.horizon
    if not 1 <= horizon <= enc.horizon:
        raise ValueError(f"--horizon must be between 1 and {enc.horizon} (the furthest this model forecasts), "
                         f"not {horizon}")
    if enc.calendar and not np.issubdtype(np.asarray(series.dates).dtype, np.datetime64):
        raise ValueError(f"the {enc.series} model reads the calendar: the CSV needs a date column")
    if len(series) < enc.window:
        raise ValueError(f"the series has {len(series)} rows; the {enc.series} model reads the last "
                         f"{enc.window}, so it needs at least that many")
    outlook = forecast_from(model_view(series, predictor), horizon, 100)  # 100%: from the last row
    notes = outlook.notes
    if series.step != enc.step:
        notes.append(f"The {enc.series} model learned steps of one {enc.step}; these rows are one {series.step} apart.")
    out = {"model": enc.series, "columns": list(series.columns), "step": series.step, "horizon": horizon,
           "origin": str(series.dates[outlook.origin])[:16].replace("T", " "),
           **{k: v[0].tolist() for k, v in outlook.network.items()},
           "baselines": {k: v[0].tolist() for k, v in outlook.baselines.items()},
           "best_baseline": outlook.best, "notes": notes}
    return out, _forecast_table(out)


def any_csv(args: argparse.Namespace) -> tuple[dict, str]:
    """Any CSV's next ``--horizon`` steps: a network trained on it (``--max-minutes``)
    and the baselines and statistical peers fitted on its first 70%, ranked on the next
    10%; the forecast is the best-ranked method's, the network's beside it."""
    from .tasks.forecast.outlook import forecast_csv

    if args.covariates:
        raise ValueError("--covariates needs a shipped model (--series); a CSV alone is forecast from its target")
    if args.horizon is not None and not 1 <= args.horizon <= 1000:
        raise ValueError(f"--horizon must be between 1 and 1000, not {args.horizon}")
    if not 0.05 <= args.max_minutes <= 60:
        raise ValueError(f"--max-minutes must be between 0.05 and 60, not {args.max_minutes:g}")
    path = _csv_path(args.csv)
    rows = sum(1 for _ in path.open("rb")) - 1
    if args.horizon is not None and args.horizon > rows:
        raise ValueError(f"--horizon {args.horizon} is longer than the CSV ({rows} rows): forecast at most as far "
                         "ahead as the series reaches back")
    out = forecast_csv(path, args.horizon or 0, args.target, args.max_minutes)
    return out, _any_csv_table(out)


def _csv_path(csv: str):
    """``--csv``'s file (``-``: stdin, saved to a temporary file, as training reads a path)."""
    if csv != "-":
        if not Path(csv).is_file():
            raise ValueError(f"cannot read {csv}: no such file")
        return Path(csv)
    tmp = Path(tempfile.mkdtemp(prefix="rnn-gallery-")) / "stdin.csv"
    tmp.write_bytes(read_input("-"))
    return tmp


def _any_csv_table(r: dict) -> str:
    """`any_csv`'s answer as a table: one row a step ahead, then the ranking (the notes
    follow, as for every task)."""
    rows = [f"{r['column']} after {r['last_date'] or 'the last row'} ({r['rows']:,} rows, one {r['frequency']} apart, "
            f"season {r['season']}): {r['model']} is recommended (best on the validation part)",
            f"{'date':>19} {r['model']:>12} {'network':>10}"]
    for d, f, n in zip(r["dates"], r["forecast"], r["network"]):
        rows.append(f"{d or '':>19} {f:>12.5g} {n:>10.5g}")
    rows.append("validation MASE: " + ", ".join(f"{m} {v:.3f}" for m, v in r["ranking"].items()))
    return "\n".join(rows)


def _forecast_table(r: dict) -> str:
    """`forecast`'s answer as a table: one row a step ahead."""
    names = list(r["baselines"])
    rows = [f"{r['columns'][0]} after {r['origin']}: the {r['model']} model's median and 80% interval, beside "
            f"the baselines ({r['best_baseline']} is the best of them on the {r['model']} series' test tail)",
            f"{'ahead':>5} {'median':>10} {'80% interval':>23} " + " ".join(f"{n:>14}" for n in names)]
    for h in range(r["horizon"]):
        interval = f"{r['lo'][h]:.4g} .. {r['hi'][h]:.4g}"
        rows.append(f"{h + 1:>5} {r['median'][h]:>10.4g} {interval:>23} "
                    + " ".join(f"{r['baselines'][n][h]:>14.4g}" for n in names))
    return "\n".join(rows)


def translation(args: argparse.Namespace) -> tuple[dict, str]:
    """The French for ``--text``, the beam's alternatives and their scores."""
    predictor = _load(args)
    t = predictor.translate(_text(args.text), **_settings(predictor, args, ("beam", "alpha")))
    out = {"text": t.text, "confidence": t.confidence, "unknown": t.unknown, "notes": t.notes,
           "alternatives": [{"text": a, "score": s, "confidence": c} for a, s, c in t.alternatives]}
    lines = [t.text] + [f"  {s:7.3f}  {a}" for a, s, _ in t.alternatives[1:]]
    return out, "\n".join(lines)


PREDICTIONS = {"sentiment": sentiment, "textgen": textgen, "melody": melody, "speech": speech, "forecast": forecast,
               "translation": translation}


def _sentiment_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text", required=True, help="the sentence to classify (-: read it from stdin)")


def _textgen_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prime", default="", help="the text the network reads first (-: stdin; default: a new line)")
    p.add_argument("--length", type=int, help="characters to write (default 400)")
    p.add_argument("--temperature", type=float, help="below 1: safer, above 1: wilder (default 0.8)")
    p.add_argument("--top-k", type=int, help="sample among the k likeliest only (default 0: off)")
    p.add_argument("--top-p", type=float, help="sample within this much probability (default 1: off)")
    p.add_argument("--seed", type=int, help="the same seed gives the same text (default 0)")


def _melody_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.mid", help="where the MIDI file goes")
    p.add_argument("--bars", type=int, help="bars to add after the primer (default 16)")
    primer = p.add_mutually_exclusive_group()
    primer.add_argument("--primer", metavar="NOTES", help='notes to continue, e.g. "D4 E4 F#4 G4 | A4/8 B4/8 R C5/2"')
    primer.add_argument("--primer-midi", metavar="FILE", help="a MIDI file whose melody to continue (-: stdin)")
    p.add_argument("--meter", choices=METERS, help="without a MIDI primer (default 4/4)")
    p.add_argument("--temperature", type=float, help="default 1")
    p.add_argument("--tempo", type=float, help="quarter notes a minute (default 120)")
    p.add_argument("--seed", type=int, help="the same seed gives the same tune (default 0)")


def _speech_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wav", required=True, metavar="FILE", help="a recording of spoken digits (-: its bytes on stdin)")


def _forecast_flags(p: argparse.ArgumentParser) -> None:
    from .data.timeseries import BUILT_IN
    from .tasks.forecast.predictor import DEFAULT_SERIES

    p.add_argument("--csv", metavar="FILE", help="any CSV with a numeric column: alone, a network is trained on it "
                   "(--max-minutes) and ranked beside the baselines and statistical peers; with --series or "
                   "--weights, the shipped model's columns are read from it. The forecast starts after its last row "
                   "(-: stdin; default: the model's own built-in series, from --data)")
    p.add_argument("--horizon", type=int, help="steps ahead (default: the furthest the model forecasts)")
    p.add_argument("--series", choices=tuple(BUILT_IN), help="which shipped model, where --weights holds one "
                   f"folder per series (default {DEFAULT_SERIES})")
    p.add_argument("--target", metavar="COLUMN", help="the CSV's column to forecast (default: the model's own)")
    p.add_argument("--covariates", metavar="A,B", help="the CSV's columns read in place of the model's other ones")
    p.add_argument("--data", metavar="DIR", help="data folder for the built-in series (without --csv)")
    p.add_argument("--max-minutes", type=float, default=2.0, help="a --csv alone: the most minutes its network "
                   "trains (default 2)")


def _translation_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text", required=True, help="the English to translate (-: read it from stdin)")
    p.add_argument("--beam", type=int, help="beam width, 1 is greedy (default 5)")
    p.add_argument("--alpha", type=float, help="length normalisation, 0 is none (default 0.6)")


FLAGS = {"sentiment": _sentiment_flags, "textgen": _textgen_flags, "melody": _melody_flags,
         "speech": _speech_flags, "forecast": _forecast_flags, "translation": _translation_flags}


def add_parsers(verb: argparse.ArgumentParser) -> None:
    """One sub-parser per task under the ``predict`` verb: its flags, ``--weights``, ``--json``."""
    tasks = verb.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in TASK_NAMES:
        what = PREDICTIONS[name].__doc__.replace("``", "")
        p = tasks.add_parser(name, help=what.replace("%", "%%"), description=what)  # help is %-formatted
        FLAGS[name](p)
        p.add_argument("--weights", metavar="DIR", help=f"checkpoint folder (default: assets/{name})")
        p.add_argument("--json", action="store_true", help="print one line of JSON instead of the text")


def predict(args: argparse.Namespace) -> int:
    """Run ``predict TASK`` and print its answer; errors (ValueError) go up to `main`."""
    from .jobs import share_cores

    # the server's one thread: these small networks gain little from more, and on a busy
    # machine two threads spin against each other (a 200-row forecast: 7 s, not 0.1 s)
    share_cores()
    result, text = PREDICTIONS[args.task](args)
    if args.json:
        print(json.dumps(result))
        return 0
    print(text)
    for note in result["notes"]:
        print(f"note: {note}", file=sys.stderr)
    return 0
