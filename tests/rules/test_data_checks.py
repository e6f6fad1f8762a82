"""missing-data-check (RP301): loads used before a check, and the near misses that are not."""
import pytest

from readiness_magics.config import Settings
from tests.helpers import codes_for, findings_for

PD = "import pandas as pd"


def rp301(cells, settings=None, path=None):
    return codes_for(cells, select="RP301", settings=settings, path=path)


# --- what is a load -------------------------------------------------------------------------------
@pytest.mark.parametrize("load, use", [
    ('df = pd.read_csv("data/sales.csv")', 'df.groupby("region").sum()'),
    ('df = pd.read_parquet("data/sales.parquet")', 'df = df.dropna()'),
    ('df = pd.read_excel("data/sales.xlsx")', 'df["total"] = df.price * df.qty'),
    ('df = pd.read_json("data/sales.json")', 'df.to_csv("out.csv")'),
    ('df = pd.read_sql("SELECT * FROM sales", con)', 'model.fit(df)'),
    ('df = pd.read_table("data/sales.tsv")', 'big = df[df.amount > 100]'),
    ('import polars as pl\ndf = pl.scan_csv("data/sales.csv")', 'df.filter(pl.col("a") > 1).collect()'),
    ('import pyarrow.parquet as pq\ntable = pq.read_table("data/sales.parquet")', 'table.to_pandas().groupby("a").sum()'),
    ('import numpy as np\narr = np.load("data/x.npy")', 'arr.mean(axis=0)'),
    ('import numpy as np\narr = np.loadtxt("data/x.txt")', 'scaled = arr / arr.max()'),
    ('import numpy as np\narr = np.genfromtxt("data/x.csv", delimiter=",")', 'np.nanmean(arr)'),
    ('import json\nwith open("data/config.json") as f:\n    config = json.load(f)', 'rate = config["rate"] * 2'),
    ('import json\ndata = json.loads(open("data/x.json").read())', 'rows = [r["a"] for r in data]'),
    ('import yaml\nwith open("params.yaml") as f:\n    params = yaml.safe_load(f)', 'lr = params["lr"] / 10'),
    ('import pickle\nrecords = pickle.load(open("data/records.pkl", "rb"))', 'pd.DataFrame(records).groupby("a").sum()'),
    ('text = open("data/notes.txt").read()', 'words = text.split()'),
    ('lines = open("data/notes.txt").readlines()', 'counts = {l: len(l) for l in lines}'),
    ('with open("data/notes.txt") as f:\n    text = f.read()', 'tokens = tokenize(text)'),
    ('from pathlib import Path\ntext = Path("data/notes.txt").read_text()', 'tokens = tokenize(text)'),
    ('import requests\npayload = requests.get("https://api.example.com/sales").json()', 'total = sum(p["amount"] for p in payload)'),
    ('import requests\nresp = requests.get("https://api.example.com/sales")\nrows = resp.json()', 'df = pd.DataFrame(rows).groupby("a").sum()'),
    ('import urllib.request\nraw = urllib.request.urlopen("https://example.com/x.csv").read()', 'lines = raw.decode().split("\\n")[1:]'),
    ('import geopandas as gpd\nshapes = gpd.read_file("data/regions.shp")', 'shapes = shapes.to_crs(3857)'),
    ('import cv2\nimg = cv2.imread("data/cat.png")', 'gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)'),
    ('import xarray as xr\nds = xr.open_dataset("data/air.nc")', 'ds.air.mean(dim="time")'),
    ('from datasets import load_dataset\nreviews = load_dataset("imdb", split="train")', 'reviews = reviews.map(clean)'),
    ('rows = spark.read.csv("data/sales.csv", header=True)', 'rows.groupBy("region").count().show()'),
    ('import sqlite3\ncur = sqlite3.connect("shop.db").cursor()\ncur.execute("SELECT * FROM sales")\nrows = cur.fetchall()',
     'totals = [r[2] * r[3] for r in rows]'),
])
def test_loads_used_without_a_check_are_reported_on_the_load_cell(load, use):
    assert rp301([PD, load, use]) == [("RP301", 1, load.count("\n") + 1)]


def test_position_and_message():
    cells = [PD, 'sales = pd.read_csv("data/sales.csv")\nsales.head()', 'x = 1\nmonthly = sales.groupby("month").sum()']
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line, finding.column, finding.end_line, finding.end_column) == (1, 1, 9, 1, 38)
    assert finding.message == (
        "'sales' is loaded from 'data/sales.csv' here and first used in cell 2 (line 2) without a check; "
        "assert its columns, types and ranges (or validate it with a schema) before using it")
    assert finding.category == "missing-data-check" and finding.severity.value == "error"
    assert finding.fix is not None and finding.fix.applicability == "unsafe" and "assert" in finding.fix.description


def test_message_for_data_that_is_not_a_table():
    cells = ["import json", 'with open("data/config.json") as f:\n    config = json.load(f)', 'rate = config["rate"] * 2']
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line, finding.column) == (1, 2, 14)
    assert finding.message == (
        "'config' is loaded from 'data/config.json' here and first used in cell 2 (line 1) without a check; "
        "assert its structure, types and values (or validate it with a schema) before using it")


