"""The sentiment task on a tiny checkpoint: predictor, evaluation, CLI."""
import json

import pytest

from rnn_core.__main__ import main
from rnn_core.tasks import TASKS
from rnn_core.tasks.sentiment.predictor import MAX_WORDS, SentimentPredictor

sentiment = TASKS["sentiment"]


@pytest.fixture(scope="module")
def predictor(tiny_sentiment):
    return SentimentPredictor.from_pretrained(tiny_sentiment)


def test_tiny_model_learned_the_toy_task(tiny_sentiment, sst2_dir):
    metrics = sentiment.evaluate(tiny_sentiment, data_dir=str(sst2_dir))
    assert metrics["accuracy"] >= 0.8
    assert 0 <= metrics["baseline"]["accuracy"] <= 1 and "TF-IDF" in metrics["baseline"]["name"]


def test_predict_explains_word_by_word(predictor):
    r = predictor.predict("the story is a great film")
    assert r["label"] in ("positive", "negative") and 0.5 <= r["confidence"] <= 1
    assert len(r["running"]) == len(r["influence"]) == len(r["tokens"]) == 6
    # the verdict after the last word is the verdict on the whole sentence
    assert r["running"][-1] == pytest.approx(r["p_positive"], abs=1e-6)
    assert r["label"] == "positive"
    great = r["tokens"].index("great")
    # the only sentiment word matters most, and removing it makes the sentence less positive
    assert r["influence"][great] == max(r["influence"], key=abs) > 0


def test_predict_bad_input(predictor):
    with pytest.raises(ValueError, match="no words"):
        predictor.predict("   ")
    long = predictor.predict("great " * 5000, explain=False)
    assert len(long["tokens"]) == MAX_WORDS and "first 200" in long["notes"][0]
    odd = predictor.predict("😀 日本語 \x00")
    assert any("never seen" in n for n in odd["notes"]) and any("guess" in n for n in odd["notes"])


def test_retrain_options_are_clamped():
    options, notes = sentiment.retrain_options({"hidden": 10**6, "epochs": -1, "cell": "lstm"})
    assert options["hidden"] == 256 and options["epochs"] == 1 and len(notes) == 2


def test_cli_evaluate_json(tiny_sentiment, sst2_dir, capsys):
    assert main(["evaluate", "sentiment", "--weights", str(tiny_sentiment), "--data", str(sst2_dir),
                 "--split", "dev", "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    metrics = json.loads(last)
    assert {"accuracy", "baseline", "split"} <= set(metrics) and metrics["split"] == "dev"


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", "sentiment", "--data", str(tmp_path), "--weights", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_cli_train_writes_a_checkpoint(sst2_dir, tmp_path, capsys):
    out = tmp_path / "ckpt"
    assert main(["train", "sentiment", "--data", str(sst2_dir), "--out", str(out), "--cell", "rnn",
                 "--hidden", "8", "--embed", "8", "--epochs", "1", "--bidirectional", "false"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model_args"]["cell"] == "rnn" and config["model_args"]["bidirectional"] is False
    assert (out / "model.safetensors").exists() and "saved" in capsys.readouterr().out


def test_cli_recipe_flags_are_typed(capsys):
    """Every recipe field is a flag of its type; an unknown one or a wrong type is
    one `error:` line and exit status 2."""
    from rnn_core.__main__ import build_parser

    args = build_parser().parse_args(["train", "sentiment", "--members", "3", "--lr", "0.01",
                                      "--bidirectional", "false", "--max-minutes", "none"])
    assert (args.members, args.lr, args.bidirectional, args.max_minutes) == (3, 0.01, False, None)
    for bad, says in ((["--colour", "blue"], "does not take --colour"), (["--members", "many"], "invalid int")):
        assert main(["train", "sentiment", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and says in err and err.count("\n") == 1


def test_ensemble_training_and_early_stop(sst2_dir):
    import threading

    small = {"cell": "gru", "hidden": 8, "embed": 8, "epochs": 1, "batch_size": 200}
    predictor, result = sentiment.train({**small, "members": 2, "member_cells": "gru,rnn"},
                                        data_dir=str(sst2_dir))
    assert "ensemble of 2" in predictor.describe() and len(result.best["members"]) == 2
    assert [m["cell"] for m in predictor.model.model_args["members"]] == ["gru", "rnn"]
    stop = threading.Event()
    stop.set()  # stopped before it starts: one step of the first member, still a usable model
    predictor, result = sentiment.train({**small, "members": 3}, data_dir=str(sst2_dir), stop=stop)
    assert result.stopped == "stopped" and result.steps == 1
    assert predictor.predict("a great film")["label"] in ("positive", "negative")
