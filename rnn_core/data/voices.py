"""A corpus of synthetic voices saying digits (and sentences without digits), made here
with two Debian text-to-speech programs, espeak-ng and flite, for the speech task.

FSDD has five speakers and no fluent speech; these voices add many more (espeak-ng's
accents and variants at several rates and pitches, flite's voices), digit strings read
fluently and with pauses, single digits, digit strings inside a carrier phrase ("my
number is four one two", whose transcript is the digits only), and sentences with no
digit at all (whose transcript is empty: what "no digits heard" is learnt from). Some voices are kept out
of training (`HELD_OUT`) for evaluation: an accent, a variant and a flite voice no
model here trained on.

    python -m rnn_core.data.voices            # builds it once into the cache, prints where

Needs ``espeak-ng`` and ``flite`` (``apt-get install espeak-ng flite``) to build; a
built corpus is just WAVs (8 kHz, 16-bit) and ``manifest.tsv``. Same seed, same corpus.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..encoders.audio import DIGIT_WORDS, SAMPLE_RATE, load_audio
from .download import cache_dir

FORMAT = 3  # bump when what is generated changes: a new folder is built
MANIFEST = "manifest.tsv"

# (engine, voice): espeak-ng "accent+variant", flite voice names. More voices than
# people to hear beat more items per voice: the held-out figures are about voices.
TRAIN_VOICES = ([("espeak-ng", f"{accent}+{variant}")
                 for accent in ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc")
                 for variant in ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f5", "klatt", "klatt3",
                                 "Andy", "Annie", "Michael", "Steph", "Robert", "Linda", "grandma", "croak")]
                + [("flite", v) for v in ("kal", "kal16", "rms")])
HELD_OUT = ([("espeak-ng", f"{accent}+{variant}") for accent in ("en-029", "en-gb-scotland")
             for variant in ("m6", "f4", "Alicia")]
            + [("flite", "slt"), ("flite", "awb")])

# Sentences with no digit word and none that sounds like one ("for", "to", "won"...).
SENTENCES = [
    "hello, how are you today", "please call me back later", "the weather is lovely this morning",
    "I would like a cup of coffee", "where is the nearest station", "thank you very much",
    "can you hear me now", "this is a test of the microphone", "good evening everybody",
    "let me think about it", "my name is not important", "open the door please",
    "the quick brown fox jumps over the lazy dog", "what time does the shop close",
    "see you at the party", "I am not sure about that", "yes", "no", "maybe", "hello",
    "okay, let's go", "turn left at the corner", "the music is far too loud", "happy birthday",
    "could you repeat that", "the cat sat on the mat", "stop", "wait a moment", "good morning",
    "I love this song", "it is raining again", "send me the message", "check the address",
    "twenty", "thirty", "hundred", "a thousand", "first and second", "eleven", "dozen",
]

# Carrier phrases around a digit string ({}): what people say to a microphone. None
# has a word that sounds like a digit ("for", "to", "won", "ate", "oh").
CARRIERS = [
    "my number is {}", "call {} now", "my pin is {}", "the code is {}, thanks", "extension {} please",
    "it is {}", "dial {}", "my card ends in {}", "the room is {}", "please send it to box {}",
    "{} is my number", "the answer is {}, I think", "okay, {}", "um, {}", "the order number is {}",
]


@dataclass(frozen=True)
class Utterance:
    """One corpus item: ``text`` is its transcript (digit words, or "" for none)."""
    path: Path
    text: str
    voice: str
    style: str       # fluent | paused | single | carrier | sentence
    held_out: bool


def _voice_name(engine: str, voice: str) -> str:
    return f"{engine}:{voice}"


def synthesise(engine: str, voice: str, text: str, rng: np.random.Generator) -> np.ndarray:
    """``text`` said by one voice at a random rate and pitch, as an 8 kHz float wave."""
    exe = shutil.which(engine)
    if exe is None:
        raise RuntimeError(f"{engine} is not installed (apt-get install espeak-ng flite)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        if engine == "espeak-ng":
            cmd = [exe, "-v", voice, "-s", str(int(rng.integers(120, 200))), "-p", str(int(rng.integers(25, 80))),
                   "-w", str(out), text]
        else:
            cmd = [exe, "-voice", voice, "--setf", f"duration_stretch={rng.uniform(0.8, 1.25):.2f}",
                   "--setf", f"int_f0_target_mean={rng.uniform(85, 190):.0f}", "-t", text, "-o", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)
        wave, _ = load_audio(str(out), SAMPLE_RATE)
    return wave


def _script(rng: np.random.Generator) -> tuple[str, str, str]:
    """(style, what the voice reads, transcript) of one random item."""
    style = str(rng.choice(["fluent", "fluent", "paused", "single", "sentence", "carrier", "carrier"]))
    if style == "sentence":
        return style, str(rng.choice(SENTENCES)), ""
    n = 1 if style == "single" else int(rng.integers(2, 7))
    words = [DIGIT_WORDS[int(d)] for d in rng.integers(0, 10, size=n)]
    said = ", ".join(words) if style == "paused" else " ".join(words)  # commas: espeak and flite pause
    if style == "carrier":
        said = str(rng.choice(CARRIERS)).format(said)
    return style, said, " ".join(words)


def build(out: Path, per_voice: int = 60, seed: int = 0) -> Path:
    """Write ``per_voice`` random items for every voice into ``out`` and its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    import soundfile as sf

    rows = ["path\ttext\tvoice\tstyle\theld_out"]
    for engine, voice in TRAIN_VOICES + HELD_OUT:
        held = (engine, voice) in HELD_OUT
        for i in range(per_voice):
            style, said, text = _script(rng)
            name = f"{engine}-{voice.replace('+', '_')}-{i:03d}.wav"
            sf.write(out / name, synthesise(engine, voice, said, rng), SAMPLE_RATE, subtype="PCM_16")
            rows.append(f"{name}\t{text}\t{_voice_name(engine, voice)}\t{style}\t{int(held)}")
    (out / MANIFEST).write_text("\n".join(rows) + "\n")
    return out


def corpus_dir() -> Path:
    """Where the corpus of this format lives (in the data cache)."""
    return cache_dir() / f"speech-voices-v{FORMAT}"


def load(folder: str | Path | None = None) -> list[Utterance]:
    """The corpus's utterances, or [] when it has not been built (training then goes
    without it; `evaluate` says so)."""
    folder = Path(folder) if folder else corpus_dir()
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return []
    items = []
    for line in manifest.read_text().splitlines()[1:]:
        path, text, voice, style, held = line.split("\t")
        items.append(Utterance(folder / path, text, voice, style, held == "1"))
    return items


def main(argv: list[str] | None = None) -> None:
    """Command line: build the synthetic-voice corpus."""
    p = argparse.ArgumentParser(description="Build the synthetic-voice digit corpus (espeak-ng, flite).")
    p.add_argument("--out", type=Path, default=None, help="folder (default: the data cache)")
    p.add_argument("--per-voice", type=int, default=60)
    args = p.parse_args(argv)
    out = args.out or corpus_dir()
    if load(out):
        print(f"{out} (already built)")
        return
    print(build(out, args.per_voice))


if __name__ == "__main__":
    main()
