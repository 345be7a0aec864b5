"""Speech for real voices: fluent strings, simulated rooms, audio with no digits, the
synthetic-voice corpus (when espeak-ng and flite are here), calibration."""
import shutil

import numpy as np
import pytest

from rnn_core.data import scenes
from rnn_core.data.fsdd import by_speaker, list_clips, load_clip, make_connected
from rnn_core.data.specaugment import spec_augment, vtlp
from rnn_core.data.voices import build, load
from rnn_core.encoders.audio import DIGIT_WORDS, SAMPLE_RATE, CTCAlphabet
from rnn_core.tasks import TASKS
from rnn_core.tasks.speech.data import partition, training_batches, voice_splits
from rnn_core.tasks.speech import refusal
from rnn_core.tasks.speech.predictor import SpeechRecognizer, calibrated
from rnn_core.tasks.speech.real_voices import calibration, fit_temperature, real_voice_figures
from tests.conftest import TINY_SPEECH


@pytest.fixture(scope="module")
def clips(fsdd_dir):
    return list_clips(fsdd_dir)


def test_fluent_strings_are_shorter_and_overlap_cross_fades(clips):
    """The same takes joined with pauses, without, and overlapping (cross-faded)."""
    groups = by_speaker(clips)
    speaker = sorted(groups)[0]

    def length(**kw):
        wave, text = make_connected(groups[speaker], [4, 1, 7], np.random.default_rng(0), augment=False,
                                    speaker=speaker, **kw)
        assert text == "four one seven" and np.all(np.isfinite(wave))
        return len(wave)

    paused, touching, overlapping = length(), length(gap=(0.0, 0.0)), length(gap=(-0.03, -0.03))
    assert overlapping < touching < paused
    assert touching - overlapping == 2 * round(0.03 * SAMPLE_RATE)  # two joins, 30 ms each


def test_scenes_keep_a_valid_wave_and_make_non_speech():
    rng = np.random.default_rng(0)
    wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / SAMPLE_RATE)).astype(np.float32)
    for _ in range(20):
        out = scenes.scene(wave, rng, [wave])
        assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.max(np.abs(out)) < 1
        assert len(wave) <= len(out) <= len(wave) + 2 * 0.8 * SAMPLE_RATE
    for colour in ("white", "pink", "brown"):
        noise = scenes.coloured_noise(16000, colour, rng)
        assert np.sqrt(np.mean(noise ** 2)) == pytest.approx(1, rel=1e-3)
    spectrum = np.abs(np.fft.rfft(scenes.coloured_noise(16000, "brown", rng))) ** 2
    assert spectrum[:800].mean() > 10 * spectrum[-800:].mean()  # brown: low frequencies dominate
    lengths = [len(scenes.non_speech(rng)) / SAMPLE_RATE for _ in range(10)]
    assert all(0.5 <= s <= 3.0 for s in lengths)
    for make in (lambda: scenes.non_speech(rng, [wave]), lambda: scenes.unfamiliar_sound(rng),
                 lambda: scenes.noisy_room(wave, rng), lambda: scenes.melody(1.5, rng)):
        for _ in range(8):
            out = make()
            assert out.dtype == np.float32 and np.all(np.isfinite(out)) and 0 < np.max(np.abs(out)) <= 1
    assert refusal.clipped_share(scenes.clipped(wave, rng)) > 0.1 and refusal.clipped_share(wave) < 0.01


def test_vtlp_moves_formants_and_masks_stay_small():
    """VTLP stretches the band axis (a peak at band 20 moves up for a factor above 1, and
    1 changes nothing); SpecAugment's masks zero at most 2 x 5 bands and 2 x 10% of frames."""
    feats = np.zeros((200, 40), np.float32)
    feats[:, 20] = 1.0
    rng = np.random.default_rng(0)
    assert np.array_equal(vtlp(feats, rng, (1.0, 1.0)), feats)
    assert np.argmax(vtlp(feats, rng, (1.1, 1.1))[0]) == 22 and np.argmax(vtlp(feats, rng, (0.9, 0.9))[0]) == 18
    full = np.ones((200, 40), np.float32)
    for _ in range(20):
        masked = spec_augment(full, rng)
        assert masked.shape == full.shape and (masked == 0).all(axis=0).sum() <= 10
        assert (masked == 0).all(axis=1).sum() <= 2 * 20


def test_refusal_threshold_refuses_at_most_the_stated_share():
    rng = np.random.default_rng(0)
    digits, none = rng.uniform(0.3, 1.0, 1000), np.r_[np.zeros(80), rng.uniform(0, 0.6, 20)]
    fit = refusal.fit_refusal(digits, none, max_false_refusal=0.02)
    assert fit["false_refusal"] <= 0.02 and np.mean(digits < fit["threshold"]) == pytest.approx(0.02, abs=0.002)
    assert fit["refused_no_digits"] >= 0.8
    assert refusal.choose_threshold([]) == 0.0
    assert refusal.refused("", 0.99, 0.0) and refusal.refused("five", 0.4, 0.5) and not refusal.refused("five", 0.6, 0.5)


