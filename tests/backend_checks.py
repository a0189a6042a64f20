"""Runs every model, head, mask and static mode on the backend this process runs, and swaps `.keras` files with another.

Run by tests/test_backends.py in a subprocess with `KERAS_BACKEND=jax` (Keras picks its backend
at import). `python tests/backend_checks.py <folder>`:

1. loads each `<folder>/from_other/<case>.keras` (saved on the other backend) and writes its
   predictions on `<case>_inputs.npz` to `<case>_here.npy`;
2. builds, compiles (the backend's compiled path) and fits one epoch for every case of `cases()`,
   checks for each model's default head and the initial-state cases that a padded batch predicts
   like each series alone (1e-5), and saves the model, its inputs and its predictions to
   `<folder>/from_here/`.

It exits non-zero at the first failure, naming the case.
"""

import sys
from pathlib import Path

import keras
import numpy as np
from model_checks import small_options, toy_batch, toy_dataset

from zoo import create_model, list_models, model_info
from zoo.data import ts_dataset
from zoo.tasks import get_task

LENGTH, LENGTHS = 12, [12, 9, 5, 4]
REGRESSION_FILE = Path(__file__).resolve().parents[1] / "data" / "examples" / "tiny_regression.ts"


# Every model with its default head; each other head on one vector model (every vector model's
# heads are the same Task.output layers), and the initial-state static mode where its code differs
# (seq2seq hands states to its decoder). Each case costs a JAX compilation per shape, so not every pair.
OTHER_HEADS = {"last_state": ("forecast", "regress")}
INITIAL_STATE = ("last_state", "seq2seq")


def cases():
    """(case id, model, head, options) on masked variable-length series, with concatenated static
    covariates (the regress example file has none): see OTHER_HEADS and INITIAL_STATE."""
    found = []
    for name in list_models():
        info = model_info(name)
        for head in (info.default_head, *OTHER_HEADS.get(name, ())):
            static = {"static_mode": "concat"} if info.recurrent and head != "regress" else {}
            found.append((f"{name}-{head}", name, head, {**small_options(name), **static}))
        if name in INITIAL_STATE:
            found.append((f"{name}-initial_state", name, info.default_head, {**small_options(name), "static_mode": "initial_state"}))
    return found


def dataset(head):
    """Toy variable-length series (4 to 12 steps) with three static covariates; the regression example file for `regress`."""
    if head == "regress":
        return ts_dataset(train_path=REGRESSION_FILE, seed=0)
    return toy_dataset(length=LENGTH, min_length=4, n_static=3)


def predict(model, name, inputs):
    forecaster = model_info(name).forecaster
    if forecaster is not None:
        return np.asarray(forecaster(model, inputs, 3, batch_size=256))
    return keras.ops.convert_to_numpy(model.predict(inputs, verbose=0))


def check_padding(model, name, inputs):
    """Raises AssertionError unless each padded series predicts as it does alone (zero-padded to the fixed length where the model has one)."""
    rng = np.random.default_rng(0)
    full = inputs["series"].shape[1]
    lengths = [full, *LENGTHS[1:]]
    series = rng.normal(size=(len(lengths), full, inputs["series"].shape[2])).astype("float32")
    mask = np.arange(full)[None, :] < np.array(lengths)[:, None]
    series[~mask] = 0.0
    static = {"static": inputs["static"][: len(lengths)]} if "static" in inputs else {}
    batch = predict(model, name, {"series": series, "mask": mask, **static})
    for index, length in enumerate(lengths):
        steps = full if model_info(name).fixed_length else length
        single = np.zeros((1, steps, series.shape[2]), "float32")
        single[0, :length] = series[index, :length]
        alone_static = {key: value[index : index + 1] for key, value in static.items()}
        alone = predict(model, name, {"series": single, "mask": np.arange(steps)[None, :] < length, **alone_static})
        np.testing.assert_allclose(batch[index : index + 1], alone, atol=1e-5, err_msg=f"{name}: series {index} padded")


def main(folder):
    folder = Path(folder)
    backend = keras.backend.backend()
    for path in sorted((folder / "from_other").glob("*.keras")):
        model = keras.saving.load_model(path)  # safe mode stays on
        name = path.stem.split("-")[0]
        inputs = dict(np.load(path.with_name(f"{path.stem}_inputs.npz")))
        np.save(path.with_name(f"{path.stem}_here.npy"), predict(model, name, inputs))
    here = folder / "from_here"
    here.mkdir(parents=True, exist_ok=True)
    for case, name, head, options in cases():
        data = dataset(head)
        keras.utils.set_random_seed(0)
        model = create_model(name, data.spec, head=head, **options)
        model.compile(optimizer="adam", **get_task(head).compile_arguments())
        inputs, targets = toy_batch(model, data, head)
        before = [weight.copy() for weight in model.get_weights()]
        history = model.fit(inputs, targets, epochs=1, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"][0]), f"{case} on {backend}: loss {history.history['loss'][0]}"
        assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), f"{case} on {backend}: no weight moved"
        masked = head == model_info(name).default_head
        if masked:
            check_padding(model, name, inputs)
        model.save(here / f"{case}.keras")
        np.savez(here / f"{case}_inputs.npz", **inputs)
        np.save(here / f"{case}_predictions.npy", predict(model, name, inputs))
        print(f"{case}: trained{' and masked correctly' if masked else ''} on {backend}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
