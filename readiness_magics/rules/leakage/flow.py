"""Data flow across a notebook's cells for the leakage rules: what each value comes from, what fitted
objects learned from, where data is split, and which model was trained and scored on what.

A small abstract interpreter over the top-level statements of the code cells in document order
(loops run once, both branches of an `if` are taken, the notebook's own functions are inlined at the
call). Values are abstract: a data value knows its row ancestry (which values its rows come from), the
statistics it carries (fits whose learned state shaped it), the oversampling it went through, and for
each train/test split, the side it is on. The rules ask questions over the events it records."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from itertools import count

from ...analysis import (
    NOTEBOOK_BUILTINS,
    CellFacts,
    CellModel,
    NotebookModel,
    forget_with_the_analysis,
    names_in,
    walk,
)

# Transformers that learn a statistic from the rows they are fitted on. Stateless ones (Normalizer,
# Binarizer, PolynomialFeatures, FunctionTransformer, HashingVectorizer, FeatureHasher) are not here,
# nor encoders that only learn the set of categories (LabelEncoder, OneHotEncoder, OrdinalEncoder).
LEARNING_TRANSFORMERS = frozenset({
    "StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "QuantileTransformer",
    "PowerTransformer", "KBinsDiscretizer", "SimpleImputer", "KNNImputer", "IterativeImputer",
    "TargetEncoder", "WOEEncoder", "CatBoostEncoder", "LeaveOneOutEncoder", "JamesSteinEncoder",
    "MEstimateEncoder", "GLMMEncoder", "CountVectorizer", "TfidfVectorizer", "TfidfTransformer",
    "PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "TruncatedSVD", "FastICA", "NMF", "FactorAnalysis",
    "LatentDirichletAllocation", "UMAP", "SelectKBest", "SelectPercentile", "SelectFpr", "SelectFdr",
    "SelectFwe", "GenericUnivariateSelect", "VarianceThreshold", "RFE", "RFECV", "SelectFromModel",
    "SequentialFeatureSelector", "Imputer",
})
# Pass-through objects: transformers that learn nothing (or only a vocabulary of categories).
STATELESS_TRANSFORMERS = frozenset({
    "Normalizer", "Binarizer", "PolynomialFeatures", "FunctionTransformer", "HashingVectorizer",
    "FeatureHasher", "LabelEncoder", "OneHotEncoder", "OrdinalEncoder", "LabelBinarizer",
    "MultiLabelBinarizer", "DictVectorizer", "SplineTransformer", "MissingIndicator",
})
OVERSAMPLERS = frozenset({
    "SMOTE", "SMOTENC", "SMOTEN", "ADASYN", "BorderlineSMOTE", "SVMSMOTE", "KMeansSMOTE",
    "RandomOverSampler", "SMOTEENN", "SMOTETomek",
})
SEARCHES = frozenset({"GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV",
                      "BayesSearchCV"})
PIPELINES = frozenset({"Pipeline", "make_pipeline", "ColumnTransformer", "make_column_transformer",
                       "FeatureUnion", "make_union", "TransformedTargetRegressor"})
CALLBACKS_STOPPING = frozenset({"EarlyStopping", "early_stopping", "ModelCheckpoint"})
CROSS_VALIDATION = frozenset({"cross_val_score", "cross_validate", "cross_val_predict"})
SPLITTERS = frozenset({"train_test_split"})
# Splitters whose `split(X)` gives index arrays of folds: held-out folds are for validation by design.
FOLD_SPLITTERS = frozenset({"KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold", "RepeatedKFold",
                            "RepeatedStratifiedKFold", "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit",
                            "TimeSeriesSplit", "LeaveOneOut", "LeavePOut", "LeaveOneGroupOut"})
METRICS = frozenset({
    "accuracy_score", "balanced_accuracy_score", "f1_score", "fbeta_score", "precision_score", "recall_score",
    "roc_auc_score", "average_precision_score", "log_loss", "matthews_corrcoef", "cohen_kappa_score",
    "jaccard_score", "hamming_loss", "zero_one_loss", "classification_report", "confusion_matrix",
    "precision_recall_fscore_support", "r2_score", "mean_squared_error", "root_mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "median_absolute_error", "explained_variance_score",
    "mean_squared_log_error", "max_error", "top_k_accuracy_score", "roc_curve", "precision_recall_curve",
})
PREDICT_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function"})
SCORE_METHODS = frozenset({"score", "evaluate"})
# Reductions that summarise a column over all its rows: used to fill or rescale the same data, they are
# a statistic learned from every row (the `fillna(df.mean())` kind).
REDUCTIONS = frozenset({"mean", "median", "std", "var", "mode", "min", "max", "quantile", "nanmean", "nanmedian",
                        "nanstd", "average"})
# Keywords that hand a function its data (`pd.DataFrame(data=X)`).
_ROW_SHAPING_KEYWORDS = ("data", "X", "x", "arrays")
_CHOOSERS = frozenset({"max", "argmax", "nanargmax", "idxmax", "min", "argmin", "idxmin", "sort_values",
                       "sorted", "nlargest", "nsmallest", "sort", "argsort"})
_MAX_INLINE_DEPTH = 3
_SLICE_FROM = 60  # code cells: in longer notebooks, only the statements a finding can depend on are run
_MODEL_METHODS = frozenset({"fit", "fit_transform", "fit_resample", "predict", "predict_proba", "score", "evaluate",
                            "transform", "decision_function"})
_ids = count(1)


@dataclass(eq=False)
class Place:
    """Where something happens: the cell, and the node in it (of the call that made the notebook's
    own function do it, when it happened inside one)."""

    cell: CellModel
    node: ast.AST
    loop: ast.AST | None = None  # the top-level loop or comprehension around it
    loop_cell: CellModel | None = None


@dataclass(eq=False)
class Fit:
    """An estimator learned from data: `scaler.fit(X)`, `model.fit(X, y)`, `smote.fit_resample(X, y)`,
    or a statistic (`X.mean()`) used to fill or rescale data."""

    what: str  # "StandardScaler", "`mean()`", "LogisticRegression"
    role: str  # "transformer", "statistic", "model", "oversampler", "search"
    data: Value
    data_node: ast.AST
    place: Place
    pipeline: bool = False
    swept: bool = False  # one of several candidates a loop tries (models, or hyperparameter values)
    augmentation: bool = False  # an oversampler that alters its copies
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(eq=False)
class Split:
    what: str  # "train_test_split"
    inputs: list[Value]
    place: Place
    folds: bool = False  # a cross-validation splitter's folds (`KFold().split(X)`)
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(eq=False)
class Evaluation:
    """A model's predictions on some data compared with the truth (or `score`/`evaluate`, or a
    cross-validation, which is its own split)."""

    fit: Fit | None
    data: Value
    data_node: ast.AST
    metric: str
    place: Place
    cross_validation: bool = False
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(eq=False)
class EarlyStop:
    fit: Fit
    data: Value
    data_node: ast.AST
    place: Place


@dataclass(eq=False)
class Choice:
    """The best of several scores picked: `max(scores)`, `np.argmax`, `idxmax`, `if acc > best:`."""

    evaluations: frozenset
    place: Place
    how: str


_EMPTY: dict = {}  # shared by values without sides, columns or keywords: replaced, never changed in place
_NONE = frozenset()


class Value:
    """An abstract value: data (with where its rows come from and what shaped them), a statistic, an
    object (estimator, pipeline, search, splitter, callback), or a tuple/list/dict of values."""

    __slots__ = ("kind", "ancestry", "stats", "columns", "oversampled", "sides", "evaluations", "prediction",
                 "items", "cls", "role", "fit", "inner", "steps", "keywords", "folds", "collected", "stat_fit", "id")

    def __init__(self, kind: str = "data", *, ancestry: frozenset = _NONE, stats: frozenset = _NONE,
                 columns: dict = _EMPTY, oversampled: frozenset = _NONE, sides: dict = _EMPTY,
                 evaluations: frozenset = _NONE, prediction: tuple | None = None, items: list | None = None,
                 cls: str = "", role: str = "", fit: Fit | None = None, inner: Value | None = None,
                 steps: tuple = (), keywords: dict = _EMPTY, folds: bool = False, collected: bool = False,
                 stat_fit: Fit | None = None):
        self.kind = kind  # data, stat, object, items
        self.id = next(_ids)
        # where its rows come from: the ids of values read from outside (its own, for a load or for data
        # the flow did not see made)
        self.ancestry = ancestry or frozenset((self.id,))
        self.stats = stats  # Fits whose learned state shaped these values
        self.columns = columns  # column name -> Fits that shaped only that column
        self.oversampled = oversampled  # Fits of oversamplers these rows went through
        self.sides = sides  # Split -> "train" | "test" | "both"
        self.evaluations = evaluations  # scores this value holds
        self.prediction = prediction  # (Fit, data Value, data node) of model.predict(data)
        self.items = items  # for tuples, lists and dicts: the values in order
        # objects (estimators, pipelines, searches, splitters, callbacks)
        self.cls = cls
        self.role = role  # transformer, model, oversampler, search, pipeline, stopping, splitter, ...
        self.fit = fit  # the fit of its current state
        self.inner = inner  # a search's estimator
        self.steps = steps  # a pipeline's step objects
        self.keywords = keywords  # what the flow remembers of it: "swept", "each", "early_stopping_rounds"
        self.folds = folds  # index arrays of one side of a fold split
        self.collected = collected  # scores gathered in a list or a dict (`scores.append(acc)`)
        self.stat_fit = stat_fit  # a reduction's Fit

    def remember(self, key: str, value) -> None:
        if self.keywords is _EMPTY:
            self.keywords = {}
        self.keywords[key] = value

    def side(self, split: Split) -> str | None:
        return self.sides.get(split)

    @property
    def all_stats(self) -> frozenset:
        """The fits that shaped these values, whole or in one of their columns."""
        if not self.columns:
            return self.stats
        return self.stats.union(*self.columns.values())

    def keep_columns(self, names) -> None:
        """Only these columns are left (`df[["a", "b"]]`, `df.drop(columns="target")` keeps the others)."""
        self.columns = {name: fits for name, fits in self.columns.items() if name in names}


def _merge_sides(values) -> dict:
    sides: dict = {}
    for value in values:
        for split, side in value.sides.items():
            old = sides.get(split)
            sides[split] = side if old is None or old == side else "both"
    return sides


def derive(*parents: Value | None, stats_from=()) -> Value:
    """A data value computed from `parents` (rows) and statistics (`stats_from`, reductions used on it)."""
    if len(parents) == 1 and not stats_from:  # `df[...]`, `X.values`: the common case, everything shared
        row = parents[0]
        if row is not None and row.items is None and row.kind == "data":
            return Value(kind="data", ancestry=row.ancestry, stats=row.stats, oversampled=row.oversampled,
                         sides=row.sides, evaluations=row.evaluations, folds=row.folds, collected=row.collected,
                         columns=row.columns, prediction=row.prediction)
    rows = _rows(parents)
    folds = False
    columns: dict = {}
    if len(rows) == 1:  # the common case, and the sets are shared, not copied
        row = rows[0]
        ancestry, stats, oversampled, sides, folds = row.ancestry, row.stats, row.oversampled, row.sides, row.folds
        columns = row.columns
    elif rows:
        ancestry = frozenset().union(*(p.ancestry for p in rows))
        stats = frozenset().union(*(p.stats for p in rows))
        for row in rows:
            for name, fits in row.columns.items():
                columns[name] = columns.get(name, frozenset()) | fits
        oversampled = frozenset().union(*(p.oversampled for p in rows))
        sides = _merge_sides(rows)
    else:
        ancestry = stats = oversampled = frozenset()
        sides = {}
    for stat in stats_from:
        if stat is not None:
            stats = stats | stat.stats | ({stat.stat_fit} if stat.stat_fit is not None else frozenset())
    evaluations, collected = frozenset(), False
    for value in (*parents, *stats_from):
        if value is not None:
            if value.evaluations:
                evaluations = evaluations | value.evaluations
            collected = collected or value.collected
    return Value(
        kind="data", ancestry=ancestry, stats=stats, oversampled=oversampled, sides=sides, evaluations=evaluations,
        folds=folds, collected=collected, columns=columns,
        # `(model.predict(X_test) > 0.5).astype(int)` is still that model's prediction on X_test
        prediction=next((p.prediction for p in rows if p.prediction is not None), None),
    )


def _rows(values) -> list[Value]:
    """The data values among `values`, the contents of lists and tuples included."""
    rows: list[Value] = []
    for value in values:
        if value is None:
            continue
        if value.items is not None:
            rows.extend(_rows(value.items))
        elif value.kind == "data":
            rows.append(value)
    return rows


def _last(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1].replace("()", "")


class Flow:
    """Run over the notebook once; the events are then in `fits`, `splits`, `evaluations`, ..."""

    def __init__(self, model: NotebookModel):
        self.model = model
        self.aliases = model.aliases
        self.scope: dict[str, Value] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        self.fits: list[Fit] = []
        self.splits: list[Split] = []
        self.evaluations: list[Evaluation] = []
        self.early_stops: list[EarlyStop] = []
        self.choices: list[Choice] = []
        self.averaged: set = set()  # scores summarised by a mean or a spread: a study, not a choice
        self.cell: CellModel | None = None
        self.loop: ast.AST | None = None
        self.call_site: ast.AST | None = None  # the top-level call that inlined the function running now
        self.depth = 0
        self.returned: list[Value] = []
        self.loop_names: set[str] = set()  # names the loops around the current statement bind
        self.unbound: set[str] = set()  # names bound to what the flow does not follow
        self.current: ast.AST | None = None  # the iterable of the loop being entered
        self.column_lists: dict[str, list[str]] = {}  # names bound to a list of column names

    # --- driving ----------------------------------------------------------------------------------

    def run(self) -> Flow:
        cells = self.model.parsed_cells
        if len(cells) > _SLICE_FROM:
            wanted = _slice([self.model.per_cell(cell, "leakage.statements", _statement_facts) for cell in cells],
                            frozenset(self.aliases))
        else:  # running every statement costs less than finding which to skip
            wanted = [[True] * len(cell.facts.statements) for cell in cells]
        for cell, keep in zip(cells, wanted):
            if not keep:
                continue
            self.cell = cell
            for statement, kept in zip(cell.facts.statements, keep):
                if not kept:
                    continue
                try:
                    self.statement(statement)
                except RecursionError:
                    return self
        return self

    def place(self, node: ast.AST) -> Place:
        return Place(self.cell, self.call_site or node, self.loop, self.cell if self.loop is not None else None)

    def statements(self, body) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        kind = type(node)
        if kind is ast.Assign:
            value = self.expr(node.value)
            for target in node.targets:
                self.bind(target, value, node.value)
        elif kind is ast.AnnAssign:
            if node.value is not None:
                self.bind(node.target, self.expr(node.value), node.value)
        elif kind is ast.AugAssign:
            value = self.expr(node.value)
            old = self.expr(node.target)
            self.bind(node.target, self.combine([old, value]), node.value)
        elif kind is ast.Expr:
            self.expr(node.value)
        elif kind in (ast.For, ast.AsyncFor):
            self.current = node.iter
            items = self.expr(node.iter)
            outer, outer_names = self.loop, self.loop_names
            if self.loop is None and self.call_site is None:
                self.loop = node
            self.loop_names = outer_names | set(_target_names(node.target))
            self.bind(node.target, self.element(items), None)
            self.statements(node.body)
            self.loop, self.loop_names = outer, outer_names
            self.statements(node.orelse)
        elif kind is ast.While:
            outer = self.loop
            if self.loop is None and self.call_site is None:
                self.loop = node
            self.expr(node.test)
            self.statements(node.body)
            self.loop = outer
        elif kind is ast.If:
            self.condition(node.test)
            self.statements(node.body)
            self.statements(node.orelse)
        elif kind in (ast.With, ast.AsyncWith):
            for item in node.items:
                value = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, value, None)
            self.statements(node.body)
        elif kind is ast.Try or type(node).__name__ == "TryStar":
            self.statements(node.body)
            for handler in node.handlers:
                self.statements(handler.body)
            self.statements(node.orelse)
            self.statements(node.finalbody)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            if self.depth == 0:
                self.functions[node.name] = node
        elif kind is ast.Return:
            if node.value is not None:
                self.returned.append(self.expr(node.value))
        elif kind is ast.Delete:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.scope.pop(target.id, None)

    def condition(self, test: ast.expr) -> None:
        """`if acc > best_acc:` inside a loop is choosing the best score."""
        value = self.expr(test)
        if self.loop is None or value is None or not value.evaluations:
            return
        compares = [test] if isinstance(test, ast.Compare) else [
            v for v in getattr(test, "values", ()) if isinstance(v, ast.Compare)]
        if any(not isinstance(c.ops[0], (ast.Eq, ast.NotEq)) for c in compares):
            self.choices.append(Choice(value.evaluations, self.place(test), "a comparison with the best so far"))

    # --- names ------------------------------------------------------------------------------------

    def bind(self, target: ast.expr, value: Value | None, value_node: ast.expr | None) -> None:
        kind = type(target)
        if kind is ast.Name:
            names = _string_list(value_node)
            if names is not None:
                self.column_lists[target.id] = names
            else:
                self.column_lists.pop(target.id, None)
            if value is None:
                self.scope.pop(target.id, None)
                self.unbound.add(target.id)  # bound to something that is not data (a number, a string)
            else:
                self.scope[target.id] = value
                self.unbound.discard(target.id)
        elif kind in (ast.Tuple, ast.List):
            elements = target.elts
            items = value.items if value is not None and value.items is not None else None
            if items is not None and len(items) == len(elements) and not any(
                    isinstance(e, ast.Starred) for e in elements):
                for element, item in zip(elements, items):
                    self.bind(element, item, None)
            else:
                for element in elements:
                    self.bind(element.value if isinstance(element, ast.Starred) else element,
                              self.element(value), None)
        elif kind is ast.Subscript:
            # `df["x"] = ...`, `results[name] = acc`: the container now holds the value too.
            base = target.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                old = self.scope.get(base.id)
                column = target.slice.value if target.value is base and isinstance(target.slice, ast.Constant) \
                    and isinstance(target.slice.value, str) else None
                if column is not None and old is not None and old.kind == "data" and value is not None \
                        and value.kind in ("data", "stat"):
                    # `df["age"] = df["age"].fillna(df["age"].mean())`: what shaped the new column shapes
                    # that column only (a label made with a median is not in the features)
                    learned = value.all_stats if value.kind == "data" else (
                        value.stats | ({value.stat_fit} if value.stat_fit else frozenset()))
                    new = derive(old)
                    new.columns = {**old.columns, column: learned - old.all_stats}
                    new.evaluations = new.evaluations | value.evaluations
                    if value.kind == "data":
                        new.ancestry = new.ancestry | value.ancestry
                        new.oversampled = new.oversampled | value.oversampled
                    self.scope[base.id] = new
                    return
                merged = self.combine([old, value]) if old is not None or value is not None else None
                if merged is not None and merged.evaluations and merged.kind != "object":
                    merged.collected = True
                self.scope[base.id] = merged
        elif kind is ast.Attribute:
            base = target.value
            if isinstance(base, ast.Name) and base.id in self.scope and value is not None:
                old = self.scope[base.id]
                if old.kind in ("data", "items"):
                    self.scope[base.id] = self.combine([old, value])
        elif kind is ast.Starred:
            self.bind(target.value, value, value_node)

    def element(self, value: Value | None) -> Value | None:
        """One element of a collection (what a loop variable or a starred name holds)."""
        if value is None:
            return None
        if value.items:
            objects = [item for item in value.items if item is not None and item.kind == "object"]
            if objects and len(objects) == len([i for i in value.items if i is not None]):
                # `for model in [LogisticRegression(), SVC()]`: each of them in turn; a fresh object
                # stands for "the one this round" (fits inside the loop are then that object's).
                # The same one for every loop over this collection: what one loop fits, the next scores.
                each = value.keywords.get("each")
                if each is None:
                    first = objects[0]
                    each = Value(
                        kind="object", cls=first.cls if len({o.cls for o in objects}) == 1 else "each model",
                        role=first.role if len({o.role for o in objects}) == 1 else "model",
                        steps=first.steps, inner=first.inner,
                        keywords={**first.keywords, "swept": len(objects) > 1 or first.keywords.get("swept")})
                    value.remember("each", each)
                return each
            tuples = [item for item in value.items if item is not None and item.items]
            if tuples and len({len(t.items) for t in tuples}) == 1:
                # `for name, model in models.items()`: a tuple of the elements at each position
                return Value(kind="items", items=[self.element(Value(kind="items", items=[t.items[i] for t in tuples]))
                                                  for i in range(len(tuples[0].items))])
            data = [item for item in value.items if item is not None]
            return self.combine(data) if data else None
        if value.kind == "object":
            if value.role == "splitter":  # `for train, test in KFold(len(y), n_folds=3):` (old scikit-learn)
                return self.element(self.folds(self.current or ast.Pass(), value, []))
            return value
        return derive(value)

    def combine(self, values) -> Value | None:
        values = [v for v in values if v is not None]
        if not values:
            return None
        if len(values) == 1 and values[0].kind == "object":
            return values[0]
        stats = [v for v in values if v.kind == "stat"]
        return derive(*[v for v in values if v.kind != "stat"], stats_from=stats)

    # --- expressions ------------------------------------------------------------------------------

    def expr(self, node: ast.expr | None) -> Value | None:
        if node is None:
            return None
        kind = type(node)
        if kind is ast.Name:
            value = self.scope.get(node.id)
            if value is None and self.depth == 0 and node.id not in self.aliases and node.id not in self.functions \
                    and node.id not in NOTEBOOK_BUILTINS and node.id not in self.unbound:
                # A name bound where the flow did not look (a cell that does not parse, `%store -r`, the
                # summary watch mode checks against): some data, the same every time it is read.
                value = self.scope[node.id] = Value(kind="data")
            return value
        if kind is ast.Constant:
            return None
        if kind is ast.Call:
            return self.call(node)
        if kind is ast.Attribute:
            return self.attribute(node)
        if kind is ast.Subscript:
            base = self.expr(node.value)
            self.expr(node.slice)
            if base is None:
                return None
            if base.items is not None and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                index = node.slice.value
                if -len(base.items) <= index < len(base.items):
                    return base.items[index]
            if base.kind == "object":
                return base if base.role == "pipeline" else None
            if base.kind == "stat":
                return base
            if base.kind == "module":
                return None
            out = derive(base)
            selected = _string_list(node.slice) or (self.column_lists.get(node.slice.id)
                                                      if isinstance(node.slice, ast.Name) else None)
            if selected is None and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                selected = [node.slice.value]
            if selected is not None and out.columns:
                out.keep_columns(selected)
            index = self.expr(node.slice) if type(node.slice) is ast.Name else None
            if index is not None and index.folds:
                # `X[train_index]` of `for train_index, test_index in kf.split(X)`: one side of the folds
                out.sides = {**out.sides, **index.sides}
                for split in index.sides:
                    if all(part is not base for part in split.inputs):
                        split.inputs.append(base)
            return out
        if kind in (ast.Tuple, ast.List, ast.Set):
            items = [self.expr(element.value if isinstance(element, ast.Starred) else element)
                     for element in node.elts]
            scored = frozenset().union(*(i.evaluations for i in items if i is not None))
            return Value(kind="items", items=items, evaluations=scored, collected=bool(scored))
        if kind is ast.Dict:
            for key in node.keys:
                self.expr(key)
            items = [self.expr(value) for value in node.values]
            scored = frozenset().union(*(i.evaluations for i in items if i is not None))
            return Value(kind="items", items=items, evaluations=scored, collected=bool(scored))
        if kind is ast.BinOp:
            return self.combine([self.expr(node.left), self.expr(node.right)])
        if kind is ast.UnaryOp:
            return self.expr(node.operand)
        if kind is ast.BoolOp:
            return self.combine([self.expr(v) for v in node.values])
        if kind is ast.Compare:
            values = [self.expr(node.left), *(self.expr(c) for c in node.comparators)]
            if len(values) == 2 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)) and all(
                    v is not None and v.kind == "data" for v in values):
                # `np.mean(pred != y_test)`: predictions compared with the truth are an error rate
                predicted = [i for i, v in enumerate(values) if v.prediction is not None]
                if len(predicted) == 1:
                    fit, data, data_node = values[predicted[0]].prediction
                    evaluation = Evaluation(fit, data, data_node, "error rate" if isinstance(node.ops[0], ast.NotEq)
                                            else "accuracy", self.place(node))
                    self.evaluations.append(evaluation)
                    return Value(kind="data", evaluations=frozenset({evaluation}))
            return self.combine(values)
        if kind is ast.IfExp:
            self.expr(node.test)
            return self.combine([self.expr(node.body), self.expr(node.orelse)])
        if kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            return self.comprehension(node)
        if kind is ast.NamedExpr:
            value = self.expr(node.value)
            self.bind(node.target, value, node.value)
            return value
        if kind is ast.JoinedStr:
            # f"{accuracy_score(y_test, model.predict(X_test)):.3f}" scores all the same
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    self.expr(part.value)
            return None
        if kind is ast.Lambda:
            return None
        if kind is ast.Starred:
            return self.expr(node.value)
        return None

    def comprehension(self, node) -> Value | None:
        outer_loop, outer_names, saved = self.loop, self.loop_names, {}
        if self.loop is None and self.call_site is None:
            self.loop = node
        for generator in node.generators:
            items = self.expr(generator.iter)
            self.loop_names = self.loop_names | set(_target_names(generator.target))
            for name in _target_names(generator.target):
                saved.setdefault(name, self.scope.get(name))
            self.bind(generator.target, self.element(items), None)
            for test in generator.ifs:
                self.expr(test)
        if isinstance(node, ast.DictComp):
            self.expr(node.key)
            result = self.expr(node.value)
        else:
            result = self.expr(node.elt)
        for name, value in saved.items():
            if value is None:
                self.scope.pop(name, None)
            else:
                self.scope[name] = value
        self.loop, self.loop_names = outer_loop, outer_names
        if result is None:
            return None
        if result.kind == "object":
            return Value(kind="items", items=[result])
        gathered = self.combine([result])
        if gathered is not None and gathered.evaluations:
            gathered.collected = True  # `[m.score(X_test, y_test) for m in models]`
        return gathered

    def attribute(self, node: ast.Attribute) -> Value | None:
        base = self.expr(node.value)
        if base is None:
            return None
        if base.kind == "object":
            if node.attr == "best_estimator_" and base.fit is not None:
                return Value(kind="object", cls=base.inner.cls if base.inner else "model", role="model", fit=base.fit)
            if node.attr in ("best_score_", "cv_results_") and base.role == "search" and base.fit is not None:
                # the search's cross-validated score: its folds split what it was fitted on
                fit = base.fit
                evaluation = Evaluation(fit, fit.data, fit.data_node, "cross-validated score", self.place(node),
                                        cross_validation=True)
                self.evaluations.append(evaluation)
                return Value(kind="data", evaluations=frozenset({evaluation}))
            return None
        if base.kind == "stat":
            return base
        if base.kind == "module":
            return None
        return derive(base)

    # --- calls ------------------------------------------------------------------------------------

    def call(self, node: ast.Call) -> Value | None:
        result = self._call(node)
        func = node.func
        word = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if "augment" in word.lower() and result is not None and result.kind == "data":
            # `augment(X)`, `aug.augment(texts)`: altered copies of the rows, the same rows for a split
            fit = Fit(f"`{word}()`", "oversampler", result, node.args[0] if node.args else node, self.place(node),
                      augmentation=True)
            self.fits.append(fit)
            result = derive(result)
            result.oversampled = result.oversampled | {fit}
        return result

    def _call(self, node: ast.Call) -> Value | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.expr(func.value)
            if receiver is not None and receiver.kind == "object":
                return self.method_of_object(node, func.attr, receiver, func.value)
            if receiver is not None and receiver.kind == "data" and func.attr in _MODEL_METHODS \
                    and isinstance(func.value, ast.Name) and not receiver.sides:
                # `model = build_model()` then `model.fit(...)`: what the flow took for data is a model
                obj = Value(kind="object", cls=func.value.id, role="model")
                self.scope[func.value.id] = obj
                return self.method_of_object(node, func.attr, obj, func.value)
            if receiver is not None and receiver.kind in ("data", "items", "stat"):
                return self.method_of_data(node, func.attr, receiver, func.value)
            if receiver is None and isinstance(func.value, ast.Name) and func.value.id not in self.aliases \
                    and func.attr in _MODEL_METHODS:
                # An object the flow did not see built (a Keras model from a builder, a loaded model):
                # give it a life from here on.
                obj = Value(kind="object", cls=func.value.id, role="model")
                self.scope[func.value.id] = obj
                return self.method_of_object(node, func.attr, obj, func.value)
            qualified = self.model.resolve(func)
            return self.function(node, qualified, _last(qualified) or func.attr)
        if isinstance(func, ast.Name):
            if func.id in self.functions and func.id not in self.scope and self.depth < _MAX_INLINE_DEPTH:
                return self.inline(node, self.functions[func.id])
            qualified = self.model.resolve(func)
            return self.function(node, qualified, _last(qualified))
        self.expr(func)
        for arg in node.args:
            self.expr(arg)
        return None

    def args(self, node: ast.Call) -> list[Value | None]:
        return [self.expr(arg.value if isinstance(arg, ast.Starred) else arg) for arg in node.args]

    def keywords(self, node: ast.Call) -> dict[str, Value | None]:
        return {kw.arg: self.expr(kw.value) for kw in node.keywords if kw.arg is not None}

    def function(self, node: ast.Call, qualified: str | None, last: str) -> Value | None:
        args = self.args(node)
        keywords = self.keywords(node)
        if last in ("zip", "enumerate", "list", "tuple", "reversed") and args:
            collections = [a for a in args if a is not None and a.items is not None]
            if last == "zip" and len(collections) == len(args) and len({len(a.items) for a in collections}) == 1:
                return Value(kind="items", items=[Value(kind="items", items=[a.items[i] for a in collections])
                                                  for i in range(len(collections[0].items))])
            if last == "enumerate" and collections:
                return Value(kind="items", items=[Value(kind="items", items=[None, item])
                                                  for item in collections[0].items])
            if last in ("list", "tuple", "reversed") and collections:
                return collections[0]
        if last in SPLITTERS:
            # an argument the flow knows nothing of is still split in two (watch mode sees a summary)
            return self.split(node, last, [a if a is not None else Value(kind="data") for a in args])
        if last in METRICS or (last.endswith(("_score", "_error")) and "metrics" in (qualified or "")):
            return self.metric(node, last, args + list(keywords.values()))
        if last in CROSS_VALIDATION and args:
            estimator = args[0]
            data = args[1] if len(args) > 1 else keywords.get("X")
            data_node = node.args[1] if len(node.args) > 1 else _keyword_node(node, "X")
            if estimator is not None and estimator.kind == "object" and data is not None:
                fit = Fit(estimator.cls, "model", data, data_node, self.place(node), pipeline=estimator.role == "pipeline")
                evaluation = Evaluation(fit, data, data_node, "cross-validated score", self.place(node),
                                        cross_validation=True)
                self.evaluations.append(evaluation)
                return Value(kind="data", evaluations=frozenset({evaluation}))
            return None
        if last == "resample" and "utils" in (qualified or "sklearn.utils.resample") and _keyword_true(node, "replace"):
            data = self.combine(args)
            if data is not None:
                fit = Fit("resample(replace=True)", "oversampler", data, node.args[0] if node.args else node,
                          self.place(node))
                self.fits.append(fit)
                out = derive(data)
                out.oversampled = out.oversampled | {fit}
                return out
            return None
        if last in ("train", "cv") and qualified and qualified.split(".")[0] in ("xgboost", "lightgbm", "catboost"):
            return self.booster_train(node, last, args, keywords)
        if last in _CHOOSERS and not (qualified or "").startswith(("math.",)):
            # Scores gathered from several candidates, not one score's own numbers (`cm.max()` of a
            # confusion matrix, to colour a plot, chooses nothing).
            scored = frozenset().union(*(a.evaluations for a in args if a is not None and a.collected))
            if scored:
                self.choices.append(Choice(scored, self.place(node), f"`{last}`"))
        if last[:1].isupper() or last in PIPELINES or last in CALLBACKS_STOPPING:
            return self.construct(node, last, args, keywords)
        # Any other function: its result comes from its data arguments (np.log1p, pd.concat, np.array).
        data_keywords = [keywords[k] for k in _ROW_SHAPING_KEYWORDS if k in keywords]
        values = [a for a in args + data_keywords if a is not None]
        if qualified and qualified.split(".")[0] in ("np", "numpy") and last in REDUCTIONS and values:
            return self.reduction(values[0], node, last, node.args[0] if node.args else node)
        if any(v.kind == "object" for v in values) and not any(v.kind == "data" for v in values):
            return None
        if not values:
            return Value(kind="data")  # read from outside (`pd.read_csv`, `load_iris()`): new rows
        return self.combine(values)

    def construct(self, node: ast.Call, last: str, args, keywords) -> Value | None:
        objects = [a for a in args if a is not None and a.kind in ("object", "items")]
        if last in SEARCHES:
            inner = next((a for a in args if a is not None and a.kind == "object"), keywords.get("estimator"))
            return Value(kind="object", cls=last, role="search", inner=inner)
        if last in PIPELINES:
            steps = _objects_in(objects + [v for v in keywords.values() if v is not None])
            swept = any(step.keywords.get("swept") for step in steps) or (
                self.loop is not None and self.loop_names and _sweeps(node, self.loop_names))
            return Value(kind="object", cls=last, role="pipeline", steps=tuple(steps), keywords={"swept": swept})
        if last in LEARNING_TRANSFORMERS:
            return Value(kind="object", cls=last, role="transformer")
        if last in STATELESS_TRANSFORMERS:
            return Value(kind="object", cls=last, role="stateless")
        if last in OVERSAMPLERS:
            return Value(kind="object", cls=last, role="oversampler")
        if last in FOLD_SPLITTERS:
            return Value(kind="object", cls=last, role="splitter")
        if last in CALLBACKS_STOPPING:
            if last == "ModelCheckpoint" and not _keyword_true(node, "save_best_only"):
                return Value(kind="object", cls=last, role="callback")
            return Value(kind="object", cls=last, role="stopping")
        if last in ("DataFrame", "Series", "DMatrix", "Dataset", "Pool", "array", "TensorDataset"):
            data_keywords = [keywords.get(k) for k in ("data", "label")]
            return self.combine([a for a in args + data_keywords if a is not None])
        if any(a is not None and a.kind == "data" for a in args):
            return self.combine([a for a in args if a is not None and a.kind == "data"])
        value = Value(kind="object", cls=last, role="model")
        if self.loop is not None and self.loop_names and _sweeps(node, self.loop_names):
            value.remember("swept", True)  # `KNeighborsClassifier(n_neighbors=k)` in `for k in ...`
        if "early_stopping_rounds" in keywords or any(k == "early_stopping_rounds" for k in
                                                       (kw.arg for kw in node.keywords)):
            value.remember("early_stopping_rounds", True)
        return value

    def reduction(self, data: Value, node: ast.Call, how: str, data_node: ast.expr) -> Value:
        """`X.mean()`: a statistic of every row of X; when it fills or rescales data, that data learned from X."""
        fit = Fit(f"`{how}()`", "statistic", data, data_node, self.place(node))
        self.fits.append(fit)
        if data.collected and data.evaluations and how in ("mean", "std", "var", "median", "average", "nanmean",
                                                           "nanstd", "nanmedian"):
            self.averaged.update(data.evaluations)
        return Value(kind="stat", stat_fit=fit, evaluations=data.evaluations)

    def method_of_data(self, node: ast.Call, method: str, receiver: Value, receiver_node: ast.expr) -> Value | None:
        args = self.args(node)
        keywords = self.keywords(node)
        if receiver.kind == "stat":
            return receiver  # df.mean().round(2), df.mode()[0]
        if receiver.items is not None and method in ("values", "items", "copy"):
            if method == "items":  # {name: model}.items(): (name, model) pairs
                return Value(kind="items", items=[Value(kind="items", items=[None, item]) for item in receiver.items])
            return receiver
        if method in REDUCTIONS and not _after_grouping(receiver_node):
            return self.reduction(receiver, node, method, receiver_node)
        if method in ("transform", "apply") and node.args and _after_grouping(receiver_node):
            how = _group_statistic(node.args[0])
            if how is not None:
                # `df.groupby("pclass")["age"].transform(lambda x: x.fillna(x.median()))`: every row gets a
                # statistic of its group, test rows included
                fit = Fit(f"`{how}()`", "statistic", receiver, receiver_node, self.place(node))
                self.fits.append(fit)
                out = derive(receiver)
                out.stats = out.stats | {fit}
                return out
        if method in ("append", "extend", "add", "update", "insert") and isinstance(receiver_node, ast.Name):
            merged = self.combine([receiver, *args])
            if merged is not None:
                merged.collected = merged.collected or bool(merged.evaluations)
                self.scope[receiver_node.id] = merged
            return None
        if method == "sample" and _keyword_true(node, "replace"):
            fit = Fit(f"`{method}(replace=True)`", "oversampler", receiver, receiver_node, self.place(node))
            self.fits.append(fit)
            out = derive(receiver)
            out.oversampled = out.oversampled | {fit}
            return out
        if method in _CHOOSERS and receiver.evaluations and receiver.collected:
            self.choices.append(Choice(receiver.evaluations, self.place(node), f"`{method}`"))
        given = [a for a in args + list(keywords.values()) if a is not None]
        stats = [a for a in given if a.kind == "stat"]
        rows = [receiver] + [a for a in args if a is not None and a.kind == "data"
                             and method in ("merge", "join", "append", "combine_first", "concat", "update")]
        result = derive(*rows, stats_from=stats)
        # `X.assign(t=X["t"].fillna(X["t"].mean()))`: the new column brings its statistics along
        for value in given:
            if value.kind == "data" and value.all_stats:
                result.stats = result.stats | value.all_stats
        if method == "drop":
            dropped = _dropped_columns(node, self.column_lists)
            if dropped is not None and result.columns:
                result.keep_columns(set(result.columns) - set(dropped))
        if _keyword_true(node, "inplace") and isinstance(receiver_node, ast.Name):
            self.scope[receiver_node.id] = result
            return None
        if _keyword_true(node, "inplace") and isinstance(receiver_node, ast.Subscript):
            base = receiver_node
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and base.id in self.scope:
                self.scope[base.id] = self.combine([self.scope[base.id], result])
            return None
        return result

    def method_of_object(self, node: ast.Call, method: str, obj: Value, obj_node: ast.expr) -> Value | None:
        args = self.args(node)
        keywords = self.keywords(node)
        data = args[0] if args else keywords.get("X", keywords.get("x"))
        data_node = node.args[0] if node.args else _keyword_node(node, "X") or _keyword_node(node, "x")
        if method in ("fit", "fit_transform", "fit_resample", "partial_fit", "fit_predict", "fit_sample"):
            if data is None or data.kind not in ("data", "items"):
                if method == "fit" and obj.role in ("model", "search", "pipeline"):
                    data = data if data is not None else Value(kind="data")
                else:
                    return obj if method == "fit" else None
            if data.kind == "items" and data.items:
                data = self.combine(data.items) or data
            role = self.role_of(obj, method)
            fit = Fit(obj.cls, role, data, data_node or node, self.place(node), pipeline=obj.role == "pipeline",
                      swept=bool(obj.keywords.get("swept")) and self.loop is not None)
            obj.fit = fit
            self.fits.append(fit)
            self.fit_extras(node, fit, obj, keywords)
            if method == "fit":
                return obj
            if method == "fit_resample" or method == "fit_sample":
                if role == "oversampler":
                    out = [derive(a) for a in args if a is not None]
                    for value in out:
                        value.oversampled = value.oversampled | {fit}
                else:
                    out = [derive(a) for a in args if a is not None]
                return Value(kind="items", items=out)
            if method == "fit_predict":
                return derive(data)
            out = derive(data)
            if role == "transformer":
                out.stats = out.stats | {fit}
            return out
        if method == "transform" or method == "inverse_transform":
            if data is None:
                return None
            out = derive(data)
            if obj.fit is not None and obj.fit.role == "transformer":
                out.stats = out.stats | {obj.fit}
            return out
        if method in PREDICT_METHODS:
            if data is None:
                return None
            out = derive(data)
            if obj.fit is not None:
                out.prediction = (obj.fit, data, data_node)
            return out
        if method in SCORE_METHODS:
            if data is None or obj.fit is None:
                return None
            evaluation = Evaluation(obj.fit, data, data_node, "score" if method == "score" else "evaluation",
                                    self.place(node))
            self.evaluations.append(evaluation)
            return Value(kind="data", evaluations=frozenset({evaluation}))
        if method == "split" and obj.role == "splitter":
            return self.folds(node, obj, [a for a in args[:1] if a is not None and a.kind == "data"])
        if method in ("set_params", "get_params"):
            return obj if method == "set_params" else None
        return None

    def role_of(self, obj: Value, method: str) -> str:
        if obj.role == "oversampler":
            return "oversampler"
        if obj.role == "search":
            return "search"
        if obj.role == "transformer" or (method == "fit_transform" and obj.role not in ("pipeline", "stateless")):
            return "transformer" if obj.cls in LEARNING_TRANSFORMERS or obj.role == "transformer" else "other"
        if obj.role == "stateless":
            return "other"
        if obj.role == "pipeline":
            last = obj.steps[-1] if obj.steps else None
            if last is not None and last.role in ("transformer", "stateless", "pipeline") and not _ends_in_model(
                    last) or obj.cls in ("ColumnTransformer", "make_column_transformer", "FeatureUnion", "make_union"):
                # preprocessing only: it learns from the rows when one of its steps does
                return "transformer" if _learns(obj) else "other"
            return "model"
        return "model"

    def fit_extras(self, node: ast.Call, fit: Fit, obj: Value, keywords: dict) -> None:
        """Early stopping on a held-out set given to `fit`: `eval_set=[(X_test, y_test)]` with
        `early_stopping_rounds`, Keras `validation_data=(X_test, y_test)` with an EarlyStopping callback."""
        stops = obj.keywords.get("early_stopping_rounds") or "early_stopping_rounds" in keywords
        callbacks = keywords.get("callbacks")
        if callbacks is not None and callbacks.items:
            stops = stops or any(item is not None and item.role == "stopping" for item in callbacks.items)
        for name in ("eval_set", "validation_data", "valid_sets", "evals"):
            given = keywords.get(name)
            if given is None:
                continue
            if callbacks is not None and callbacks.kind == "object" and callbacks.role == "stopping":
                stops = True
            if not stops:
                continue
            held = _first_data(given)
            if held is not None:
                self.early_stops.append(EarlyStop(fit, held, _keyword_node(node, name), self.place(node)))

    def booster_train(self, node: ast.Call, last: str, args, keywords) -> Value | None:
        data = args[1] if len(args) > 1 else keywords.get("dtrain", keywords.get("train_set"))
        if data is None or last == "cv":
            return None
        data_node = node.args[1] if len(node.args) > 1 else _keyword_node(node, "dtrain") or node
        obj = Value(kind="object", cls="booster", role="model")
        fit = Fit("the booster", "model", data, data_node, self.place(node))
        obj.fit = fit
        self.fits.append(fit)
        self.fit_extras(node, fit, obj, keywords)
        return obj

    def folds(self, node: ast.AST, splitter: Value, inputs: list[Value]) -> Value:
        """`kf.split(X)` (or iterating an old-style `KFold(n)`): pairs of training and held-out indices."""
        split = Split(f"{splitter.cls}", list(inputs), self.place(node), folds=True)
        self.splits.append(split)
        train = Value(kind="data", sides={split: "train"}, folds=True)
        test = Value(kind="data", sides={split: "test"}, folds=True)
        return Value(kind="items", items=[Value(kind="items", items=[train, test])])

    def split(self, node: ast.Call, what: str, inputs: list[Value]) -> Value:
        split = Split(what, [v for v in inputs if v.kind in ("data", "items")], self.place(node))
        self.splits.append(split)
        outputs = []
        for value in inputs:
            for side in ("train", "test"):
                out = derive(value)
                out.sides = {**out.sides, split: side}
                outputs.append(out)
        return Value(kind="items", items=outputs)

    def metric(self, node: ast.Call, name: str, values) -> Value | None:
        predictions = [v for v in values if v is not None and v.prediction is not None]
        if not predictions:
            return self.combine([v for v in values if v is not None])
        fit, data, data_node = predictions[0].prediction
        evaluation = Evaluation(fit, data, data_node, name, self.place(node))
        self.evaluations.append(evaluation)
        return Value(kind="data", evaluations=frozenset({evaluation}))

    def inline(self, node: ast.Call, function: ast.FunctionDef) -> Value | None:
        """The notebook's own function, run with the call's arguments (its events belong to the call)."""
        args = self.args(node)
        keywords = self.keywords(node)
        saved_scope = self.scope
        local = dict(saved_scope)  # globals are visible; what it binds stays inside
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        for name in params:
            local.pop(name, None)
        for name, value in zip(params, args):
            if value is not None:
                local[name] = value
        for name, value in keywords.items():
            if value is not None:
                local[name] = value
        for arg in function.args.kwonlyargs:
            local.pop(arg.arg, None)
            if keywords.get(arg.arg) is not None:
                local[arg.arg] = keywords[arg.arg]
        outer_site, outer_returned = self.call_site, self.returned
        self.scope, self.returned = local, []
        if self.call_site is None:
            self.call_site = node
        self.depth += 1
        try:
            self.statements(function.body)
            result = self.combine(self.returned) if len(self.returned) != 1 else self.returned[0]
        finally:
            self.depth -= 1
            self.call_site, self.returned = outer_site, outer_returned
            inner_scope, self.scope = self.scope, saved_scope
        # Objects passed in and fitted inside are the same objects outside: their new state is seen there.
        # A global rebound with `global` inside is seen outside.
        for name in _declared_global(function):
            if name in inner_scope:
                self.scope[name] = inner_scope[name]
        return result


# Calls that fit, split, score or choose: the statements holding them are where findings come from.
_SEED_WORDS = frozenset({
    "fit", "fit_transform", "fit_resample", "fit_sample", "partial_fit", "fit_predict", "train",
    *PREDICT_METHODS, *SCORE_METHODS, *SPLITTERS, *CROSS_VALIDATION, *SEARCHES, *FOLD_SPLITTERS, "split",
    *METRICS, "best_score_", "cv_results_",
})
# Methods that change the object they are called on (besides any call with `inplace=True`).
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "fit", "fit_transform",
                       "fit_resample", "fit_sample", "partial_fit", "fit_predict", "set_params"})
_SCORING_NAMES = frozenset({*PREDICT_METHODS, *SCORE_METHODS, *CROSS_VALIDATION, *METRICS, "best_score_",
                            "cv_results_"})


def _statement_facts(cell: CellModel) -> tuple:
    """For each top-level statement: (names it reads, names it may bind or change, whether it fits, splits,
    scores or chooses, whether it scores). Depends on the cell's source only (remembered with its facts)."""
    found = []
    Name, Call, Attribute, Store = ast.Name, ast.Call, ast.Attribute, ast.Store
    for nodes in _nodes_by_statement(cell.facts):
        reads: set[str] = set()
        binds: set[str] = set()
        changes: set[str] = set()
        seed = scores = False
        for node in nodes:
            kind = type(node)
            if kind is Name:
                (binds if type(node.ctx) is Store else reads).add(node.id)
            elif kind is Attribute:
                word = node.attr
                if word in _SEED_WORDS or word.endswith(("_score", "_error")):
                    seed = True
                    scores = scores or word in _SCORING_NAMES or word.endswith(("_score", "_error"))
                if type(node.ctx) is Store:
                    base = node.value
                    while isinstance(base, (Attribute, ast.Subscript)):
                        base = base.value
                    if isinstance(base, Name):
                        binds.add(base.id)  # `obj.attr = ...`

            elif kind is ast.Subscript and type(node.ctx) is Store:
                base = node.value
                while isinstance(base, (Attribute, ast.Subscript)):
                    base = base.value
                if isinstance(base, Name):
                    binds.add(base.id)
            elif kind is Call:
                func = node.func
                if isinstance(func, Name):
                    word = func.id
                    if word in _SEED_WORDS or word.endswith(("_score", "_error")):
                        seed = True
                        scores = scores or word in _SCORING_NAMES or word.endswith(("_score", "_error"))
                elif isinstance(func, Attribute) and isinstance(func.value, Name) and (
                        func.attr in _MUTATORS or any(k.arg == "inplace" for k in node.keywords)):
                    changes.add(func.value.id)  # `model.fit(...)`, `scores.append(...)` change it
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                binds.add(node.name)
            elif kind is ast.Import or kind is ast.ImportFrom:
                binds.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        found.append((frozenset(reads), frozenset(binds), frozenset(changes), seed, scores))
    return tuple(found)


