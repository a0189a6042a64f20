"""Markdown for reports and comparison tables: one table renderer and one section per kind of score."""


def markdown_table(header, rows):
    """Renders a Markdown table from a header list and row lists."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def classification_markdown(report):
    """Returns the classification report as Markdown."""
    rows = [
        [name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", s["support"]]
        for name, s in report["per_class"].items()
    ]
    names = list(report["per_class"])
    confusion = [[name, *row] for name, row in zip(names, report["confusion_matrix"])]
    sections = [
        f"**accuracy** {report['accuracy']:.4f} · **macro-F1** {report['macro_f1']:.4f}",
        markdown_table(["class", "precision", "recall", "F1", "support"], rows),
        "Confusion matrix (rows: true class, columns: predicted):",
        markdown_table(["true \\ predicted", *names], confusion),
    ]
    if "calibration" in report:
        calibration = report["calibration"]
        bins = [
            [f"({b['lower']:.2f}, {b['upper']:.2f}]", b["count"], f"{b['confidence']:.3f}", f"{b['accuracy']:.3f}"]
            for b in calibration["bins"]
            if b["count"]
        ]
        sections += [
            f"**Expected calibration error** {calibration['ece']:.4f}: how far the top class probability is from "
            f"the accuracy it predicts, averaged over test series in {len(calibration['bins'])} confidence bins "
            "(0 is calibrated; reliability.png draws it).",
            markdown_table(["confidence bin", "series", "mean confidence", "accuracy"], bins),
        ]
    return "\n\n".join(sections)


def forecast_markdown(report):
    """Returns the forecast report as Markdown: overall scores, then MAE per horizon step."""
    methods = [method for method in ("model", "naive", "seasonal_naive", "naive2") if method in report]
    keys = ["mae", "rmse", "smape", "mase"] + (["owa"] if "owa" in report["model"] else [])
    overall = [[method, *(f"{report[method][key]:.4f}" for key in keys)] for method in methods]
    steps = len(report["model"]["per_step"]["mae"])
    per_step = [
        [step + 1, *(f"{report[method]['per_step']['mae'][step]:.4f}" for method in methods)] for step in range(steps)
    ]
    verdict = (
        "**The model is worse than the naive last-value forecast.**"
        if report["worse_than_naive"]
        else "The model beats the naive last-value forecast."
    )
    seasons = report["seasons"]
    if report.get("mase_scale") == "per series (M4)":
        scales = (
            f"Seasonal naive repeats each series' last period ({seasons['median']:g} steps). sMAPE, MASE and OWA "
            "follow the M4 competition: MASE divides each series' MAE by its whole history's seasonal naive MAE, "
            "OWA averages sMAPE and MASE relative to Naive2 (seasonally adjusted last value)."
        )
    else:
        scales = (
            f"Seasonal naive repeats each series' last period (estimated per series by autocorrelation: "
            f"median {seasons['median']:g}, range {seasons['min']}-{seasons['max']} steps). "
            "MASE divides MAE by the training series' one-step naive MAE."
        )
    headers = ["forecast", "MAE", "RMSE", "sMAPE %", "MASE"] + (["OWA"] if "owa" in keys else [])
    return "\n\n".join(
        [
            verdict,
            markdown_table(headers, overall),
            scales,
            "MAE per horizon step:",
            markdown_table(["step", *methods], per_step),
        ]
    )


def regression_markdown(report):
    """Returns the regression report as Markdown."""
    rows = [[name, f"{report[name]['mae']:.4f}", f"{report[name]['rmse']:.4f}"] for name in ("model", "mean_baseline")]
    verdict = (
        "**The model is worse than predicting the training mean.**"
        if report["worse_than_baseline"]
        else "The model beats predicting the training mean."
    )
    return "\n\n".join([verdict, markdown_table(["prediction", "MAE", "RMSE"], rows)])
