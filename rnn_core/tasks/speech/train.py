"""Speech (many-to-many): spoken digits, alone or strung together ("four one seven"),
transcribed letter by letter by a bidirectional RNN trained with CTC.

Data: the Free Spoken Digit Dataset (`rnn_core.data.fsdd`). Each epoch mixes the
training speakers' single clips (a share of them augmented: speed, pitch, gain,
noise) with connected strings of 1-6 digits made on the fly from one speaker's
clips (`fsdd.random_connected`), a fresh random mix every epoch; FSDD has no
connected speech, and without it the network would never learn to emit a space.

Splits (`partition`): the usual split keeps takes 0-4 of every speaker and digit
for testing; takes 5-7 (`DEV_TAKES`) are held out of training for validation
(character error rate of greedy transcripts, lower is better, over the dev clips
and fixed connected strings made of them); the rest trains.

Held-out speaker protocol: ``--held-out jackson`` trains on the other speakers
(their takes 5-7 still validate); ``evaluate --split test`` of that checkpoint then
scores every clip of jackson (the checkpoint remembers whom it never heard), with
the baseline fitted on the same four speakers. ``evaluate --split all --data DIR``
scores every clip in another folder (voices nobody trained on).

    python -m rnn_core train speech --held-out jackson --out runs/speech-jackson
    python -m rnn_core evaluate speech --weights runs/speech-jackson --split test
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

from ...checkpoint import load_pretrained
from ...data.fsdd import list_clips
from ...encoders.audio import HOP_MS, CTCAlphabet
from ...fit import Plan, fit
from ...metrics import cer
from ...models import create_model
from ...runtime import Runtime
from ...train import TrainResult
from ..spec import Metric
from ...data.voices import load as load_voices
from .data import DEV_TAKES, partition, training_batches, validation_set, voice_splits
from .metrics import scores, transcripts
from .predictor import SpeechRecognizer, batch_log_probs
from .real_voices import fit_temperature, refusal_on_validation

METRIC = Metric("val_cer", "dev character error rate", higher_is_better=False)


@dataclass
class Recipe:
    """The shipped model's recipe (`python -m rnn_core train speech`).

    Small batches: CTC first learns to emit only blanks, and updates, more than
    utterances, get it past that plateau (in 1-minute trials batch 16 at lr 5e-3 was
    past it by step ~300, batch 32 at 2e-3 not by step 150). The shipped model grew in
    two stages with ``--init``: the synthetic voices alone (``fsdd=False``, 40 minutes,
    no FSDD speaker heard), then everything below from there (15 + 20 minutes at lr
    2e-3, then 1.5e-3). The first stage is shared by every held-out-speaker run, which
    is what makes leave-one-speaker-out affordable: see the README for the commands.
    """
    cell: str = "gru"
    hidden: int = 160                 # units per direction
    layers: int = 2
    conv_channels: int = 128          # the conv front end (stride 2; 0 = none)
    n_mels: int = 40
    dropout: float = 0.2
    epochs: int = 60
    lr: float = 3e-3
    batch_size: int = 16
    max_minutes: float | None = 20
    seed: int = 0
    patience: int | None = 8          # validations without improvement before stopping
    connected_share: float = 0.5      # connected strings per single clip, each epoch
    max_digits: int = 6               # longest connected string
    augment: bool = True              # speed, pitch, gain and noise
    aug_share: float = 0.5            # share of single clips augmented
    dev_connected: int = 100          # connected strings in validation
    held_out: str = ""                # a speaker left out of training (and dev)
    half: bool = True                 # store the weights as float16
    init: str = ""                    # go on from this checkpoint (same network)
    fluent_share: float = 0.5         # connected strings read without pauses (or overlapping)
    voices_share: float = 1.0         # synthetic-voice corpus items per single clip (0: none)
    voices_dir: str = ""              # the corpus (`rnn_core.data.voices`; "": the cache's)
    negative_share: float = 0.1       # noise, tones and babble (empty transcript) per single clip
    scene_share: float = 0.6          # items put in a simulated room when ``augment``
    vtlp_share: float = 0.4           # items given another vocal tract length when ``augment``
    mask_share: float = 0.5           # items given SpecAugment's masks when ``augment``
    fsdd: bool = True                 # False: the synthetic voices alone (no FSDD speaker heard)


# Named recipes (`TaskSpec.presets`, ``train speech --preset NAME``): recipe fields over
# the defaults. tiny: seconds on one core (a small network, one pass of the clips and
# a few connected strings, none of the costly corpora or augmentation, no clock);
# large: for a GPU.
PRESETS = {
    "tiny": {"hidden": 32, "layers": 1, "conv_channels": 16, "dropout": 0.0, "epochs": 1, "max_minutes": None,
             "connected_share": 0.3, "max_digits": 3, "augment": False, "dev_connected": 10, "half": False,
             "fluent_share": 0.0, "voices_share": 0.0, "negative_share": 0.0},
    "default": {},
    "large": {"hidden": 320, "layers": 3, "conv_channels": 256},
}


def train(options: dict | None = None, data_dir: str | None = None, out_dir: str | Path | None = None,
          on_progress=None, stop: threading.Event | None = None, runtime: Runtime | None = None,
          max_steps: int | None = None) -> tuple[SpeechRecognizer, TrainResult]:
    """Train a CTC recogniser on the training clips and connected strings made of them,
    keeping the weights with the lowest dev character error rate.

    Returns:
        (a recogniser around the best weights, the training result)
    """
    return fit(Recipe, plan, SpeechRecognizer, options, data_dir, out_dir, on_progress=on_progress, stop=stop,
               runtime=runtime, max_steps=max_steps)


def plan(r: Recipe, data_dir: str | None = None) -> Plan:
    """The clips, the corpus, the batches and the network of recipe ``r`` (`rnn_core.fit`)."""
    alphabet = CTCAlphabet()
    corpus = voice_splits(load_voices(r.voices_dir or None)) if r.voices_share else {"train": [], "dev": []}
    if r.fsdd:
        parts = partition(list_clips(data_dir), r.held_out)
        if not parts["train"] or not parts["dev"]:
            raise ValueError(f"no training or no dev clips (dev = takes {DEV_TAKES[0]}-{DEV_TAKES[-1]})")
        n = len(parts["train"])
        n_items = n + sum(round(share * n) for share in (r.connected_share, r.negative_share,
                                                         r.voices_share if corpus["train"] else 0))
    else:  # validated on the corpus's dev voices only: no FSDD speaker chooses the weights
        if not corpus["train"]:
            raise ValueError("fsdd=False trains on the synthetic-voice corpus alone, and it is not built "
                             "(python -m rnn_core.data.voices)")
        parts = {"train": [], "dev": []}
        n = len(corpus["train"])
        n_items = n + round(r.negative_share * n)
    val_feats, val_texts, n_single = validation_set(parts["dev"], r, corpus["dev"])
    # the refusal threshold is chosen on real voices only (FSDD's dev clips and strings made
    # of them): synthetic voices are surer of themselves, and a threshold fitted with them
    # refused 7.5% of the test takes' strings where validation promised 2%
    n_real = len(val_texts) - len(corpus["dev"])

    def network():
        model = create_model("CTCRecognizer", vocab_size=alphabet.vocab_size, n_mels=r.n_mels,
                             hidden_size=r.hidden, num_layers=r.layers, cell=r.cell,
                             dropout=r.dropout, conv_channels=r.conv_channels)
        if r.init:  # go on from a checkpoint of the same network (a longer run in stages)
            model.load_state_dict(load_pretrained(r.init, task=SpeechRecognizer.task)[0].state_dict())
        return model

    def validate(m):
        (hyps,) = transcripts(m, val_feats, alphabet)
        return {"val_cer": round(cer(hyps, val_texts), 4),
                "val_digit_accuracy": round(scores(hyps, val_texts, n_single)["digit_accuracy"], 4)}

    def extras(m):
        # confidence that means accuracy: a temperature fitted on the validation utterances;
        # then the confidence under which the tab refuses, chosen on them too
        temperature = fit_temperature(batch_log_probs(m, val_feats), val_texts, alphabet)
        return {"features": {"n_mels": r.n_mels, "hop_ms": HOP_MS},
                "calibration": {"temperature": temperature, "fitted_on": f"the {len(val_texts)} validation utterances"},
                "refusal": refusal_on_validation(m, val_feats[:n_real], val_texts[:n_real], temperature, alphabet,
                                                 r.n_mels)}

    speakers = sorted({c.speaker for c in parts["train"]})
    return Plan(encoder=alphabet, network=network, steps_per_epoch=math.ceil(n_items / r.batch_size),
                epoch_batches=lambda epoch: training_batches(parts["train"], r, epoch, alphabet,
                                                             voices=corpus["train"]),
                validate=validate, metric=METRIC, count=lambda b: len(b["lengths"]),
                data=f"FSDD, {len(parts['train'])} clips of {len(speakers)} speakers ({', '.join(speakers) or 'none'}) "
                     f"+ connected strings of 1-{r.max_digits} digits made of them (a share "
                     f"{r.fluent_share:g} fluent) + {len(corpus['train'])} utterances of "
                     f"{len({u.voice for u in corpus['train']})} synthetic voices + audio with no digits; "
                     f"validated on {len(parts['dev'])} other takes + strings made of them + "
                     f"{len(corpus['dev'])} synthetic utterances",
                loop={"patience": r.patience, "clip": 1.0},
                figures=lambda m, result: {"utterances_per_s": round(result.tokens / max(result.elapsed, 1e-9), 1)},
                extras=extras, save={"half": r.half})
