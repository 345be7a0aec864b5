"""Bad input across the app, through a live server: one table of bad inputs over
every task's tab (empty, huge, corrupt, wrong type, extreme settings, odd text), each sent
with gradio_client to one launched gallery running on the tiny checkpoints.

Each case expects either a clear refusal (the client raises with a sentence for a
person: Gradio passes on only a `gr.Error`'s message, and turns any other exception
into a generic "the upstream app has raised an exception", which fails here), or a
sane answer that says what was changed (a note). After every case the server must
still answer a good request and serve its page, and stderr must show no traceback at
all: a refusal is one warning line in the log (issue 28, item 3).

The handler-level tests (tests/test_*_app.py) cover the same ground in more detail;
this file checks that the messages survive Gradio's pre-processing and the wire.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import launched_gallery, link_data


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_assets, sst2_dir, shakespeare_dir, nottingham_dir, fsdd_dir, timeseries_dir):
    """One gallery on a free port, its tabs on the tiny checkpoints and tiny data
    (as conftest's `tiny_app`, but for the whole module: one launch, not forty)."""
    from gradio_client import Client

    data = link_data(tmp_path_factory.mktemp("data"),
                     (sst2_dir, shakespeare_dir, nottingham_dir, fsdd_dir, timeseries_dir))
    with launched_gallery(tiny_assets, data) as url:
        yield url, Client(url, verbose=False)


def assert_alive(url, client):
    """A good request still gets a verdict, and the page is still served."""
    verdict = client.predict("a fine film", api_name="/sentiment_classify")[2]
    assert "confidence" in verdict
    assert httpx.get(url, timeout=30).status_code == 200


# ---- inputs made on the spot --------------------------------------------------------

def up(path):
    from gradio_client import handle_file

    return handle_file(str(path))


def wav(d, name="clip.wav", seconds=1.0, sr=8000, channels=1, amplitude=0.3, subtype="PCM_16"):
    """Noise (or silence, amplitude 0) as a WAV file."""
    wave = amplitude * np.random.default_rng(0).normal(0, 1, (int(sr * seconds), channels)).clip(-3, 3) / 3
    sf.write(d / name, wave, sr, subtype=subtype, format="WAV")
    return up(d / name)


def raw(d, name, data: bytes):
    (d / name).write_bytes(data)
    return up(d / name)


def midi(d, name, n_notes, drums=False):
    """A MIDI file of ``n_notes`` quarter notes (120 bpm), on a drum track if asked."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0, is_drum=drums)
    inst.notes = [pretty_midi.Note(90, 60 + i % 8, i * 0.5, i * 0.5 + 0.5) for i in range(n_notes)]
    pm.instruments.append(inst)
    pm.write(str(d / name))
    return up(d / name)


def dense_midi(d, name, tracks=8, notes=20_000):
    """Many tracks of chords packed close together: a lot of events in few bars."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for t in range(tracks):
        inst = pretty_midi.Instrument(t)
        inst.notes = [pretty_midi.Note(90, 40 + i % 40, (i // 10) * 0.01, (i // 10) * 0.01 + 0.5)
                      for i in range(notes)]
        pm.instruments.append(inst)
    pm.write(str(d / name))
    return up(d / name)


def textgen(prime="ROMEO:\n", length=20, temperature=0.8, top_k=0, top_p=1.0, seed=0, which="pretrained"):
    return prime, length, temperature, top_k, top_p, seed, which


def melody(source="none", typed="", upload=None, meter="4/4", bars=2, temperature=1.0, tempo=120,
           key="the primer's key", scale="none", variations=1, seed=0, include_primer=True, which="pretrained"):
    return source, typed, upload, meter, bars, temperature, tempo, key, scale, variations, seed, include_primer, which


def retrain(task, **changes):
    """A retrain's settings, in the panel's order: the smallest, quickest run, with
    ``changes`` (the absurd ones) on top."""
    from rnn_core.tasks import TASKS

    spec = TASKS[task].retrain_bounds
    small = {n: (o.default if o.low is None else o.low) for n, o in spec.items()}
    tab = ("sunspots",) if task == "forecast" else ()  # the forecasting retrain also reads the tab's series
    return tab + tuple({**small, **changes}[n] for n in spec)


# ---- the table --------------------------------------------------------------------

@dataclass
class Case:
    id: str
    api: str
    args: Callable  # tmp folder -> the endpoint's arguments
    refused: str = ""  # a phrase of the refusal message, or
    noted: str = ""    # a phrase of the answer (its note on what was changed)


HUGE = "a fine film " * 10_000  # 120,000 characters
# Out-of-range sliders, and values outside a Radio's or Dropdown's choices, are refused by
# Gradio before the handler runs ("Value 0 is less than minimum value 8."); that is why
# the retrain cases never start a training run. Number boxes have no bounds: their
# handlers clamp and say so. (NaN and infinity cannot be sent through the client, which
# refuses to put them in JSON: the handlers' own tests send them.) Uploads over the
# server's limit never reach a handler (tests/test_server_limits.py).
CASES = [
    # sentiment: many-to-one classification of one sentence
    Case("sentiment-empty", "/sentiment_classify", lambda d: ("",), refused="Type a sentence first"),
    Case("sentiment-whitespace", "/sentiment_classify", lambda d: (" \n\t ",), refused="Type a sentence first"),
    Case("sentiment-none", "/sentiment_classify", lambda d: (None,), refused="Type a sentence first"),
    Case("sentiment-only-symbols", "/sentiment_classify", lambda d: ("!!! ??? ...",),
         noted="only punctuation: the verdict is a guess"),
    Case("sentiment-control-bytes", "/sentiment_classify", lambda d: ("\x00\x07\x1b\u200b\ufeff",),
         refused="no words to read"),
    Case("sentiment-emoji-and-cjk", "/sentiment_classify", lambda d: ("😀 这部电影很好 😡",),
         noted="never seen in training"),
    Case("sentiment-number-not-text", "/sentiment_classify", lambda d: (42,), noted="never seen in training"),
    Case("sentiment-120k-chars", "/sentiment_classify", lambda d: (HUGE,), noted="only the first 20,000 were kept"),
    Case("sentiment-retrain-hidden-0", "/sentiment_retrain", lambda d: retrain("sentiment", hidden=0),
         refused="less than minimum value 8"),
    Case("sentiment-retrain-unknown-cell", "/sentiment_retrain", lambda d: retrain("sentiment", cell="transformer"),
         refused="not in the list of choices"),
    # text generation: one-to-many, character by character
    Case("textgen-empty-prime", "/textgen_generate", lambda d: textgen(prime=""), noted="Empty prime"),
    Case("textgen-number-as-prime", "/textgen_generate", lambda d: textgen(prime=12345),
         noted="never seen were dropped"),
    Case("textgen-120k-prime", "/textgen_generate", lambda d: textgen(prime=HUGE), noted="cut to its last 2000"),
    Case("textgen-emoji-prime", "/textgen_generate", lambda d: textgen(prime="🎭 Здравствуй\x00"),
         noted="never seen were dropped"),
    Case("textgen-length-0", "/textgen_generate", lambda d: textgen(length=0), refused="less than minimum value 1"),
    Case("textgen-length-1e9", "/textgen_generate", lambda d: textgen(length=1e9),
         refused="greater than maximum value 2000"),
    Case("textgen-temperature-0", "/textgen_generate", lambda d: textgen(temperature=0),
         refused="less than minimum value 0.05"),
    Case("textgen-top-k-huge-seed-huge", "/textgen_generate", lambda d: textgen(top_k=10**6, seed=10**30),
         noted="top_k 1000000 is above 200"),
    Case("textgen-no-retrained-model", "/textgen_generate", lambda d: textgen(which="my retrained model"),
         refused="no retrained model yet"),
    Case("textgen-inspect-empty", "/textgen_inspect", lambda d: ("", "pretrained"), refused="Nothing to look inside"),
    Case("textgen-inspect-emoji-only", "/textgen_inspect", lambda d: ("😀🎉这是", "pretrained"),
         refused="None of these characters are known"),
    # one known character (the space) left: the position slider must still be valid
    Case("textgen-inspect-emoji-and-space", "/textgen_inspect", lambda d: ("😀🎉 这是", "pretrained"),
         noted="Dropped 4 unknown character(s)"),
    Case("textgen-inspect-120k", "/textgen_inspect", lambda d: (HUGE, "pretrained"),
         noted="Only the first 2,000 of 120,000 characters were read"),
    Case("textgen-retrain-epochs-1e9", "/textgen_retrain", lambda d: retrain("textgen", epochs=10**9),
         refused="greater than maximum value 50"),
    # melody: one-to-many from a primer
    Case("melody-unknown-primer-source", "/melody_generate", lambda d: melody("radio"),
         refused="not in the list of choices"),
    Case("melody-typed-empty", "/melody_generate", lambda d: melody("typed notes", "  "), refused="Type some notes"),
    Case("melody-typed-gibberish", "/melody_generate", lambda d: melody("typed notes", "hello world"),
         refused="'hello' is not a note"),
    Case("melody-typed-only-rests", "/melody_generate", lambda d: melody("typed notes", "R R/2"),
         refused="only rests"),
    Case("melody-typed-30k-chars", "/melody_generate", lambda d: melody("typed notes", "C4 " * 10_000),
         refused="at most 20,000"),
    Case("melody-typed-extreme-pitches", "/melody_generate", lambda d: melody("typed notes", "C-1 G9 C4"),
         noted="outside the model's range"),
    Case("melody-no-upload", "/melody_generate", lambda d: melody("MIDI file"), refused="Upload a MIDI file"),
    Case("melody-garbage-mid", "/melody_generate",
         lambda d: melody("MIDI file", upload=raw(d, "x.mid", b"MThd\x00\x01 not midi" * 50)),
         refused="not a MIDI file that can be read"),
    Case("melody-wav-as-mid", "/melody_generate", lambda d: melody("MIDI file", upload=wav(d, "tone.mid")),
         refused="not a MIDI file that can be read"),
    Case("melody-txt-upload", "/melody_generate",  # refused by gr.File(file_types=...) itself
         lambda d: melody("MIDI file", upload=raw(d, "notes.txt", b"C4 D4")), refused="Invalid file type"),
    Case("melody-drums-only", "/melody_generate", lambda d: melody("MIDI file", upload=midi(d, "d.mid", 16, True)),
         refused="only drums"),
    Case("melody-no-notes", "/melody_generate", lambda d: melody("MIDI file", upload=midi(d, "e.mid", 0)),
         refused="has no notes"),
    Case("melody-6mb-mid", "/melody_generate",
         lambda d: melody("MIDI file", upload=raw(d, "big.mid", b"MThd" + b"\x00" * 6_000_000)),
         refused="over 2 MB"),
    Case("melody-200k-notes-mid", "/melody_generate",  # past pretty_midi's tick limit: cut before it
         lambda d: melody("MIDI file", upload=midi(d, "huge.mid", 200_000)), noted="only its first 64 bars"),
    Case("melody-dense-mid", "/melody_generate", lambda d: melody("MIDI file", upload=dense_midi(d, "dense.mid")),
         noted="The file is dense"),
    Case("melody-typed-one-20k-char-word", "/melody_generate", lambda d: melody("typed notes", "Q" * 20_000),
         refused="'QQQQQQQQQQQQQQQQQQQQQQQQ...' is not a note"),
    Case("melody-2-hour-mid", "/melody_generate", lambda d: melody("MIDI file", upload=midi(d, "long.mid", 14_400)),
         noted="only its first 64 bars"),
    Case("melody-bars-0", "/melody_generate", lambda d: melody(bars=0), refused="less than minimum value 1"),
    Case("melody-tempo-negative", "/melody_generate", lambda d: melody(tempo=-120),
         refused="less than minimum value 30"),
    Case("melody-variations-100", "/melody_generate", lambda d: melody(variations=100),
         refused="greater than maximum value 4"),
    Case("melody-seed-negative", "/melody_generate", lambda d: melody(seed=-1), noted="seed -1 is below 0"),
    Case("melody-unknown-key", "/melody_generate", lambda d: melody(key="H minor"),
         refused="not in the list of choices"),
    Case("melody-no-retrained-model", "/melody_generate", lambda d: melody(which="my retrained model"),
         refused="no retrained model yet"),
    Case("melody-retrain-layers-100", "/melody_retrain", lambda d: retrain("melody", layers=100),
         refused="greater than maximum value"),
    # speech: many-to-many, a recording of spoken digits
    Case("speech-none", "/speech_transcribe", lambda d: (None, "pretrained"), refused="No audio given"),
    Case("speech-empty-file", "/speech_transcribe", lambda d: (raw(d, "e.wav", b""), "pretrained"),
         refused="The file is empty"),
    Case("speech-garbage-wav", "/speech_transcribe", lambda d: (raw(d, "x.wav", b"RIFF\x00\x01WAVEfmt junk" * 9),
                                                              "pretrained"), refused="Could not read x.wav"),
    Case("speech-garbage-mp3", "/speech_transcribe", lambda d: (raw(d, "x.mp3", b"ID3\x03" + bytes(range(256)) * 8),
                                                              "pretrained"), refused="Could not read x.mp3"),
    Case("speech-txt-as-audio", "/speech_transcribe", lambda d: (raw(d, "a.txt", b"four one seven"), "pretrained"),
         refused="Could not read a.txt"),
    Case("speech-png-as-audio", "/speech_transcribe",
         lambda d: (raw(d, "a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 500), "pretrained"),
         refused="Could not read a.png"),
    Case("speech-mid-as-audio", "/speech_transcribe", lambda d: (midi(d, "m.mid", 8), "pretrained"),
         refused="Could not read m.mid"),
    Case("speech-silence", "/speech_transcribe", lambda d: (wav(d, amplitude=0.0), "pretrained"), refused="silent"),
    Case("speech-0.05s", "/speech_transcribe", lambda d: (wav(d, seconds=0.05), "pretrained"),
         refused="only 0.05 s long"),
    Case("speech-nan-samples", "/speech_transcribe",
         lambda d: (wav(d, amplitude=np.nan, subtype="FLOAT"), "pretrained"), refused="NaN or infinite"),
    Case("speech-10-minutes", "/speech_transcribe", lambda d: (wav(d, seconds=600), "pretrained"),
         noted="only the first 20 s were used"),
    Case("speech-stereo-44k", "/speech_transcribe", lambda d: (wav(d, seconds=1, sr=44100, channels=2), "pretrained"),
         noted="1.00 s of audio"),
    Case("speech-unknown-model", "/speech_transcribe", lambda d: (wav(d), "best"),
         refused="not in the list of choices"),
    Case("speech-no-retrained-model", "/speech_transcribe", lambda d: (wav(d), "my retrained model"),
         refused="no retrained model yet"),
    Case("speech-retrain-hidden-1e6", "/speech_retrain", lambda d: retrain("speech", hidden=10**6),
         refused="greater than maximum value 256"),
    # forecasting: series, steps ahead, origin (% into the test tail), which model
    Case("forecast-unknown-series", "/forecast_answer", lambda d: ("../../etc/passwd", 12, 50, "pretrained"),
         refused="not in the list of choices"),
    Case("forecast-upload-without-a-file", "/forecast_answer", lambda d: ("upload", 12, 50, "pretrained"),
         refused="Upload a CSV first"),
    Case("forecast-steps-0", "/forecast_answer", lambda d: ("sunspots", 0, 50, "pretrained"),
         refused="less than minimum value 1"),
    Case("forecast-steps-past-the-model", "/forecast_answer", lambda d: ("temperatures", 24, 50, "pretrained"),
         noted="forecasts 1 to 14 steps ahead; showing 14"),
    Case("forecast-origin-1e9", "/forecast_answer", lambda d: ("pm25", 24, 1e9, "pretrained"),
         refused="greater than maximum value 100"),
    Case("forecast-the-future", "/forecast_answer", lambda d: ("sunspots", 24, 100, "pretrained"),
         noted="the future, not in the data"),
    Case("forecast-no-retrained-model", "/forecast_answer", lambda d: ("sunspots", 12, 50, "my retrained model"),
         refused="no retrained model yet"),
    Case("forecast-retrain-hidden-1e6", "/forecast_retrain", lambda d: retrain("forecast", hidden=10**6),
         refused="greater than maximum value 128"),
    # translation: encoder-decoder, English in, French out
    Case("translation-empty", "/translation_translate", lambda d: ("", 5, "pretrained"),
         refused="Type an English sentence"),
    Case("translation-none", "/translation_translate", lambda d: (None, 5, "pretrained"),
         refused="Type an English sentence"),
    Case("translation-only-symbols", "/translation_translate", lambda d: ("?!... 🐱🐶", 5, "pretrained"),
         refused="no words to translate"),
    Case("translation-5000-chars", "/translation_translate", lambda d: ("I see the cat. " * 340, 5, "pretrained"),
         noted="Only the first 60 words were translated"),
    Case("translation-another-language", "/translation_translate",
         lambda d: ("Ich sehe die Katze und den Hund jeden Tag", 5, "pretrained"), noted="is this English"),
    Case("translation-emoji-and-numbers", "/translation_translate", lambda d: ("I see 42 cats 🐱", 5, "pretrained"),
         noted="never seen in training"),
    Case("translation-html", "/translation_translate",
         lambda d: ("<p>I see <b>the cat</b></p><script>alert(1)</script>", 5, "pretrained"),
         noted="HTML tags were removed"),
    Case("translation-beam-0", "/translation_translate", lambda d: ("I see the cat.", 0, "pretrained"),
         refused="less than minimum value 1"),
    Case("translation-no-retrained-model", "/translation_translate",
         lambda d: ("I see the cat.", 5, "my retrained model"), refused="no retrained model yet"),
    Case("translation-retrain-hidden-0", "/translation_retrain", lambda d: retrain("translation", hidden=0),
         refused="less than minimum value 16"),
]

# What a message for a person is not: a traceback, Gradio's generic stand-in for an
# exception that was not a gr.Error, or a bare exception name.
NOT_FOR_PEOPLE = re.compile(r"Traceback|upstream Gradio app has raised|^\s*(\w+\.)*\w*(Error|Exception)\s*$")


# Refusals Gradio makes itself, before a handler runs (`apps.refusal.quiet_gradio_refusals`)
GRADIO_OWN = re.compile(r"minimum value|maximum value|list of choices|Invalid file type")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_answer(server, case, tmp_path, capfd, caplog):
    from gradio_client.exceptions import AppError  # what the client raises for the app's errors

    url, client = server
    args = case.args(tmp_path)
    if case.refused:
        with pytest.raises(AppError) as info:
            client.predict(*args, api_name=case.api)
        message = str(info.value)
        assert case.refused in message
        assert not NOT_FOR_PEOPLE.search(message) and len(message.split()) >= 4, message
    else:
        outputs = client.predict(*args, api_name=case.api)
        assert any(case.noted in o for o in outputs if isinstance(o, str)), outputs
    assert_alive(url, client)
    log = capfd.readouterr().err
    assert "Traceback" not in log, f"a visitor's mistake left a traceback in the server log:\n{log}"
    if case.refused and not GRADIO_OWN.search(case.refused):  # ours: one warning line in the log
        assert any(r.getMessage().startswith("refused: ") and "\n" not in r.getMessage()
                   for r in caplog.records), caplog.text


def test_table_covers_every_tab_and_endpoint():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
    apis = {c.api for c in CASES}
    for api in ("/sentiment_classify", "/textgen_generate", "/textgen_inspect", "/melody_generate",
                "/speech_transcribe", "/forecast_answer", "/translation_translate"):
        assert api in apis
    assert {a.split("_")[0] for a in apis if a.endswith("_retrain")} == {"/sentiment", "/textgen", "/melody",
                                                                         "/speech", "/forecast", "/translation"}


def test_server_alive_after_all(server):
    assert_alive(*server)
