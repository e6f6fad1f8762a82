"""data-leakage: RP801 preprocessing-leakage, RP802 overlap-leakage, RP803 multi-test-leakage."""
import ast

import pytest

from readiness_magics.analysis import NotebookModel
from readiness_magics.config import Settings
from readiness_magics.findings import Severity
from readiness_magics.notebook import notebook_from_sources
from readiness_magics.rules.leakage.flow import _nodes_by_statement, _statement_facts
from tests.helpers import codes_for, findings_for

IMPORTS = """import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA
from sklearn.utils import resample
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
"""
LOAD = 'df = pd.read_csv("churn.csv")\nX, y = df.drop(columns="churned"), df["churned"]'
SPLIT = "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)"
TRAIN = "model = LogisticRegression().fit(X_train, y_train)"
SCORE = "print(accuracy_score(y_test, model.predict(X_test)))"


def notebook(*cells):
    return [IMPORTS, LOAD, *cells]


# --- RP801 preprocessing-leakage ---------------------------------------------------------------------


def test_scaler_fitted_before_the_split_names_the_three_places():
    cells = notebook("X = StandardScaler().fit_transform(X)", SPLIT, TRAIN, SCORE)
    found = findings_for(cells, select="RP801")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP801", 2, 1)]
    message = found[0].message
    assert "StandardScaler is fitted on `X` (cell 2)" in message
    assert "`train_test_split` (cell 3)" in message and "`X_test`" in message
    assert "accuracy in cell 5 is optimistic" in message
    assert found[0].category == "data-leakage" and found[0].severity is Severity.WARNING
    assert found[0].fix is not None and not found[0].fix.edits  # advice


@pytest.mark.parametrize("leak", [
    "scaler = StandardScaler()\nscaler.fit(X)\nX = scaler.transform(X)",
    "imputer = SimpleImputer(strategy='median').fit(X)\nX = pd.DataFrame(imputer.transform(X))",
    "X = PCA(n_components=5).fit_transform(X)",
    "X = X.fillna(X.mean())",
    "X['age'] = X['age'].fillna(X['age'].median())",
    "X = (X - X.mean()) / X.std()",
    "X.fillna(X.mean(), inplace=True)",
])
def test_statistics_learned_from_all_rows_before_the_split(leak):
    assert [c for c, _, _ in codes_for(notebook(leak, SPLIT, TRAIN, SCORE), select="RP801")] == ["RP801"]


def test_scaler_fitted_on_all_rows_after_the_split_still_leaks():
    cells = notebook(SPLIT, "scaler = StandardScaler().fit(X)",
                     "X_train = scaler.transform(X_train)\nX_test = scaler.transform(X_test)", TRAIN, SCORE)
    found = findings_for(cells, select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(3, 1)]
    assert "also puts in the test part" in found[0].message


def test_through_the_notebooks_own_function():
    scale = "def scale(frame):\n    scaler = StandardScaler()\n    return scaler.fit_transform(frame)"
    found = findings_for(notebook(scale, "X = scale(X)", SPLIT, TRAIN, SCORE), select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(3, 1)]  # the call that fits, not the def


def test_scaled_before_cross_validation():
    cells = notebook("X_scaled = StandardScaler().fit_transform(X)",
                     "print(cross_val_score(LogisticRegression(), X_scaled, y, cv=5).mean())")
    found = findings_for(cells, select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(2, 1)]
    assert "cross-validation in cell 3" in found[0].message


@pytest.mark.parametrize("cells", [
    # the same operations after the split: fit on the training part, transform the test part
    [SPLIT, "scaler = StandardScaler().fit(X_train)\nX_train = scaler.transform(X_train)\n"
            "X_test = scaler.transform(X_test)", TRAIN, SCORE],
    [SPLIT, "X_train = X_train.fillna(X_train.mean())\nX_test = X_test.fillna(X_train.mean())", TRAIN, SCORE],
    # a pipeline fitted on the training part
    [SPLIT, "model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)", SCORE],
    [SPLIT, "model = Pipeline([('scale', StandardScaler()), ('lr', LogisticRegression())])\n"
            "model.fit(X_train, y_train)", SCORE],
    # a pipeline inside cross-validation and inside a search
    ["print(cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5))"],
    [SPLIT, "search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {'logisticregression__C': [1, 10]})\n"
            "search.fit(X_train, y_train)", "print(search.score(X_test, y_test))"],
    # a fitted transform whose output never reaches training
    ["X_plot = PCA(n_components=2).fit_transform(X)", SPLIT, TRAIN, SCORE],
    # stateless transforms
    ["X = np.log1p(X)", SPLIT, TRAIN, SCORE],
    ["X['plan'] = X['plan'].map({'basic': 0, 'pro': 1})\nX = X.fillna(0)", SPLIT, TRAIN, SCORE],
    # fitted on everything but nothing is scored on a test part
    ["X = StandardScaler().fit_transform(X)", "model = LogisticRegression().fit(X, y)"],
    # statistics of a group table are not a statistic of every row
    ["X['city_rate'] = X['city'].map(X.groupby('city')['calls'].mean())", SPLIT, TRAIN, SCORE],
])
def test_preprocessing_near_misses(cells):
    assert codes_for(notebook(*cells), select="RP801") == []


