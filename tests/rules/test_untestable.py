"""untestable-code: RP401-RP408."""
import pytest

from readiness_magics.findings import Severity
from tests.helpers import codes_for, findings_for

IMPORTS = "import numpy as np\nimport pandas as pd\nimport random\n"
SKLEARN = (
    "from sklearn.model_selection import train_test_split, KFold, StratifiedKFold, ShuffleSplit\n"
    "from sklearn.ensemble import RandomForestClassifier, GradientBoostingRegressor\n"
    "from sklearn.linear_model import LinearRegression, LogisticRegression\n"
    "from sklearn.preprocessing import StandardScaler\n"
    "from sklearn.cluster import KMeans\n"
)


def codes(cells, select):
    return codes_for(cells, select=select)


# --- RP401 function-reads-notebook-state ------------------------------------------------------------


def test_function_reading_a_global_from_another_cell():
    cells = [IMPORTS + "df = pd.DataFrame({'a': [1]})\nthreshold = 0.5",
             "def big(rows):\n    return rows[rows['a'] > threshold]"]
    found = findings_for(cells, select="RP401")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP401", 1, 2, 29)]
    assert "'threshold'" in found[0].message
    assert found[0].severity is Severity.WARNING


def test_one_finding_per_function_listing_every_name_at_the_first_read():
    cells = ["df = load()\nmodel = make()\nlimit = 3",
             "def predict_top():\n    preds = model.predict(df)\n    return preds[:limit] + len(df)"]
    found = findings_for(cells, select="RP401")
    assert [(f.cell_index, f.line, f.column) for f in found] == [(1, 2, 13)]
    assert "'model', 'df' and 'limit'" in found[0].message


def test_global_statement_mutating_state_is_reported():
    cells = ["counter = 0", "def bump():\n    global counter\n    counter += 1"]
    found = findings_for(cells, select="RP401")
    assert [(f.cell_index, f.line) for f in found] == [(1, 2)]
    assert "global" in found[0].message and "'counter'" in found[0].message


def test_global_created_by_the_function_is_still_mutation():
    assert codes(["def remember(x):\n    global last_seen\n    last_seen = x"], "RP401") == [("RP401", 0, 2)]


@pytest.mark.parametrize("definitions, body", [
    ("import numpy as np", "return np.log(x)"),  # modules
    ("THRESHOLD = 0.5", "return x > THRESHOLD"),  # UPPER_CASE constants
    ("MAX_ROWS_2 = 10", "return x[:MAX_ROWS_2]"),
    ("def helper(v):\n    return v", "return helper(x)"),  # functions
    ("class Scaler:\n    pass", "return Scaler()"),  # classes
    ("square = lambda v: v * v", "return square(x)"),  # a lambda is a function too
    ("df = 1", "return len(x) + sum(x)"),  # builtins
    ("x = 5", "return x * 2"),  # a parameter shadowing a global
    ("data = [1]", "data = x + 1\n    return data"),  # a local shadowing a global
    ("items = [1]", "return [item for item in x]"),  # comprehension variable
])
def test_not_state(definitions, body):
    assert codes([definitions, f"def f(x):\n    {body}"], "RP401") == []


def test_global_bound_only_in_the_def_cell_is_not_from_another_cell():
    assert codes(["offset = 2\ndef shift(x):\n    return x + offset"], "RP401") == []


def test_global_bound_in_the_def_cell_and_elsewhere_is_reported():
    assert codes(["offset = 1", "offset = 2\ndef shift(x):\n    return x + offset"], "RP401") == [("RP401", 1, 3)]


def test_a_capital_letter_computed_from_data_is_state_not_a_constant():
    cells = ["X = df.drop(columns='y')\ny = df['y']\nN = 100",
             "def score(model):\n    return model.score(X, y) * N"]
    found = findings_for(cells, select="RP401")
    assert len(found) == 1 and "'X' and 'y'" in found[0].message and "'N'" not in found[0].message


def test_undefined_name_is_not_state():
    assert codes(["def f(x):\n    return x + never_defined"], "RP401") == []


# --- RP402 function-computes-and-writes ------------------------------------------------------------


@pytest.mark.parametrize("body, line", [
    ("totals = df.groupby('a').sum()\n    totals.to_csv(path)", 2),
    ("df.groupby('a').sum().to_parquet(path)", 1),
    ("model = RandomForestClassifier(random_state=0)\n    model.fit(df, y)\n    joblib.dump(model, path)", 3),
    ("with open(path, 'w') as f:\n        json.dump({'mean': np.mean(df)}, f)", 1),
    ("fig, ax = plt.subplots()\n    ax.plot(df.cumsum())\n    fig.savefig(path)", 3),
    ("fig, ax = plt.subplots()\n    ax.hist(df['a'])\n    ax.set_title('a')\n    fig.savefig(path)", 4),  # draws
    ("sns.histplot(df['a'])\n    plt.savefig(path)", 2),
    ("np.save(path, df.values * 2)", 1),
    ("pickle.dump(sorted(df), open(path, 'wb'))", 1),
    ("torch.save(train(df), path)", 1),
    ("result = df[df['a'] > 0]\n    result.to_excel(path)", 2),
    ("df['b'] = df['a'] * 2\n    Path(path).write_text(df.to_json())", 2),
])
def test_computing_and_writing(body, line):
    cell = IMPORTS + "import json, pickle, joblib, torch\nfrom pathlib import Path\n" \
        "import matplotlib.pyplot as plt\nimport seaborn as sns\n" + f"def step(df, y, path):\n    {body}\n"
    found = findings_for([cell], select="RP402")
    assert [(f.code, f.line - 8) for f in found] == [("RP402", line)], found


