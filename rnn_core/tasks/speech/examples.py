"""Example clips for the speech tab, made by the project itself with espeak-ng, so the
tab demonstrates itself with no data set present. The WAVs are committed under
``assets/speech/examples/``; this module is how they were made:

    python -m rnn_core.tasks.speech.examples --out assets/speech/examples

(needs the ``espeak-ng`` program: ``apt-get install espeak-ng``). The voice is
synthetic and none of the model's training speakers, so the examples also show how
the network copes with a voice it has never heard.
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

# (words, espeak-ng voice, words a minute, pitch 0-99)
EXAMPLES = [
    ("four one seven", "en-us", 130, 50),
    ("nine", "en-us", 130, 40),
    ("two zero two six", "en", 125, 60),
    ("eight three", "en-us+m3", 130, 45),
    ("five five one", "en-us+f2", 125, 55),
    ("six", "en+m1", 130, 50),
]
PAD_SECONDS = 0.25


def shipped_examples() -> list[Path]:
    """The example recordings the tab offers (``assets/speech/examples/*.wav``; [] if none)."""
    folder = assets_dir("speech") / "examples"
    return sorted(folder.glob("*.wav")) if folder.is_dir() else []


def synthesise(words: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """``words`` spoken by espeak-ng, as float32 at the model's sample rate, with a
    little silence either side (as a visitor's recording would have)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        # commas: a short pause between digits, as people read out a number (and as the
        # connected strings the model trained on have)
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path),
                        ", ".join(words.split())], check=True)
        wave, _ = load_audio(str(path), SAMPLE_RATE)
    pad = np.zeros(int(PAD_SECONDS * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, wave, pad])


def make(out_dir: str | Path) -> list[Path]:
    """Write every example as ``<words with underscores>.wav`` (8 kHz, 16-bit) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for words, voice, speed, pitch in EXAMPLES:
        path = out / f"{words.replace(' ', '_')}.wav"
        sf.write(path, synthesise(words, voice, speed, pitch), SAMPLE_RATE, subtype="PCM_16")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Make the speech tab's example clips with espeak-ng.")
    p.add_argument("--out", default="assets/speech/examples")
    for path in make(p.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
