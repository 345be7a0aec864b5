"""FSDD loader on a fake folder of synthetic clips named like the real ones: listing,
the usual and the by-speaker splits, connected digit strings and augmentation."""
import numpy as np
import pytest
import soundfile as sf

from rnn_core.data import DataError, fsdd
from rnn_core.encoders.audio import DIGIT_WORDS, words_to_digits

SR = 8000
SPEAKERS = ("jackson", "george")
TAKES = 7
LEAD, TONE, TAIL = 0.15, 0.25, 0.2  # seconds of silence, tone, silence in each fake clip


def write_fsdd(folder):
    """Every digit by two speakers, 7 takes each: a tone whose pitch encodes speaker
    and digit, between stretches of silence that trimming must remove."""
    rec = folder / "recordings"
    rec.mkdir(parents=True)
    t = np.arange(int(TONE * SR)) / SR
    for s, speaker in enumerate(SPEAKERS):
        for digit in range(10):
            tone = 0.5 * np.sin(2 * np.pi * (300 + 100 * digit + 30 * s) * t)
            wave = np.r_[np.zeros(int(LEAD * SR)), tone, np.zeros(int(TAIL * SR))]
            for take in range(TAKES):
                sf.write(rec / f"{digit}_{speaker}_{take}.wav", wave, SR, subtype="PCM_16")
    (rec / "notes.txt").write_text("not a recording")
    sf.write(rec / "extra_take.wav", np.zeros(100), SR)
    return folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return fsdd.list_clips(write_fsdd(tmp_path_factory.mktemp("data") / "fsdd"))


def test_list_clips(clips, tmp_path):
    assert len(clips) == len(SPEAKERS) * 10 * TAKES
    c = clips[0]
    assert (c.speaker, c.digit, c.take) == ("george", 0, 0)
    assert c.path.name == "0_george_0.wav"
    assert {c.speaker for c in clips} == set(SPEAKERS)
    with pytest.raises(DataError):
        fsdd.list_clips(tmp_path)  # not an FSDD folder


def test_usual_split(clips):
    train, test = fsdd.usual_split(clips)
    assert len(test) == len(SPEAKERS) * 10 * 5 and len(train) == len(clips) - len(test)
    assert all(c.take < 5 for c in test) and all(c.take >= 5 for c in train)
    assert set(train).isdisjoint(test)
    # every speaker and digit is on both sides
    assert {(c.speaker, c.digit) for c in train} == {(c.speaker, c.digit) for c in test}


def test_speaker_split(clips):
    train, test = fsdd.speaker_split(clips, "george")
    assert {c.speaker for c in test} == {"george"} and {c.speaker for c in train} == {"jackson"}
    assert len(train) + len(test) == len(clips)
    with pytest.raises(ValueError, match="unknown speaker"):
        fsdd.speaker_split(clips, "theo")


def test_load_clip_is_cached_and_trimmed(clips):
    full = fsdd.load_clip(clips[0])
    assert len(full) == int((LEAD + TONE + TAIL) * SR)
    trimmed = fsdd.load_clip(clips[0], trim=True)
    assert TONE * SR <= len(trimmed) <= (TONE + 0.08) * SR
    assert fsdd.load_clip(clips[0], trim=True) is trimmed
    with pytest.raises(ValueError):
        trimmed[0] = 1.0  # shared by the cache: read-only


