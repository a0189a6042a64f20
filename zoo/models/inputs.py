"""The inputs every model reads: the series, and a mask and static covariates where the data has them."""

import keras


def series_inputs(spec, fixed_length=False):
    """Returns the model's inputs, keyed by name.

    `series` is `(batch, timesteps, n_features)` with timesteps left open (unless `fixed_length`),
    so a model trained on padded batches also runs on one unpadded series. Padded data adds `mask`
    (bool `(batch, timesteps)`, True on valid steps); static covariates add `static` `(batch, n_static)`.
    """
    timesteps = spec.timesteps if fixed_length else None
    inputs = {"series": keras.Input((timesteps, spec.n_features), name="series")}
    if spec.variable_length:
        inputs["mask"] = keras.Input((None,), dtype="bool", name="mask")
    if spec.n_static:
        inputs["static"] = keras.Input((spec.n_static,), name="static")
    return inputs


def input_names(model):
    """Returns the names of `model`'s inputs (`series`, `mask`, `static`, `decoder_inputs`), which `zoo.data.pipeline.model_inputs` fills."""
    return [tensor.name for tensor in model.inputs]
