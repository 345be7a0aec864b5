"""What keeps a long-running server bounded: the upload limit, the sweeping of the
app's own temporary files and of Gradio's cache, and no public traffic dashboard."""
import os
import time

import httpx

from apps import scratch
from tests.conftest import launched_gallery


def test_scratch_folders_are_swept_by_age(tmp_path):
    old = [scratch.new_folder("old-", root=tmp_path) for _ in range(5)]
    for folder in old:
        (folder / "melody.mid").write_bytes(b"x" * 100)
        past = time.time() - scratch.MAX_AGE_S - 60
        os.utime(folder, (past, past))
    fresh = scratch.new_folder("new-", root=tmp_path)  # sweeps the old ones first
    assert sorted(tmp_path.iterdir()) == [fresh]
    # many requests in a row: the folder holds only what is younger than MAX_AGE_S
    for _ in range(20):
        scratch.new_folder("more-", root=tmp_path)
    assert len(list(tmp_path.iterdir())) == 21
    assert scratch.sweep(tmp_path, max_age_s=-1) == 21 and not list(tmp_path.iterdir())


def test_gradio_cache_is_swept():
    import app

    demo = app.build_demo()
    every, age = demo.delete_cache
    assert every <= 3600 and age <= 6 * 3600


def test_big_upload_refused_and_no_dashboard(tiny_assets, tiny_data):
    import app

    limit = int(app.LAUNCH["max_file_size"].removesuffix("mb")) * 1024 * 1024
    with launched_gallery(tiny_assets, tiny_data) as url:
        big = b"\0" * (limit + 1024)
        r = httpx.post(url + "gradio_api/upload", files={"files": ("big.wav", big, "audio/wav")}, timeout=60)
        assert r.status_code == 413, r.text[:200]
        small = httpx.post(url + "gradio_api/upload", files={"files": ("ok.mid", b"MThd", "audio/midi")},
                           timeout=60)
        assert small.status_code == 200
        for page in ("monitoring", "monitoring/summary"):  # Gradio's traffic dashboard: off
            assert httpx.get(url + page, timeout=30).status_code in (403, 404)


def test_a_flood_of_retrain_requests_is_refused_and_visitors_still_get_answers(tiny_assets, tiny_data,
                                                                             monkeypatch):
    """Many sessions each ask for a retrain: one trains, MAX_WAITING wait, the rest are
    refused at once with a message (none waits in Gradio's queue), and a visitor's
    classification still comes back."""
    from gradio_client import Client

    from rnn_core import jobs

    monkeypatch.setattr(jobs, "MAX_WAITING", 1)
    with launched_gallery(tiny_assets, tiny_data) as url:
        attackers = [Client(url, verbose=False) for _ in range(6)]
        # two slow retrains (a big net for many epochs) fill the line: one trains, one waits
        slow = ("lstm", True, 256, 3, 20, 0.01, 2.0, 256)
        first = [c.submit(*slow, api_name="/sentiment_retrain") for c in attackers[:2]]
        deadline = time.monotonic() + 60
        while any(len(j.outputs()) < 1 for j in first) and time.monotonic() < deadline:
            time.sleep(0.1)
        refusals = []
        for c in attackers[2:]:
            try:
                c.predict(*slow, api_name="/sentiment_retrain")
            except Exception as e:  # noqa: BLE001 -- the app's refusal, raised by the client
                refusals.append(str(e))
        assert len(refusals) == 4 and all("try again in a few minutes" in r for r in refusals), refusals
        label, *_ = Client(url, verbose=False).predict("a warm film", api_name="/sentiment_classify")
        assert label["label"] in ("positive", "negative")
        for c in attackers[:2]:
            c.predict(api_name="/sentiment_stop")
        for job in first:
            job.result(timeout=120)
