"""The audio encoder: loading what a visitor gives (files, Gradio tuples), refusing what
cannot be used, features that do not depend on the input's sample rate, CTC labels."""
import numpy as np
import pytest
import soundfile as sf

from rnn_core.encoders.audio import (DIGIT_WORDS, AudioError, CTCAlphabet, digits_to_words, sound_frames,
                                     load_audio, log_mel, trim_silence, words_to_digits)


def signal(sr: int, seconds: float = 0.8) -> np.ndarray:
    """A chirp (200 Hz -> 3 kHz) plus a 500 Hz tone with a vibrato-free envelope,
    rendered analytically at ``sr``: the same sound at every sample rate."""
    t = np.arange(int(sr * seconds)) / sr
    f0, f1 = 200.0, 3000.0
    chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t ** 2))
    tone = np.sin(2 * np.pi * 500.0 * t) * np.clip(1.5 - 2 * t / seconds, 0, 1)
    return (0.3 * chirp + 0.3 * tone).astype(np.float32)


def test_int16_stereo_tuple_at_44k():
    sr = 44100
    left = signal(sr, 0.5)
    stereo = (np.stack([left, 0.5 * left], axis=1) * 32767).astype(np.int16)
    wave, notes = load_audio((sr, stereo))
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) == pytest.approx(4000, abs=2)
    assert np.max(np.abs(wave)) == pytest.approx(0.75 * np.max(np.abs(left)), rel=0.05)
    assert notes == []
    # (channels, n) as some libraries give it is read the same way
    wave2, _ = load_audio((sr, stereo.T))
    assert np.allclose(wave, wave2)


def test_float_wav_file_at_16k(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, signal(16000, 0.6), 16000, subtype="FLOAT")
    wave, notes = load_audio(path)
    assert len(wave) == pytest.approx(4800, abs=2) and notes == []
    ref, _ = load_audio((8000, signal(8000, 0.6)))
    assert np.corrcoef(wave, ref)[0, 1] > 0.99


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_compressed_files(tmp_path, fmt):
    path = tmp_path / f"a.{fmt}"
    try:
        sf.write(path, signal(16000, 0.6), 16000)
    except (sf.LibsndfileError, TypeError, ValueError):
        pytest.skip(f"this libsndfile cannot write {fmt}")
    wave, _ = load_audio(path)
    assert abs(len(wave) - 4800) < 800  # encoders pad a little


@pytest.mark.parametrize("make, match", [
    (lambda sr: np.zeros(sr, np.int16), "silent"),
    (lambda sr: np.random.default_rng(0).normal(0, 1e-5, sr), "silent"),
    (lambda sr: signal(sr, 0.05), "too short|only 0.05 s"),
    (lambda sr: np.zeros(0, np.float32), "empty"),
    (lambda sr: np.r_[signal(sr, 0.5), np.nan], "NaN"),
])
def test_unusable_audio_is_refused(make, match):
    with pytest.raises(AudioError, match=match):
        load_audio((8000, make(8000)))


def test_unreadable_files_are_refused(tmp_path):
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage, not a wave file" * 10)
    with pytest.raises(AudioError, match="Could not read noise.wav"):
        load_audio(bad)
    with pytest.raises(AudioError, match="does not exist"):
        load_audio(tmp_path / "missing.wav")


def test_long_input_is_cut_with_a_note(tmp_path):
    long = signal(16000, 2.5)
    wave, notes = load_audio((16000, long), max_seconds=1.0)
    assert len(wave) == 8000 and "first 1 s" in notes[0]
    path = tmp_path / "long.flac"
    sf.write(path, long, 16000)
    wave, notes = load_audio(path, max_seconds=1.0)
    assert len(wave) == 8000 and len(notes) == 1
    # loud float input is scaled back into [-1, 1], and says so
    wave, notes = load_audio((8000, 4 * signal(8000, 0.5)))
    assert np.max(np.abs(wave)) <= 1.0 and "turned down" in notes[0]


