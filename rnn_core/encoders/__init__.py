"""Encoders turn raw inputs into model ids and back; each has ``to_dict``/``from_dict``
so its vocabulary travels inside a checkpoint's ``config.json``."""
