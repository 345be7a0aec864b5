"""TrainingJob: training in a child process that a UI polls and stops. The fake
training functions live at module level, as a job's function must pickle."""
import functools
import os
import time
from pathlib import Path

import pytest

from rnn_core.jobs import TrainingJob, job_for
from rnn_core.train import Progress


def _fake_train(on_progress, stop, steps=1000, fail=False, wait_for: str | None = None):
    if wait_for:  # hold the training slot until the test creates this file
        deadline = time.monotonic() + 20
        while not Path(wait_for).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    for i in range(steps):
        if fail and i == 3:
            raise RuntimeError("out of memory")
        on_progress(Progress(i, steps, 0, i / steps, 0.0, 1.0, 0.1))
        if stop.is_set():
            return "stopped-predictor", i
        time.sleep(0.001)
    return "predictor", steps


def _dies(on_progress, stop):
    os._exit(3)  # a crash that sends no word back (a segfault, the OOM killer)


def _job(**kwargs) -> TrainingJob:
    return TrainingJob(functools.partial(_fake_train, **kwargs))


def test_job_reports_progress_and_result():
    job = _job(steps=20).start()
    seen = []
    while not job.finished():
        seen += job.updates(timeout=0.1)
    assert [p.step for p in seen] == list(range(20)) and job.predictor == "predictor" and job.error is None


def test_job_stop():
    job = _job().start()
    job.updates(timeout=30)  # the child has started training
    job.stop()
    assert job.done.wait(30) and job.predictor == "stopped-predictor" and job.result < 1000


def test_job_error_is_reported_not_raised():
    job = _job(fail=True).start()
    assert job.done.wait(30)
    assert job.error == "RuntimeError: out of memory" and job.predictor is None


def test_a_crashed_training_process_is_reported():
    job = TrainingJob(_dies).start()
    assert job.done.wait(30)
    assert "ended unexpectedly (exit code 3)" in job.error and job.predictor is None


def test_training_runs_in_another_process_at_lower_priority():
    job = TrainingJob(functools.partial(_where, os.getpid())).start()
    assert job.done.wait(30) and job.error is None
    other_process, nice = job.predictor
    assert other_process and nice >= os.nice(0)


def _where(parent_pid, on_progress, stop):
    return (os.getpid() != parent_pid, os.nice(0)), None


def test_second_job_waits_for_the_slot(tmp_path):
    release = tmp_path / "release"
    first = _job(steps=1, wait_for=str(release)).start()
    time.sleep(0.1)
    second = _job(steps=1).start()
    time.sleep(0.3)
    assert second.waiting and not second.done.is_set()
    release.touch()
    assert first.done.wait(30) and second.done.wait(30) and second.predictor == "predictor"
    # a waiting job that is stopped gives up without ever training
    release.unlink()
    third = _job(steps=1, wait_for=str(release)).start()
    time.sleep(0.1)
    fourth = _job(steps=1).start()
    time.sleep(0.2)
    fourth.stop()
    assert fourth.done.wait(30) and "Stopped before it started" in fourth.error
    release.touch()
    assert third.done.wait(30)


def test_waiting_jobs_go_in_order_and_the_line_is_bounded(tmp_path, monkeypatch):
    """First come, first served; each knows how many are ahead; beyond MAX_WAITING a
    retrain is refused at once (a flood of requests cannot pile up)."""
    from rnn_core import jobs

    monkeypatch.setattr(jobs, "MAX_WAITING", 2)
    release = tmp_path / "release"
    first = _job(steps=1, wait_for=str(release)).start()
    time.sleep(0.2)
    assert jobs.busy()
    second, third = _job(steps=1).start(), _job(steps=1).start()
    time.sleep(0.2)
    assert (first.ahead, second.ahead, third.ahead) == (0, 1, 2)
    with pytest.raises(jobs.QueueFull, match="try again in a few minutes"):
        _job(steps=1).start()
    release.touch()
    assert all(j.done.wait(30) for j in (first, second, third))
    assert not jobs.busy() and third.ahead == 0


SMALL = {"sentiment": {"hidden": 8, "embed": 8, "epochs": 1},
         "textgen": {"hidden": 16, "epochs": 1}, "melody": {"hidden": 16, "epochs": 1},
         "speech": {"hidden": 16, "layers": 1, "epochs": 1}}