@pytest.mark.parametrize("body", [
    "df.to_csv(path, index=False)",  # writes what it was given
    ("os.makedirs(out_dir, exist_ok=True)\n    p = os.path.join(out_dir, 'x.csv')\n    df.to_csv(p)\n"
    "    print(f'saved {len(df)} rows to {p}')\n    return p"),
    "with open(path, 'w') as f:\n        json.dump(df, f, indent=2)",
    "pd.DataFrame(df).to_csv(path)",
    "fig.tight_layout()\n    fig.savefig(path, dpi=150)\n    plt.close(fig)",  # saves a figure it was given
    "for i, fig in enumerate(df):\n        fig.savefig(os.path.join(out_dir, f'fig_{i + 1}.png'))",
    "r = requests.get(url)\n    with open(path, 'wb') as f:\n        f.write(r.content)",  # a download
    "buf = io.BytesIO()\n    df.groupby('a').sum().to_parquet(buf)\n    return buf",  # memory, not a file
    "return df.groupby('a').sum()",  # computes, writes nothing
    "return pd.read_csv(path).dropna()",  # a loader
    "text = df.to_csv()\n    return text.upper()",  # to_csv() without a path returns a string
])
def test_io_only_helpers_and_pure_functions(body):
    cell = IMPORTS + "import io, os, json, requests\nimport matplotlib.pyplot as plt\n" \
        f"def helper(df, path, out_dir, url, fig):\n    {body}\n"
    assert codes([cell], "RP402") == []


def test_open_for_reading_is_not_a_write():
    assert codes(["def count(path):\n    with open(path) as f:\n        return len(f.read().split())"], "RP402") == []


# --- RP403 top-level-training ------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "model.fit(X, y)",
    "history = model.fit(X, y, epochs=3)",
    "model = LinearRegression().fit(X, y)",
    "labels = km.fit_predict(X)",
    "sgd.partial_fit(X, y)",
    "booster = xgb.train(params, dtrain)",
    "booster = lgb.train(params, train_set)",
    "trainer.train()",
    "learn.fit_one_cycle(3)",
    "results = sm.OLS(y, X).fit()",
    "for m in models:\n    m.fit(X, y)",
    "if retrain:\n    model.fit(X, y)",
])
def test_top_level_training(line):
    cell = "import xgboost as xgb\nimport lightgbm as lgb\nimport statsmodels.api as sm\n" + line
    assert codes([cell], "RP403") == [("RP403", 0, 4 + line.count("\n"))]


@pytest.mark.parametrize("cell", [
    "def train(X, y):\n    model.fit(X, y)\n    return model",  # inside a function
    "model = train(X, y)",  # orchestration: the notebook's own function trains
    "X_scaled = scaler.fit_transform(X)",  # data preparation
    "model.train()",  # PyTorch: switch to training mode
    "model.train(False)",
    "model.predict(X)",
    "from PIL import ImageOps\nthumb = ImageOps.fit(image, (64, 64))",
    "from scipy import stats\nparams = stats.norm.fit(data)",
    "class Wrapper:\n    def fit(self, X):\n        self.model.fit(X)",
    "callback = lambda: model.fit(X, y)",
])
def test_not_top_level_training(cell):
    assert codes([cell], "RP403") == []


def test_training_position():
    found = findings_for(["X = [[1]]\ny = [1]\nmodel.fit(X, y)"], select="RP403")
    assert [(f.line, f.column, f.end_column) for f in found] == [(3, 1, 16)]


# --- RP404 top-level-loop ----------------------------------------------------------------------------


@pytest.mark.parametrize("loop, work_line", [
    ("for price in prices:\n    total += price", 2),
    ("for f in files:\n    frames.append(pd.read_csv(f))", 2),
    ("for c in cols:\n    df[c] = df[c].fillna(0)", 2),
    ("for i in range(3):\n    x = i * 2\n    print(x)\nlast = x + 1", 2),
    ("for row in rows:\n    if row > 0:\n        count += 1\nprint(count)", 3),
    ("for epoch in range(3):\n    loss = model(batch).loss\n    loss.backward()\n    optimizer.step()", 2),
    ("for c in cols:\n    df.drop(c, axis=1, inplace=True)", 2),
    ("for x in xs:\n    cache.update({x: 1})", 2),
])
def test_loop_that_computes(loop, work_line):
    found = findings_for([f"import pandas as pd\n{loop}"], select="RP404")
    assert [(f.code, f.line, f.column) for f in found] == [("RP404", 2, 1)]
    assert f"line {work_line + 1}" in found[0].message


@pytest.mark.parametrize("loop", [
    "for x in xs:\n    print(x)",
    "for f in files:\n    process(f)",
    "for c in cols:\n    fig, ax = plt.subplots()\n    ax.hist(df[c])\n    ax.set_title(c)",
    "for i, c in enumerate(cols):\n    plt.subplot(2, 2, i + 1)\n    sns.histplot(df[c])",
    "for i, c in enumerate(cols):\n    ax = axes[i - 1]\n    ax.plot(df[c])",
    "i = 1\nfor c in cols:\n    plt.subplot(2, 2, i)\n    plt.hist(df[c])\n    i += 1",  # a subplot counter
    "for name, frame in frames.items():\n    print(name, frame.shape)\n    display(frame.head())",
    "squares = [x * x for x in xs]",  # a comprehension is not a loop here
    "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t",  # inside a function
])
def test_loop_that_only_prints_plots_or_calls(loop):
    cell = "import matplotlib.pyplot as plt\nimport seaborn as sns\ndef process(f):\n    pass\n"
    assert codes([cell, loop], "RP404") == []


def test_a_loop_that_trains_is_one_finding_of_top_level_training():
    for loop in ["for k in range(2, 9):\n    km = KMeans(n_clusters=k)\n    km.fit(X)\n    scores.append(km.inertia_)",
                 "for m in models:\n    m.fit(X, y)"]:
        assert codes([SKLEARN, loop], ("RP403", "RP404")) == [("RP403", 1, 3 if "km" in loop else 2)]