def test_sound_hints_and_sound_away_from_the_words(clips):
    rng = np.random.default_rng(1)
    speech = load_clip(next(c for c in clips if c.digit == 4))
    assert refusal.sound_hint(scenes.chord(2.0, rng)) == "it has steady pitches, like music or a beep"
    assert refusal.sound_hint(scenes.coloured_noise(16000, "white", rng)) == "it sounds like noise, with no voice in it"
    assert refusal.sound_hint(speech) == ""
    # 1 s of sound (frames 0-49, and one frame of margin), then silence; one word's letters
    # at frames 10-20 (20 ms frames), which covers frames 0-30 with the word's 0.2 s pad
    wave = np.r_[0.5 * rng.normal(0, 1, 8000), np.zeros(8000)].astype(np.float32)
    word = [(5, 10), (6, 15), (7, 20)]
    assert refusal.other_sound_seconds(wave, word, 1, 0.02, 100) == pytest.approx(0.02 * (51 - 31))
    assert refusal.other_sound_seconds(wave, [], 1, 0.02, 100) == pytest.approx(1.0, abs=0.041)


def test_training_batches_hold_empty_transcripts_for_no_digits(clips):
    """``negative_share`` adds items whose transcript is empty (CTC target length 0)."""
    r = TASKS["speech"].recipe(**{**TINY_SPEECH, "negative_share": 0.5, "fluent_share": 1.0})
    train = partition(clips)["train"]
    batches = list(training_batches(train, r, 0, CTCAlphabet()))
    lengths = [int(n) for b in batches for n in b["target_lengths"]]
    assert lengths.count(0) == round(0.5 * len(train))
    assert len(lengths) == len(train) + round(r.connected_share * len(train)) + round(0.5 * len(train))


def test_calibration_figures():
    perfect = calibration([0.95] * 20 + [0.55] * 20, [True] * 19 + [False] + [True] * 11 + [False] * 9)
    assert perfect["ece"] == pytest.approx(0.0, abs=1e-9)
    assert perfect["share_at_least_90"] == 0.5 and perfect["accuracy_at_least_90"] == 0.95
    assert calibration([0.99, 0.99], [False, False])["ece"] == pytest.approx(0.99)


def test_temperature_softens_and_sharpens():
    lp = np.log(np.array([[0.7, 0.2, 0.1]]))
    assert np.allclose(np.exp(calibrated(lp, 1.0)), [[0.7, 0.2, 0.1]])
    soft, sharp = np.exp(calibrated(lp, 2.0)), np.exp(calibrated(lp, 0.5))
    assert np.allclose(soft.sum(-1), 1) and soft[0, 0] < 0.7 < sharp[0, 0]


def test_real_voice_figures_and_temperature_on_the_tiny_model(tiny_speech, clips):
    """Without a corpus (the tests' cache is empty) the figures cover fluent FSDD
    strings and audio with no digits, say the voices are missing, and calibrate."""
    rec = SpeechRecognizer.from_pretrained(tiny_speech)
    assert rec.temperature > 0  # fitted after training and kept in config.json
    m = real_voice_figures(rec, partition(clips)["test"], seed=0, strings=10)
    assert m["fsdd_fluent"]["items"] == 10 and 0 <= m["fsdd_fluent"]["cer"]
    assert m["no_digits"]["items"] == 100 and "not built" in m["note"]
    assert m["kept_aside_sounds"]["items"] == 100 and 0 <= m["kept_aside_sounds"]["refused"] <= 1
    assert m["calibration"]["answers"] == 110 and 0 <= m["calibration"]["ece"] <= 1
    # the refusal threshold was chosen on validation: at most 2% of its digit utterances refused
    assert rec.config["refusal"]["false_refusal"] <= 0.02 and m["refusal"]["threshold"] == rec.refusal_threshold
    placed = m["alignment"]["fsdd_fluent"]
    assert set(placed) == {"letters_on_speech", "words_in_place", "greedy_letters_on_speech", "greedy_words_in_place"}
    assert all(0 <= v <= 1 for v in placed.values())
    from rnn_core.tasks.speech.predictor import batch_log_probs
    from rnn_core.tasks.speech.data import clip_features

    test = partition(clips)["test"][:20]
    lps = batch_log_probs(rec.model, [clip_features(c, rec.n_mels) for c in test])
    assert fit_temperature(lps, [DIGIT_WORDS[c.digit] for c in test], rec.encoder) > 0


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("flite")), reason="needs espeak-ng and flite")
def test_voice_corpus_builds_and_splits(tmp_path, monkeypatch):
    import rnn_core.data.voices as voices

    monkeypatch.setattr(voices, "TRAIN_VOICES", [("espeak-ng", "en-us+m1"), ("flite", "kal")])
    monkeypatch.setattr(voices, "HELD_OUT", [("flite", "slt")])
    build(tmp_path, per_voice=10, seed=0)
    items = load(tmp_path)
    assert len(items) == 30 and {u.style for u in items} <= {"fluent", "paused", "single", "carrier", "sentence"}
    assert all(u.path.is_file() and (u.text == "") == (u.style == "sentence") for u in items)
    # a carrier phrase's transcript is its digits only
    assert all(set(u.text.split()) <= set(DIGIT_WORDS) for u in items if u.style == "carrier")
    parts = voice_splits(items)
    assert {u.voice for u in parts["held_out"]} == {"flite:slt"} and len(parts["dev"]) == 2