def test_load_used_in_the_same_statement():
    [finding] = findings_for([PD, 'pd.read_csv("data/sales.csv").groupby("a").sum()'], select="RP301")
    assert (finding.cell_index, finding.line) == (1, 1)
    assert "used in the same statement" in finding.message and "'data/sales.csv'" in finding.message


def test_a_load_timed_with_the_time_magic_is_a_load():
    # `%time STMT` runs STMT in the notebook: df is bound and used unchecked in the next cell.
    cells = [PD, 'x = 1\n%time df = pd.read_csv("data/sales.csv")', 'df.groupby("region").sum()']
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line, finding.column) == (1, 2, 1)  # the whole magic line
    assert "'df' is loaded from 'data/sales.csv'" in finding.message


@pytest.mark.parametrize("cells", [
    # checked right after the timed load
    [PD, '%time df = pd.read_csv("data/sales.csv")\nassert len(df) > 0, "no rows"', 'df.groupby("a").sum()'],
    # %timeit runs the statement in a namespace of its own: nothing is bound in the notebook
    [PD, '%timeit df = pd.read_csv("data/sales.csv")', 'df = None'],
    # the words inside a string are not a magic
    [PD, 'note = """\n%time df = pd.read_csv("data/sales.csv")\n"""', 'print(note)'],
])
def test_timed_statements_near_misses(cells):
    assert rp301(cells) == []


def test_two_loads_in_one_cell_each_get_their_own_finding():
    cells = [PD, 'a = pd.read_csv("a.csv")\nb = pd.read_csv("b.csv")', 'merged = pd.merge(a, b, on="id")']
    assert rp301(cells) == [("RP301", 1, 1), ("RP301", 1, 2)]


def test_loads_unpacked_from_a_tuple_are_followed_one_by_one():
    cells = [PD, 'train, test = pd.read_csv("train.csv"), pd.read_csv("test.csv")', "assert len(train) > 0",
             "model.fit(train)", "model.predict(test)"]
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line) == (1, 1) and finding.message.startswith("'test' is loaded from 'test.csv'")


def test_walrus_load_checked_in_its_own_test():
    cells = [PD, 'if (df := pd.read_csv("a.csv")).empty:\n    raise ValueError("a.csv is empty")\ndf.a.sum()']
    assert rp301(cells) == []
    cells = [PD, 'if (df := pd.read_csv("a.csv")) is not None:\n    print("read")\ndf.a.sum()']
    assert rp301(cells) == [("RP301", 1, 1)]


def test_lines_of_a_file_iterated_are_loaded():
    cell = 'rows = []\nfor line in open("data/log.txt"):\n    rows.append(line.split(","))'
    assert rp301([cell]) == [("RP301", 0, 2)]
    cell = 'with open("data/log.txt") as f:\n    rows = [line.strip().split(",") for line in f]\nn = sum(len(r) for r in rows)'
    assert rp301([cell]) == [("RP301", 0, 2)]


def test_configured_loader_is_a_load():
    settings = Settings(ruff=False, data_loaders=("warehouse.fetch_table",))
    cells = ["import warehouse", 'sales = warehouse.fetch_table("sales")', 'sales.groupby("a").sum()']
    assert rp301(cells, settings) == [("RP301", 1, 1)]
    assert rp301(cells) == []
    bare = Settings(ruff=False, data_loaders=("fetch_table",))
    assert rp301(["from warehouse import fetch_table"] + cells[1:], bare) == [("RP301", 1, 1)]


# --- what is a use ---------------------------------------------------------------------------------
@pytest.mark.parametrize("use", [
    'df = df.dropna()',  # reassigned from itself
    'df["total"] = df.price * df.qty',  # mutated
    'df.columns = [c.lower() for c in df.columns]',
    'df.fillna(0, inplace=True)',
    'recent = df[df.year > 2020]',  # filtered
    'merged = df.merge(other, on="id")',  # merged
    'df.groupby("region").amount.sum()',  # aggregated, even when only shown
    'X = df[["a", "b"]]\nmodel.fit(X, y)',  # indexed for computation
    'model.fit(df.drop(columns="y"), df.y)',  # passed to a model
    'train, test = train_test_split(df)',  # passed to a function
    'df.to_parquet("out.parquet")',  # written
    'for _, row in df.iterrows():\n    total += row.amount',
    'df += 1',
])
def test_each_kind_of_use(use):
    assert rp301([PD, 'df = pd.read_csv("data/sales.csv")', use]) == [("RP301", 1, 1)]


def test_looking_first_then_using_is_still_a_finding():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', "df.head()", "df.info()", "df.describe()", "df.shape",
             "df.columns", "df.dtypes", "df.sample(5)", "print(df.tail())", "display(df)", "df",
             "df.isnull().sum()", "print(len(df))", 'df["amount"].value_counts()', 'df.plot(x="a", y="b")',
             'import seaborn as sns\nsns.histplot(df["amount"])',
             'if df.isnull().any().any():\n    warnings.warn("nulls in sales.csv")',
             'if df.empty:\n    print("no rows")',
             'df = df.dropna()']
    [finding] = findings_for(cells, select="RP301")
    assert finding.cell_index == 1
    assert "first used in cell 19 (line 1)" in finding.message


