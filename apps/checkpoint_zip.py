"""A retrained checkpoint as a zip: made for the visitor to download from the Retrain
panel, and checked before it is loaded when they bring it back (an upload is
untrusted: its size, its names and its contents are all checked)."""
from __future__ import annotations

import os
import shutil
import zipfile

import gradio as gr

from rnn_core.checkpoint import CheckpointError
from rnn_core.tasks.spec import TaskSpec

from .refusal import Refusal
from .scratch import new_folder

MAX_CHECKPOINT_MB = 12  # the shipped checkpoints are under 10 MB; a retrained one is smaller
CHECKPOINT_FILES = {"model.safetensors", "config.json"}


def checkpoint_from_upload(spec: TaskSpec, path) -> object:
    """The predictor in a zip a visitor uploads (what the panel's download gives):
    exactly `CHECKPOINT_FILES`, each at most `MAX_CHECKPOINT_MB` unpacked, holding a
    model of ``spec``'s task whose weights fit its config.

    Raises:
        Refusal: with a one-sentence reason, for anything else.
    """
    if not path:
        raise Refusal("Choose the .zip you downloaded from a retrain first.")
    limit = MAX_CHECKPOINT_MB * 2**20
    if os.path.getsize(path) > limit:
        raise Refusal(f"That file is over {MAX_CHECKPOINT_MB} MB: a checkpoint of this gallery is smaller.")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if {e.filename for e in entries} != CHECKPOINT_FILES or len(entries) != len(CHECKPOINT_FILES):
                raise Refusal("The zip must hold model.safetensors and config.json and nothing else, "
                               "as the retrain panel's download does.")
            if any(e.file_size > limit for e in entries):  # unpacked sizes, read before unpacking
                raise Refusal(f"A file in that zip unpacks to over {MAX_CHECKPOINT_MB} MB.")
            folder = new_folder(f"{spec.name}-upload-")
            archive.extractall(folder)  # the names are exactly the two above: no paths
    except zipfile.BadZipFile:
        raise Refusal("That is not a zip file: upload the .zip the retrain panel gave you.") from None
    try:
        return spec.predictor.from_pretrained(folder)
    except CheckpointError as e:
        reason = str(e).replace(str(folder), "the upload")  # the server's folders are not the visitor's business
        raise Refusal(f"That is not a {spec.name} checkpoint this gallery can use: {reason}.") from None
    except Exception:  # noqa: BLE001 -- a malformed config (its encoder, say) must not crash the server
        raise Refusal(f"That is not a {spec.name} checkpoint this gallery can use.") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def checkpoint_zip(spec: TaskSpec, predictor) -> str:
    """A retrained model saved as the zip the panel offers (the folder it was saved in goes)."""
    folder = new_folder(f"{spec.name}-retrained-")
    predictor.save(folder / "checkpoint")
    archive = shutil.make_archive(str(folder / f"{spec.name}-retrained"), "zip", folder / "checkpoint")
    shutil.rmtree(folder / "checkpoint", ignore_errors=True)  # the zip is what is offered
    return archive
