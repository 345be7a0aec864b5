"""The app's own temporary files (generated MIDI, retrained checkpoints to download),
kept in one folder and swept by age, so a server that runs for weeks stays bounded.

Gradio copies every file a handler returns into its own cache (which `app.py` has
Gradio sweep with ``delete_cache``), so ours are needed only until the reply is sent.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("RNN_GALLERY_SCRATCH", Path(tempfile.gettempdir()) / "rnn-gallery"))
MAX_AGE_S = 15 * 60   # a reply has long been sent (and copied by Gradio) by then


def sweep(root: Path = ROOT, max_age_s: float = MAX_AGE_S) -> int:
    """Delete the folders in ``root`` last changed more than ``max_age_s`` ago; returns
    how many went."""
    if not root.is_dir():
        return 0
    cutoff, gone = time.time() - max_age_s, 0
    for entry in root.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                gone += 1
        except OSError:  # another request swept it first
            continue
    return gone


def new_folder(prefix: str, root: Path = ROOT) -> Path:
    """A fresh folder for one reply's files; old folders are swept first (no thread
    needed: every new folder pays for the cleaning of the old ones)."""
    sweep(root)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))
