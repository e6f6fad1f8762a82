"""multi-test-leakage: the test set used to choose a model, its hyperparameters or when to stop."""
from __future__ import annotations

from collections.abc import Iterator

from ...findings import Fix, Severity
from .common import (
    LeakageRule,
    first_time,
    holdout_splits,
    is_validation,
    metric_words,
    text,
)
from .flow import Evaluation, Flow

_FIX = ("Choose on a validation set carved out of the training part (or by cross-validation on it), "
        "then score the test set once, at the end")


class MultiTestLeakage(LeakageRule):
    """## What it does
    Reports the test set used to choose: several models or hyperparameter values scored on the same
    test part of a split and the best kept (`max`, `argmax`, `idxmax`, sorting the scores, or
    `if score > best:` in a loop); a loop that fits one candidate per round (a list of models, or a
    hyperparameter taken from the loop variable) and scores each on the test part, which is there to
    choose even without a `max` after it; and early stopping with the test part as the held-out set
    (`eval_set=[(X_test, y_test)]` with `early_stopping_rounds`, Keras `validation_data=(X_test,
    y_test)` with an `EarlyStopping` callback) when that test part is then scored. The finding sits where
    the choice is made (or on the `fit` that stops early).

    Not reported: choosing on a validation set (a part split off the training part, or a set named
    `X_val`/`X_valid`/`X_dev`) with the test set scored once at the end, a search with
    cross-validation on the training part, one model scored several times, loops over seeds or
    training sizes, and scores of candidates that are only averaged (a study of their spread).

    ## Why is this bad?
    The best of many scores on one test set is the luckiest of them: the test set has become part
    of the training, through the choice, and the winning score overstates what the chosen model
    does on new data; the more candidates, the more it overstates.

    ## Example
    ```python
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    # %%
    scores = []
    for k in range(1, 30):
        knn = KNeighborsClassifier(n_neighbors=k).fit(X_train, y_train)
        scores.append(knn.score(X_test, y_test))
    # %%
    best = max(scores)
    ```

    ## Use instead
    ```python
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    # %%
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": range(1, 30)}).fit(X_train, y_train)
    # %%
    test_score = search.score(X_test, y_test)  # once, for the chosen model
    ```
    """

    code = "RP803"
    name = "multi-test-leakage"
    severity = Severity.WARNING

    def flow_findings(self, flow: Flow) -> Iterator:
        reported: set = set()
        for choice in flow.choices:
            found = _chosen_on_test(flow, choice.evaluations)
            if found is None:
                continue
            split, evaluations = found
            if not first_time(reported, (choice.place.cell.index, split)):
                continue
            first = evaluations[0]
            cells = sorted({e.place.cell.index for e in evaluations})
            several = (f"every round of the loop in cell {first.place.loop_cell.index}"
                       if first.place.loop is not None else f"{len(evaluations)} models")
            yield self.at_place(
                choice.place,
                f"The best of several scores on `{text(first.data_node)}` (the test part of `{split.what}`, cell "
                f"{split.place.cell.index}) is chosen here with {choice.how}: {several} scored on it (cell "
                f"{', '.join(map(str, cells))}), so the {metric_words(first)} of the chosen one is optimistic; "
                "choose on a validation set and score the test set once",
                Fix(_FIX, "unsafe"))
        chosen = {e for choice in flow.choices for e in choice.evaluations}
        for loop, (split, evaluations) in _sweeps(flow, chosen).items():
            first = evaluations[0]
            cell = first.place.loop_cell
            if not first_time(reported, (cell.index, split)):
                continue
            yield self.finding(
                cell, cell.facts.span(loop),
                f"Each round of this loop fits another candidate ({first.fit.what}) and scores it on "
                f"`{text(first.data_node)}`, the test part of `{split.what}` (cell {split.place.cell.index}): "
                "choosing among them by their test scores makes the chosen one's score optimistic; "
                "compare the candidates on a validation set (or with GridSearchCV on the training part) and "
                "score the test set once",
                Fix(_FIX, "unsafe"))
        for stop in flow.early_stops:
            evaluation = _scored_later(flow, stop)
            if evaluation is None:
                continue
            split, later = evaluation
            yield self.at_place(
                stop.place,
                f"Early stopping watches `{text(stop.data_node)}` (the test part of `{split.what}`, cell "
                f"{split.place.cell.index}) to choose when to stop, and the {metric_words(later)} in cell "
                f"{later.place.cell.index} is computed on the same rows, so it is optimistic; stop on a "
                "validation set split off the training part",
                Fix(_FIX, "unsafe"))


def _chosen_on_test(flow: Flow, evaluations) -> tuple | None:
    by_split: dict = {}
    for evaluation in sorted(evaluations, key=lambda e: e.id):
        for split in holdout_splits(flow, evaluation):
            if not is_validation(flow, evaluation, split):
                by_split.setdefault(split, []).append(evaluation)
    for split, found in by_split.items():
        fits = {id(e.fit) for e in found}
        if len(fits) >= 2 or any(e.place.loop is not None for e in found):
            return split, found
    return None


def _sweeps(flow: Flow, chosen: set) -> dict:
    """Loops that fit one candidate per round (models, or hyperparameter values) and score each on the
    test part: a loop like this exists to choose, with or without a `max` after it."""
    found: dict = {}
    for evaluation in flow.evaluations:
        fit = evaluation.fit
        if fit is None or not fit.swept or evaluation.place.loop is None or evaluation in chosen \
                or evaluation in flow.averaged:
            continue
        if fit.place.loop is not evaluation.place.loop:
            continue
        for split in holdout_splits(flow, evaluation):
            if not is_validation(flow, evaluation, split):
                found.setdefault(evaluation.place.loop, (split, []))[1].append(evaluation)
                break
    return found


def _scored_later(flow: Flow, stop) -> tuple | None:
    for split in flow.splits:
        if stop.data.side(split) != "test" or stop.fit.data.side(split) != "train":
            continue
        for evaluation in flow.evaluations:
            if evaluation.data.side(split) != "test" or evaluation.fit is None:
                continue
            if evaluation.fit is stop.fit or evaluation.fit.data.side(split) == "train":
                probe = Evaluation(stop.fit, stop.data, stop.data_node, "", stop.place)
                if not is_validation(flow, probe, split):
                    return split, evaluation
    return None