@pytest.mark.parametrize("cell", [
    # a loop that only draws subplots
    "for ax, img in zip(axes, imgs):\n    ax.imshow(img)\n    ax.set_title('x')",
    # values computed only to be drawn or printed
    "for airline in airlines:\n    subset = flights[flights['name'] == airline]\n    sns.distplot(subset['delay'])",
    "for m, b in [(1, 0.6), (0.5, 1.6)]:\n    yfit = m * xfit + b\n    plt.plot(xfit, yfit, '-k')",
    ("for _ in range(5):\n    idx = random.randint(0, len(ds) - 1)\n    example = ds[idx]\n"
    "    print(example['label'])\n    display(Audio(example['audio'], rate=16000))"),
    "for hit in hits:\n    chunk = unescape(hit['text'])\n    print(chunk)",
    "for i in range(4):\n    lines += ax.plot(x, np.sin(x - i), styles[i])",
    "for i in range(n):\n    img = images[i]\n    ax[0][i].imshow(img)\n    ax[0][i].axis('off')",
    ("for user in users:\n    rank = 1\n    for item in recs[user]:\n        title = titles[item]\n"
    "        print(rank, title)\n        rank += 1"),
    # a counter that only stops the loop, and results nobody reads (a load test)
    ("idx = 0\nfor h, entry in table.items():\n    if idx == 5:\n        break\n    if len(entry) < 5:\n"
    "        print(h, entry)\n        idx += 1"),
    "for i in range(100):\n    resp = predictor.predict(data={'inputs': 'a sentence'})",
    "while not done:\n    done = step()",  # only calls a function until it says it is done
    # a call per item whose answer is only checked
    ("for value, name in zip(values, names):\n    r = slack.users.profile.set(name=name, value=value)\n"
    "    if not r:\n        print(r.error)"),
    # a list built only to be drawn by the notebook's plot helper
    "images = []\nfor i in ids:\n    images.append(candidates[i]['image'])\nimages.insert(0, sample)\nplot_images(images)",
    # waiting for a remote job
    "while True:\n    res = client.jobs.retrieve(job_id)\n    if res.done:\n        break\n    time.sleep(60)",
    # building a path for each file it downloads
    "for f in run.get_file_names():\n    out = os.path.join(MODEL_DIR, f)\n    run.download_file(name=f, output_file_path=out)",
    ("for spec in specs:\n    spec_path = github_prefix + spec\n    print(spec)\n"
    "    subprocess.run(f'az ml component create --file {spec_path}', shell=True)"),
])
def test_loops_that_only_show_wait_or_move_files_are_not_logic(cell):
    imports = ("def plot_images(images):\n    plt.imshow(images[0])\n""import os\nimport time\nimport random\nimport matplotlib.pyplot as plt\nimport seaborn as sns\n"
               "from IPython.display import Audio, display\nfrom html import unescape\n")
    assert codes([imports, cell], "RP404") == []


def test_a_checked_answer_that_is_also_counted_or_kept_is_logic():
    counted = ("correct = 0\nfor x, y in pairs:\n    pred = model.predict(x)\n    if pred == y:\n        correct += 1\n"
               "print(correct / len(pairs))")
    kept = "for q in queries:\n    res = index.query(q)\n    if res:\n        print(res)\n    ids = [m.id for m in res]"
    assert codes([counted], "RP404") == [("RP404", 0, 2)]
    assert codes([kept], "RP404") == [("RP404", 0, 1)]


def test_a_value_drawn_in_the_loop_and_used_after_it_is_logic():
    imports = "import matplotlib.pyplot as plt\n"
    cell = "for m in ms:\n    yfit = m * xfit\n    plt.plot(xfit, yfit)\nbest = yfit.max()"
    assert codes([imports, cell], "RP404") == [("RP404", 1, 1)]
    polling_that_keeps = "while True:\n    res = job.poll()\n    results.append(res)\n    time.sleep(5)"
    assert codes(["import time", polling_that_keeps], "RP404") == [("RP404", 1, 1)]


def test_loop_calling_a_notebook_function_for_each_item():
    cells = ["def summarise(f):\n    return f", "for f in files:\n    summary = summarise(f)\n    print(summary)"]
    assert codes(cells, "RP404") == []


def test_nested_loops_are_one_finding():
    assert codes(["for i in a:\n    for j in b:\n        grid[i, j] = i * j"], "RP404") == [("RP404", 0, 1)]


def test_what_a_def_inside_a_loop_does_is_not_the_loop_s_own():
    # Training or sleeping inside a def the loop only defines runs when the def is called, not in the loop.
    trains_later = "for k in ks:\n    def fit_one(X, y):\n        return model.fit(X, y)\n    fitters.append(fit_one)"
    sleeps_later = "while busy:\n    def pause():\n        time.sleep(1)\n    status = job.poll()"
    assert codes([SKLEARN, trains_later], ("RP403", "RP404")) == [("RP404", 1, 1)]
    assert codes(["import time", sleeps_later, "print(status)\nbest = status + 1"], "RP404") == [("RP404", 1, 1)]


def test_the_same_loop_in_two_cells_is_judged_in_each():
    # Identical cells share one parse. The first copy's counter only stops its loop; the second's is
    # printed after it: a result.
    loop = "idx = 0\nfor row in rows:\n    if row:\n        idx += 1\n    if idx == 5:\n        break"
    found = findings_for([loop, loop, "print(idx)"], select="RP404")
    assert [(f.cell_index, f.line) for f in found] == [(1, 2)]
    assert "(line 4)" in found[0].message


# --- RP405 top-level-data-pipeline -------------------------------------------------------------------

LOAD = IMPORTS + "df = pd.read_csv('sales.csv')\nSEED = 1\n"


def test_four_data_statements():
    cell = ("df['revenue'] = df['price'] * df['qty']\n"
            "df = df[df['qty'] > 0]\n"
            "summary = df.groupby('store')['revenue'].sum()\n"
            "share = summary / summary.sum()\n")
    found = findings_for([LOAD, cell], select="RP405")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP405", 1, 1, 1)]
    assert "4 top-level statements" in found[0].message and "lines 1, 2, 3 and 4" in found[0].message


@pytest.mark.parametrize("statement", [
    "df.dropna(inplace=True)",
    "df.columns = [c.lower() for c in df.columns]",
    "df['x'] = 0",
    "n = len(df)",
    "X = df.drop(columns='y')",
    "results.append(df.mean())",
    "total += df['a'].sum()",
])
def test_kinds_of_data_work(statement):
    cells = [LOAD + "results = []\ntotal = 0", "y = df['y']\nX = df[['a']]\nmeans = X.mean()\n" + statement]
    assert codes(cells, "RP405") == [("RP405", 1, 1)]


def test_three_statements_are_orchestration():
    cell = "y = df['y']\nX = df.drop(columns='y')\nmeans = X.mean()\nprint(means)"
    assert codes([LOAD, cell], "RP405") == []


