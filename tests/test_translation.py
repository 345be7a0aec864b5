"""The translation task: its data split, encoder, search, training, evaluation, CLI
and tab, on tiny made-up pairs (tests/conftest.py: `write_tatoeba`)."""
from __future__ import annotations

import json

import gradio as gr
import pytest
import torch

from rnn_core.__main__ import main
from rnn_core.data.tatoeba import load_pairs, part_of, references, split_pairs
from rnn_core.encoders.bilingual import PairEncoder, detokenize, words
from rnn_core.models import create_model
from rnn_core.tasks.translation.metrics import PLAIN, by_length, scores
from rnn_core.tasks.translation.predictor import MAX_WORDS, TranslationInputError, Translator
from rnn_core.tasks.translation.search import Hypothesis, beam_search, length_penalty


def test_split_keeps_every_translation_of_a_sentence_on_one_side(tatoeba_dir):
    pairs = load_pairs(tatoeba_dir)
    parts = split_pairs(pairs)
    side = {}
    for name, part in parts.items():
        for en, _ in part:
            assert side.setdefault(en, name) == name
    assert sum(map(len, parts.values())) == len(pairs) and parts["test"] and parts["dev"]
    # stable: a hash of the sentence, not its line
    assert part_of("I see the cat.") == part_of("  i see THE cat. ")
    sources, refs = references(pairs)
    assert len(sources) == len(set(en for en, _ in pairs)) and max(map(len, refs)) == 2


def test_tokens_and_french_typography():
    assert words("Qu'est-ce que c’est ?") == ["Qu'", "est", "-", "ce", "que", "c'", "est", "?"]
    assert detokenize(["qu'", "est", "-", "ce", "que", "c'", "est", "?"]) == "qu'est-ce que c'est ?"
    assert detokenize(["oui", ",", "je", "viens", "."]) == "oui, je viens."


def test_encoder_restores_capitals_learnt_from_the_data():
    enc = PairEncoder.build([("I see Tom.", "Je vois Tom."), ("Tom sees me.", "Tom me voit. Il rit.")], min_freq=1)
    assert enc.capitals["tom"] == "Tom"
    assert enc.decode(enc.encode_target("je vois tom. il rit.")) == "Je vois Tom. Il rit."
    assert enc.unknown_source("I see Paris!") == ["Paris"]


def _model(attention="general"):
    torch.manual_seed(0)
    return create_model("Seq2Seq", src_vocab=12, tgt_vocab=15, embed_dim=8, hidden_size=6,
                        attention=attention).eval()


@pytest.mark.parametrize("attention", ["general", "none"])
def test_beam_of_one_is_greedy_and_beams_are_sorted(attention):
    model, src = _model(attention), torch.tensor([5, 6, 7, 3])
    (greedy,) = beam_search(model, src, bos=2, eos=3, beam=1, max_len=8)
    # greedy by hand: the argmax at every step
    memory, mask, state = model.encode(src.unsqueeze(0), torch.tensor([4]))
    y, ids = torch.tensor([2]), []
    for _ in range(8):
        logp, state, _ = model.step(y, state, memory, mask)
        y = logp.argmax(-1)
        if int(y) == 3:
            break
        ids.append(int(y))
    assert greedy.ids == ids
    hyps = beam_search(model, src, bos=2, eos=3, beam=4, max_len=8)
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True) and len(hyps) <= 4
    assert hyps[0].score >= greedy.score - 1e-6
    for h in hyps:
        assert (h.attention is None) == (attention == "none")
        if h.attention is not None:  # one row per output token (and </s> when finished), rows sum to 1
            assert h.attention.shape == (len(h.ids) + int(h.finished), 4)
            assert torch.allclose(h.attention.sum(-1), torch.ones(h.attention.size(0)), atol=1e-5)


def test_length_penalty_favours_no_length_at_alpha_zero():
    assert length_penalty(10, 0.0) == 1.0 and length_penalty(10, 1.0) == pytest.approx(15 / 6)


def test_unknown_words_are_copied_from_where_the_model_looked(tiny_translation):
    t = Translator.from_pretrained(tiny_translation)
    unk = t.encoder.tgt.stoi["<unk>"]
    attention = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])  # over Zorg, Blix, </s>
    hyp = Hypothesis([t.encoder.tgt.stoi["le"], unk], -1.0, -1.0, attention)
    assert t._words(hyp, ["Zorg", "Blix"]) == ["Le", "Blix"]
    at_the_end = Hypothesis([unk], -1.0, -1.0, torch.tensor([[0.2, 0.1, 0.7]]))  # most on </s>
    assert t._words(at_the_end, ["Zorg", "Blix"]) == ["Zorg"]  # the likeliest word, never "<unk>"