def _nodes_by_statement(facts: CellFacts) -> list[list[ast.AST]]:
    """The nodes of each top-level statement, any depth: the analysis records them statement by
    statement, each run starting with the statement itself."""
    nodes, statements = facts.nodes, facts.statements
    starts = []
    start = 0
    for statement in statements:
        start = nodes.index(statement, start)
        starts.append(start)
    starts.append(len(nodes))
    return [nodes[starts[i]:starts[i + 1]] for i in range(len(statements))]


def _slice(cells: list[tuple], modules: frozenset) -> list[list[bool]]:
    """Which statements the flow must run: those that fit, split, score or choose, those that read what a
    scoring statement made (`np.mean(pred == y_test)`, `max(scores)`), and backwards, every statement
    that binds or changes a name they need (a method called on an imported module, `pd.set_option`,
    changes nothing the flow follows). The others (plots, reports, unrelated data work) cannot change
    a finding, and a long notebook's re-check should not pay for them."""
    keep = [[False] * len(cell) for cell in cells]
    scored: set[str] = set()
    for c, cell in enumerate(cells):
        for i, (reads, binds, changes, seed, scores) in enumerate(cell):
            if scores or (scored and not reads.isdisjoint(scored)):
                keep[c][i] = True
                scored |= binds | (changes - modules)
            elif seed:
                keep[c][i] = True
    needed: set[str] = set()
    for c in range(len(cells) - 1, -1, -1):
        for i in range(len(cells[c]) - 1, -1, -1):
            reads, binds, changes, _, _ = cells[c][i]
            if keep[c][i] or not binds.isdisjoint(needed) or not (changes - modules).isdisjoint(needed):
                keep[c][i] = True
                needed |= reads
    return [row if any(row) else [] for row in keep]


