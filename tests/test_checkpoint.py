"""save_pretrained -> load_pretrained gives the same outputs; bad bundles are refused."""
import json

import pytest
import torch

from rnn_core.checkpoint import CheckpointError, load_pretrained, save_pretrained
from rnn_core.models import create_model

ARGS = dict(vocab_size=40, embed_dim=8, hidden_size=6, cell="lstm", bidirectional=True)


def _model():
    torch.manual_seed(1)
    return create_model("SequenceClassifier", **ARGS).eval()


def test_round_trip_identical_outputs(tmp_path):
    model = _model()
    save_pretrained(model, tmp_path, "sentiment", {"type": "words", "vocab": ["<pad>", "<unk>"]},
                    extra={"data": "tiny"})
    loaded, config = load_pretrained(tmp_path, task="sentiment")
    x, lengths = torch.randint(0, 40, (5, 7)), torch.tensor([7, 1, 3, 7, 2])
    torch.testing.assert_close(loaded(x, lengths=lengths)[0], model(x, lengths=lengths)[0], rtol=0, atol=0)
    assert config["architecture"] == "SequenceClassifier" and config["model_args"] == ARGS
    assert config["encoder"]["vocab"] == ["<pad>", "<unk>"] and config["data"] == "tiny"
    assert config["format_version"] == 1 and config["task"] == "sentiment"


def test_half_storage_is_close(tmp_path):
    model = _model()
    save_pretrained(model, tmp_path, "sentiment", {}, half=True)
    loaded, _ = load_pretrained(tmp_path)
    assert next(loaded.parameters()).dtype == torch.float32
    x = torch.randint(0, 40, (2, 5))
    torch.testing.assert_close(loaded(x)[0], model(x)[0], rtol=0, atol=2e-2)


def test_refuses_other_task_version_and_missing(tmp_path):
    save_pretrained(_model(), tmp_path, "sentiment", {})
    with pytest.raises(CheckpointError, match="not 'speech'"):
        load_pretrained(tmp_path, task="speech")
    config = json.loads((tmp_path / "config.json").read_text())
    config["format_version"] = 99
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="format version"):
        load_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="no config.json"):
        load_pretrained(tmp_path / "nowhere")


def test_refuses_weights_of_another_shape(tmp_path):
    save_pretrained(_model(), tmp_path, "sentiment", {})
    config = json.loads((tmp_path / "config.json").read_text())
    config["model_args"]["hidden_size"] = 9
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_pretrained(tmp_path)


def test_int8_embeddings_are_close_and_smaller(tmp_path):
    model = create_model("SequenceClassifier", vocab_size=3000, embed_dim=32, hidden_size=8)
    save_pretrained(model, tmp_path / "full", "sentiment", {})
    save_pretrained(model, tmp_path / "small", "sentiment", {}, half=True, int8_embeddings=True)
    loaded, _ = load_pretrained(tmp_path / "small")
    w, q = model.embed.weight, loaded.embed.weight
    assert torch.all((w - q).abs() <= w.abs().amax(dim=1, keepdim=True) / 127)
    assert (tmp_path / "small" / "model.safetensors").stat().st_size < \
        (tmp_path / "full" / "model.safetensors").stat().st_size / 3.5


def test_a_config_claiming_a_huge_model_is_refused_before_building_it(tmp_path):
    """A visitor's upload may say anything: hidden size 10**7 must not allocate first."""


    model = create_model("SequenceClassifier", vocab_size=50, num_classes=2, embed_dim=8, hidden_size=8)
    save_pretrained(model, tmp_path, "sentiment", {"vocab": ["<pad>", "<unk>"]})
    config = json.loads((tmp_path / "config.json").read_text())
    config["model_args"]["hidden_size"] = 10**7
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="numbers stored"):
        load_pretrained(tmp_path)
    config["model_args"] = {"no_such_argument": 1}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="no model this code can build"):
        load_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_pretrained(tmp_path)
