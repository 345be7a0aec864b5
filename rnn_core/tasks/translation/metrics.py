"""Scoring translations: sacreBLEU's BLEU and chrF against every French translation of
each English sentence, beside the retrieval baseline and, by source length, beside the
model without attention (the 2014 fixed-vector encoder-decoder)."""
from __future__ import annotations

from pathlib import Path

from ...baselines import RetrievalTranslator
from ...checkpoint import assets_dir
from ...data.tatoeba import load_pairs, references, split_pairs
from ...encoders.bilingual import is_word, words
from .predictor import Translator

SPLITS = ("test", "dev", "all")
# Source-length buckets (English words, punctuation not counted) for BLEU by length.
LENGTHS = ((1, 4), (5, 9), (10, 14), (15, 1000))
PLAIN = "no-attention"  # the model without attention: a folder inside the shipped one


def sacrebleu_module():
    """sacreBLEU, a development requirement (``pip install -e .[test]``)."""
    try:
        import sacrebleu
    except ImportError:
        raise ValueError("evaluate translation needs sacreBLEU: pip install -e '.[test]'") from None
    return sacrebleu


def scores(hypotheses: list[str], refs: list[list[str]]) -> dict:
    """Corpus BLEU and chrF of ``hypotheses`` against all of each one's references."""
    sb = sacrebleu_module()
    if not hypotheses:
        return {"bleu": None, "chrf": None}
    most = max(len(r) for r in refs)
    streams = [[r[i] if i < len(r) else None for r in refs] for i in range(most)]
    return {"bleu": round(sb.corpus_bleu(hypotheses, streams).score, 2),
            "chrf": round(sb.corpus_chrf(hypotheses, streams).score, 2)}


def n_words(sentence: str) -> int:
    """English words in a sentence (punctuation is not a word)."""
    return sum(map(is_word, words(sentence)))


def by_length(sources: list[str], refs: list[list[str]], systems: dict[str, list[str]]) -> list[dict]:
    """BLEU of each system on each source-length bucket (`LENGTHS`)."""
    rows = []
    for lo, hi in LENGTHS:
        idx = [i for i, s in enumerate(sources) if lo <= n_words(s) <= hi]
        row = {"words": f"{lo}-{hi}" if hi < 1000 else f"{lo}+", "sentences": len(idx)}
        for name, hyps in systems.items():
            row[name] = scores([hyps[i] for i in idx], [refs[i] for i in idx])["bleu"]
        rows.append(row)
    return rows


def unknown_rates(encoder, pairs) -> dict:
    """Share of the words (punctuation excluded) of each side outside the vocabulary:
    what a word vocabulary costs on these sentences (French ones can only come out as
    ``<unk>``, English ones are read as ``<unk>``)."""
    rates = {}
    for side, vocab, i in (("english", encoder.src.stoi, 0), ("french", encoder.tgt.stoi, 1)):
        toks = [t.lower() for pair in pairs for t in words(pair[i]) if is_word(t)]
        rates[side] = round(sum(t not in vocab for t in toks) / max(1, len(toks)), 4)
    return rates


def evaluate(weights: str | Path | None = None, data_dir: str | None = None, split: str = "test",
             device: str = "cpu", beam: int = 5) -> dict:
    """BLEU and chrF of a checkpoint (beam search) beside the retrieval baseline, and
    BLEU by source length beside the model without attention when one is shipped
    (``<weights>/no-attention``).

    ``test``/``dev`` are Tatoeba's parts (split by English sentence); ``all`` scores every
    pair of the folder given (a held-out set in the same layout), with the baseline
    built from the standard training part.
    """
    if split not in SPLITS:
        raise ValueError(f"translation has no split {split!r}; choose one of {', '.join(SPLITS)}")
    weights = Path(weights) if weights else assets_dir(Translator.task)
    model = Translator.from_pretrained(weights)
    pairs = load_pairs(data_dir)
    train_pairs = split_pairs(pairs if split != "all" else load_pairs())["train"]
    scored = pairs if split == "all" else split_pairs(pairs)[split]
    sources, refs = references(scored)
    systems = {"attention": [model.translate(s, beam=beam).text for s in sources],
               "baseline": RetrievalTranslator(train_pairs).translate(sources)}
    plain = weights / PLAIN
    out = {"task": Translator.task, "split": split, "examples": len(sources), "pairs": len(scored), "beam": beam,
           **scores(systems["attention"], refs),
           "baseline": {"name": "retrieval (TF-IDF over character 2-4-grams, nearest training sentence)",
                        **scores(systems["baseline"], refs)},
           "unknown_words": unknown_rates(model.encoder, scored),
           "parameters": model.parameters, "network": model.describe()}
    if (plain / "config.json").exists():
        other = Translator.from_pretrained(plain)
        systems["no_attention"] = [other.translate(s, beam=beam).text for s in sources]
        out["no_attention"] = {**scores(systems["no_attention"], refs), "parameters": other.parameters,
                               "network": other.describe()}
    out["by_length"] = by_length(sources, refs, systems)
    out["samples"] = [{"english": s, "french": h, "references": r[:3]}
                      for s, h, r in list(zip(sources, systems["attention"], refs))[:: max(1, len(sources) // 8)][:8]]
    return out
