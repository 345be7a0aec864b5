"""CTC decoding: greedy best path (with frames) and prefix beam search, with and
without a lexicon, on hand-made posteriors whose right answer is known."""
import math

import numpy as np
import pytest
import torch

from rnn_core.decoding import ctc_align, ctc_greedy, ctc_greedy_frames, ctc_prefix_beam
from rnn_core.encoders.audio import DIGIT_WORDS, CTCAlphabet

ABC = CTCAlphabet()


def posteriors(frames: list[dict[str, float]], alphabet: CTCAlphabet = ABC) -> np.ndarray:
    """(T, C) log-probs from per-frame {label: prob} ("-" is blank); the rest of each
    frame's mass is spread evenly over the other labels."""
    out = np.empty((len(frames), alphabet.vocab_size))
    for t, frame in enumerate(frames):
        ids = {(alphabet.blank_id if k == "-" else alphabet.index[k]): p for k, p in frame.items()}
        rest = (1.0 - sum(ids.values())) / (alphabet.vocab_size - len(ids))
        out[t] = rest
        for i, p in ids.items():
            out[t, i] = p
    return np.log(out)


def peaked(path: str, p: float = 0.9) -> np.ndarray:
    """One frame per character of ``path`` ("-" blank, "_" space), each with mass p."""
    return posteriors([{" " if ch == "_" else ch: p} for ch in path])


def text_of(labels) -> str:
    return ABC.decode(labels)


def test_greedy_collapses_repeats_and_removes_blanks():
    assert text_of(ctc_greedy(peaked("-aa--b-bb-"))) == "abb"
    assert text_of(ctc_greedy(peaked("aaaa"))) == "a"
    assert text_of(ctc_greedy(peaked("a-a"))) == "aa"
    assert ctc_greedy(peaked("-----")) == []
    assert ctc_greedy(np.zeros((0, ABC.vocab_size))) == []


def test_greedy_frames_and_torch_input():
    lp = peaked("--ff-oo-uu--r-")
    assert [(ABC.labels[i], t) for i, t in ctc_greedy_frames(lp)] == [
        ("f", 2), ("o", 5), ("u", 8), ("r", 12)]
    assert ctc_greedy(torch.tensor(lp, dtype=torch.float32)) == ctc_greedy(lp)
    with pytest.raises(ValueError, match="shape"):
        ctc_greedy(np.zeros(5))


def test_forced_alignment_places_the_labelling_it_is_given():
    lp = peaked("--ff-oo-uu--r-")
    four = ABC.encode("four")
    # given the best path's own labels, it is the best path
    assert ctc_align(lp, four) == ctc_greedy_frames(lp)
    # a repeated letter needs a blank between its two runs: "oo" in "-oo-" splits over the blank
    aligned = ctc_align(peaked("-o-o-"), ABC.encode("oo"))
    assert [t for _, t in aligned] == [1, 3]
    # letters kept off frames that are not allowed: the spikes move to the nearest allowed frames, in order
    allowed = np.zeros(len(lp), bool)
    allowed[6:11] = True
    moved = ctc_align(lp, four, allowed=allowed)
    assert [ABC.labels[i] for i, _ in moved] == list("four")
    assert all(allowed[t] for _, t in moved) and [t for _, t in moved] == sorted(t for _, t in moved)
    # too few allowed frames for four letters: the constraint is dropped, not the labels
    assert ctc_align(lp, four, allowed=allowed & (np.arange(len(lp)) < 8)) == ctc_greedy_frames(lp)
    assert ctc_align(lp, []) == []
    with pytest.raises(ValueError, match="cannot be placed"):
        ctc_align(peaked("o-"), ABC.encode("oo"))  # "oo" needs three frames: o, blank, o


def test_beam_equals_greedy_on_peaked_posteriors():
    for path in ("-ff-ii-vv-e-", "t-h-r-ee-e", "s-i-x_-t-w-o", "-"):
        lp = peaked(path, p=0.95)
        (labels, score), *_ = ctc_prefix_beam(lp, beam=8)
        assert labels == ctc_greedy(lp)
        assert score <= 0.0


def test_beam_finds_the_labelling_the_best_path_misses():
    # Two frames, p(a) = 0.4, p(blank) = 0.6. Best path "--" gives "" (0.36), but
    # "a" is reached by "aa", "a-", "-a": 0.16 + 0.24 + 0.24 = 0.64.
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert ctc_greedy(lp) == []
    results = ctc_prefix_beam(lp, beam=4, prune=0.0)
    assert results[0][0] == [1]
    assert results[0][1] == pytest.approx(math.log(0.64))
    assert results[1][0] == [] and results[1][1] == pytest.approx(math.log(0.36))
    assert [1, 1] not in [labels for labels, _ in results]  # "aa" needs a blank between