# --- RP802 overlap-leakage ---------------------------------------------------------------------------


def test_smote_before_the_split():
    cells = notebook("X, y = SMOTE(random_state=0).fit_resample(X, y)", SPLIT, TRAIN, SCORE)
    found = findings_for(cells, select="RP802")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP802", 2, 1)]
    assert "SMOTE oversamples `X` (cell 2)" in found[0].message and "(cell 3)" in found[0].message
    assert "cell 5" in found[0].message and found[0].severity is Severity.ERROR


def test_resample_with_replacement_before_the_split():
    up = ("minority = df[df.churned == 1]\nup = resample(minority, replace=True, n_samples=500, random_state=0)\n"
          "df = pd.concat([df[df.churned == 0], up])\nX, y = df.drop(columns='churned'), df['churned']")
    assert codes_for(notebook(up, SPLIT, TRAIN, SCORE), select="RP802") == [("RP802", 2, 2)]


def test_oversampling_before_cross_validation():
    cells = notebook("X_res, y_res = SMOTE().fit_resample(X, y)",
                     "print(cross_val_score(RandomForestClassifier(random_state=0), X_res, y_res).mean())")
    assert codes_for(cells, select="RP802") == [("RP802", 2, 1)]


def test_model_trained_on_the_rows_it_is_scored_on():
    cells = notebook(SPLIT, "model = RandomForestClassifier(random_state=0)\nmodel.fit(X, y)", SCORE)
    found = findings_for(cells, select="RP802")
    assert [(f.cell_index, f.line) for f in found] == [(3, 2)]
    assert "trained on `X` (cell 3)" in found[0].message and "`X_test`" in found[0].message


@pytest.mark.parametrize("cells", [
    # oversampling the training part only
    [SPLIT, "X_train, y_train = SMOTE(random_state=0).fit_resample(X_train, y_train)", TRAIN, SCORE],
    # an imbalanced-learn pipeline inside cross-validation
    ["print(cross_val_score(make_imb_pipeline(SMOTE(), LogisticRegression()), X, y, cv=5))"],
    # a final refit on everything after the test score
    [SPLIT, TRAIN, SCORE, "final = LogisticRegression().fit(X, y)"],
    [SPLIT, TRAIN, SCORE, "model.fit(X, y)"],
    # resampling without replacement is a shuffle, not copies
    ["df = resample(df, replace=False, random_state=0)\nX, y = df.drop(columns='churned'), df['churned']",
     SPLIT, TRAIN, SCORE],
    # a second split of the test part into validation and test: the training part holds neither
    [SPLIT, "X_val, X_test, y_val, y_test = train_test_split(X_test, y_test, test_size=0.5)", TRAIN, SCORE],
])
def test_overlap_near_misses(cells):
    assert codes_for(notebook(*cells), select="RP802") == []


# --- RP803 multi-test-leakage ------------------------------------------------------------------------

SWEEP = """scores = {}
for k in range(1, 30):
    knn = KNeighborsClassifier(n_neighbors=k).fit(X_train, y_train)
    scores[k] = knn.score(X_test, y_test)"""


def test_best_of_a_hyperparameter_loop_chosen_on_the_test_set():
    cells = notebook(SPLIT, SWEEP, "best_k = max(scores, key=scores.get)")
    found = findings_for(cells, select="RP803")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP803", 4, 1)]
    assert "`X_test`" in found[0].message and "cell 2" in found[0].message and "cell 3" in found[0].message