def _string_list(node: ast.AST | None) -> list[str] | None:
    """`["a", "b"]` -> ["a", "b"]; anything else -> None."""
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


def _dropped_columns(node: ast.Call, lists: dict) -> list[str] | None:
    """The columns `df.drop(...)` removes, when they are spelled out."""
    given = _keyword_node(node, "columns")
    if given is None:
        axis = _keyword_node(node, "axis")
        by_column = isinstance(axis, ast.Constant) and axis.value in (1, "columns")
        if not by_column and len(node.args) > 1:
            axis = node.args[1]
            by_column = isinstance(axis, ast.Constant) and axis.value in (1, "columns")
        if not by_column or not node.args:
            return None
        given = node.args[0]
    if isinstance(given, ast.Constant) and isinstance(given.value, str):
        return [given.value]
    if isinstance(given, ast.Name):
        return lists.get(given.id)
    return _string_list(given)


def _target_names(target: ast.expr) -> list[str]:
    return [node.id for node in names_in(target)]


def _declared_global(function: ast.FunctionDef) -> tuple[str, ...]:
    """The names a function declares `global` (kept on its node: a function is inlined at every call)."""
    names = getattr(function, "_leakage_globals", None)
    if names is None:
        names = tuple(name for node in walk(function) if type(node) is ast.Global for name in node.names)
        function._leakage_globals = names
    return names


