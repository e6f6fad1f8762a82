"""preprocessing-leakage: a statistic learned from rows that later end up in the test part."""
from __future__ import annotations

from collections.abc import Iterator

from ...findings import Fix, Severity
from .common import (
    LeakageRule,
    first_time,
    holdout_splits,
    holds_rows_of,
    metric_words,
    share_rows,
    text,
)
from .flow import Evaluation, Fit, Flow, Split

_VERBS = {
    "Scaler": "scaled", "Imputer": "imputed", "PCA": "projected", "SVD": "projected", "ICA": "projected",
    "Vectorizer": "vectorised", "Transformer": "transformed", "Encoder": "encoded", "Select": "filtered",
    "RFE": "filtered", "VarianceThreshold": "filtered",
}


class PreprocessingLeakage(LeakageRule):
    """## What it does
    Reports a transformer that learns from the data (a scaler, imputer, target encoder, vectorizer,
    PCA, feature selector) fitted with `fit`/`fit_transform` on rows that later become the test part
    of a train/test split, or a statistic such as `df.fillna(df.mean())`, `(x - x.mean()) / x.std()`
    or a group's median filled in with `groupby(...).transform(...)` computed over those rows, when its output reaches a model's training and the test part is scored
    (also a cross-validation, or a search whose `best_score_` is read, of data transformed so beforehand). The finding sits on the fit; the
    message names the split and the score.

    Not reported: the same fit on the training part only (then `transform` of the test part), a
    Pipeline fitted on the training part or inside cross-validation or a search, a fitted transform
    whose output never reaches a model, and stateless transforms (`np.log1p`, `PolynomialFeatures`, a
    fixed mapping, encoders that only learn the list of categories).

    ## Why is this bad?
    The transformer learned means, spreads, vocabularies or selected features from the test rows
    too, so the model is scored on data it has in part already seen: the score is optimistic and the
    model disappoints on new data, where nobody can fit the scaler on the rows to come.

    ## Example
    ```python
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv("churn.csv")
    X, y = df.drop(columns="churned"), df["churned"]
    # %%
    X_scaled = StandardScaler().fit_transform(X)  # learns from every row, the test rows included
    # %%
    X_train, X_test, y_train, y_test = train_test_split(X_scaled, y, random_state=0)
    model = LogisticRegression().fit(X_train, y_train)
    print(accuracy_score(y_test, model.predict(X_test)))
    ```

    ## Use instead
    ```python
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv("churn.csv")
    X, y = df.drop(columns="churned"), df["churned"]
    # %%
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    # %%
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    print(accuracy_score(y_test, model.predict(X_test)))
    ```
    """

    code = "RP801"
    name = "preprocessing-leakage"
    severity = Severity.WARNING

    def flow_findings(self, flow: Flow) -> Iterator:
        reported: set = set()
        for fit in flow.fits:
            if fit.role not in ("transformer", "statistic"):
                continue
            found = _leak(flow, fit)
            if found is None:
                continue
            span = fit.place.cell.facts.span(fit.place.node)
            # `(X - X.mean()) / X.std()` is one problem
            if fit.role == "statistic" and not first_time(reported, (fit.place.cell.index, span.line)):
                continue
            split, evaluation = found
            yield self.finding(fit.place.cell, span, _message(fit, split, evaluation), _fix(fit))


def _leak(flow: Flow, fit: Fit) -> tuple[Split | None, Evaluation] | None:
    for evaluation in flow.evaluations:
        trained = evaluation.fit
        if trained is None or trained is fit or fit not in evaluation.data.all_stats \
                or fit not in trained.data.all_stats:
            continue
        if evaluation.cross_validation:
            # The folds split data that was transformed with what was learned from all of it.
            if share_rows(fit.data, evaluation.data):
                return None, evaluation
            continue
        for split in holdout_splits(flow, evaluation):
            if holds_rows_of(fit.data, split):
                return split, evaluation
    return None


def _verb(fit: Fit) -> str:
    if fit.role == "statistic":
        return "filled, rescaled or thresholded"
    for key, verb in _VERBS.items():
        if key in fit.what:
            return verb
    return "transformed"


def _message(fit: Fit, split: Split | None, evaluation: Evaluation) -> str:
    data = text(fit.data_node)
    if fit.role == "statistic":
        learned = f"The {fit.what[1:-3]} of `{data}` is computed over every row (cell {fit.place.cell.index})"
    else:
        learned = f"{fit.what} is fitted on `{data}` (cell {fit.place.cell.index})"
    scored = text(evaluation.data_node)
    where = f"the {metric_words(evaluation)} in cell {evaluation.place.cell.index} is optimistic"
    if split is None:
        return (f"{learned} before the cross-validation in cell {evaluation.place.cell.index}: every fold's "
                f"held-out rows are {_verb(fit)} with statistics learned from them, so {where}; put the "
                f"transformer in a Pipeline, which the cross-validation fits on each training fold")
    order = "before" if (split.place.cell.index, _line(split)) > (fit.place.cell.index, _line(fit)) else "across"
    split_words = (f"before `{split.what}` (cell {split.place.cell.index})" if order == "before"
                   else f"whose rows `{split.what}` (cell {split.place.cell.index}) also puts in the test part")
    return (f"{learned} {split_words}; `{scored}` is {_verb(fit)} with statistics learned from its own rows, "
            f"so {where}; fit it on the training part only")


def _line(event) -> int:
    return getattr(event.place.node, "lineno", 0)


def _fix(fit: Fit) -> Fix:
    what = "the statistic" if fit.role == "statistic" else fit.what
    return Fix(f"Split first, then learn {what} from the training part only (a Pipeline fitted on the "
               "training part does it) and apply it to the test part", "unsafe")