def test_a_sweep_on_the_test_set_without_an_explicit_max():
    cells = notebook(SPLIT, "errors = []\nfor k in range(1, 30):\n    knn = KNeighborsClassifier(n_neighbors=k)\n"
                            "    knn.fit(X_train, y_train)\n    errors.append(np.mean(knn.predict(X_test) != y_test))")
    assert codes_for(cells, select="RP803") == [("RP803", 3, 2)]


def test_several_models_compared_on_the_test_set_and_the_best_kept():
    cells = notebook(SPLIT,
                     "lr = LogisticRegression().fit(X_train, y_train)\nacc_lr = lr.score(X_test, y_test)",
                     "rf = RandomForestClassifier(random_state=0).fit(X_train, y_train)\n"
                     "acc_rf = f1_score(y_test, rf.predict(X_test))",
                     "best = np.argmax([acc_lr, acc_rf])")
    assert codes_for(cells, select="RP803") == [("RP803", 5, 1)]


def test_a_loop_over_models_keeping_the_best_so_far():
    loop = ("models = {'lr': LogisticRegression(), 'rf': RandomForestClassifier(random_state=0)}\n"
            "best_score, best_model = 0, None\n"
            "for name, candidate in models.items():\n"
            "    candidate.fit(X_train, y_train)\n"
            "    score = accuracy_score(y_test, candidate.predict(X_test))\n"
            "    if score > best_score:\n"
            "        best_score, best_model = score, candidate")
    assert codes_for(notebook(SPLIT, loop), select="RP803") == [("RP803", 3, 6)]


def test_early_stopping_on_the_test_set():
    xgb = ("import xgboost as xgb\nmodel = xgb.XGBClassifier(early_stopping_rounds=20)\n"
           "model.fit(X_train, y_train, eval_set=[(X_test, y_test)])")
    found = findings_for(notebook(SPLIT, xgb, SCORE), select="RP803")
    assert [(f.cell_index, f.line) for f in found] == [(3, 3)]
    assert "Early stopping" in found[0].message and "cell 4" in found[0].message


def test_keras_early_stopping_on_the_test_set():
    keras = ("from tensorflow.keras.callbacks import EarlyStopping\n"
             "model.fit(X_train, y_train, epochs=50, validation_data=(X_test, y_test), "
             "callbacks=[EarlyStopping(patience=3)])\nloss, acc = model.evaluate(X_test, y_test)")
    assert codes_for(notebook(SPLIT, "model = build_model()", keras), select="RP803") == [("RP803", 4, 2)]


VALIDATION = ("X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)\n"
              "X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, random_state=0)")


@pytest.mark.parametrize("cells", [
    # a validation set for choosing, the test set scored once at the end
    [VALIDATION, SWEEP.replace("X_train, y_train", "X_fit, y_fit").replace("X_test, y_test", "X_val, y_val"),
     "best_k = max(scores, key=scores.get)",
     "final = KNeighborsClassifier(n_neighbors=best_k).fit(X_train, y_train)\nprint(final.score(X_test, y_test))"],
    # the validation part of a split named as such
    ["X_train, X_valid, y_train, y_valid = train_test_split(X, y)",
     SWEEP.replace("X_test, y_test", "X_valid, y_valid"), "best_k = max(scores, key=scores.get)"],
    # a search with cross-validation on the training part, the test set once
    [SPLIT, "search = GridSearchCV(KNeighborsClassifier(), {'n_neighbors': range(1, 30)}).fit(X_train, y_train)",
     "print(search.score(X_test, y_test))"],
    # one model scored twice on the test set, nothing chosen
    [SPLIT, TRAIN, SCORE, "print(f1_score(y_test, model.predict(X_test)))"],
    # early stopping on a validation set
    [VALIDATION, "import xgboost as xgb\nmodel = xgb.XGBClassifier(early_stopping_rounds=20)\n"
                 "model.fit(X_fit, y_fit, eval_set=[(X_val, y_val)])", SCORE],
    # the test set as validation data without early stopping only watches
    [SPLIT, "model = build_model()\nmodel.fit(X_train, y_train, validation_data=(X_test, y_test))",
     "model.evaluate(X_test, y_test)"],
    # a loop over training sizes of one model, scored on the test set: not choosing a model
    [SPLIT, "for n in [100, 200, 400]:\n    model = LogisticRegression().fit(X_train[:n], y_train[:n])\n"
            "    print(n, model.score(X_test, y_test))"],
])
def test_multi_test_near_misses(cells):
    assert codes_for(notebook(*cells), select="RP803") == []


