"""The melody encoding (round trips on real and made-up tunes), MIDI reading, typed
notes, constrained generation, the n-gram baseline and evaluation."""
import warnings

import mido
import pretty_midi
import pytest
import torch

from rnn_core.baselines import NGram, symbols
from rnn_core.encoders.events import MelodyEncoder
from rnn_core.encoders.melody import Melody, MelodyError, diatonic_shift, key_name
from rnn_core.encoders.midi import melody_from_midi, melody_to_midi, read_midi
from rnn_core.encoders.notation import note_number, parse_notes
from rnn_core.tasks import TASKS
from rnn_core.tasks.melody.data import examples, make_encoder, tune_batches
from rnn_core.tasks.melody.predictor import KEYS, SCALES, MelodyGenerator, key_offset
from tests.conftest import PHRASES, real_data, write_tune

melody = TASKS["melody"]


def _grid_notes(pm):
    return [(n.pitch, round(n.start * 8), round(n.end * 8)) for n in pm.instruments[0].notes]


def test_round_trip_on_real_tunes():
    """Every real tune whose notes sit on the 16th grid without overlaps comes back
    from tokens to MIDI exactly: same pitches, same start and end times."""
    folder = real_data("nottingham") / "MIDI" / "melody"
    enc = MelodyEncoder()
    files = sorted(folder.glob("*.mid"))[::5]
    checked = 0
    for f in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = pretty_midi.PrettyMIDI(str(f))
        notes = sorted(pm.instruments[0].notes, key=lambda n: n.start)
        on_grid = all(abs(t * 8 - round(t * 8)) < 1e-6 for n in notes for t in (n.start, n.end))
        if not on_grid or any(b.start < a.end - 1e-9 for a, b in zip(notes, notes[1:])):
            continue
        m, _ = melody_from_midi(pm)
        ids = enc.encode(m)
        back = melody_to_midi(enc.decode(ids), tempo=120).instruments[0].notes
        assert [x for n in back for x in (n.pitch, n.start, n.end)] == pytest.approx(
            [x for n in notes for x in (n.pitch, n.start, n.end)], abs=1e-6), f.name
        checked += 1
    assert checked > 100


def test_round_trip_meters_pickups_and_rests():
    enc = MelodyEncoder()
    m = Melody([(67, 10, 12), (72, 12, 16), (74, 20, 30), (60, 30, 31)],
               [(0, "6/8"), (24, "9/8")], length=40)
    ids = enc.encode(m)
    assert enc.tokens[ids[1]] == "meter 6/8" and ids.count(enc.bar) == len(m.bar_lines()) == 3
    assert enc.tokens[ids[0]] == "<s>" and enc.tokens[ids[-1]] == "</s>"
    assert enc.decode(ids) == m
    # a hold or rest with nothing before it is harmless
    assert enc.decode([enc.bos, enc.hold, enc.rest, enc.note_id(60), enc.hold]).notes == [(60, 2, 4)]


def test_encode_refuses_what_has_no_token():
    with pytest.raises(MelodyError):
        MelodyEncoder().encode(Melody([(20, 0, 4)]))
    with pytest.raises(MelodyError):
        MelodyEncoder().encode(Melody([(60, 0, 4)], [(0, "7/8")]))


def test_midi_file_round_trip_through_bytes(tmp_path):
    path = write_tune(tmp_path / "t.mid", PHRASES[0] + [(0, 4)] + PHRASES[1], meter=(3, 4), pickup=8)
    m, notes = melody_from_midi(path.read_bytes())
    assert not notes and m.meters == [(0, "3/4")] and m.notes[0] == (60, 8, 10)
    out = melody_to_midi(m, tempo=90)
    assert _grid_notes(out) != []  # written at 90 bpm: a 16th is 1/6 s
    assert out.instruments[0].notes[0].start == pytest.approx(8 * 60 / 90 / 4)