def test_make_connected_transcript_and_length(clips, monkeypatch):
    used = []
    real = fsdd.load_clip
    monkeypatch.setattr(fsdd, "load_clip", lambda c, *a, **k: used.append(c) or real(c, *a, **k))
    pause = (0.05, 0.4)
    wave, text = fsdd.make_connected(clips, [4, 1, 7], np.random.default_rng(0), pause=pause,
                                     augment=False)
    assert text == "four one seven" and words_to_digits(text) == "417"
    assert [c.digit for c in used] == [4, 1, 7] and len({c.speaker for c in used}) == 1
    speech = sum(len(real(c, trim=True)) for c in used)
    assert speech + 4 * pause[0] * SR - 4 <= len(wave) <= speech + 4 * pause[1] * SR
    assert wave.dtype == np.float32
    # a chosen speaker is honoured
    used.clear()
    fsdd.make_connected(clips, [0, 0], np.random.default_rng(1), speaker="jackson", augment=False)
    assert {c.speaker for c in used} == {"jackson"}
    with pytest.raises(ValueError):
        fsdd.make_connected(clips, [12], np.random.default_rng(0))


def test_make_connected_is_reproducible(clips):
    a, ta = fsdd.make_connected(clips, [2, 9, 9, 5], np.random.default_rng(7))
    b, tb = fsdd.make_connected(clips, [2, 9, 9, 5], np.random.default_rng(7))
    c, _ = fsdd.make_connected(clips, [2, 9, 9, 5], np.random.default_rng(8))
    assert ta == tb == "two nine nine five"
    assert np.array_equal(a, b)
    assert len(a) != len(c) or not np.allclose(a, c)
    assert np.all(np.isfinite(a)) and np.max(np.abs(a)) <= 1.0


def test_make_connected_says_where_each_word_is(clips):
    """Spans mark each take in the wave, fluent (overlapping) or with pauses; there is
    nothing but silence outside them."""
    for gap in ((-0.03, -0.01), (0.0, 0.04), None):
        spans: list = []
        wave, text = fsdd.make_connected(clips, [3, 8, 1], np.random.default_rng(2), augment=False,
                                         gap=gap, spans=spans)
        assert len(spans) == 3 and all(0 <= a < b <= len(wave) for a, b in spans)
        assert all(b0 <= a1 + int(0.03 * SR) + 1 for (_, b0), (a1, _) in zip(spans, spans[1:]))
        outside = np.ones(len(wave), bool)
        for a, b in spans:
            outside[a:b] = False
        assert not np.any(wave[outside])
    with pytest.raises(ValueError, match="augment"):
        fsdd.make_connected(clips, [3], np.random.default_rng(2), spans=[])


def test_augment(clips):
    wave = np.asarray(fsdd.load_clip(clips[3], trim=True))
    for seed in range(6):
        out = fsdd.augment(wave, np.random.default_rng(seed), SR, pitch_prob=0.5)
        assert out.dtype == np.float32 and np.all(np.isfinite(out))
        assert len(wave) / 1.1 - 2 <= len(out) <= len(wave) / 0.9 + 2
        assert np.max(np.abs(out)) <= 1.0
        assert np.array_equal(out, fsdd.augment(wave, np.random.default_rng(seed), SR, pitch_prob=0.5))
    # noise at a known SNR: the residual's power is where the SNR puts it
    clean = fsdd.augment(wave, np.random.default_rng(0), SR, speed=(1, 1), pitch_prob=0,
                         gain_db=(0, 0), snr_db=None)
    assert np.allclose(clean, wave)
    noisy = fsdd.augment(wave, np.random.default_rng(0), SR, speed=(1, 1), pitch_prob=0,
                         gain_db=(0, 0), snr_db=(10, 10))
    snr = 10 * np.log10(np.mean(wave ** 2) / np.mean((noisy - wave) ** 2))
    assert snr == pytest.approx(10, abs=0.5)


def test_random_connected(clips):
    groups = fsdd.by_speaker(clips)
    assert set(groups) == set(SPEAKERS)
    rng = np.random.default_rng(3)
    lengths = set()
    for _ in range(8):
        wave, text = fsdd.random_connected(groups, rng, min_len=1, max_len=3, augment=False)
        words = text.split()
        assert 1 <= len(words) <= 3 and all(w in DIGIT_WORDS for w in words)
        lengths.add(len(words))
        assert len(wave) > len(words) * TONE * SR
    assert len(lengths) > 1
