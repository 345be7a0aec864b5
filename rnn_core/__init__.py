"""RNN Gallery core: models, the training loop, checkpoints, data, encoders and task presets
(no UI code; nothing here imports gradio)."""