@pytest.mark.parametrize("statement", [
    "model = RandomForestClassifier(n_estimators=10)",  # building a model object
    "import os",
    "N_TREES = 100",
    "n_samples = 100",  # a setting
    "raw = pd.read_csv('other.csv')",  # a load
    "fig, ax = plt.subplots()",
    "ax.plot(df['a'])",
    "print(df.shape)",
    "df.head()",
    "clean = clean_frame(df)",  # the notebook's own function
    "model.fit(X, y)",  # training is RP403's
    "layers.append(Dense(3))",  # building a model, not data
])
def test_not_data_work(statement):
    cells = [LOAD + "import matplotlib.pyplot as plt\ndef clean_frame(d):\n    return d\nlayers = [Dense(2)]",
             "y = df['y']\nX = df[['a']]\nmeans = X.mean()\n" + statement]
    assert codes(cells, "RP405") == []


def test_statements_reading_only_parameters_are_not_data_work():
    cells = [{"source": "data_dir = 'data'\ntest_size = 0.2", "tags": ["parameters"]},
             ("import os\npath = os.path.join(data_dir, 'a.csv')\nsplit = test_size * 2\n"
             "half = test_size / 2\nlabel = f'{data_dir}-{test_size}'")]
    assert codes(cells, "RP405") == []


def test_statements_inside_if_and_with_blocks_count():
    cell = "if True:\n    a = df['a']\n    b = df['b']\nwith ctx:\n    c = a + b\n    d = c * 2"
    assert codes([LOAD, cell], "RP405") == [("RP405", 1, 2)]


@pytest.mark.parametrize("cells_after", [1, 12])
def test_a_frame_only_displayed_is_not_a_pipeline_however_many_cells_follow(cells_after):
    # Each column feeds the frame, which feeds every later statement: the flow joins again at every
    # step. The answer must not depend on how long the notebook goes on.
    columns = ["year", "month", "day", "hour"]
    cell = "".join(f"df['{c}'] = df['ts'].apply(lambda d: d.{c})\n" for c in columns) + "df[['ts', 'year']]"
    later = [f"df['c{i}'] = df['ts'].apply(lambda d: d.minute + {i})\ndf[['ts', 'c{i}']]" for i in range(cells_after)]
    assert codes([LOAD + "df = pd.DataFrame({'ts': pd.to_datetime(['2020-01-01'])})", cell, *later], "RP405") == []


# --- RP406 interactive-input -------------------------------------------------------------------------


def test_input_anywhere():
    cells = ["name = input('Which store? ')", "def ask():\n    return {s: input(s) for s in 'ab'}"]
    found = findings_for(cells, select="RP406")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP406", 0, 1, 8), ("RP406", 1, 2, 16)]
    assert found[0].severity is Severity.ERROR


@pytest.mark.parametrize("cell", [
    "import getpass\nkey = getpass.getpass('API key: ')",  # the recommended way to read a secret
    "from getpass import getpass\nkey = getpass()",
    "input_dim = 3\nlayer = Input(shape=(input_dim,))",
    "def input(prompt):\n    return 'x'\nvalue = input('a')",  # the notebook's own input()
    "# value = input('a')",
    "print('input() is not called here')",
])
def test_not_interactive_input(cell):
    assert codes([cell], "RP406") == []


# --- RP407 unseeded-randomness -----------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "X_tr, X_te = train_test_split(X, test_size=0.2)",
    "X_tr, X_te = train_test_split(X, random_state=None)",
    "model = RandomForestClassifier(n_estimators=10)",
    "model = GradientBoostingRegressor()",
    "km = KMeans(n_clusters=3)",
    "cv = KFold(5, shuffle=True)",
    "cv = StratifiedKFold(n_splits=5, shuffle=True)",
    "cv = ShuffleSplit(n_splits=3)",
    "sample = df.sample(frac=0.5)",
    "noise = np.random.rand(3)",
    "np.random.shuffle(values)",
    "rng = np.random.default_rng()",
    "rng = np.random.RandomState()",
    "pick = random.choice(items)",
    "random.shuffle(items)",
    "grid = GridSearchCV(RandomForestClassifier(), {'max_depth': [2, 3]})",
])
def test_unseeded(line):
    cell = IMPORTS + SKLEARN + "from sklearn.model_selection import GridSearchCV\n" + line
    assert codes([cell], "RP407") == [("RP407", 0, 10)]


def test_unseeded_torch_and_tensorflow():
    cells = ["import torch\nimport tensorflow as tf\nw = torch.randn(3, 3)\nb = tf.random.normal([3])"]
    found = findings_for(cells, select="RP407")
    assert [(f.code, f.cell_index, f.line) for f in found] == [("RP407", 0, 3)]  # one finding per cell
    assert "torch.randn()" in found[0].message and "again on line 4" in found[0].message


@pytest.mark.parametrize("line", [
    "X_tr, X_te = train_test_split(X, test_size=0.2, random_state=42)",
    "X_tr, X_te = train_test_split(X, random_state=SEED)",  # a seed from a parameter or constant
    "X_tr, X_te = train_test_split(X, shuffle=False)",
    "model = RandomForestClassifier(n_estimators=10, random_state=seed)",
    "model = RandomForestClassifier(**best_params)",  # may well carry random_state
    "model = LinearRegression()",
    "model = LogisticRegression()",
    "scaler = StandardScaler()",
    "cv = KFold(5)",  # no shuffling, no randomness
    "cv = KFold(5, shuffle=False)",
    "sample = df.sample(frac=0.5, random_state=0)",
    "df.sample(5)",  # only displayed
    "print(df.sample(5))",
    "round(df.sample(5), 2)",
    "df.sample(5).head()",
    "images = vae.sample(z, temperature=0.7)",  # not a frame's sample()
    "gmm = GaussianMixture(4, random_state=0)\nnew = gmm.sample(100)",  # a seeded estimator's sample()
    "rng = np.random.default_rng(42)",
    "rng = np.random.default_rng(SEED)\nnoise = rng.normal(size=3)",
    "print(np.random.rand(3))",  # only displayed
    "import xgboost as xgb\nmodel = xgb.XGBClassifier()",  # seeds itself
])
def test_seeded_or_deterministic(line):
    cell = IMPORTS + SKLEARN + "from sklearn.mixture import GaussianMixture\nSEED = 42\nseed = 7\n" + line
    assert codes([cell], "RP407") == []


