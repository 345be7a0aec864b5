"""TrainingJob: background training that a UI polls and stops."""
import threading
import time

from rnn_core.jobs import TrainingJob
from rnn_core.train import Progress


def _fake_train(steps=1000, fail=False):
    def run(on_progress, stop):
        for i in range(steps):
            if fail and i == 3:
                raise RuntimeError("out of memory")
            on_progress(Progress(i, steps, 0, i / steps, 0.0, 1.0, 0.1))
            if stop.is_set():
                return "stopped-predictor", i
            time.sleep(0.001)
        return "predictor", steps
    return run


def test_job_reports_progress_and_result():
    job = TrainingJob(_fake_train(steps=20)).start()
    seen = []
    while not job.finished():
        seen += job.updates(timeout=0.1)
    assert [p.step for p in seen] == list(range(20)) and job.predictor == "predictor" and job.error is None


def test_job_stop():
    job = TrainingJob(_fake_train()).start()
    job.updates(timeout=2)
    job.stop()
    assert job.done.wait(5) and job.predictor == "stopped-predictor" and job.result < 1000


def test_job_error_is_reported_not_raised():
    job = TrainingJob(_fake_train(fail=True)).start()
    assert job.done.wait(5)
    assert job.error == "RuntimeError: out of memory" and job.predictor is None


def test_second_job_waits_for_the_slot():
    release = threading.Event()

    def blocking(on_progress, stop):
        release.wait(5)
        return "first", 0

    first = TrainingJob(blocking).start()
    time.sleep(0.1)
    second = TrainingJob(_fake_train(steps=1)).start()
    time.sleep(0.3)
    assert second.waiting and not second.done.is_set()
    release.set()
    assert first.done.wait(5) and second.done.wait(5) and second.predictor == "predictor"
    # a waiting job that is stopped gives up without ever training
    release.clear()
    third = TrainingJob(blocking).start()
    time.sleep(0.1)
    fourth = TrainingJob(_fake_train(steps=1)).start()
    time.sleep(0.2)
    fourth.stop()
    assert fourth.done.wait(5) and "Stopped before it started" in fourth.error
    release.set()
    third.done.wait(5)