def test_midi_tempo_is_read(tmp_path):
    """The first tempo of a file (MIDI's default, 120 bpm, without any), beside its
    melody on the grid (which the tempo does not move), and a note when it changes."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=90)
    inst = pretty_midi.Instrument(0)
    beat = 60 / 90
    inst.notes = [pretty_midi.Note(90, 60 + k, k * beat, (k + 1) * beat) for k in range(8)]
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "ninety.mid"))
    read = read_midi(str(tmp_path / "ninety.mid"), max_steps=64 * 16)
    assert read.tempo == pytest.approx(90) and read.melody.notes[:2] == [(60, 0, 4), (61, 4, 8)]
    assert not read.notes

    mid = mido.MidiFile()
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0),
                            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=480),
                            mido.Message("note_off", note=60, time=0),
                            mido.Message("note_on", note=62, velocity=90, time=0),
                            mido.Message("note_off", note=62, time=480)])
    mid.tracks.append(track)
    mid.save(str(tmp_path / "changes.mid"))
    read = read_midi(str(tmp_path / "changes.mid"))
    assert read.tempo == pytest.approx(120) and read.melody.notes == [(60, 0, 4), (62, 4, 8)]
    assert any("changes tempo" in n for n in read.notes)


def test_midi_top_voice_of_chords_and_melody_track():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    bass, tune = pretty_midi.Instrument(32, name="bass"), pretty_midi.Instrument(0, name="tune")
    for i in range(8):
        bass.notes.append(pretty_midi.Note(80, 40, i * 0.5, i * 0.5 + 0.5))
        tune.notes += [pretty_midi.Note(80, 60 + i, i * 0.5, i * 0.5 + 0.5),
                       pretty_midi.Note(80, 72 + i, i * 0.5, i * 0.5 + 0.5)]  # octaves: a chord
    pm.instruments += [bass, tune]
    m, notes = melody_from_midi(pm)
    assert [p for p, _, _ in m.notes] == [72 + i for i in range(8)]
    assert any("top voice" in n for n in notes) and any("'tune'" in n for n in notes)


@pytest.mark.parametrize("data, message", [(b"not a midi file at all", "not a MIDI file"),
                                           (b"MThd\x00\x00\x00\x06\x00\x01", "not a MIDI file"),
                                           (b"", "not a MIDI file")])
def test_midi_corrupt(data, message):
    with pytest.raises(MelodyError, match=message):
        melody_from_midi(data)


def test_midi_drums_only_and_empty():
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, 0.2))
    pm.instruments.append(drums)
    with pytest.raises(MelodyError, match="only drums"):
        melody_from_midi(pm)
    with pytest.raises(MelodyError, match="no notes"):
        melody_from_midi(pretty_midi.PrettyMIDI())


def test_long_midi_is_cut():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 60 + i % 12, i * 0.25, i * 0.25 + 0.25) for i in range(28_800)]  # 2 h
    pm.instruments.append(inst)
    m, notes = melody_from_midi(pm, max_steps=64 * 16)
    assert m.length == 64 * 16 and any("first 64 bars" in n for n in notes)


def test_parse_notes():
    m = parse_notes("D4 E4 F#4 G4 | A4/8 B4/8. R/16 C5/2 R/8 | E5/1", "4/4")
    assert m.notes == [(62, 0, 4), (64, 4, 8), (66, 8, 12), (67, 12, 16), (69, 16, 18), (71, 18, 21),
                       (72, 22, 30), (76, 32, 48)]
    pickup = parse_notes("A4/8 | C5 D5 E5", "3/4")
    assert pickup.notes[0] == (69, 10, 12) and pickup.bar_lines() == [0, 12]
    for bad in ("H4", "C", "C4/3", "C99", "hello"):
        with pytest.raises(MelodyError):
            parse_notes(bad)
    assert note_number("Bb3") == 58 and note_number("C4") == 60


@pytest.mark.parametrize("text, meter, message", [
    ("D4 E4 F#4 | G4 A4 B4 C5 D5 | E4", "3/4", "Bar 2 holds 5 quarter notes but a bar of 3/4 has 3"),
    ("C4 D4 E4 F4 G4 | C4", "4/4", "Bar 1 holds 5 quarter notes but a bar of 4/4 has 4"),
    ("B4/8 G4/8 G4/8 D4/8 G4/8 G4/8 | B4/8 G4/8 B4/8 D5/8 C5/8 B4/8 A4/8 | G4", "6/8",
     "Bar 2 holds 7 eighth notes but a bar of 6/8 has 6"),
    ("C4 D4 E4 F4 | G4/2 A4/2 B4/8 | C5/1", "4/4", "Bar 2 holds 4.5 quarter notes"),
    ("C4 D4 E4 F4 | G4 A4 | C5 B4 A4 G4", "4/4", "Bar 2 holds 2 quarter notes but a bar of 4/4 has 4"),
    ("C5/2 | C5/2 R/2 R/4", "2/2", "Bar 2 holds 2.5 half notes but a bar of 2/2 has 2"),
])
def test_parse_notes_refuses_bars_the_meter_cannot_hold(text, meter, message):
    """Where bar lines are written, a bar holding more (or, inside the tune, less) than
    the meter's bar is refused, naming the bar; it was read on silently, every later
    bar line then off the one the visitor wrote."""
    with pytest.raises(MelodyError, match=message.replace(".", r"\.")):
        parse_notes(text, meter)


def test_parse_notes_accepts_pickups_short_last_bars_and_unmarked_bars():
    assert parse_notes("A4/8 | C5 D5 E5 | F5", "3/4").notes[0] == (69, 10, 12)  # pickup, short last bar
    assert parse_notes("| C4 D4 E4 || F4 G4 A4 |", "3/4").length == 24  # leading, double, trailing lines
    assert parse_notes("C4 D4 E4 F4 G4 A4 B4", "3/4").length == 28  # no bar lines: nothing to check


def test_keys():
    g_major = [67, 69, 71, 72, 74, 76, 78, 79]
    assert diatonic_shift(g_major) == 5 and key_name(5) == "G major / E minor"
    assert diatonic_shift([60, 62, 64]) == 0
    assert key_offset("D major / B minor") == 2 and len(set(KEYS)) == 13


def test_ngram_distribution_matches_scoring():
    seqs = [symbols([0, 1, 2, 3, 1, 2, 3, 4]), symbols([0, 2, 3, 1, 2, 4])]
    ng = NGram(seqs, max_order=3)
    p = ng.distribution(symbols([0, 1, 2]), 3)
    assert p.sum() == pytest.approx(1) and (p > 0).all()
    by_order, count = ng.nll_by_order([symbols([0, 1, 2, 3])], start=3)
    assert count == 1
    assert by_order[3] == pytest.approx(-torch.log(torch.tensor(p[ng.vocab.index(symbols([3]))])).item(), 1e-6)


def test_tune_batches_pad_and_continue():
    enc = make_encoder("1,2")
    tunes = [parse_notes(" ".join(["C4"] * n)) for n in (3, 5, 30, 31)]
    items = examples(enc, tunes)
    assert items[0][0].shape == (len(enc.encode(tunes[0])) - 1, 3)
    batches = tune_batches(items, batch_size=2, seq_len=8)
    assert sum(int((b["targets"] >= 0).sum()) for b in batches) == sum(len(y) for _, y in items)
    firsts = [b for b in batches if b["reset"]]
    assert len(firsts) == 2 and all(b["x"].shape[1] <= 8 and b["x"].shape[2] == 3 for b in batches)


def test_lookback_inputs_point_whole_bars_back():
    """Beside each token the network reads the tokens 1 and 2 bars before the one it
    predicts (a bar = its bar line and its steps), in training and in generation."""
    enc = make_encoder("1,2")
    m = Melody([(60 + k, 4 * k, 4 * k + 4) for k in range(12)], [(0, "2/4")])  # 8 steps a bar
    ids = enc.encode(m)
    rows = enc.model_inputs(ids)
    for i, row in enumerate(rows[:-1]):
        j = i + 1
        assert row[0] == ids[i]
        assert row[1] == (ids[j - 9] if j >= 9 else enc.bos) and row[2] == (ids[j - 18] if j >= 18 else enc.bos)
        assert enc.next_inputs(ids[:j], 8) == row
    # a token one bar back of a note is the note of the bar before, at the same place
    j = ids.index(enc.note_id(64))
    assert enc.tokens[rows[j - 1][1]] == "note 62"


@pytest.fixture(scope="module")
def gen(tiny_melody):
    return MelodyGenerator.from_pretrained(tiny_melody)


def test_generation_keeps_bars_length_and_tempo(gen, tmp_path):
    primer = parse_notes("G4 A4 B4 F#4 | G4/2 D5/2", "4/4")  # G major
    results, _ = gen.generate(primer, bars=6, variations=3, seed=1)
    assert len(results) == 3 and len({tuple(r.melody.notes) for r in results}) > 1
    for r in results:
        assert r.melody.length == primer.length + 6 * 16 and r.primer_steps == primer.length
        assert r.melody.notes[:4] == primer.notes[:4] and r.key == "G major / E minor"
        path = tmp_path / "m.mid"
        melody_to_midi(r.melody, tempo=100).write(str(path))
        seconds = r.melody.length * 60 / 100 / 4
        assert pretty_midi.PrettyMIDI(str(path)).get_end_time() == pytest.approx(seconds, abs=1e-3)
        assert mido.MidiFile(str(path)).length == pytest.approx(seconds, abs=1e-2)
        tempos = [msg.tempo for msg in mido.MidiFile(str(path)).tracks[0] if msg.type == "set_tempo"]
        assert mido.tempo2bpm(tempos[0]) == pytest.approx(100)
    again, _ = gen.generate(primer, bars=6, variations=3, seed=1)
    assert [r.melody for r in again] == [r.melody for r in results]


def test_generation_without_primer_and_without_repeating_it(gen):
    (r,), _ = gen.generate(None, bars=3, meter="6/8", seed=2)
    assert r.melody.length == 36 and r.melody.meters == [(0, "6/8")] and r.primer_steps == 0
    primer = parse_notes("C4 D4 E4", "4/4")  # 3 beats: the continuation completes the bar
    (r,), _ = gen.generate(primer, bars=2, include_primer=False, seed=3)
    assert r.melody.length == 4 + 32 and r.primer_steps == 0


@pytest.mark.parametrize("scale", ["the key's scale", "pentatonic"])
@pytest.mark.parametrize("key", ["D major / B minor", "Bb major / G minor"])
def test_key_constraint_holds(gen, key, scale):
    results, _ = gen.generate(None, bars=8, temperature=3.0, key=key, scale=scale, variations=4, seed=5)
    tonic = key_offset(key)
    for r in results:
        assert r.melody.notes
        assert all((p - tonic) % 12 in SCALES[scale] for p, _, _ in r.melody.notes)


TWINKLE = ["C4 C4 G4 G4", "A4 A4 G4/2", "F4 F4 E4 E4", "D4 D4 C4/2"]  # C4..A4


def test_long_primer_replays_its_last_bars_and_new_notes_stay_near_it(gen):
    """A 33-bar primer in variations: each variation replays only the primer's last 8
    bars (it replayed all 33, a minute of audio each), and even at temperature 3 the new
    notes stay within a fourth of the primer's range (they reached anywhere in G2..C7)."""
    primer = parse_notes(" | ".join(TWINKLE * 8 + ["C4/1"]), "4/4")
    assert primer.length == 33 * 16
    results, notes = gen.generate(primer, bars=4, temperature=3.0, variations=3, seed=4)
    for r in results:
        assert r.primer_steps == 8 * 16 and r.melody.length == (8 + 4) * 16
        assert r.melody.crop(0, r.primer_steps).notes == primer.crop(25 * 16, 33 * 16).notes
        new = [p for p, s, _ in r.melody.notes if s >= r.primer_steps]
        assert new and all(60 - 5 <= p <= 69 + 5 for p in new), new
    assert any("last 8 bars" in n for n in notes) and any("G3 and D5" in n for n in notes)
    # a short primer is replayed whole
    (r,), _ = gen.generate(parse_notes(" | ".join(TWINKLE), "4/4"), bars=1)
    assert r.primer_steps == 4 * 16