def test_check_after_the_first_use_is_too_late():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")\ndf = df.dropna()\nassert len(df) > 0']
    assert rp301(cells) == [("RP301", 1, 1)]
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', 'df["x"] = df.a * 2', 'assert "x" in df.columns']
    assert rp301(cells) == [("RP301", 1, 1)]


def test_check_on_a_transformed_copy_that_is_then_used_is_too_late():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', 'X = df.drop(columns="y")\nassert X.shape[1] == 4', "model.fit(X)"]
    assert rp301(cells) == [("RP301", 1, 1)]
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', 'y = df["y"]\nassert y.notna().all()', "model.fit(X, y)"]
    assert rp301(cells) == [("RP301", 1, 1)]


def test_values_computed_only_to_be_checked_are_a_check():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")',
             'bad = df[df.amount < 0]\nif len(bad):\n    raise ValueError(f"{len(bad)} negative amounts")\nprint(bad)',
             'df.groupby("month").amount.sum()']
    assert rp301(cells) == []


def test_check_on_another_variable_does_not_count():
    cells = [PD, 'sales = pd.read_csv("sales.csv")\nstores = pd.read_csv("stores.csv")',
             'assert {"store_id", "amount"} <= set(sales.columns)',
             'joined = sales.merge(stores, on="store_id")']
    assert rp301(cells) == [("RP301", 1, 2)]


def test_notebook_function_reading_the_data_as_a_global_uses_it_where_called():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', "def total():\n    return df.amount.sum()", "total()"]
    assert rp301(cells) == [("RP301", 1, 1)]


def test_pieces_collected_in_a_list_and_concatenated():
    cells = [PD, 'frames = []\nfor name in files:\n    frames.append(pd.read_csv(name))',
             "sales = pd.concat(frames)", 'sales.groupby("a").sum()']
    assert rp301(cells) == [("RP301", 1, 3)]
    checked = cells[:3] + ['assert not sales.empty and sales["amount"].ge(0).all()', cells[3]]
    assert rp301(checked) == []


# --- loads in functions ----------------------------------------------------------------------------
def test_function_that_returns_unchecked_data_makes_its_calls_loads():
    cells = [PD, "def load_sales(path):\n    return pd.read_csv(path)", 'sales = load_sales("data/sales.csv")\nsales.head()',
             'sales = sales[sales.amount > 0]']
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line) == (2, 1)
    assert "loaded from 'data/sales.csv' by load_sales()" in finding.message


def test_function_that_uses_a_load_inside_is_reported_on_its_def_cell():
    cells = [PD, 'def monthly(path):\n    df = pd.read_csv(path)\n    df.groupby("month").sum().to_csv("m.csv")',
             'monthly("s.csv")']
    assert rp301(cells) == [("RP301", 1, 2)]
    trains = [PD, 'def fit(path):\n    df = pd.read_csv(path)\n    model = Ridge().fit(df[["x"]], df.y)\n    return model',
              'm = fit("s.csv")\nm.predict(X)']
    assert rp301(trains) == [("RP301", 1, 2)]  # what it returns is a model, not the data: not a loader


@pytest.mark.parametrize("body", [
    '    df = pd.read_csv(path)\n    df["day"] = pd.to_datetime(df["day"])\n    return df',
    '    df = pd.read_csv(path)\n    df = df.rename(columns=str.lower).dropna()\n    return df',
    '    raw = pd.read_csv(path)\n    clean = raw[raw.day.notna()]\n    return clean',
    '    df = pd.read_csv(path)\n    return df.groupby("day").sum()',
    '    a = pd.read_csv(path)\n    b = pd.read_csv(path + ".2")\n    return pd.concat([a, b])',
])
def test_a_loader_that_shapes_what_it_returns_is_checked_where_it_is_called(body):
    loader = "def load_sales(path):\n" + body
    used = [PD, loader, 'sales = load_sales("data/sales.csv")', 'sales.amount.cumsum()']
    assert {(code, cell) for code, cell, _ in rp301(used)} == {("RP301", 2)}
    checked = used[:3] + ['assert sales.amount.ge(0).all()', used[3]]
    assert rp301(checked) == []
    assert rp301(used[:3]) == []  # loaded and never used


def test_loader_that_validates_inside_is_fine():
    loader = ('def load_sales(path):\n    df = pd.read_csv(path)\n    missing = {"month", "amount"} - set(df.columns)\n'
              '    if missing:\n        raise ValueError(f"missing columns: {missing}")\n    return df')
    cells = [PD, loader,
             'sales = load_sales("data/sales.csv")', 'sales.groupby("month").sum()']
    assert rp301(cells) == []
    validated = [PD, 'def load_sales(path):\n    df = pd.read_csv(path)\n    validate_sales(df)\n    return df',
                 'sales = load_sales("data/sales.csv")', 'sales.groupby("month").sum()']
    assert rp301(validated) == []