def test_global_seeds_cover_later_calls_only():
    cells = [IMPORTS + SKLEARN + "early = np.random.rand(2)",
             "np.random.seed(0)\nrandom.seed(0)",
             "late = np.random.rand(2)\npick = random.choice([1, 2])\nX_tr, X_te = train_test_split(X)"]
    assert codes(cells, "RP407") == [("RP407", 0, 9)]


def test_draws_through_import_aliases():
    cells = [("from numpy.random import randint as ri\nfrom sklearn.ensemble import RandomForestClassifier as RF\n"
             "values = ri(1, 10, 9)\nmodel = RF()")]
    found = findings_for(cells, select="RP407")
    # one finding per cell, at the model (a warning), listing the raw draw's line
    assert [(f.code, f.cell_index, f.line, f.severity) for f in found] == [("RP407", 0, 4, Severity.WARNING)]
    assert "RandomForestClassifier()" in found[0].message and "again on line 3" in found[0].message


def test_raw_draws_alone_are_information_models_and_splits_are_warnings():
    found = findings_for([("import numpy as np\nimport random\nimport torch\na = np.random.rand(3)\n"
                          "b = random.choice([1, 2])\nc = torch.randn(2)"),
                          "from sklearn.model_selection import train_test_split\nX_tr, X_te = train_test_split(a)",
                          ("import pandas as pd\ndf = pd.read_csv('x.csv')\npart = df.sample(frac=0.5)\n"
                          "part.to_csv('p.csv')")],
                         select="RP407")
    assert [(f.cell_index, f.line, f.severity) for f in found] == [
        (0, 4, Severity.INFO), (1, 2, Severity.WARNING), (2, 3, Severity.WARNING)]


def test_random_seed_does_not_seed_numpy():
    cells = [IMPORTS + "random.seed(0)\nnoise = np.random.rand(2)"]
    assert codes(cells, "RP407") == [("RP407", 0, 5)]


def test_seed_everything_helpers():
    cells = [("import numpy as np\nimport random\nimport torch\n"
             "def set_seed(s):\n    random.seed(s)\n    np.random.seed(s)\n    torch.manual_seed(s)\nset_seed(1)"),
             "a = np.random.rand(2)\nb = random.random()\nc = torch.rand(2)"]
    assert codes(cells, "RP407") == []
    assert codes(["from transformers import set_seed\nimport torch\nset_seed(42)\nw = torch.randn(2)"], "RP407") == []


def test_seed_call_inside_a_function_counts_for_functions():
    cells = ["import numpy as np\ndef noise(n):\n    return np.random.randn(n)", "np.random.seed(3)\nx = noise(4)"]
    assert codes(cells, "RP407") == []


def test_unseeded_inside_a_function():
    cells = [IMPORTS + SKLEARN + "def split(df):\n    return train_test_split(df, test_size=0.3)"]
    found = findings_for(cells, select="RP407")
    assert [(f.line, f.column) for f in found] == [(10, 12)]
    assert "random_state" in found[0].message


def test_a_notebook_class_named_like_an_estimator():
    cells = ["class KMeans:\n    def __init__(self, k):\n        self.k = k", "km = KMeans(3)"]
    assert codes(cells, "RP407") == []


# --- RP408 function-called-before-definition ---------------------------------------------------------


def test_function_called_above_its_definition():
    cells = ["totals = summarise([1, 2])", "def summarise(values):\n    return sum(values)"]
    found = findings_for(cells, select="RP408")
    assert [(f.code, f.cell_index, f.line, f.column) for f in found] == [("RP408", 0, 1, 10)]
    assert "'summarise'" in found[0].message and "cell 1" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_function_passed_as_a_callback_above_its_definition():
    cells = ["import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf['b'] = df['a'].apply(double)",
             "def double(x):\n    return 2 * x"]
    assert codes(cells, "RP408") == [("RP408", 0, 3)]


def test_one_finding_per_function_and_cell():
    cells = [{"cell_type": "markdown", "source": "# title"}, "a = f(1)\nb = f(2)\nc = g(3)",
             "def f(x):\n    return x\ndef g(x):\n    return x"]
    assert codes(cells, "RP408") == [("RP408", 1, 1), ("RP408", 1, 3)]


@pytest.mark.parametrize("cells", [
    ["def f(x):\n    return x", "y = f(1)"],  # defined above
    ["def f(x):\n    return x\ny = f(1)"],  # same cell
    ["y = f(1)\ndef f(x):\n    return x"],  # same cell (a NameError, but not a cross-cell problem)
    ["def main():\n    return helper()", "def helper():\n    return 1", "main()"],  # body runs later
    ["from tools import clean", "x = clean(1)", "def clean(v):\n    return v"],  # imported above
    ["from tools import *", "x = clean(1)", "def clean(v):\n    return v"],  # maybe from the star import
    ["%run helpers.py", "x = clean(1)", "def clean(v):\n    return v"],
    ["x = [f(v) for f in funcs for v in values]", "def f(v):\n    return v"],  # a comprehension variable
])
def test_not_called_before_definition(cells):
    assert codes(cells, "RP408") == []


def test_function_used_before_definition_gets_both_codes_when_the_cell_ran():
    cells = [{"source": "y = f(2)", "execution_count": 2}, {"source": "def f(x):\n    return x", "execution_count": 1}]
    assert codes(cells, ("RP408", "RP504")) == [("RP408", 0, 1), ("RP504", 0, 1)]


# --- all rules of the family together on a clean notebook --------------------------------------------


def test_clean_notebook_has_no_untestable_code_findings():
    cells = [
        ("import numpy as np\nimport pandas as pd\nfrom sklearn.model_selection import train_test_split\n"
        "from sklearn.ensemble import RandomForestClassifier\nimport joblib"),
        {"source": "data_path = 'data/churn.csv'\nmodel_path = 'output/model.joblib'\nseed = 42\ntest_size = 0.25",
         "tags": ["parameters"]},
        ("TARGET = 'churned'\n\n\ndef load(path):\n    df = pd.read_csv(path)\n    assert TARGET in df.columns\n"
        "    return df\n\n\ndef split(df, seed, test_size):\n    X = df.drop(columns=TARGET)\n"
        "    return train_test_split(X, df[TARGET], test_size=test_size, random_state=seed)\n\n\n"
        "def train(X, y, seed):\n    model = RandomForestClassifier(n_estimators=100, random_state=seed)\n"
        "    model.fit(X, y)\n    return model\n\n\ndef save_model(model, path):\n    joblib.dump(model, path)"),
        ("df = load(data_path)\nX_train, X_test, y_train, y_test = split(df, seed, test_size)\n"
        "model = train(X_train, y_train, seed)\nsave_model(model, model_path)\nprint(model.score(X_test, y_test))"),
        "for name, value in zip(X_train.columns, model.feature_importances_):\n    print(name, round(value, 3))",
    ]
    assert codes(cells, "untestable-code") == []