def test_features_agree_across_sample_rates():
    feats = {sr: log_mel(load_audio((sr, signal(sr)))[0]) for sr in (8000, 16000, 44100)}
    ref = feats[8000]
    assert ref.shape[1] == 40 and ref.dtype == np.float32
    for sr in (16000, 44100):
        f = feats[sr]
        n = min(len(f), len(ref))
        assert abs(len(f) - len(ref)) <= 1
        assert np.corrcoef(f[:n].ravel(), ref[:n].ravel())[0, 1] > 0.95, sr
    # a different sound must not look the same (the check above can fail)
    other = log_mel(load_audio((8000, signal(8000)[::-1].copy()))[0])
    assert np.corrcoef(other.ravel(), ref.ravel())[0, 1] < 0.8
    # features computed straight at 16 kHz match too: the mel range is fixed
    direct = log_mel(signal(16000), sr=16000)
    assert np.corrcoef(direct[:n].ravel(), ref[:n].ravel())[0, 1] > 0.95


def test_log_mel_shape_and_normalisation():
    wave = signal(8000, 1.0)
    f = log_mel(wave)
    assert f.shape == (101, 40)  # 10 ms hop, centred frames
    assert np.allclose(f.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(f.std(axis=0), 1, atol=1e-2)
    assert np.allclose(log_mel(0.01 * wave), f, atol=1e-3)  # gain does not matter
    assert log_mel(wave, n_mels=20, hop_ms=20).shape == (51, 20)


def test_trim_silence():
    sr = 8000
    tone = signal(sr, 0.5)
    padded = np.r_[np.zeros(3000, np.float32), tone, np.zeros(4000, np.float32)]
    trimmed = trim_silence(padded, sr)
    assert len(tone) <= len(trimmed) <= len(tone) + 0.15 * sr
    assert np.max(np.abs(trimmed)) == np.max(np.abs(tone))
    silent = np.zeros(sr, np.float32)
    assert len(trim_silence(silent, sr)) == sr  # nothing to trim against


def test_alphabet_round_trip_and_config():
    a = CTCAlphabet()
    assert a.vocab_size == 28 and a.labels[0] == "<blank>" and a.labels[1] == " "
    ids = a.encode("Four  One\tseven")
    assert a.decode(ids) == "four one seven"
    assert 0 not in ids and a.decode([0] + ids + [0]) == "four one seven"
    b = CTCAlphabet.from_dict(a.to_dict())
    assert b.labels == a.labels and b.encode("nine") == a.encode("nine")
    with pytest.raises(ValueError, match="outside"):
        a.encode("4 one")
    with pytest.raises(ValueError, match="not a CTC alphabet"):
        CTCAlphabet.from_dict({"type": "chars", "chars": ["a"]})
    small = CTCAlphabet("efinorstuvwxzgh")
    assert small.vocab_size == 17 and all(small.decode(small.encode(w)) == w for w in DIGIT_WORDS)


def test_words_and_digits():
    assert words_to_digits("four one seven") == "417"
    assert words_to_digits("  Zero nine oh  ") == "09?"
    assert words_to_digits("") == ""
    assert digits_to_words("417") == "four one seven"
    assert digits_to_words("0 9") == "zero nine"
    assert words_to_digits(digits_to_words("1234567890")) == "1234567890"
    with pytest.raises(ValueError):
        digits_to_words("4a")


def test_sound_frames_marks_the_loud_frames_and_their_neighbours():
    wave = np.zeros(1000, np.float32)
    wave[400:600] = 0.5                       # frames 4 and 5 of 100 samples
    wave[905:] = 0.01                         # a faint partial last frame: under a tenth of the peak
    assert np.flatnonzero(sound_frames(wave, 100, 10, margin=0)).tolist() == [4, 5]
    assert np.flatnonzero(sound_frames(wave, 100, 12)).tolist() == [3, 4, 5, 6]
    assert not sound_frames(np.zeros(300, np.float32), 100, 3).any()