def _reads_any(node: ast.AST, names: set[str]) -> bool:
    return any(name.id in names for name in names_in(node))


# Settings that change how a model is run, not which model it is: a loop over them tries no candidates.
_NOT_HYPERPARAMETERS = frozenset({"random_state", "seed", "random_seed", "verbose", "verbosity", "n_jobs",
                                  "nthread", "device"})


def _sweeps(node: ast.Call, names: set[str]) -> bool:
    """The constructor takes a loop variable as a hyperparameter (`KNN(n_neighbors=k)`, `make_pipeline(
    PolynomialFeatures(degree), ...)`), not only as a seed (`RandomForestClassifier(random_state=seed)`)."""
    return any(_reads_any(arg, names) for arg in node.args) or any(
        _reads_any(keyword.value, names) for keyword in node.keywords if keyword.arg not in _NOT_HYPERPARAMETERS)


def _keyword_node(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _keyword_true(node: ast.Call, name: str) -> bool:
    value = _keyword_node(node, name)
    return isinstance(value, ast.Constant) and value.value is True


def _after_grouping(node: ast.expr) -> bool:
    """`df.groupby("c")["y"].mean()`: a table of groups, not a statistic of every row."""
    while isinstance(node, (ast.Call, ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        if isinstance(node, ast.Attribute) and node.attr in ("groupby", "rolling", "expanding", "resample", "ewm",
                                                              "shift", "diff", "pct_change", "cumsum"):
            return True
        node = node.value
    return False


def _learns(obj: Value, depth: int = 0) -> bool:
    """A transformer among a pipeline's or a column transformer's steps, at any depth."""
    return obj.role == "transformer" or depth < 4 and any(_learns(step, depth + 1) for step in obj.steps)


def _ends_in_model(obj: Value, depth: int = 0) -> bool:
    if obj.role != "pipeline" or depth > 4:
        return obj.role == "model"
    return bool(obj.steps) and _ends_in_model(obj.steps[-1], depth + 1)


def _group_statistic(node: ast.expr) -> str | None:
    """The reduction a grouped `transform`/`apply` computes: `"mean"`, or `lambda x: x.fillna(x.median())`."""
    if isinstance(node, ast.Constant) and node.value in REDUCTIONS:
        return node.value
    if isinstance(node, ast.Lambda):
        # Breadth first (`ast.walk` over the lambda's small body): the outermost reduction names the
        # statistic, `std` of `(x - x.mean()) / x.std()`.
        for child in ast.walk(node.body):
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in REDUCTIONS:
                return child.func.attr
    return None


def _objects_in(values) -> list[Value]:
    found: list[Value] = []
    for value in values:
        if value is None:
            continue
        if value.kind == "object":
            found.append(value)
        elif value.items:
            found.extend(_objects_in(value.items))
    return found


def _first_data(value: Value) -> Value | None:
    """The X of `[(X_test, y_test)]` or `(X_test, y_test)`."""
    while value is not None and value.items:
        value = value.items[0]
    return value if value is not None and value.kind == "data" else None


# Without a split (or a cross-validation, which splits) no score is on held-out rows, and without one of
# the scoring calls nothing is scored: no rule has anything to say.
_SPLITTING_WORDS = frozenset({*SPLITTERS, *CROSS_VALIDATION, *FOLD_SPLITTERS, *SEARCHES})
_SCORING_WORDS = frozenset({"score", "evaluate", "predict", "predict_proba", "predict_log_proba", "decision_function",
                            *CROSS_VALIDATION, *SEARCHES})


_RECENT: dict = {}  # the flows of the last notebooks checked, by what they were computed from
forget_with_the_analysis(_RECENT.clear)  # they hold the cells' facts


def scored_flow(model: NotebookModel) -> Flow | None:
    """The notebook's flow when a model is scored in it (where every leakage rule starts), else None.
    Computed once per check and shared by the three rules."""
    memo = model.__dict__
    if "_leakage_flow" not in memo:
        memo["_leakage_flow"] = _flow_of(model) if _splits_and_scores(model) else None
    flow = memo["_leakage_flow"]
    return flow if flow is not None and flow.evaluations else None


def _splits_and_scores(model: NotebookModel) -> bool:
    """Whether some cell may split the data and some cell may score: most notebooks split nothing, and
    their calls' last names say so without resolving any import."""
    cells = model.parsed_cells
    return _may_call_any(model, cells, _SPLITTING_WORDS) and _may_call_any(model, cells, _SCORING_WORDS)


def _may_call_any(model: NotebookModel, cells: list[CellModel], words: frozenset[str]) -> bool:
    """`model.may_call` of any cell, asked only when an import could bind one of `words` under another
    name (`from sklearn.model_selection import train_test_split as tts`)."""
    if any(not cell.facts.call_words.isdisjoint(words) for cell in cells):
        return True
    if not any(fact.name.rsplit(".", 1)[-1] in words for cell in cells for fact in cell.facts.imports):
        return False
    return any(model.may_call(cell, words) for cell in cells)


def _flow_of(model: NotebookModel) -> Flow:
    """The notebook's flow, run; the sidebar's re-check of a notebook whose cells did not change gets
    the last one again."""
    cells = model.parsed_cells
    # The same facts object means the same source (the analysis cache); index and id go into messages.
    key = (model.imports_key, tuple((cell.index, cell.cell.id, id(cell.facts)) for cell in cells))
    recent = _RECENT.get(key)
    if recent is not None and all(a is b.facts for a, b in zip(recent[1], cells)):
        return recent[0]
    flow = Flow(model).run()
    # No reference back to the model: a cycle would outlive the check (the engine turns the cyclic
    # garbage collector off while it runs).
    flow.model = None
    try:
        if len(_RECENT) >= 4:
            _RECENT.pop(next(iter(_RECENT)), None)
    except (StopIteration, RuntimeError):  # another thread of the server made room first
        pass
    _RECENT[key] = (flow, [cell.facts for cell in cells])
    return flow