@pytest.mark.parametrize("task", sorted(SMALL))
def test_job_for_trains_every_task(task, tiny_data, monkeypatch, tmp_path):
    """Each task through the child process: its predictor comes back to the server
    whole, and saves as a checkpoint there (the retrain panel's download); one that
    did not pickle would break that tab's retrain."""
    from rnn_core.tasks import TASKS

    monkeypatch.setenv("RNN_GALLERY_DATA", str(tiny_data))
    options, _ = TASKS[task].retrain_options({**SMALL[task], "max_minutes": 0.1})
    job = job_for(task, options).start()
    assert job.done.wait(180) and job.error is None, job.error
    assert job.result.steps > 0
    assert type(job.predictor) is TASKS[task].predictor
    assert (job.predictor.save(tmp_path / task) / "model.safetensors").is_file()


def test_the_line_refuses_the_job_one_past_its_cap_with_the_visitors_message(monkeypatch):
    """With the slot taken and MAX_WAITING waiting, the next job is refused at once with
    the same sentence as ever; one place fewer waiting and it joins the line."""
    from rnn_core import jobs

    monkeypatch.setattr(jobs, "MAX_WAITING", 2)
    monkeypatch.setattr(jobs, "_running", [object()])  # the training slot is taken
    monkeypatch.setattr(jobs, "_waiting", [object(), object()])
    with pytest.raises(jobs.QueueFull) as refused:
        _job(steps=1).start()
    assert str(refused.value) == ("3 retrains are running or waiting already, the most this server takes: "
                                  "please try again in a few minutes.")
    jobs._waiting.pop()
    job = _job(steps=1).start()
    assert job.waiting and job.ahead == 2
    job.stop()  # it gives up its place without training
    assert job.done.wait(10) and "Stopped before it started" in job.error and len(jobs._waiting) == 1


def test_a_retrain_that_must_wait_is_capped_and_told_so(monkeypatch):
    from rnn_core import jobs

    options = {"hidden": 8, "max_minutes": 5.0}
    assert jobs.cap_if_queued(options) == (options, None)  # the slot is free: no cap
    monkeypatch.setattr(jobs, "_running", [object()])
    capped, note = jobs.cap_if_queued(options)
    assert capped == {"hidden": 8, "max_minutes": jobs.QUEUED_MAX_MINUTES} and options["max_minutes"] == 5.0
    assert note == ("Other visitors' retrains are running or waiting, so this one is capped at "
                    f"{jobs.QUEUED_MAX_MINUTES:g} minutes.")
    short = {"max_minutes": jobs.QUEUED_MAX_MINUTES / 2}
    assert jobs.cap_if_queued(short) == (short, None) and jobs.cap_if_queued({}) == ({}, None)


def _finishes_large_after_the_server_died(on_progress, stop):
    """Ignores the stop flag for 3 s (data loading does), then returns a result far larger
    than a pipe holds (a predictor's pickled weights)."""
    time.sleep(3)
    return bytes(4 << 20), None


def test_the_training_process_ends_when_the_server_is_killed(tmp_path):
    """A server killed mid-retrain (SIGKILL: no cleanup runs) must not leave its training
    child behind, still holding memory and a core for nobody (seen after `bench all`)."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "server.py"
    script.write_text(
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from rnn_core.jobs import TrainingJob\n"
        "from tests.test_jobs import _finishes_large_after_the_server_died\n"
        "if __name__ == '__main__':\n"
        "    job = TrainingJob(_finishes_large_after_the_server_died).start()\n"
        "    import multiprocessing\n"
        "    while not multiprocessing.active_children():\n"
        "        time.sleep(0.05)\n"
        "    print(multiprocessing.active_children()[0].pid, flush=True)\n"
        "    os.kill(os.getpid(), 9)\n")
    # (the child inherits the server's stdout: read one line, don't wait for the pipe to close)
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(server.stdout.readline())
    assert server.wait(timeout=60) == -signal.SIGKILL
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return  # gone
        if Path(f"/proc/{child}/stat").exists() and Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            return  # ended, waiting only to be reaped by init
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the training process outlived its server by 15 s")
