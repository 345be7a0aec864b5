"""The sentiment tab's handlers on a tiny checkpoint, and the launched app through
gradio_client (classify, retrain, stop)."""
import time

import gradio as gr
import pytest

from tests.conftest import launched_gallery


def test_analyse_outputs(tiny_app):
    label, mine, verdict, plot, strip, influence = tiny_app.analyse("the film is great")
    assert set(label) == {"positive", "negative"} and abs(sum(label.values()) - 1) < 1e-6
    assert mine["visible"] is False
    assert "confidence" in verdict and "4 words read" in verdict
    assert strip.count("<span") == 4 and influence.count("<span") == 4
    assert plot.count("<circle") == 4 and "<svg" in plot  # the running verdict, one point a word


def test_verdict_and_notes_count_the_same_words(tiny_app):
    """Punctuation is not a word, in the verdict as in the notes (issue 28, item 9: the
    verdict said "from 9 words" where the note said "no words")."""
    verdict = tiny_app.analyse("great , zzzq !!!")[2]
    assert "2 words read" in verdict and "1 of 2 words were never seen" in verdict
    verdict = tiny_app.analyse("!!! ??? ...")[2]
    assert "no words" in verdict and not any(f"from {n} word" in verdict for n in range(1, 10))


@pytest.mark.parametrize("text", ["", "   \n ", None])
def test_analyse_refuses_empty(tiny_app, text):
    with pytest.raises(gr.Error, match="Type a sentence"):
        tiny_app.analyse(text)


@pytest.mark.parametrize("text", ["!!!", "😀😀", "日本語のテキスト", "\x00\x01binary\xff", "great " * 30000])
def test_analyse_odd_input_gives_a_sane_answer(tiny_app, text):
    label, _, verdict, *_ = tiny_app.analyse(text)
    assert 0 <= label["positive"] <= 1 and "confidence" in verdict


def test_analyse_symbols_only(tiny_app):
    with pytest.raises(gr.Error):
        tiny_app.analyse("\x00\x01\x02")


def test_analyse_compares_with_retrained(tiny_app, tiny_sentiment):
    from rnn_core.tasks.sentiment.predictor import SentimentPredictor

    mine = SentimentPredictor.from_pretrained(tiny_sentiment)
    _, shown, verdict, *_ = tiny_app.analyse("a dull film", mine)
    assert shown["visible"] is True and "Your retrained model" in verdict


def test_model_card_shows_figures(tiny_app):
    card = tiny_app.card()
    assert "parameters" in card and "GRU" in card


