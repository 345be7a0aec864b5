"""The training contract, tested over the registry (a new task is tested the day it is
registered): every task trains through the one `rnn_core.fit` path, so each honours
the runtime it is given (device, precision), stops after ``max_steps``, says where and
why it stopped in its record, and saves a checkpoint that loads back to the same
predictor. The torchrun half of the contract is in test_distributed.py."""
import json

import pytest
import torch

from rnn_core.__main__ import main
from rnn_core.runtime import Runtime
from rnn_core.stopping import StopReason
from rnn_core.tasks import TASK_NAMES, TASKS
from rnn_core.tasks.spec import make_recipe
from rnn_core.train import TrainConfig, TrainResult, run_record, trained_runtime

# a data source's tiny fixture in conftest.py is "<source>_dir" unless named here
FIXTURES = {"tinyshakespeare": "shakespeare_dir"}


def tiny_data(request, name: str):
    """The task's tiny fixture data folder (conftest.py)."""
    source = TASKS[name].data_source
    return request.getfixturevalue(FIXTURES.get(source, f"{source}_dir"))


@pytest.mark.parametrize("name", TASK_NAMES)
def test_presets_are_named_recipes(name):
    spec = TASKS[name]
    assert {"tiny", "default", "large"} <= set(spec.presets) and spec.presets["default"] == {}
    recipes = {preset: make_recipe(spec.recipe, options) for preset, options in spec.presets.items()}
    assert recipes["default"] == spec.recipe()  # the shipped recipe, untouched
    assert recipes["tiny"] != recipes["default"] != recipes["large"]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_tiny_preset_honours_runtime_and_max_steps_and_round_trips(name, request, tmp_path):
    spec = TASKS[name]
    data = tiny_data(request, name)
    seen = []
    predictor, result = spec.train(spec.presets["tiny"], data_dir=str(data), out_dir=tmp_path / "ckpt",
                                   on_progress=seen.append, runtime=Runtime("cpu", "bf16"), max_steps=2)
    where = {"device": "cpu", "precision": "bf16", "world_size": 1, "torch": torch.__version__}
    assert result.steps == 2 and result.stopped == StopReason.MAX_STEPS and result.runtime == where
    assert result.history[-1]["step"] == 2 and spec.metric.key in result.best  # the final weights were scored
    assert seen[-1].message == "max_steps"
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["result"]["stopped"] == "max_steps" and config["result"]["steps"] == 2
    assert trained_runtime(config) == where and config["train"]["max_steps"] == 2
    # save -> load -> the same network, encoder and record as the predictor in memory
    loaded = spec.predictor.from_pretrained(tmp_path / "ckpt")
    batch = predictor.model.example_batch()
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.eval()(**batch), predictor.model.eval()(**batch), rtol=0, atol=0)
    assert loaded.encoder.to_dict() == predictor.encoder.to_dict()
    record = json.loads(json.dumps(predictor.config))  # the file adds the bundle (architecture, vocabulary...)
    assert {k: loaded.config.get(k) for k in record} == record


def test_cli_flags_override_the_preset(timeseries_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "forecast", "--preset", "tiny", "--hidden", "5", "--max-steps", "3",
                 "--data", str(timeseries_dir), "--out", str(out), "--device", "cpu"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["options"]["hidden"] == 5  # the flag, not the preset's 8
    assert config["options"]["epochs"] == TASKS["forecast"].presets["tiny"]["epochs"]  # the preset, not 300
    assert config["result"]["steps"] == 3 and "max_steps" in capsys.readouterr().out


def test_record_says_why_in_plain_words_and_old_records_still_say_where():
    for reason in StopReason:
        record = run_record({"hidden": 8}, TrainConfig(), TrainResult(best={}, stopped=reason), "data")
        assert json.loads(json.dumps(record))["result"]["stopped"] == reason.value
    assert StopReason.EARLY_STOPPING == "early_stopping" and f"{StopReason.TIME_BUDGET}" == "time_budget"
    old = {"runtime": {"device": "cuda", "precision": "bf16", "world_size": 2}, "result": {"steps": 5}}
    assert trained_runtime(old) == old["runtime"] and trained_runtime({"result": {}}) == {}