def test_without_primer_new_notes_stay_in_the_tunes_usual_range(gen):
    """No primer: the notes stay in C4..C6 of C major (where 98% of the Nottingham
    tunes' notes are), moved with the key asked for."""
    for key, low, high in (("the primer's key", 60, 84), ("D major / B minor", 62, 86)):
        results, notes = gen.generate(None, bars=8, temperature=3.0, key=key, variations=2, seed=1)
        for r in results:
            assert r.melody.notes and all(low <= p <= high for p, _, _ in r.melody.notes)


def test_primer_out_of_range_is_moved(gen):
    primer = Melody([(110, 0, 4), (112, 4, 8)])
    results, notes = gen.generate(primer, bars=1)
    assert any("octave" in n for n in notes) and results[0].melody.notes[0][0] == 110


def test_evaluate_reports_baseline_and_samples(tiny_melody, nottingham_dir):
    m = melody.evaluate(tiny_melody, data_dir=str(nottingham_dir), split="dev")
    assert m["nll_per_event"] > 0 and m["baseline"]["nll_per_event"] > 0
    for who in ("model", "ngram"):
        s = m["samples"][who]
        assert 0 <= s["in_key_ratio"] <= 1 and 0 <= s["pitch_distance"] <= 1 and s["notes"] > 0
    assert m["nll_ratio_to_baseline"] == pytest.approx(m["nll_per_event"] / m["baseline"]["nll_per_event"], 1e-3)


def test_cli_evaluate_json(tiny_melody, nottingham_dir, tiny_data, monkeypatch, capsys):
    """``--split all`` scores every tune given; the baseline is fitted on the standard
    data's training split ($RNN_GALLERY_DATA)."""
    import json

    from rnn_core.__main__ import main

    monkeypatch.setenv("RNN_GALLERY_DATA", str(tiny_data))
    assert main(["evaluate", "melody", "--weights", str(tiny_melody), "--data", str(nottingham_dir),
                 "--split", "all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"nll_per_event", "baseline", "samples"} <= set(out) and out["tunes"] == 60


def test_synthesised_audio_of_a_generated_melody(gen):
    from rnn_core.synth import SAMPLE_RATE, render

    (r,), _ = gen.generate(None, bars=2, seed=0)
    midi = melody_to_midi(r.melody, tempo=120)
    audio = render([n for i in midi.instruments for n in i.notes])
    assert len(audio) >= 2 * 2 * SAMPLE_RATE  # two bars of 4/4 at 120 bpm = 4 s