def test_local_module_loader_is_not_a_load():
    cells = ["from helpers import load_sales", 'sales = load_sales("data/sales.csv")', 'sales.groupby("month").sum()']
    assert rp301(cells) == []


# --- what is a check -------------------------------------------------------------------------------
@pytest.mark.parametrize("check", [
    'assert {"month", "amount"} <= set(df.columns)',
    'assert df["amount"].between(0, 1e6).all(), "amount out of range"',
    'assert not df.empty',
    'assert df.shape[0] > 100',
    'if df["amount"].isnull().any():\n    raise ValueError("null amounts")',
    'if len(df) == 0:\n    sys.exit("empty file")',
    'for column in ["month", "amount"]:\n    assert column in df.columns, column',
    'missing = {"month", "amount"} - set(df.columns)\nif missing:\n    raise ValueError(missing)',
    'n_negative = (df["amount"] < 0).sum()\nassert n_negative == 0',
    'import pandera as pa\nschema = pa.DataFrameSchema({"amount": pa.Column(float)})\nschema.validate(df)',
    'import pandera as pa\nschema = pa.DataFrameSchema({"amount": pa.Column(float)})\ndf = df.pipe(schema.validate)',
    'import pandera as pa\ndf = pa.DataFrameSchema({"amount": pa.Column(float)}).validate(df)',
    'import pandera as pa\nschema = pa.DataFrameSchema({"amount": pa.Column(float)})\ndf = schema(df)',
    'validate_sales(df)',
    'check_columns(df, ["month", "amount"])',
    'assert_no_nulls(df)',
    'ensure_schema(df)',
    'verify_ranges(df)',
    'require_columns(df, ["month", "amount"])',
    'sales_sanity_check(df)',
    'pd.testing.assert_index_equal(df.columns, pd.Index(["month", "amount"]))',
    'import great_expectations as gx\ngx.from_pandas(df).expect_column_values_to_not_be_null("amount")',
])
def test_a_check_before_the_first_use_removes_the_finding(check):
    cells = [PD, 'df = pd.read_csv("data/sales.csv")\ndf.head()', check, 'df.groupby("month").amount.sum()']
    assert rp301(cells) == []


def test_check_in_a_later_cell_before_the_first_use():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', "df.info()", 'assert df["amount"].ge(0).all()', 'df = df.dropna()']
    assert rp301(cells) == []


@pytest.mark.parametrize("check", [
    "Sale.model_validate(data)",
    "sale = Sale(**data)",
    "TypeAdapter(Sale).validate_python(data)",
    "sales = [Sale(**row) for row in data]",
])
def test_pydantic_validation(check):
    cells = ["import json\nfrom pydantic import BaseModel, TypeAdapter",
             "class Sale(BaseModel):\n    amount: float",
             'with open("sale.json") as f:\n    data = json.load(f)', check, 'total = data["amount"] * 2']
    assert rp301(cells) == []


def test_notebook_function_that_asserts_on_its_parameter_is_a_check():
    cells = [PD, 'def sanity(frame):\n    assert "amount" in frame.columns\n    return frame',
             'df = pd.read_csv("data/sales.csv")', "df = sanity(df)", "df = df.dropna()"]
    assert rp301(cells) == []
    looks_only = [PD, "def show(frame):\n    print(frame.head())", 'df = pd.read_csv("data/sales.csv")', "show(df)",
                  "df = df.dropna()"]
    assert rp301(looks_only) == [("RP301", 2, 1)]


def test_configured_validator_is_a_check():
    settings = Settings(ruff=False, data_validators=("qa.table_ok",))
    cells = [PD, "import qa", 'df = pd.read_csv("data/sales.csv")', "qa.table_ok(df)", "df = df.dropna()"]
    assert rp301(cells, settings) == []
    assert rp301(cells) == [("RP301", 2, 1)]


def test_image_checked_for_none():
    cells = ["import cv2", 'img = cv2.imread("cat.png")\nassert img is not None, "cannot read cat.png"',
             "gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)"]
    assert rp301(cells) == []