# --- display is not logic, one problem one finding, search samplers (issue 14) ----------------------

SHOW = "import random\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n" \
       "from IPython.display import display, HTML, Audio\n"


@pytest.mark.parametrize("cell", [
    "rand_int = random.randint(0, len(ds) - 1)\nprint('Text:', ds[rand_int]['text'])",
    "img = random.choice(images)\nplt.imshow(img)\nplt.title('a random image')",
    "df_sample = df.sample(n=15)\ndf_sample",
    ("def show_random_elements(dataset, num_examples=10):\n    picks = []\n    for _ in range(num_examples):\n"
    "        pick = random.randint(0, len(dataset) - 1)\n        picks.append(pick)\n"
    "    display(HTML(pd.DataFrame(dataset[picks]).to_html()))"),
    "def show_mask(mask, ax, random_color=False):\n    color = np.random.random(3)\n    ax.imshow(mask * color)",
    "for i in random.sample(range(len(imgs)), 4):\n    plt.imshow(imgs[i])",
    "pd.DataFrame(np.random.rand(3, 2), columns=['foo', 'bar'])",
    "def format_row(row):\n    return f\"{row['a']}: {row['b']}\"\nprint(format_row(df.iloc[random.randrange(len(df))]))",
    "samples = df.sample(n=1000)\np = figure()\np.circle(x=samples['distance'], y=samples['fare'])\nshow(p)",
    "import networkx as nx\nnx.draw(graph, node_color=np.random.choice(['r', 'g']), with_labels=True)",
])
def test_random_picks_only_shown_are_not_findings(cell):
    assert codes([SHOW + "df = pd.read_csv('x.csv')", cell], "RP407") == []


def test_a_dict_of_workspace_details_for_display_is_not_a_pipeline():
    cells = ["import pandas as pd\nfrom azureml.core import Workspace\nws = Workspace.from_config()",
             ("output = {}\noutput['Workspace name'] = ws.name\noutput['Subscription'] = ws.subscription_id\n"
             "output['Resource group'] = ws.resource_group\noutput['Location'] = ws.location\n"
             "output_df = pd.DataFrame(data=output, index=[''])\noutput_df.T")]
    assert codes(cells, "RP405") == []


def test_plot_geometry_is_not_a_pipeline():
    cells = ["import numpy as np\nimport matplotlib.pyplot as plt",
             ("theta = np.linspace(0, 2 * np.pi, 100)\nr = 1 + 0.5 * np.cos(3 * theta)\nx = r * np.cos(theta)\n"
             "y = r * np.sin(theta)\nz = x * y\nax = plt.axes(projection='3d')\nax.plot3D(x, y, z)\n"
             "ax.set_title('a rose')")]
    assert codes(cells, "RP405") == []
    kept = cells + ["volume = np.trapz(z, x)"]  # the same values also computed with: logic
    assert codes(kept, "RP405") == [("RP405", 1, 2)]


def test_a_frame_built_only_for_a_plot_is_not_a_pipeline():
    cells = ["import pandas as pd\nimport matplotlib.pyplot as plt\nfeatures = pd.read_csv('x.csv')",
             ("months = features['month']\ndays = features['day']\ntrue = pd.DataFrame({'m': months, 'd': days})\n"
             "true['temp'] = features['temp'] * 1.8\ntrue['avg'] = features['avg'] * 1.8"),
             "plt.plot(true['m'], true['temp'])\nplt.plot(true['m'], true['avg'])"]
    assert codes(cells, "RP405") == []
    used = cells[:2] + ["model.fit(true[['m', 'd']], true['temp'])"]
    assert codes(used, "RP405") == [("RP405", 1, 1)]


@pytest.mark.parametrize("cell", [
    "idx = random.randint(0, len(ds) - 1)\nprint(ds[idx])\nbatch = ds[idx]",   # also used, not only shown
    "df_sample = df.sample(n=15)\ndf_sample.to_csv('sample.csv')",
    "df_sample = df.sample(n=15)\ndf_sample.save_to_disk('s3://bucket/sample')",  # an action, not a look
    "def pick_random(dataset):\n    return dataset[random.randint(0, len(dataset) - 1)]",  # returns it
    "def plot_noisy(y):\n    noisy = y + np.random.normal(size=len(y))\n    return noisy",
    "img = random.choice(images)\nmodel.fit(img)",
])
def test_near_misses_of_picks_to_show_are_findings(cell):
    assert [code for code, _, _ in codes([SHOW + "df = pd.read_csv('x.csv')", cell], "RP407")] == ["RP407"]


def test_repeated_unseeded_calls_in_one_cell_are_one_finding_listing_the_lines():
    cell = "import numpy as np\na = np.random.rand(3)\nb = np.random.rand(3)\n\nc = np.random.randn(2)"
    found = findings_for([cell, "e = np.random.rand(2) + a\nd = b + c"], select="RP407")
    assert [(f.cell_index, f.line) for f in found] == [(0, 2), (1, 1)]
    assert found[0].message.endswith("again on lines 3 and 5")
    assert "again" not in found[1].message


