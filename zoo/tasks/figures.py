"""PNG figures for evaluation reports: confusion matrix, reliability diagram, example forecasts, attention weights."""

import numpy as np


def _subplots(*args, **kwargs):
    # Imported here: only evaluations draw, and matplotlib would slow every training's start.
    # The object API draws to files without touching pyplot's global backend.
    from matplotlib.figure import Figure

    figure = Figure(figsize=kwargs.pop("figsize"))
    return figure, figure.subplots(*args, **kwargs)


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


def confusion_matrix_figure(confusion, class_names, path):
    """Draws the confusion matrix with counts; rows are true classes. Returns `path`."""
    confusion = np.asarray(confusion)
    figure, axis = _subplots(figsize=(1.2 * len(class_names) + 2, 1.1 * len(class_names) + 1.5))
    axis.imshow(confusion, cmap="Blues")
    axis.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = confusion.max() / 2 if confusion.size else 0
    for (row, column), count in np.ndenumerate(confusion):
        axis.text(column, row, count, ha="center", va="center", color="white" if count > threshold else "black")
    axis.set_title("Confusion matrix (test)")
    return _save(figure, path)


def reliability_figure(calibration, path):
    """Draws the reliability diagram: accuracy against confidence per bin, the diagonal of a
    calibrated model, and how many test series each bin holds. Returns `path`."""
    bins = [b for b in calibration["bins"] if b["count"]]
    figure, (accuracy_axis, count_axis) = _subplots(2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    width = calibration["bins"][0]["upper"] - calibration["bins"][0]["lower"]
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    accuracy_axis.bar(centres, [b["accuracy"] for b in bins], width=width, edgecolor="black", color="tab:blue", label="accuracy")
    accuracy_axis.plot([b["confidence"] for b in bins], [b["confidence"] for b in bins], "o", color="tab:red", label="mean confidence")
    accuracy_axis.plot([0, 1], [0, 1], linestyle="--", color="0.4", label="calibrated")
    accuracy_axis.set_xlim(0, 1)
    accuracy_axis.set_ylim(0, 1)
    accuracy_axis.set_ylabel("accuracy of the bin's test series")
    accuracy_axis.set_title(f"Reliability (test): expected calibration error {calibration['ece']:.3f}")
    accuracy_axis.legend(loc="upper left", fontsize="small")
    count_axis.bar(centres, [b["count"] for b in bins], width=width, edgecolor="black", color="0.7")
    count_axis.set_xlabel("confidence (the top class probability)")
    count_axis.set_ylabel("test series")
    return _save(figure, path)


def forecast_figure(history, lengths, truth, forecast, baseline, path, count=6, feature=0, baseline_name="seasonal naive"):
    """Draws a grid of test series: history, truth, model forecast and a baseline forecast. Returns `path`."""
    count = min(count, len(history))
    columns = 2 if count > 1 else 1
    rows = int(np.ceil(count / columns))
    figure, axes = _subplots(rows, columns, figsize=(6 * columns, 2.6 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= count:
            axis.axis("off")
            continue
        length = lengths[index]
        future_steps = np.arange(length, length + truth.shape[1])
        axis.plot(np.arange(length), history[index, :length, feature], color="0.4", label="history")
        axis.plot(future_steps, truth[index, :, feature], color="black", marker=".", label="truth")
        axis.plot(future_steps, forecast[index, :, feature], color="tab:red", marker=".", label="forecast")
        axis.plot(future_steps, baseline[index, :, feature], color="tab:blue", linestyle="--", label=baseline_name)
        axis.set_title(f"test series {index}, feature {feature}")
        axis.set_xlabel("time step")
        axis.set_ylabel(f"feature {feature} (original units)")
    axes.flat[0].legend(loc="upper left", fontsize="small")
    return _save(figure, path)


def attention_figure(series, lengths, weights, path, count=4):
    """Draws test series next to their attention weights over time. Returns `path`."""
    count = min(count, len(series))
    figure, axes = _subplots(count, 2, figsize=(11, 2.2 * count), squeeze=False)
    for index in range(count):
        length = lengths[index]
        series_axis, weight_axis = axes[index]
        series_axis.plot(series[index, :length], label=[f"feature {feature}" for feature in range(series.shape[2])])
        series_axis.set_title(f"test series {index}")
        series_axis.set_xlabel("time step")
        series_axis.set_ylabel("value (scaled, as the model reads it)")
        weight_axis.bar(np.arange(length), weights[index, :length], color="tab:orange")
        weight_axis.set_title(f"test series {index}: attention weight per step (sums to 1)")
        weight_axis.set_xlabel("time step")
        weight_axis.set_ylabel("weight")
        weight_axis.set_xlim(series_axis.get_xlim())
    axes[0, 0].legend(loc="upper left", fontsize="small")
    return _save(figure, path)