def test_no_model_no_flow_cost():
    # A notebook without a split or a score gets nothing from any leakage rule.
    assert codes_for(["import pandas as pd\ndf = pd.read_csv('a.csv')\ndf.describe()"],
                     select=("RP801", "RP802", "RP803")) == []


# --- cross-validation written by hand -----------------------------------------------------------------

FOLDS = """from sklearn.model_selection import KFold
def run_cv(X, y, make_model):
    kf = KFold(n_splits=3, shuffle=True, random_state=0)
    y_pred = y.copy()
    for train_index, test_index in kf.split(X):
        X_train, X_test = X[train_index], X[test_index]
        model = make_model()
        model.fit(X_train, y[train_index])
        y_pred[test_index] = model.predict(X_test)
    return y_pred"""


def test_scaler_fitted_before_folds_written_by_hand():
    cells = notebook("X = StandardScaler().fit_transform(X)", FOLDS,
                     "print(np.mean(y == run_cv(X, y, LogisticRegression)))")
    found = findings_for(cells, select=("RP801", "RP803"))
    assert [(f.code, f.cell_index) for f in found] == [("RP801", 2)]
    assert "KFold" in found[0].message


def test_models_compared_by_folds_written_by_hand_are_not_multi_test():
    cells = notebook(FOLDS, "scores = {}\nfor make in [LogisticRegression, RandomForestClassifier]:\n"
                            "    scores[make] = accuracy_score(y, run_cv(X, y, make))\nbest = max(scores, key=scores.get)")
    assert codes_for(cells, select=("RP801", "RP802", "RP803")) == []


def test_a_study_of_how_test_scores_spread_over_candidates_is_not_a_choice():
    study = ("spread = []\nfor repeat in range(20):\n    scores = []\n    for degree in range(1, 6):\n"
             "        model = make_pipeline(StandardScaler(), LogisticRegression(C=degree)).fit(X_train, y_train)\n"
             "        scores.append(model.score(X_test, y_test))\n    spread.append(np.std(scores))")
    assert codes_for(notebook(SPLIT, study), select="RP803") == []


@pytest.mark.parametrize("cells", [
    # a loop over seeds tries no candidates
    [SPLIT, "for seed in range(5):\n    forest = RandomForestClassifier(random_state=seed).fit(X_train, y_train)\n"
            "    print(seed, forest.score(X_test, y_test))"],
    # the largest cell of a confusion matrix, to colour a plot, chooses nothing
    [SPLIT, "from sklearn.metrics import confusion_matrix\nfor candidate in [LogisticRegression(), RandomForestClassifier()]:\n"
            "    candidate.fit(X_train, y_train)\n    cm = confusion_matrix(y_test, candidate.predict(X_test))\n"
            "    thresh = cm.max() / 2"],
])
def test_not_a_choice(cells):
    found = findings_for(notebook(*cells), select="RP803")
    assert all("`max`" not in f.message for f in found)
    if "seed" in cells[1]:
        assert found == []


def test_best_of_a_comprehension_of_test_scores():
    cells = notebook(SPLIT, "models = [LogisticRegression(), RandomForestClassifier(random_state=0)]\n"
                            "for m in models:\n    m.fit(X_train, y_train)",
                     "best = models[int(np.argmax([m.score(X_test, y_test) for m in models]))]")
    assert codes_for(cells, select="RP803") == [("RP803", 4, 1)]


def test_scaled_before_a_search_whose_best_score_is_reported():
    cells = notebook("X_scaled = StandardScaler().fit_transform(X)",
                     "search = GridSearchCV(LogisticRegression(), {'C': [0.1, 1, 10]}).fit(X_scaled, y)\n"
                     "print(search.best_score_)")
    found = findings_for(cells, select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(2, 1)]
    assert "cross-validation in cell 3" in found[0].message


def test_oversampled_before_a_search_whose_best_score_is_reported():
    cells = notebook("X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)",
                     "search = GridSearchCV(RandomForestClassifier(random_state=0), {'max_depth': [3, 6]})\n"
                     "search.fit(X_res, y_res)\nprint(search.best_score_)")
    assert codes_for(cells, select="RP802") == [("RP802", 2, 1)]


def test_a_pipeline_inside_a_search_whose_best_score_is_reported():
    cells = notebook("search = GridSearchCV(make_imb_pipeline(SMOTE(), StandardScaler(), LogisticRegression()),\n"
                     "                      {'logisticregression__C': [0.1, 1]}).fit(X, y)\nprint(search.best_score_)")
    assert codes_for(cells, select=("RP801", "RP802", "RP803")) == []