@pytest.mark.parametrize("cell, found", [
    ("import optuna\nstudy = optuna.create_study(direction='maximize')", 2),
    ("import optuna\nsampler = optuna.samplers.TPESampler()\nstudy = optuna.create_study(sampler=sampler)", 2),
    ("from optuna.samplers import RandomSampler\ns = RandomSampler()", 2),
    ("from hyperopt import fmin, tpe\nbest = fmin(fn=f, space=space, algo=tpe.suggest, max_evals=50)", 2),
    ("from sklearn.model_selection import ParameterSampler\nps = list(ParameterSampler(grid, n_iter=5))", 2),
    ("import optuna\nstudy = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=42))", None),
    ("import optuna\nsampler = optuna.samplers.TPESampler(seed=SEED)\nstudy = optuna.create_study(sampler=sampler)",
     None),
    (("import numpy as np\nfrom hyperopt import fmin, tpe\n"
     "best = fmin(fn=f, space=s, algo=tpe.suggest, max_evals=5, rstate=np.random.default_rng(0))"), None),
    ("from sklearn.model_selection import ParameterSampler\nps = ParameterSampler(grid, n_iter=5, random_state=0)",
     None),
    ("from sklearn.model_selection import ParameterGrid\nps = list(ParameterGrid(grid))", None),
    (("from transformers import Trainer\ntrainer = Trainer(model_init=init)\n"
     "best = trainer.hyperparameter_search(n_trials=10, direction='maximize')"), 3),
    (("import optuna\nfrom transformers import Trainer\ntrainer = Trainer(model_init=init)\n"
     "best = trainer.hyperparameter_search(n_trials=10, sampler=optuna.samplers.TPESampler(seed=1))"), None),
])
def test_hyper_parameter_search_samplers_are_random(cell, found):
    assert codes([cell], "RP407") == ([("RP407", 0, found)] if found else [])


PRE = ("from sklearn.pipeline import Pipeline, make_pipeline\nfrom sklearn.compose import ColumnTransformer\n"
       "from sklearn.preprocessing import StandardScaler, OneHotEncoder, FunctionTransformer, PolynomialFeatures\n"
       "from sklearn.decomposition import PCA\nfrom sklearn.impute import SimpleImputer\nimport numpy as np\n")


@pytest.mark.parametrize("cell", [
    "prep = make_pipeline(SimpleImputer(), StandardScaler())\nX_ready = prep.fit_transform(X)",
    ("ct = ColumnTransformer([('num', StandardScaler(), ['a']), ('cat', OneHotEncoder(), ['b'])])\n"
    "X_ready = ct.fit_transform(df)"),
    "X_ready = Pipeline([('scale', StandardScaler()), ('pca', PCA(5))]).fit_transform(X)",
    "X_2d = PCA(n_components=2).fit_transform(X)",
])
def test_fit_transform_of_a_pipeline_or_a_learned_projection_trains(cell):
    assert [code for code, _, _ in codes([PRE, cell], "RP403")] == ["RP403"]


@pytest.mark.parametrize("cell", [
    "X_scaled = StandardScaler().fit_transform(X)",           # one scaler preparing features
    "scaler = StandardScaler()\nX_scaled = scaler.fit_transform(X)",
    "log = make_pipeline(FunctionTransformer(np.log1p), PolynomialFeatures(2))\nX_log = log.fit_transform(X)",
    "def prepare(X):\n    return make_pipeline(SimpleImputer(), StandardScaler()).fit_transform(X)",  # in a function
])
def test_fit_transform_near_misses(cell):
    assert codes([PRE, cell], "RP403") == []


@pytest.mark.parametrize("cell", [
    # a save() method that writes its own state
    ("import json\nclass Model:\n    def save(self, path):\n        state = {'w': self.w.tolist(), 'n': len(self.w)}\n"
    "        with open(path, 'w') as f:\n            json.dump(state, f)"),
    # a function that only copies or moves files
    ("import shutil, os\ndef copy_outputs(files, dest):\n    for f in files:\n"
    "        shutil.copy(f, os.path.join(dest, os.path.basename(f)))"),
    # downloading pages and storing them is I/O
    ("import requests, math\nimport pandas as pd\ndef fetch_issues(repo, n):\n    pages = math.ceil(n / 100)\n"
    "    rows = [requests.get(f'{repo}/{p}').json() for p in range(pages)]\n"
    "    pd.DataFrame(rows).to_json(f'{repo}.jsonl')"),
    # a temporary file, removed before returning
    ("import os, torch\ndef model_size(model):\n    torch.save(model.state_dict(), 'tmp.pt')\n"
    "    size = os.path.getsize('tmp.pt') / 1e6\n    os.remove('tmp.pt')\n    return size"),
    # opening an image to read is not a write
    ("from PIL import Image\ndef load_example():\n    image = Image.open('./example.jpg').convert('RGB')\n"
    "    return image.resize((256, 256))"),
])
def test_functions_that_only_save_or_move_files_are_not_findings(cell):
    assert codes([cell], "RP402") == []


def test_a_plot_saved_uploaded_and_removed_is_a_temporary_file():
    cell = ("import os\nimport matplotlib.pyplot as plt\ndef history_plot(df):\n    fit = df['w'].rolling(7).mean()\n"
            "    plt.plot(df.index, fit)\n    plt.savefig(fname='history.png')\n"
            "    slack.files.upload('history.png')\n    os.remove('history.png')")
    assert codes([cell], "RP402") == []


def test_a_file_written_and_read_back_says_to_use_a_buffer():
    cell = ("import matplotlib.pyplot as plt\nfrom matplotlib.image import imread\ndef make_hello(n):\n"
            "    fig, ax = plt.subplots()\n    ax.text(0.5, 0.4, 'HELLO')\n    fig.savefig('hello.png')\n"
            "    data = imread('hello.png')[::-1, :, 0].T\n    return data[data < 1] * n")
    found = findings_for([cell], select="RP402")
    assert [(f.code, f.line) for f in found] == [("RP402", 6)]
    assert "reads back" in found[0].message and "io.BytesIO" in found[0].message


def test_a_save_helper_that_also_trains_is_still_found():
    cell = ("import joblib\ndef save_model(model, X, y, path):\n    model.fit(X, y)\n    joblib.dump(model, path)")
    assert codes([cell], "RP402") == [("RP402", 0, 4)]