# --- not findings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cells", [
    [PD, 'df = pd.read_csv("data/sales.csv")\ndf.head()'],  # never used
    [PD, 'df = pd.read_csv("data/sales.csv")', 'df = pd.read_csv("data/other.csv")\nassert not df.empty', "df.sum()"],
    [PD, 'pd.read_csv("data/sales.csv").head()'],
    [PD, 'cols = pd.read_csv("data/sales.csv", nrows=0).columns\nprint(list(cols))'],
    ["from sklearn.datasets import load_iris", "X, y = load_iris(return_X_y=True)", "model.fit(X, y)"],
    ["from sklearn.datasets import fetch_openml", 'mnist = fetch_openml("mnist_784")', "X = mnist.data / 255"],
    ["import seaborn as sns", 'tips = sns.load_dataset("tips")', 'tips.groupby("day").tip.mean()'],
    ["from tensorflow.keras.datasets import mnist", "(x_train, y_train), _ = mnist.load_data()", "x_train = x_train / 255"],
    ["import geopandas as gpd", 'world = gpd.read_file(gpd.datasets.get_path("naturalearth_lowres"))', "world.to_crs(3857)"],
    ["import joblib", 'model = joblib.load("model.joblib")', "preds = model.predict(X)"],
    ["import pickle", 'with open("model.pkl", "rb") as f:\n    model = pickle.load(f)', "preds = model.predict(X)"],
    ["import pickle", 'clf = pickle.load(open("m.pkl", "rb"))', "clf.score(X, y)"],
    ["import torch", 'state = torch.load("weights.pt")', "net.load_state_dict(state)"],
    [PD + "\nimport io", 'df = pd.read_csv(io.StringIO("a,b\\n1,2"))', "df.sum()"],
    ["import json", 'settings = json.loads(\'{"a": 1}\')', 'x = settings["a"] + 1'],
    [PD, 'df = pd.read_csv("data/sales.csv")', 'import matplotlib.pyplot as plt\nplt.scatter(df.a, df.b)\nplt.show()'],
])
def test_near_misses_are_not_reported(cells):
    assert rp301(cells) == []


def test_unrelated_code_is_quiet():
    cells = ["import os\nx = [1, 2, 3]", "total = sum(x)\nwith open('out.txt', 'w') as f:\n    f.write(str(total))",
             "%%bash\ncat data.csv | head", "%matplotlib inline"]
    assert rp301(cells) == []


# --- readers it learns from their shape: distributed, cloud and other table libraries ---------------
@pytest.mark.parametrize("load", [
    'df = spark.read.format("delta").load(path)',
    'df = spark.read.option("header", True).csv(path)',
    'df = spark.table("sales")',
    'import ray\ndf = ray.data.read_parquet("s3://bucket/sales/")',
    'import awswrangler as wr\ndf = wr.s3.read_parquet("s3://bucket/sales/")',
    'import networkx as nx\ndf = nx.read_edgelist("data/edges.txt")',
    'from sagemaker.s3 import S3Downloader\ndf = pd.read_csv(io.StringIO(S3Downloader.read_file("s3://b/sales.csv")))',
    'from azureml.core import Dataset\ndf = Dataset.get_by_name(ws, "sales").to_pandas_dataframe()',
    'from azureml.core import Dataset\nsales = Dataset.get_by_name(ws, name="sales")\ndf = sales.to_pandas_dataframe()',
    'from google.cloud import bigquery\nclient = bigquery.Client()\ndf = client.query(sql).to_dataframe()',
    'from google.cloud import bigquery\ndf = bigquery.Client().query(sql).result().to_dataframe()',
    ('import snowflake.connector\ncur = snowflake.connector.connect(**creds).cursor()\ncur.execute(sql)\n'
    'df = cur.fetch_pandas_all()'),
    'import duckdb\ncon = duckdb.connect("shop.db")\ndf = con.execute("SELECT * FROM sales").df()',
    'import duckdb\ndf = duckdb.sql("SELECT * FROM \'sales.parquet\'").df()',
    'import polars as pl\ndf = pl.read_csv("data/sales.csv")',
    'import dask.dataframe as dd\ndf = dd.read_csv("data/sales-*.csv")',
    'import modin.pandas as mpd\ndf = mpd.read_csv("data/sales.csv")',
    'import vaex\ndf = vaex.open("data/sales.hdf5")',
    'from datasets import load_dataset\ndf = load_dataset("user/sales", split="train").to_pandas()',
])
def test_readers_of_other_libraries_and_cloud_sdks_are_loads(load):
    assert rp301([PD, load, "big = df[df.amount > 100]"]) == [("RP301", 1, load.count("\n") + 1)]


@pytest.mark.parametrize("cells", [
    # Data already in memory converted, not read again.
    ['import pyarrow as pa\ntable = pa.Table.from_pandas(frame)', 'df = table.to_pandas()\nbig = df[df.amount > 1]'],
    ['sdf = spark.createDataFrame(frame)', 'df = sdf.toPandas()\nbig = df[df.amount > 1]'],
    # A load already reported is not reported again through its conversion.
    ['from datasets import load_dataset\nds = load_dataset("user/sales", split="train")\nassert ds.num_rows > 0',
     'df = ds.to_pandas()\nbig = df[df.amount > 1]'],
    # Readers of models, configs and images, and a reader of the notebook's own project.
    ['import cv2\nnet = cv2.dnn.readNetFromONNX("model.onnx")', 'out = net.forward()'],
    ['import mylib\nweights = mylib.read_model_weights("w.bin")', 'w = weights * 2'],
    ['from torchvision.io import read_image\nimg = read_image("cat.png")', 'x = img.float() / 255'],
    ['from PIL import Image\nimg = Image.open("data/cat.png").convert("RGB")', 'small = img.resize((64, 64))'],
    ['import skimage.io\nimg = skimage.io.imread("data/cat.png")', 'gray = img.mean(axis=2)'],
    # The notebook reads back what it wrote itself.
    ['frame.to_csv("out/sales.csv")', 'df = pd.read_csv("out/sales.csv")\nbig = df[df.amount > 1]'],
    ['path = "out/sales.parquet"\nframe.to_parquet(path)', 'df = pd.read_parquet(path)\nbig = df[df.amount > 1]'],
    ['import numpy as np\nnp.save("out/emb.npy", emb)', 'e = np.load("out/emb.npy")\nnorm = e / e.max()'],
    ['%%writefile prices.csv\nday,amount\n1,2\n', 'df = pd.read_csv("prices.csv")\nbig = df[df.amount > 1]'],
])
def test_near_misses_of_the_reader_model_are_quiet(cells):
    assert rp301([PD, *cells]) == []


