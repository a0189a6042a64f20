"""`logger=csv`: one row per epoch in `<run>/epochs.csv`, instead of or beside TensorBoard (`'logger=[tensorboard,csv]'`)."""

import os

import keras


class CSVLogger(keras.callbacks.CSVLogger):
    """Keras' CSVLogger writing `<log_dir>/epochs.csv`, appending, so a resumed run goes on with its rows.

    The file name is fixed so a saved config names only a folder, which a resumed run checks lies
    inside its run directory.

    Args:
        log_dir: str. Usually the run directory.
        run_config: unused (`train()` gives it to every logger).
        model_summary: unused, as `run_config`.
    """

    resumed_attributes = ()  # rows go to the file; the backup comes before loggers, so a logged epoch is a backed-up one

    def __init__(self, log_dir, run_config=None, model_summary=None):
        super().__init__(os.path.join(str(log_dir), "epochs.csv"), append=True)