def test_beam_scores_are_exact_with_a_wide_beam():
    """With every hypothesis kept, the scores of all labellings sum to 1 (T=3, C=3)."""
    rng = np.random.default_rng(0)
    lp = torch.log_softmax(torch.tensor(rng.normal(size=(3, 3))), -1).numpy()
    results = ctc_prefix_beam(lp, beam=100, prune=0.0, top_k=3)
    assert sum(math.exp(s) for _, s in results) == pytest.approx(1.0)
    # and each score is the labelling's probability by torch's CTC loss
    for labels, score in results:
        if labels:
            nll = torch.nn.functional.ctc_loss(torch.tensor(lp)[:, None], torch.tensor([labels]),
                                               torch.tensor([3]), torch.tensor([len(labels)]),
                                               reduction="sum")
            assert score == pytest.approx(-float(nll), abs=1e-6), labels


def near_miss() -> np.ndarray:
    """"fout" is the best path, "four" the runner-up at the last letter."""
    return posteriors([{"f": 0.9}, {"-": 0.9}, {"o": 0.9}, {"-": 0.9}, {"u": 0.9},
                       {"t": 0.6, "r": 0.3}, {"-": 0.9}])


def test_lexicon_turns_a_near_miss_into_a_word():
    lp = near_miss()
    assert text_of(ctc_greedy(lp)) == "fout"
    assert text_of(ctc_prefix_beam(lp)[0][0]) == "fout"
    best = ctc_prefix_beam(lp, lexicon=DIGIT_WORDS, alphabet=ABC)
    assert text_of(best[0][0]) == "four"


def test_lexicon_separates_words_with_the_space():
    # "fourone" without a space is no word; the space label (weaker) must be taken
    lp = posteriors([{"f": 0.9}, {"o": 0.9}, {"u": 0.9}, {"r": 0.9}, {"o": 0.6, " ": 0.35},
                     {"o": 0.9}, {"n": 0.9}, {"e": 0.9}, {"-": 0.9}])
    assert text_of(ctc_prefix_beam(lp)[0][0]) == "fourone"
    assert text_of(ctc_prefix_beam(lp, lexicon=DIGIT_WORDS, alphabet=ABC)[0][0]) == "four one"


def test_lexicon_never_outputs_other_words():
    rng = np.random.default_rng(1)
    for _ in range(5):
        lp = torch.log_softmax(torch.tensor(rng.normal(size=(40, ABC.vocab_size)) * 3), -1)
        for labels, score in ctc_prefix_beam(lp, beam=8, lexicon=DIGIT_WORDS, alphabet=ABC):
            text = text_of(labels)
            assert all(w in DIGIT_WORDS for w in text.split(" ") if text), text
            assert text == text.strip() and "  " not in text
    # a lexicon of label ids works too; when no word fits, the answer is empty
    assert ctc_prefix_beam(peaked("-x-y-"), lexicon=[ABC.encode("zero")])[0][0] == []
    with pytest.raises(ValueError, match="alphabet"):
        ctc_prefix_beam(peaked("-a-"), lexicon=["one"])


def test_lexicon_keeps_the_words_before_a_cut_mid_word():
    """A recording cut inside a word still gives the complete words before it."""
    lp = posteriors([{"f": 0.9}, {"o": 0.9}, {"u": 0.9}, {"r": 0.9}, {" ": 0.9}, {"s": 0.9}, {"e": 0.9}])
    assert text_of(ctc_prefix_beam(lp, lexicon=DIGIT_WORDS, alphabet=ABC)[0][0]) == "four"


def test_one_sampling_path_for_batches_and_hooks():
    """Melody (a batch, a key mask as a hook) and text (one sequence, top-k/top-p)
    share `filter_logits`: a batch row equals that row alone, and a hook's -inf
    tokens get no probability."""
    import torch

    from rnn_core.decoding import filter_logits, sample

    torch.manual_seed(0)
    logits = torch.randn(3, 12)
    for k, p in ((0, 1.0), (4, 1.0), (0, 0.7), (5, 0.8)):
        batch = filter_logits(logits, 0.9, k, p)
        rows = torch.stack([filter_logits(row, 0.9, k, p) for row in logits])
        torch.testing.assert_close(batch, rows)
        assert torch.allclose(batch.sum(-1), torch.ones(3))
    blocked = torch.zeros(12)
    blocked[[0, 5, 7]] = float("-inf")
    ids, probs = sample(logits, torch.Generator().manual_seed(1), 1.0, hook=lambda s: s + blocked)
    assert ids.shape == (3,) and (probs[:, [0, 5, 7]] == 0).all() and not set(ids.tolist()) & {0, 5, 7}