def test_a_reader_of_a_module_beside_the_notebook_is_the_projects_own(tmp_path):
    (tmp_path / "shop.py").write_text("def read_sales(p):\n    ...\n")
    cells = [PD, "import shop\ndf = shop.read_sales('data/sales.csv')", "big = df[df.amount > 1]"]
    assert rp301(cells, path=tmp_path / "a.ipynb") == []
    assert rp301(cells, path=tmp_path / "sub" / "a.ipynb") == [("RP301", 1, 2)]


def test_reading_a_file_before_the_notebook_writes_it_or_after_downloading_it_is_a_load():
    before = [PD, 'df = pd.read_csv("sales.csv")\nbig = df[df.amount > 1]', 'big.to_csv("sales.csv")']
    assert rp301(before) == [("RP301", 1, 1)]
    downloaded = [PD, 'import urllib.request\nurllib.request.urlretrieve(url, "sales.csv")',
                  'df = pd.read_csv("sales.csv")\nbig = df[df.amount > 1]']
    assert rp301(downloaded) == [("RP301", 2, 1)]
    written_from_a_response = [PD, ('import requests\nresponse = requests.get(url)\nwith open("notes.jsonl", "wb") as f:\n'
                               '    f.write(response.content)'), 'df = pd.read_json("notes.jsonl", lines=True)\ndf.text.str.len()']
    assert rp301(written_from_a_response) == [("RP301", 2, 1)]


def test_images_are_loads_only_where_the_reader_fails_silently():
    cv2 = [PD, 'import cv2\nimg = cv2.imread("data/cat.png")', "gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)"]
    assert rp301(cv2) == [("RP301", 1, 2)]  # None for a missing file, and the error comes much later


def test_an_unchecked_load_in_a_written_script_is_found_in_its_cell():
    script = '%%writefile train.py\nimport pandas as pd\ndf = pd.read_csv("data/train.csv")\nX = df.drop(columns="y")\n'
    assert rp301([script]) == [("RP301", 0, 3)]
    checked = script.replace("X =", 'assert {"y"} <= set(df.columns)\nX =')
    assert rp301([checked]) == []
    assert rp301(["%%writefile train.sh\npython -c 'import pandas as pd; pd.read_csv(\"x\").sum()'\n"]) == []


def test_a_name_converted_in_place_is_followed_not_read_again():
    cells = [PD, 'from datasets import load_dataset\ndata = load_dataset("squad", split="train")',
             "data = data.to_pandas()\ndata = data.to_pandas()", 'data.drop_duplicates(subset="context", inplace=True)']
    assert rp301(cells) == [("RP301", 1, 2)]


