"""overlap-leakage: the same rows (or copies of them) on both sides of the evaluation."""
from __future__ import annotations

from collections.abc import Iterator

from ...findings import Fix, Severity
from .common import LeakageRule, holdout_splits, holds_rows_of, metric_words, text
from .flow import Fit, Flow


class OverlapLeakage(LeakageRule):
    """## What it does
    Reports rows copied into both sides of an evaluation: oversampling (`SMOTE`, `ADASYN`,
    `RandomOverSampler` and their `fit_resample`, `resample(..., replace=True)`,
    `df.sample(..., replace=True)`) or augmentation (a function or method named `augment...`) before
    a train/test split or a cross-validation whose score is computed; and a model trained on data that contains the test rows (`model.fit(X, y)`, then the
    model scored on `X_test` from a split of `X`). The finding sits on the oversampling or on the fit.

    Not reported: oversampling of the training part after the split, an imbalanced-learn Pipeline
    inside cross-validation or a search (it resamples each training fold only), undersampling, and a
    final refit on all the data after the test score was computed.

    ## Why is this bad?
    A copy (or a SMOTE neighbour) of a training row in the test part is a question the model has seen
    with its answer: the test score measures memory, not what the model will do on new rows.

    ## Example
    ```python
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.utils import resample

    df = pd.read_csv("fraud.csv")
    fraud = df[df["is_fraud"] == 1]
    upsampled = resample(fraud, replace=True, n_samples=5000, random_state=0)
    balanced = pd.concat([df[df["is_fraud"] == 0], upsampled])
    # %%
    X_train, X_test, y_train, y_test = train_test_split(
        balanced.drop(columns="is_fraud"), balanced["is_fraud"], random_state=0)
    model = RandomForestClassifier(random_state=0).fit(X_train, y_train)
    print(model.score(X_test, y_test))
    ```

    ## Use instead
    ```python
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.utils import resample

    df = pd.read_csv("fraud.csv")
    train, test = train_test_split(df, random_state=0, stratify=df["is_fraud"])
    # %%
    fraud = train[train["is_fraud"] == 1]
    upsampled = resample(fraud, replace=True, n_samples=5000, random_state=0)
    balanced = pd.concat([train[train["is_fraud"] == 0], upsampled])
    model = RandomForestClassifier(random_state=0).fit(balanced.drop(columns="is_fraud"), balanced["is_fraud"])
    print(model.score(test.drop(columns="is_fraud"), test["is_fraud"]))
    ```
    """

    code = "RP802"
    name = "overlap-leakage"
    severity = Severity.ERROR

    def flow_findings(self, flow: Flow) -> Iterator:
        for fit in flow.fits:
            if fit.role == "oversampler":
                message = _oversampled(flow, fit)
            elif fit.role in ("model", "search"):
                message = _trained_on_test(flow, fit)
            else:
                continue
            if message is not None:
                yield self.at_place(fit.place, message[0], Fix(message[1], "unsafe"))


def _oversampled(flow, fit: Fit):
    for evaluation in flow.evaluations:
        trained = evaluation.fit
        if trained is None or fit not in evaluation.data.oversampled or fit not in trained.data.oversampled:
            continue
        where = f"the {metric_words(evaluation)} in cell {evaluation.place.cell.index} is optimistic"
        verb = "makes altered copies of" if fit.augmentation else "oversamples"
        what = f"{fit.what} {verb} `{text(fit.data_node)}` (cell {fit.place.cell.index})"
        fix = "Split first and oversample the training part only (an imbalanced-learn Pipeline does it per fold)"
        if evaluation.cross_validation:
            return (f"{what} before the cross-validation in cell {evaluation.place.cell.index}: copies of the "
                    f"same rows land in training and held-out folds, so {where}; resample inside each training "
                    f"fold with an imbalanced-learn Pipeline"), fix
        for split in holdout_splits(flow, evaluation):
            return (f"{what} before `{split.what}` (cell {split.place.cell.index}): copies of the same rows "
                    f"land in both parts and `{text(evaluation.data_node)}` holds rows the model trained on, "
                    f"so {where}; oversample the training part only"), fix
    return None


def _trained_on_test(flow, fit: Fit):
    for evaluation in flow.evaluations:
        if evaluation.fit is not fit or evaluation.cross_validation:
            continue
        for split in flow.splits:
            if evaluation.data.side(split) != "test" or not holds_rows_of(fit.data, split):
                continue
            return (f"{fit.what} is trained on `{text(fit.data_node)}` (cell {fit.place.cell.index}), which holds "
                    f"the rows of `{text(evaluation.data_node)}` from `{split.what}` (cell {split.place.cell.index}); "
                    f"the {metric_words(evaluation)} in cell {evaluation.place.cell.index} is computed on rows it "
                    f"was trained on, so it is optimistic; train on the training part only"), (
                    "Fit the model on the training part of the split")
    return None