def test_tiny_translator_learns_its_pairs(tiny_translation, tatoeba_dir):
    t = Translator.from_pretrained(tiny_translation)
    sources, refs = references(split_pairs(load_pairs(tatoeba_dir))["train"])
    hyps = [t.translate(s, beam=3).text for s in sources[:40]]
    assert scores(hyps, refs[:40])["bleu"] > 30, list(zip(sources, hyps))[:5]
    r = t.translate("I see the cat.", beam=5)
    assert r.attention.shape == (len(r.words) + 1, len(r.source)) and r.source[-1] == "</s>"
    assert r.alternatives[0][0] == r.text and 0 < r.confidence <= 1


@pytest.mark.parametrize("text, note", [
    ("x " * 3000, f"first {MAX_WORDS} words"),
    ("<b>I see</b> <script>the cat</script>", "HTML tags were removed"),
    ("Ich sehe die Katze und den Hund", "is this English"),
    ("I see 42 cats 🐱", "never seen in training"),
    ("I see the cat " * 11, "longer than any sentence"),
])
def test_odd_input_gets_a_best_effort_and_says_so(tiny_translation, text, note):
    t = Translator.from_pretrained(tiny_translation).translate(text)
    assert any(note in n for n in t.notes), t.notes
    assert isinstance(t.text, str)


@pytest.mark.parametrize("text", ["", "   ", "?!...", "🐱🐶"])
def test_nothing_to_translate_is_one_sentence(tiny_translation, text):
    with pytest.raises(TranslationInputError, match="no words to translate"):
        Translator.from_pretrained(tiny_translation).translate(text)


def test_evaluate_scores_every_pair_of_a_folder_beside_the_baselines(tiny_translation, tatoeba_dir, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("RNN_GALLERY_DATA", str(tatoeba_dir.parent))
    assert main(["evaluate", "translation", "--weights", str(tiny_translation), "--data", str(tatoeba_dir),
                 "--split", "all", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # --json: one JSON object, nothing else
    m = json.loads(out[0])
    assert {"bleu", "chrf", "examples", "baseline", "no_attention", "by_length"} <= set(m)
    assert {"bleu", "chrf"} <= set(m["baseline"]) and m["examples"] == len(references(load_pairs(tatoeba_dir))[0])
    assert [r["words"] for r in m["by_length"]] == ["1-4", "5-9", "10-14", "15+"]
    assert sum(r["sentences"] for r in m["by_length"]) == m["examples"]


def test_bleu_by_length_buckets_count_words_not_punctuation():
    rows = by_length(["Go!", "I see the cat and the dog and the car too ."],
                     [["Va !"], ["Je vois le chat et le chien et la voiture aussi."]],
                     {"a": ["Va !", "Je vois le chat et le chien et la voiture aussi."]})
    assert [r["sentences"] for r in rows] == [1, 0, 1, 0]
    assert rows[2]["a"] == 100.0 and rows[1]["a"] is None  # an empty bucket has no figure


def test_cli_predict_translation(tiny_translation, capsys):
    assert main(["predict", "translation", "--weights", str(tiny_translation), "--text", "I see the dog.",
                 "--beam", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] and len(out["alternatives"]) <= 3 and out["alternatives"][0]["text"] == out["text"]
    assert main(["predict", "translation", "--weights", str(tiny_translation), "--text", "hi", "--beam", "50"]) == 2


def test_tab_streams_words_then_the_attention_map(tiny_app):
    from apps import translation as tab

    updates = list(tab.translate("I see the big tree and the car too.", 5, "pretrained"))
    final = updates[-1]
    assert final[0] and final[2] is not None and final[3][0][0] == final[0]
    assert "Without attention" in final[1]  # the model without attention, beside it
    assert len(updates) >= 2  # word by word before the full answer
    with pytest.raises(gr.Error, match="Type an English sentence"):
        list(tab.translate("  ", 5, "pretrained"))
    with pytest.raises(gr.Error, match="no words"):
        list(tab.translate("!!!", 5, "pretrained"))
    assert "BLEU by sentence length" in tab.length_table() or not (tab.pretrained().metrics)


def test_sharded_checkpoint_round_trips(tmp_path, monkeypatch):
    from rnn_core import checkpoint

    model = _model()
    monkeypatch.setattr(checkpoint, "MAX_FILE_BYTES", 2000)
    checkpoint.save_pretrained(model, tmp_path, "translation", {"type": "pairs"})
    shards = sorted(p.name for p in tmp_path.glob("model-*.safetensors"))
    assert len(shards) > 1 and not (tmp_path / "model.safetensors").exists()
    assert all(p.stat().st_size <= 2000 + 4096 for p in tmp_path.glob("model-*.safetensors"))  # + header
    loaded, _ = checkpoint.load_pretrained(tmp_path, "translation")
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    (tmp_path / shards[-1]).unlink()
    with pytest.raises(checkpoint.CheckpointError, match="shards"):
        checkpoint.load_pretrained(tmp_path, "translation")