def test_readers_of_the_notebooks_own_project_package_are_not_loads(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    cells = [PD, "from shop.io import read_sales\ndf = read_sales('data/sales.csv')", "big = df[df.amount > 1]"]
    assert rp301(cells, path=tmp_path / "examples" / "a.ipynb") == []
    bundled = [PD, ("from tensorflow.examples.tutorials.mnist import input_data\n"
               "mnist = input_data.read_data_sets('MNIST_data/', one_hot=True)"), "x = mnist.train.images / 255"]
    assert rp301(bundled) == []


@pytest.mark.parametrize("cells", [
    # Parsing the text read is reading it; the parsed value is only shown.
    ['import xmltodict\nwith open("data/feed.xml") as f:\n    text = f.read()', 'feed = xmltodict.parse(text)\nprint(feed)'],
    ['with open("data/recipes.json") as f:\n    line = f.readline()', 'pd.read_json(line).shape'],
    # Values copied into a dict that is shown.
    [('import json\nwith open("out/eval_results.json") as f:\n    raw = json.load(f)\nresults = {}\n'
     'results["rouge1"] = raw["rouge1"]\nresults["rouge2"] = raw["rouge2"]'), 'print(results)'],
    # One record picked to look at or to try a model on.
    ['from datasets import load_dataset\nds = load_dataset("user/speech", split="validation")',
     'sample = ds["validation"][3]\ntext = sample["text"].lower()\nprint(text)'],
    ['df = pd.read_csv("data/sales.csv")', 'row = df.iloc[randint(0, len(df))]\nprint(row.amount * 2)'],
])
def test_what_is_only_parsed_shown_or_sampled_is_not_a_use(cells):
    assert rp301([PD, *cells]) == []


def test_a_shown_summary_does_not_hide_the_real_use_after_it():
    cells = [PD, 'df = pd.read_csv("data/sales.csv")', 'summary = df.describe()\nsummary', 'sample = df[3]',
             'df["ratio"] = df.a / df.b']
    [finding] = findings_for(cells, select="RP301")
    assert (finding.cell_index, finding.line) == (1, 1) and "first used in cell 4 (line 1)" in finding.message
    parsed_then_used = [PD, 'import xmltodict\ntext = open("data/feed.xml").read()',
                        'feed = xmltodict.parse(text)\nitems = [i["title"].upper() for i in feed["rss"]["item"]]']
    assert rp301(parsed_then_used) == [("RP301", 1, 2)]
    column = [PD, 'data = pd.read_csv("data/pairs.tsv", sep="\\t", header=None)', 'sentences = data[1].tolist()',
              'emb = model.encode(sentences)']
    assert rp301(column) == [("RP301", 1, 1)]  # data[1] of a frame without a header is a column
    computed_and_left = [PD, 'df = pd.read_csv("data/sales.csv")', 'big = df[df.amount > 100]']
    assert rp301(computed_and_left) == [("RP301", 1, 1)]  # a transformation, even if nothing reads it yet


def test_the_advice_through_a_loader_follows_what_the_loader_reads():
    cells = [PD, "import numpy as np\ndef read_vectors(p):\n    return np.fromfile(p, dtype='float32')",
             "xb = read_vectors('data/base.fvecs')", "d = xb.reshape(-1, 128)"]
    [finding] = findings_for(cells, select="RP301")
    assert "by read_vectors()" in finding.message and "structure, types and values" in finding.message


def test_a_token_put_into_a_header_is_not_data():
    cells = [PD, 'import requests\nres = requests.post(auth_url, data=login)\nTOKEN = res.json()["access_token"]',
             'headers["Authorization"] = f"bearer {TOKEN}"', 'posts = requests.get(url, headers=headers)']
    assert rp301(cells) == []


@pytest.mark.parametrize("cells", [
    # Unpacked or copied into another file: plumbing, not computing.
    [('import gzip\nwith gzip.open("data/train.txt.gz", "rb") as src:\n    with open("data/train.txt", "wb") as out:\n'
     '        out.write(src.read())')],
    # A password or token read from a file is a secret, not data.
    ['with open("pw") as fp:\n    pw = fp.read()', 'res = requests.post(url, auth=(user, pw))'],
    ['api_token = open("secrets/token.txt").read().strip()', 'headers = {"Authorization": "Bearer " + api_token}'],
    # A vocabulary pickled beside a model is part of the model.
    ['import pickle\nvocab = pickle.load(open("instr_vocab.pkl", "rb"))', 'output_dim = len(vocab) + 1\nnet = Net(output_dim)'],
    # A loader whose return is the response read, computed in the return statement.
    ['import requests\ndef get_comments(n):\n    return [r["body"] for r in requests.get(f"{URL}/{n}").json()]',
     'get_comments(2792)'],
])
def test_plumbing_secrets_and_artifacts_are_not_unchecked_data(cells):
    assert rp301([PD, *cells]) == []


def test_a_loader_computing_its_return_is_reported_where_its_result_is_used():
    cells = [PD, 'import requests\ndef get_comments(n):\n    return [r["body"] for r in requests.get(f"{URL}/{n}").json()]',
             'comments = get_comments(2792)\nlengths = [len(c) for c in comments]']
    assert rp301(cells) == [("RP301", 2, 1)]
    datasetdict = [PD, ('from datasets import load_dataset, DatasetDict\nds = load_dataset("a/b", split="train")\n'
                   'raw = DatasetDict({"train": ds})'), 'tok = raw.map(tokenize, batched=True)']
    [finding] = findings_for(datasetdict, select="RP301")
    assert "first used in cell 2 (line 1)" in finding.message  # passed through DatasetDict to the map


def test_data_handed_out_by_a_generator_of_the_notebook_is_used_where_it_is_consumed():
    load = 'from datasets import load_dataset\nds = load_dataset("wikitext", split="train")\n' \
           'def batches():\n    for i in range(0, len(ds), 1000):\n        yield ds[i : i + 1000]["text"]'
    assert rp301([PD, load, "tokenizer.train_from_iterator(batches(), trainer=trainer)"]) == [("RP301", 1, 2)]
    assert rp301([PD, load, "print(batches())"]) == []


def test_the_source_named_is_the_request_made_just_before():
    cells = [PD, 'import requests\nres = requests.post("https://auth.example.com/token", data=login)\ntoken = res.json()["t"]',
             'res = requests.get("https://api.example.com/posts")\nposts = res.json()["data"]', 'n = [p["id"] * 2 for p in posts]']
    [finding] = findings_for(cells, select="RP301")
    assert "'posts' is loaded from 'https://api.example.com/posts'" in finding.message


@pytest.mark.parametrize("cells", [
    ['import numpy as np\nwith open("fdata.txt", "w") as f:\n    f.write(",".join(map(str, np.random.random(100))))',
     'with open("fdata.txt") as f:\n    text = f.read()\nvalues = text.split(",")'],
    [('import numpy as np\nif not os.path.exists(path):\n    feats = model.predict(x)\n    np.save(open(path, "wb"), feats)\n'
     'else:\n    feats = np.load(open(path, "rb"))'), 'clf.fit(feats, y)'],
])
def test_files_the_notebook_writes_itself_are_its_own_output(cells):
    assert rp301([PD, *cells]) == []


@pytest.mark.parametrize("cells", [
    ['import json\nid2label = json.load(open(hf_hub_download(repo, "id2label.json")))',
     'id2label = {int(k): v for k, v in id2label.items()}\nnum_labels = len(id2label)'],
    ['import json\nwith open(f"{local_path}/eval_results.json") as f:\n    eval_results = json.load(f)',
     'df = pd.DataFrame([eval_results]).T'],
])
def test_label_maps_and_a_jobs_own_metrics_are_not_input_data(cells):
    assert rp301([PD, *cells]) == []


def test_results_of_an_api_are_still_data():
    cells = [PD, 'import requests\nresults = requests.get(search_url).json()', 'ids = [r["id"] * 2 for r in results]']
    assert rp301(cells) == [("RP301", 1, 2)]


@pytest.mark.parametrize("cells", [
    ['df = pd.read_csv("data/prices.csv", index_col="Date")', 'df.iplot(y="Adj Close")'],
    [('from IPython.display import HTML\ndef css_styling():\n    styles = open("styles/custom.css").read()\n'
     '    return HTML(styles)\ncss_styling()')],
    ['import json\nCLASS_INDEX = json.load(open(fpath))', 'names = [CLASS_INDEX[str(i)] for i in top5]'],
    ['image_path = "ADE_val_00000001.jpg"\nwith open(image_path, "rb") as f:\n    image_data = f.read()\n    res = predictor.predict(data=image_data)'],
])
def test_plots_display_html_class_indexes_and_image_bytes_are_not_unchecked_data(cells):
    assert rp301([PD, *cells]) == []


def test_a_plot_before_the_real_use_does_not_hide_it():
    cells = [PD, 'df = pd.read_csv("data/prices.csv")', 'df.iplot(y="close")', 'df["ret"] = df.close.pct_change()']
    assert rp301(cells) == [("RP301", 1, 1)]
    text = [PD, 'with open("data/notes.txt", "rb") as f:\n    raw = f.read()', 'words = raw.decode().split()\nn = len(words) * 2']
    assert rp301(text) == [("RP301", 1, 2)]  # not an image: still data


def test_a_subset_picked_to_look_at_is_not_a_use_but_a_subset_trained_on_is():
    load = 'from datasets import load_dataset\nds = load_dataset("csv", data_files=files)'
    shown = [PD, load, 'sample = ds["train"].shuffle(seed=42).select(range(1000))\nsample[:3]',
             'assert ds["train"].num_rows > 0 and "review" in ds["train"].column_names', 'tok = ds.map(tokenize)']
    assert rp301(shown) == []
    trained = [PD, load, 'small = ds["train"].shuffle(seed=42).select(range(1000))\ntrainer = Trainer(train_dataset=small)']
    assert rp301(trained) == [("RP301", 1, 2)]


def test_a_row_of_a_hugging_face_dataset_picked_to_try_a_model_is_not_a_use():
    load = 'from datasets import load_dataset\nds = load_dataset("user/speech", split="train")'
    assert rp301([PD, load, 'sample = ds[0]\nresult = pipeline(sample["audio"]["array"])']) == []
    assert rp301([PD, load, 'ds = ds.map(prepare)']) == [("RP301", 1, 2)]
    frame = [PD, 'df = pd.read_csv("data/pairs.tsv", sep="\\t", header=None)', 'emb = model.encode(df[1].tolist())']
    assert rp301(frame) == [("RP301", 1, 1)]  # a frame's column 1, not a row


# --- the parts of a cell the rule walks itself ------------------------------------------------------
def test_a_function_body_is_walked_without_what_it_defines_each_node_with_its_statement():
    import ast

    from readiness_magics.analysis import CellModel, analyse_source
    from readiness_magics.notebook import Cell
    from readiness_magics.rules.data_checks import _DataFlow, _scope_nodes

    facts = analyse_source("def load(p):\n    if p:\n        df = read(p)\n    def inner():\n        hidden = 1\n"
                           "    key = lambda r: r.hidden\n    try:\n        pass\n    except OSError as e:\n"
                           "        raise\n    return df\n")
    cell = CellModel(Cell(0, None, "code", facts.source), facts)
    nodes = list(_scope_nodes(facts.statements[0].body))
    names = {node.id for node, _ in nodes if isinstance(node, ast.Name)}
    assert names == {"p", "df", "read", "key", "OSError"}  # not `hidden`, nor the lambda's `r`
    assert any(isinstance(node, ast.FunctionDef) for node, _ in nodes)  # the nested def is one node
    for node, statement in nodes:  # the statement each is placed by, as a climb from it finds it
        assert statement is _DataFlow._statement_of(cell, node)