@pytest.mark.parametrize("cell, found", [
    ("from sagemaker.huggingface import HuggingFace\nest = HuggingFace(entry_point='train.py')\nest.fit()", False),
    ("from sklearn.preprocessing import LabelEncoder\nenc = LabelEncoder()\nenc.fit(df['day'])", False),
    ("from sklearn.feature_selection import VarianceThreshold\nvt = VarianceThreshold(0.15)\nvt.fit(X)", False),
    ("from pyspark.ml.feature import CountVectorizer\ncv = CountVectorizer(inputCol='g')\nm = cv.fit(data)", False),
    (("from sklearn.ensemble import RandomForestClassifier\nrf = RandomForestClassifier(random_state=0)\n"
     "rf.fit(X, y)"), True),
    ("from sklearn.decomposition import PCA\npca = PCA(2)\npca.fit(X)", True),
])
def test_fit_that_launches_a_remote_job_or_prepares_features_is_not_training_here(cell, found):
    assert [code for code, _, _ in codes([cell], "RP403")] == (["RP403"] if found else [])


@pytest.mark.parametrize("cell, found", [
    (("from datasets import load_dataset\ntest = load_dataset('imdb', split='test')\n"
     "test = test.shuffle().select(range(1000))"), True),
    ("import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices(x)\nds = ds.shuffle(1000).batch(32)", True),
    (("from datasets import load_dataset\ntest = load_dataset('imdb', split='test')\n"
     "test = test.shuffle(seed=42).select(range(1000))"), False),
    ("import numpy as np\nrng = np.random.default_rng(0)\nrng.shuffle(values)", False),
    ("from datasets import load_dataset\nds = load_dataset('x', split='train')\nds = ds.shuffle(42)", False),
    ("import tensorflow as tf\nds = tf.data.Dataset.range(9)\nds = ds.shuffle(1000)", True),
    ("import numpy as np\nnp.random.seed(0)\nds = make_ds()\nds = ds.shuffle()", False),
    ("import tensorflow as tf\ntf.random.set_seed(1)\nds = tf.data.Dataset.range(9)\nds = ds.shuffle(9)", False),
])
def test_a_datasets_own_shuffle_needs_a_seed(cell, found):
    assert [code for code, _, _ in codes([cell], "RP407")] == (["RP407"] if found else [])


def test_a_hyper_parameter_search_of_a_trainer_trains():
    cell = "from transformers import Trainer\ntrainer = Trainer(model_init=init)\nbest = trainer.hyperparameter_search(n_trials=5)"
    assert codes([cell], "RP403") == [("RP403", 0, 3)]


def test_display_flow_through_many_joined_names_stays_fast_and_keeps_the_finding():
    # 30 layers of names, each read by the two names of the next layer: 2**30 paths if walked naively
    lines = ["import matplotlib.pyplot as plt", "a0 = df.x\nb0 = df.y"]
    for i in range(1, 31):
        lines.append(f"a{i} = a{i - 1} + b{i - 1}\nb{i} = a{i - 1} - b{i - 1}")
    lines.append("plt.plot(a30, b30)")
    loop = "for i in range(3):\n    v = a0 * i\n    plt.plot(v)\n    total = v.sum() + b0.sum()"
    assert codes(["import pandas as pd\ndf = pd.read_csv('x.csv')", "\n".join(lines), loop], "RP404") == [
        ("RP404", 2, 1)]


def test_a_prompt_that_falls_back_for_an_environment_variable_says_so():
    cell = 'import os\nif "PINECONE_API_KEY" not in os.environ:\n    os.environ["PINECONE_API_KEY"] = input("Key: ")'
    found = findings_for([cell], select="RP406")
    assert [(f.code, f.line) for f in found] == [("RP406", 3)]
    assert "asks for 'PINECONE_API_KEY' when the environment does not set it" in found[0].message
    plain = findings_for(['key = input("Key: ")'], select="RP406")
    assert "waits for someone to type" in plain[0].message


def test_a_name_reused_later_for_other_values_does_not_hide_a_display_loop():
    cells = ["from rich import print as rprint\nfrom html import unescape",
             "for hit in hits:\n    chunk = unescape(hit['text'])\n    rprint(chunk)",
             "chunks = []\nfor doc in docs:\n    chunk = doc.strip()\n    chunks.append(chunk)\nindex.add(chunks)"]
    # the second loop's `chunk` is another value: the first loop only shows, the second builds data
    assert codes(cells, "RP404") == [("RP404", 2, 2)]


def test_a_value_is_followed_until_its_name_is_bound_again():
    cells = ["import numpy as np\nimport matplotlib.pyplot as plt",
             "x, y = np.random.multivariate_normal([0, 0], [[1, 1], [1, 2]], 100).T\nplt.hist2d(x, y)",
             "x = np.linspace(0, 1)\ny = x ** 2\nmodel.fit(x[:, None], y)"]
    assert codes(cells, "RP407") == []
    used = cells[:2] + ["model.fit(x[:, None], y)"]  # the random x, y themselves reach a model
    assert [code for code, _, _ in codes(used, "RP407")] == ["RP407"]


def test_random_data_given_to_the_notebooks_own_function_is_used_even_if_its_results_are_plotted():
    cells = [("import matplotlib.pyplot as plt\nfrom sklearn.datasets import make_classification\n"
             "def accuracy(model, x, y):\n    model.fit(x, y)\n    return model.score(x, y)"),
             ("scores = []\nfor n in sizes:\n    x, y = make_classification(n_samples=n)\n"
             "    scores.append(accuracy(model, x, y))\nplt.plot(sizes, scores)")]
    assert [code for code, _, _ in codes(cells, "RP407")] == ["RP407"]


def test_predictions_of_a_model_that_are_only_shown_are_still_computed():
    cells = ["import torch\nimages = load_images()",
             "tensors = []\nfor image in images[:10]:\n    tensor = preprocess(image)\n    tensors.append(tensor)",
             "batch = torch.stack(tensors)\noutputs = model(batch)\npredicted = torch.argmax(outputs, dim=1)\npredicted"]
    assert codes(cells, "RP404") == [("RP404", 1, 2)]


def test_a_loop_that_lays_out_a_user_interface_is_not_logic():
    ui = ("import gradio as gr\nwith gr.Blocks() as demo:\n    blocks = []\n    for model in models:\n"
          "        with gr.Row():\n            blocks.append(gr.Image(model['image']))")
    assert codes([ui], "RP404") == []
    outside = "import gradio as gr\nblocks = []\nfor model in models:\n    blocks.append(model['score'] * 2)\nbest = max(blocks)"
    assert codes([outside], "RP404") == [("RP404", 0, 3)]
