"""Predictions and Keras metrics of a trained model on splits; forecasting goes through the registered capabilities."""

from zoo.data.pipeline import make_batches, model_inputs, on_tensorflow
from zoo.models.inputs import input_names
from zoo.registry import model_info

SPLITS = ("train", "validation", "test")


def predict(model, split, batch_size=256, verbose=0):
    """Predicts `split` in the model's scaled units.

    A model registered with a `forecaster` (seq2seq) never sees the truth: it forecasts from its
    own predictions; every other model runs `model.predict`.

    Args:
        model: a zoo model (its name is its registry key).
        split: SeriesSplit.
        batch_size: int.
        verbose: int. 1 shows Keras' progress bar over the batches (`model.predict`'s verbose).

    Returns:
        The model's output array: `(n, n_classes)`, `(n, horizon, n_features)` or `(n, 1)`.
    """
    info = model_info(model.name)
    if info.forecaster is not None:
        inputs = model_inputs(split, input_names(model), teacher_forcing=False)
        horizon = model.outputs[0].shape[1]
        return info.forecaster(model, inputs, horizon, batch_size=batch_size)
    inputs = model_inputs(split, input_names(model))
    if not on_tensorflow():
        return model.predict(inputs, batch_size=batch_size, verbose=verbose)
    # Batches made here: Keras' own slicing of NumPy inputs (a parallel tf.data map) makes TensorFlow 2.21 print
    # an E0000 "NodeDef mentions attribute use_unbounded_threadpool" line on some inputs.
    import tensorflow as tf

    return model.predict(tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size), verbose=verbose)


def evaluate_splits(model, dataset, task, batch_size, splits=SPLITS):
    """Evaluates `model` on each split with Keras' own metrics.

    Returns:
        Dict from split name to `{metric: value}`; empty for an empty split (no validation split).
    """
    names = input_names(model)
    results = {}
    for split in splits:
        if not len(dataset.split(split)):
            results[split] = {}
            continue
        pipeline = make_batches(dataset.split(split), input_names=names, task=task, batch_size=batch_size)
        values = model.evaluate(pipeline, verbose=0, return_dict=True)
        results[split] = {name: float(value) for name, value in values.items()}
    return results
