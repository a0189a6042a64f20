"""Runs train.py with a pause point, so a test can kill or signal it at a known moment.

    python tests/pause_points.py <point> <marker file> <train.py overrides...>

<point> is one of:
    batch:<epoch>:<step>   after that step of that epoch (1-based), the backup's check included
    epoch:<epoch>          after that epoch ended: its backup, logs and checkpoints written
    epochs:<n>             after the n-th epoch this process ended, over every member of an ensemble
    checkpoint:<n>         inside the n-th checkpoint save, the new file complete but not yet renamed

At the point the process writes the marker file and waits until the test deletes it (or 120 s),
sleeping in short steps so signals are handled.
"""

import runpy
import sys
import time
from pathlib import Path

import keras

import zoo.training.loop

POINT, MARKER = sys.argv[1], Path(sys.argv[2])
KIND, *NUMBERS = POINT.split(":")
NUMBERS = [int(number) for number in NUMBERS]


def pause():
    MARKER.write_text(POINT)
    waited = 0.0
    while MARKER.exists() and waited < 120:
        time.sleep(0.05)
        waited += 0.05


epochs_ended = 0


class PausingEpochLog(zoo.training.loop.EpochLog):
    """EpochLog (the last callback) with a pause after a given step or epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if KIND == "batch" and [self._epoch, batch + 1] == NUMBERS:
            pause()

    def on_epoch_end(self, epoch, logs=None):
        global epochs_ended
        super().on_epoch_end(epoch, logs)
        epochs_ended += 1
        if (KIND == "epoch" and [epoch + 1] == NUMBERS) or (KIND == "epochs" and [epochs_ended] == NUMBERS):
            pause()


original_save = keras.Model.save
saves = 0


def pausing_save(model, filepath, *args, **kwargs):
    global saves
    original_save(model, filepath, *args, **kwargs)
    saves += 1
    if KIND == "checkpoint" and [saves] == NUMBERS:
        pause()


zoo.training.loop.EpochLog = PausingEpochLog
keras.Model.save = pausing_save
sys.argv = ["train.py", *sys.argv[3:]]
runpy.run_path(str(Path(__file__).resolve().parents[1] / "train.py"), run_name="__main__")