AUGMENT = """def augment_rows(frame):
    noisy = frame.copy()
    noisy['monthly_charges'] = noisy['monthly_charges'] * 1.01
    return noisy"""


def test_augmentation_before_the_split():
    cells = notebook(AUGMENT, "X = pd.concat([X, augment_rows(X)])\ny = pd.concat([y, y])", SPLIT, TRAIN, SCORE)
    found = findings_for(cells, select="RP802")
    assert [(f.cell_index, f.line) for f in found] == [(3, 1)]
    assert "`augment_rows()` makes altered copies of `X` (cell 3)" in found[0].message


def test_augmentation_of_the_training_part_only():
    cells = notebook(AUGMENT, SPLIT, "X_train = pd.concat([X_train, augment_rows(X_train)])\n"
                                     "y_train = pd.concat([y_train, y_train])", TRAIN, SCORE)
    assert codes_for(cells, select="RP802") == []


@pytest.mark.parametrize("label", [
    "df['high_value'] = (df['monthly_charges'] > df['monthly_charges'].median()).astype(int)\n"
    "X, y = df.drop(columns='high_value'), df['high_value']",
    "df['high_value'] = (df['monthly_charges'] > df['monthly_charges'].median()).astype(int)\n"
    "X, y = df.drop('high_value', axis=1), df['high_value']",
    "df['high_value'] = (df['monthly_charges'] > df['monthly_charges'].median()).astype(int)\n"
    "features = ['tenure', 'monthly_charges']\nX, y = df[features], df['high_value']",
])
def test_a_label_defined_by_a_statistic_is_not_a_feature(label):
    assert codes_for(notebook(label, SPLIT, TRAIN, SCORE), select="RP801") == []


def test_a_feature_column_filled_with_the_mean_stays_in_the_features():
    fill = ("df['tenure'] = df['tenure'].fillna(df['tenure'].mean())\n"
            "X, y = df.drop(columns='churned'), df['churned']")
    assert codes_for(notebook(fill, SPLIT, TRAIN, SCORE), select="RP801") == [("RP801", 2, 1)]


def test_a_long_notebook_finds_the_same_through_its_slice():
    # Over 60 code cells the flow runs only what fits, splits, scores or chooses and what they need.
    filler = [f"summary_{i} = df.describe()\nprint(summary_{i})" for i in range(70)]
    cells = notebook("X = StandardScaler().fit_transform(X)", *filler, SPLIT, TRAIN, SCORE, SWEEP,
                     "best_k = max(scores, key=scores.get)")
    assert [code for code, _, _ in codes_for(cells, select=("RP801", "RP802", "RP803"))] == ["RP801", "RP803"]


def test_a_splitter_and_a_metric_imported_under_other_names_still_count():
    # The flow runs only when the notebook splits and scores: the calls' names tell, or what they import.
    renamed = ("from sklearn.model_selection import train_test_split as tts\n"
               "from sklearn.metrics import accuracy_score as acc")
    cells = notebook(renamed, "X = StandardScaler().fit_transform(X)",
                     SPLIT.replace("train_test_split(", "tts("), TRAIN,
                     "print(acc(y_test, model.predict(X_test)))")
    assert codes_for(cells, select="RP801") == [("RP801", 3, 1)]
    assert codes_for(cells[:-1], select="RP801") == []  # split and trained, never scored


def test_the_slice_reads_each_statement_from_the_nodes_the_analysis_recorded():
    source = ("import numpy as np, os.path\nfrom sklearn import svm as s\n"
              "def f(a):\n    import json as j\n    return [b.fit(a) for b in a]\n"
              "model.coef_[0] = 1; scores.append(model.score(X_test, y_test))\n"
              "@dec.orate\nclass C: pass\nX.fillna(0, inplace=True)\n")
    model = NotebookModel(notebook_from_sources([source]), Settings(ruff=False))
    [cell] = model.parsed_cells
    statements = cell.facts.statements
    walked = [{id(node) for node in ast.walk(statement) if not isinstance(
        node, (ast.alias, ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop))}
        for statement in statements]
    assert [{id(node) for node in nodes} for nodes in _nodes_by_statement(cell.facts)] == walked
    facts = _statement_facts(cell)
    assert facts[0][1] == {"np", "os"} and facts[1][1] == {"s"}
    assert facts[2][1] >= {"f", "j", "b"} and facts[2][2] == {"b"} and facts[2][3]  # a fit: kept
    assert facts[3][1] == {"model"} and not facts[3][3]  # `;` parts are statements of their own
    assert facts[4][2] == {"scores"} and facts[4][4]  # scores
    assert facts[5][0] >= {"dec"} and facts[5][1] == {"C"}
    assert facts[6][2] == {"X"} and not facts[6][3]


