"""Example clips for the speech tab, made by the project itself with espeak-ng, so the
tab demonstrates itself with no data set present. The WAVs are committed under
``assets/speech/examples/``; this module is how they were made:

    python -m rnn_core.tasks.speech.examples --out assets/speech/examples

(needs the ``espeak-ng`` program: ``apt-get install espeak-ng``). The voices are
synthetic and none of the model's training speakers, so the examples also show how
the network copes with voices it has never heard. Most read the digits with a short
pause between them (as people read out a number); the *fluent* ones read them with no
pause, as one phrase, one says them inside a sentence (``my_pin_is_four_four_one_two.wav``:
the right answer is "4412", with a note that other words were heard) and one says no
digits at all (``hello_how_are_you_today.wav``: the right answer is "no digits heard").
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ...checkpoint import assets_dir
from ...encoders.audio import SAMPLE_RATE, load_audio

# (words, espeak-ng voice, words a minute, pitch 0-99, fluent: read with no pauses
# between the words, else a comma, so a short pause, after each)
EXAMPLES = [
    ("four one seven", "en-us", 130, 50, False),
    ("nine", "en-us", 130, 40, False),
    ("two zero two six", "en", 125, 60, False),
    ("eight three", "en-us+m3", 130, 45, False),
    ("five five one", "en-us+f2", 125, 55, False),
    ("six", "en+m1", 130, 50, False),
    ("four eight three nine", "en-us", 150, 50, True),
    ("two eight six four six eight", "en-gb", 160, 45, True),
    ("hello, how are you today", "en-us+f2", 140, 55, True),  # no digits: "no digits heard"
    ("my pin is four four one two", "en-us+m3", 140, 50, True),  # digits inside a sentence: "4412"
]
PAD_SECONDS = 0.25


def shipped_examples() -> list[Path]:
    """The example recordings the tab offers (``assets/speech/examples/*.wav``; [] if none)."""
    folder = assets_dir("speech") / "examples"
    return sorted(folder.glob("*.wav")) if folder.is_dir() else []


def synthesise(words: str, voice: str, speed: int, pitch: int, fluent: bool = False) -> np.ndarray:
    """``words`` spoken by espeak-ng, as float32 at the model's sample rate, with a
    little silence either side (as a visitor's recording would have). ``fluent``: the
    words are read as given, with no pause added between them."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        # commas: a short pause between digits, as people read out a number (and as the
        # connected strings the model trained on have)
        said = words if fluent else ", ".join(words.split())
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), said],
                       check=True)
        wave, _ = load_audio(str(path), SAMPLE_RATE)
    pad = np.zeros(int(PAD_SECONDS * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, wave, pad])


def make(out_dir: str | Path) -> list[Path]:
    """Write every example as ``<words, commas dropped, joined by underscores>.wav``
    (8 kHz, 16-bit) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for words, voice, speed, pitch, fluent in EXAMPLES:
        path = out / f"{'_'.join(words.replace(',', '').split())}.wav"
        sf.write(path, synthesise(words, voice, speed, pitch, fluent), SAMPLE_RATE, subtype="PCM_16")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: write the example clips."""
    p = argparse.ArgumentParser(description="Make the speech tab's example clips with espeak-ng.")
    p.add_argument("--out", default="assets/speech/examples")
    for path in make(p.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