def test_launched_app_through_gradio_client(tiny_assets, tiny_data):
    from gradio_client import Client

    with launched_gallery(tiny_assets, tiny_data) as url:
        client = Client(url, verbose=False)
        label, _, verdict, *_ = client.predict("a great and warm film", api_name="/sentiment_classify")
        assert label["label"] in ("positive", "negative") and "confidence" in verdict
        with pytest.raises(Exception, match="Type a sentence"):
            client.predict("  ", api_name="/sentiment_classify")
        # retrain with small settings: cell, bidirectional, hidden, layers, epochs, lr, minutes, embed
        status, _, archive, *_ = client.predict("lstm", True, 8, 1, 1, 0.01, 0.5, 8,
                                                   api_name="/sentiment_retrain")
        assert "Done" in status and str(archive).endswith(".zip")
        # this client's session now has a retrained model beside the pretrained one
        _, mine, verdict, *_ = client.predict("a great film", api_name="/sentiment_classify")
        assert "Your retrained model" in verdict
        client.predict(api_name="/sentiment_stop")  # nothing running: a no-op, no error
        # Stop reaches a running retrain (a slow 3-layer one), which keeps its best weights
        job = client.submit("lstm", True, 128, 3, 20, 0.01, 5, 128, api_name="/sentiment_retrain")
        deadline = time.monotonic() + 60
        while len(job.outputs()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        client.predict(api_name="/textgen_stop")  # another tab's Stop leaves it running
        time.sleep(1.5)
        assert not job.done()
        client.predict(api_name="/sentiment_stop")
        status, _, archive, *_ = job.result(timeout=120)
        assert "Done" in status and "stopped at" in status and str(archive).endswith(".zip")
        # the stopped run was worse than the first retrain: the first one stays in use
        assert "earlier retrained model, so that one stays" in status or "ready in this tab" in status
        assert "pretrained" in status and "this run" in status  # the figures side by side
        # the text generation tab streams through the same server
        text, notes, _ = client.predict("ROMEO:\n", 50, 0.8, 0, 1.0, 3, "pretrained",
                                        api_name="/textgen_generate")
        assert text.startswith("ROMEO:\n") and len(text) == len("ROMEO:\n") + 50  # the prime, then 50
        # another visitor still gets the pretrained model only
        other = Client(url, verbose=False)
        assert "Your retrained model" not in other.predict("a great film", api_name="/sentiment_classify")[2]


def test_a_retrain_replaces_the_earlier_one_only_when_better():
    from apps.retrain import keeps_earlier
    from rnn_core.metrics import Metric

    accuracy, cer = Metric("accuracy", "accuracy", True), Metric("cer", "CER", False)
    assert keeps_earlier(accuracy, 0.8, 0.7) and keeps_earlier(accuracy, 0.8, 0.8)
    assert not keeps_earlier(accuracy, 0.8, 0.81) and not keeps_earlier(accuracy, None, 0.1)
    assert keeps_earlier(cer, 0.1, 0.2) and not keeps_earlier(cer, 0.1, 0.05)
    assert keeps_earlier(accuracy, 0.8, None)


def test_a_downloaded_checkpoint_can_be_brought_back_and_nothing_else(tiny_sentiment, tiny_textgen, tmp_path):
    import json
    import zipfile

    from apps.checkpoint_zip import checkpoint_from_upload
    from rnn_core.tasks import TASKS

    sentiment = TASKS["sentiment"]

    def zipped(name: str, files: dict) -> str:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            for arcname, data in files.items():
                z.writestr(arcname, data)
        return str(path)

    def files_of(folder) -> dict:
        return {n: (folder / n).read_bytes() for n in ("model.safetensors", "config.json")}

    good = zipped("good.zip", files_of(tiny_sentiment))
    predictor = checkpoint_from_upload(sentiment, good)
    assert predictor.predict("a great film")["label"] in ("positive", "negative")
    other_task = zipped("text.zip", files_of(tiny_textgen))
    extra = zipped("extra.zip", {**files_of(tiny_sentiment), "../evil.py": b"import os"})
    config = json.loads((tiny_sentiment / "config.json").read_text())
    config["model_args"]["hidden_size"] = 10**7
    huge = zipped("huge.zip", {**files_of(tiny_sentiment), "config.json": json.dumps(config)})
    (tmp_path / "notzip.zip").write_bytes(b"PK not really")
    cases = {other_task: "holds a 'textgen' model", extra: "nothing else", huge: "numbers stored",
             str(tmp_path / "notzip.zip"): "not a zip file", None: "Choose the .zip"}
    for path, reason in cases.items():
        with pytest.raises(gr.Error, match=reason) as info:
            checkpoint_from_upload(sentiment, path)
        assert str(tmp_path) not in str(info.value) and "/tmp" not in str(info.value)


def test_retrain_panel_outputs_are_named_in_one_order():
    """The Retrain button's outputs are the panel's components in `PanelUpdate`'s field
    order, and an update names what it changes (the rest is left as it is)."""
    from apps.retrain import PanelUpdate, retrain_panel
    from rnn_core.tasks import TASKS

    with gr.Blocks() as demo:
        retrained = retrain_panel(TASKS["sentiment"], "a note")
    (fn,) = [f for f in demo.fns.values() if f.api_name == "sentiment_retrain"]
    status, curve, download, state, candidate, use_new = fn.outputs
    assert (type(status), type(curve), type(download), state, type(candidate)) == \
        (gr.HTML, gr.Plot, gr.File, retrained, gr.State)
    assert isinstance(use_new, gr.Button) and use_new.value == "Use this run's model anyway"
    assert PanelUpdate(status="x", candidate=None).values() == ("x", gr.skip(), gr.skip(), gr.skip(), None, gr.skip())


class _FakeJob:
    """What `_follow` and `_finish` read of a `rnn_core.jobs.TrainingJob`."""

    def __init__(self, predictor=None, result=None, error=None, ahead=0):
        self.predictor, self.result, self.error, self.ahead = predictor, result, error, ahead
        self.waiting, self.polls = ahead > 0, 0

    def finished(self):
        self.polls += 1
        return self.polls > 1  # one round of the loop

    def updates(self, timeout):
        return []


class _FakePredictor:
    def __init__(self, accuracy):
        self.config = {"result": {"best": {"accuracy": accuracy}}}

    def save(self, folder):
        folder.mkdir(parents=True)
        for name in ("model.safetensors", "config.json"):
            (folder / name).write_text("{}")
        return folder


def test_a_finished_retrain_updates_the_panel_by_name():
    from types import SimpleNamespace

    from apps.retrain import RunLog, _finish, _follow
    from rnn_core.metrics import Metric
    from rnn_core.train import TrainResult

    spec = SimpleNamespace(name="sentiment", metric=Metric("accuracy", "accuracy", True))
    (waiting,) = _follow(_FakeJob(ahead=2), spec.metric, "", RunLog())
    assert "2 retrains ahead of you" in waiting.status and waiting.retrained == gr.skip()
    new, result = _FakePredictor(0.8), TrainResult(best={"accuracy": 0.8}, steps=10, elapsed=3.0)
    first = _finish(spec, _FakeJob(new, result), RunLog(), None, "", None)
    assert "Done</b> (completed) after 10 steps in 3 s: best accuracy 0.800" in first.status
    assert first.retrained is new and first.candidate is None and first.download.endswith(".zip")
    better = _FakePredictor(0.9)  # an earlier retrain that was better stays; the new one is offered
    kept = _finish(spec, _FakeJob(new, result), RunLog(), better, "", None)
    assert kept.retrained is better and kept.candidate is new and kept.use_new["visible"] is True
    failed = _finish(spec, _FakeJob(error="RuntimeError: boom"), RunLog(), better, "", None)
    assert "Training failed: RuntimeError: boom" in failed.status and failed.download is None
    assert failed.retrained == gr.skip() and failed.curve == gr.skip()