def test_a_column_transformer_fitted_before_the_split():
    prep = ("from sklearn.compose import ColumnTransformer\nfrom sklearn.preprocessing import OneHotEncoder\n"
            "prep = ColumnTransformer([('num', make_pipeline(SimpleImputer(), StandardScaler()), ['tenure']),\n"
            "                          ('cat', OneHotEncoder(), ['plan'])])\nX = prep.fit_transform(X)")
    found = findings_for(notebook(prep, SPLIT, TRAIN, SCORE), select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(2, 5)]
    assert found[0].message.startswith("ColumnTransformer is fitted on `X` (cell 2)")


def test_a_column_transformer_of_stateless_steps_learns_nothing():
    prep = ("from sklearn.compose import ColumnTransformer\nfrom sklearn.preprocessing import OneHotEncoder\n"
            "X = ColumnTransformer([('cat', OneHotEncoder(), ['plan'])], remainder='passthrough').fit_transform(X)")
    assert codes_for(notebook(prep, SPLIT, TRAIN, SCORE), select="RP801") == []


def test_xgboost_train_stopping_on_the_test_set():
    boost = ("import xgboost as xgb\ndtrain = xgb.DMatrix(X_train, label=y_train)\n"
             "dtest = xgb.DMatrix(X_test, label=y_test)\n"
             "booster = xgb.train({'max_depth': 3}, dtrain, evals=[(dtest, 'test')], early_stopping_rounds=10)\n"
             "print(accuracy_score(y_test, booster.predict(dtest) > 0.5))")
    assert codes_for(notebook(SPLIT, boost), select="RP803") == [("RP803", 3, 4)]


def test_lightgbm_stopping_callback_on_the_test_set():
    boost = ("import lightgbm as lgb\nmodel = lgb.LGBMClassifier(n_estimators=500)\n"
             "model.fit(X_train, y_train, eval_set=[(X_test, y_test)], callbacks=[lgb.early_stopping(50)])\n"
             "print(f1_score(y_test, model.predict(X_test)))")
    assert codes_for(notebook(SPLIT, boost), select="RP803") == [("RP803", 3, 3)]
    watched = boost.replace("callbacks=[lgb.early_stopping(50)]", "callbacks=[lgb.log_evaluation(10)]")
    assert codes_for(notebook(SPLIT, watched), select="RP803") == []


def test_group_statistics_filled_in_before_the_split():
    fill = ("df['tenure'] = df.groupby('plan')['tenure'].transform(lambda x: x.fillna(x.median()))\n"
            "X, y = df.drop(columns='churned'), df['churned']")
    found = findings_for(notebook(fill, SPLIT, TRAIN, SCORE), select="RP801")
    assert [(f.cell_index, f.line) for f in found] == [(2, 1)]
    assert found[0].message.startswith("The median of `df.groupby('plan')['tenure']`")


def test_group_transforms_without_a_statistic_are_not_leakage():
    shift = ("df['previous'] = df.groupby('customer')['calls'].transform(lambda x: x.shift(1))\n"
             "X, y = df.drop(columns='churned'), df['churned']")
    assert codes_for(notebook(shift, SPLIT, TRAIN, SCORE), select="RP801") == []


def test_clearing_the_analysis_cache_also_lets_go_of_the_last_flows():
    """The last flows are kept for the sidebar's next re-check; they hold the cells' facts, so clearing
    the analysis cache must drop them too, or every tree stays alive (and each collection walks it)."""
    import gc

    from readiness_magics import engine
    from readiness_magics.analysis import CellFacts

    marker = "leak_marker_7f3a = 1\n"
    cells = notebook("scaler = StandardScaler().fit(X)\nX = scaler.transform(X)", SPLIT, TRAIN, SCORE, marker)
    assert "RP801" in [code for code, _, _ in codes_for(cells)]  # the flow was built and kept

    def alive():
        return [o for o in gc.get_objects() if type(o) is CellFacts and o.source == marker]

    assert alive()
    engine.clear_caches()
    gc.collect()
    assert alive() == []
