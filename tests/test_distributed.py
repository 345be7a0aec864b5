"""Training anywhere: two processes (torchrun, gloo on this CPU) train the same model
as one with the same total batch, and every task trains under torchrun; devices that
are not here are a one-line error; mixed precision trains a checkpoint that loads on
the CPU."""
import json
import os
import subprocess
import sys

import pytest
import torch

from rnn_core.__main__ import main
from rnn_core.batching import token_batch
from rnn_core.runtime import Runtime
from rnn_core.tasks import TASK_NAMES, TASKS
from rnn_core.tasks.sentiment.data import encode_texts
from rnn_core.tasks.sentiment.predictor import SentimentPredictor
from rnn_core.train import trained_runtime
from tests.conftest import write_sst2
from tests.test_contracts import tiny_data


def train_args(data, out, *more) -> list[str]:
    """A tiny sentiment run: 600 phrases in 15 batches of 40 (none made for negation or
    contrast), no dropout (each process would draw its own masks), float32 weights on disk."""
    return ["train", "sentiment", "--data", str(data), "--out", str(out), "--cell", "gru", "--hidden", "8",
            "--embed", "8", "--epochs", "1", "--batch-size", "40", "--lr", "0.01", "--dropout", "0",
            "--word-dropout", "0", "--negation-share", "0", "--contrast-share", "0", "--half", "false",
            "--device", "cpu", *more]


def dev_loss(predictor, data) -> float:
    texts, labels = zip(*(line.split("\t") for line in (data / "dev.tsv").read_text().splitlines()[1:]))
    enc = encode_texts(predictor.encoder, list(texts), [int(y) for y in labels])
    with torch.no_grad():
        _, loss = predictor.model(**token_batch(enc.seqs, enc.labels))
    return float(loss)


def torchrun(*args: str, processes: int = 2) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=PROCESSES -m rnn_core ARGS``, one
    intra-op thread a process (as torchrun sets it)."""
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           f"--nproc_per_node={processes}", "-m", "rnn_core", *args],
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)


def test_two_processes_train_what_one_does(tmp_path):
    data = write_sst2(tmp_path / "sst2")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as torchrun sets it: the same arithmetic in both runs
    one = subprocess.run([sys.executable, "-m", "rnn_core", *train_args(data, tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = torchrun(*train_args(data, tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("saved ") == 1 and "world_size 2" in two.stdout  # only rank 0 speaks
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["config.json", "model.safetensors"]
    configs = [json.loads((tmp_path / run / "config.json").read_text()) for run in ("one", "two")]
    assert [trained_runtime(c)["world_size"] for c in configs] == [1, 2]
    assert configs[0]["result"]["steps"] == configs[1]["result"]["steps"] == 15
    # each phrase read once in all: every process read its own half of each batch
    assert configs[0]["result"]["items_seen"] == configs[1]["result"]["items_seen"] > 0
    a, b = (SentimentPredictor.from_pretrained(tmp_path / run) for run in ("one", "two"))
    # the same 15 steps on the same 40-phrase batches: each process took half of every
    # batch and DDP averaged their gradients, which is the whole batch's gradient
    assert dev_loss(b, data) == pytest.approx(dev_loss(a, data), rel=1e-3)
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        torch.testing.assert_close(q, p, atol=2e-4, rtol=1e-3, msg=name)
    assert b.predict("a great and warm film")["label"] in ("positive", "negative")


def test_a_batch_too_small_to_share_is_skipped_by_every_process(tmp_path):
    """641 phrases in batches of 40 end in a batch of one: one process would have no row
    of it. Both must skip it (once only one did, and gloo aborted the run: SIGABRT)."""
    data = write_sst2(tmp_path / "sst2", n_train=641)
    two = torchrun(*train_args(data, tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-3000:]
    assert json.loads((tmp_path / "two" / "config.json").read_text())["result"]["steps"] == 16


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_task_trains_under_torchrun(name, request, tmp_path):
    """The tiny preset, two steps, two processes: one checkpoint, written by rank 0,
    that loads and says it was trained by two."""
    data = tiny_data(request, name)
    run = torchrun("train", name, "--preset", "tiny", "--max-steps", "2", "--data", str(data),
                   "--out", str(tmp_path / "ckpt"), "--device", "cpu")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("saved ") == 1  # only rank 0 speaks and saves
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert trained_runtime(config)["world_size"] == 2 and config["result"]["steps"] == 2
    assert config["result"]["stopped"] == "max_steps"
    spec = TASKS[name]
    predictor = spec.predictor.from_pretrained(tmp_path / "ckpt")
    with torch.no_grad():
        _, loss = predictor.model(**predictor.model.example_batch())
    assert torch.isfinite(loss)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_line(tmp_path, capsys):
    assert main(train_args(tmp_path, tmp_path / "out", "--device", "cuda")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device cuda") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_mixed_precision_checkpoint_loads_on_cpu(tmp_path, sst2_dir):
    """bf16 autocast (on this CPU; bf16 or fp16 on CUDA): the checkpoint holds float
    CPU tensors, says how it was trained, and predicts on the CPU."""
    assert main(train_args(sst2_dir, tmp_path / "bf16", "--precision", "bf16")) == 0
    config = json.loads((tmp_path / "bf16" / "config.json").read_text())
    assert config["result"]["runtime"] == {"device": "cpu", "precision": "bf16", "world_size": 1,
                                           "torch": torch.__version__}
    predictor = SentimentPredictor.from_pretrained(tmp_path / "bf16")
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in predictor.model.parameters())
    assert predictor.predict("a wonderful film")["label"] in ("positive", "negative")


def test_shards_split_rows_and_keep_the_rest():
    batch = {"x": torch.arange(10).view(5, 2), "lengths": torch.arange(5), "reset": True,
             "targets": torch.arange(5) * 10}
    halves = [Runtime(rank=r, world_size=2).shard(batch) for r in (0, 1)]
    assert [h["lengths"].tolist() for h in halves] == [[0, 2, 4], [1, 3]]
    assert halves[1]["targets"].tolist() == [10, 30] and halves[1]["reset"] is True
    assert Runtime().shard(batch) is batch  # one process: untouched


def test_bench_throughput_times_the_recipe_on_real_data(sst2_dir, capsys):
    argv = ["bench", "throughput", "sentiment", "--device", "cpu", "--seconds", "2", "--data", str(sst2_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "tokens/s" in out and "1 x cpu" in out
