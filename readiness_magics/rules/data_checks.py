"""missing-data-check: external data that is transformed, aggregated or modelled before anything checks it."""
from __future__ import annotations

import ast
import bisect
import heapq
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from pathlib import Path

from ..analysis import CellModel, NameRead, NotebookModel, child_fields, names_in, root_name, walk
from ..findings import Finding, Fix, Severity
from .base import Rule
from .hidden_state import comprehension_target_names
from .secrets import secret_kind

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)

# ---------------------------------------------------------------------------------------------
# What loads external data. Names are qualified through the notebook's imports; when a notebook
# uses a conventional alias it never imports (a later `import pandas as pd` cell was deleted),
# the alias is read as the library it always stands for.
_CONVENTIONAL_ALIASES = {
    "pd": "pandas", "np": "numpy", "pl": "polars", "dd": "dask.dataframe", "gpd": "geopandas",
    "xr": "xarray", "pq": "pyarrow.parquet", "mpd": "modin.pandas", "ps": "pyspark.pandas",
    "ks": "databricks.koalas", "sio": "scipy.io", "Image": "PIL.Image", "plt": "matplotlib.pyplot",
    "sns": "seaborn", "px": "plotly.express", "go": "plotly.graph_objects", "alt": "altair",
}

# Libraries whose `read_*` functions (and polars' lazy `scan_*`) read a file, a URL or a database.
_DATAFRAME_LIBRARIES = frozenset({
    "pandas", "polars", "dask", "modin", "cudf", "geopandas", "pyspark", "databricks", "vaex",
    "pyarrow", "feather",
})

_LOADERS = frozenset({
    "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile", "numpy.recfromcsv",
    "numpy.recfromtxt", "numpy.fromregex",
    "json.load", "pickle.load", "dill.load", "cloudpickle.load", "marshal.load",
    "yaml.load", "yaml.safe_load", "yaml.full_load", "yaml.unsafe_load", "yaml.load_all", "yaml.safe_load_all",
    "toml.load", "tomllib.load", "tomli.load",
    "csv.reader", "csv.DictReader",
    # OpenCV returns None for a file it cannot read, instead of raising.
    "cv2.imread", "cv2.imreadmulti",
    "scipy.io.loadmat", "scipy.io.wavfile.read", "scipy.io.mmread", "scipy.io.arff.loadarff",
    "scipy.sparse.load_npz", "librosa.load", "soundfile.read", "nibabel.load", "pydicom.dcmread",
    "pydicom.read_file",
    "xarray.open_dataset", "xarray.open_dataarray", "xarray.open_mfdataset", "xarray.open_zarr",
    "xarray.load_dataset", "xarray.load_dataarray",
    "datasets.load_dataset", "datasets.load_from_disk",
    "pyarrow.parquet.read_table", "pyarrow.parquet.read_pandas", "pyarrow.csv.read_csv",
    "pyarrow.json.read_json", "pyarrow.feather.read_feather", "pyarrow.feather.read_table",
    "pyarrow.orc.read_table", "pyarrow.dataset.dataset",
    "vaex.open", "vaex.from_csv",
    # The two sklearn.datasets loaders that read the user's own files (the rest ship with sklearn).
    "sklearn.datasets.load_svmlight_file", "sklearn.datasets.load_svmlight_files", "sklearn.datasets.load_files",
})

# Image decoders that raise on a missing, truncated or unknown file: an image has no columns or ranges to
# assert, and what its user needs (mode, size) is set by the `.convert("RGB")`/resize that follows. Not loads.
_IMAGE_DECODERS = frozenset({
    "PIL.Image.open", "imageio.imread", "imageio.v2.imread", "imageio.v3.imread", "imageio.mimread",
    "imageio.volread", "skimage.io.imread", "skimage.io.imread_collection", "matplotlib.pyplot.imread",
    "matplotlib.image.imread", "scipy.misc.imread", "scipy.ndimage.imread", "torchvision.io.read_image",
    "tensorflow.io.read_file", "tensorflow.io.decode_image",
})

# A `read_*`/`scan_*` function of any imported library reads external data (`wr.s3.read_parquet`,
# `ray.data.read_csv`, `nx.read_edgelist`), unless its name says it reads a model, a config or an image.
_READER_FUNCTION = re.compile(r"^(?:read|scan)_\w+$")
# (`read_data_sets` is the MNIST downloader of TensorFlow's tutorials, often copied beside notebooks.)
_NOT_DATA_READER = re.compile(r"model|weight|checkpoint|config|settings|image|img|font|version|^read_data_sets$",
                              re.IGNORECASE)
# Methods that turn a query, a table or a cloud dataset into a frame in memory: a load when what they are
# called on comes from a client or SDK (`bigquery.Client().query(q).to_dataframe()`,
# `Dataset.get_by_name(ws, "x").to_pandas_dataframe()`), not from data already in memory.
_MATERIALISE_METHODS = frozenset({
    "to_dataframe", "to_pandas_dataframe", "to_pandas", "toPandas", "to_arrow", "to_arrow_table",
    "to_spark_dataframe", "fetch_pandas_all", "fetch_arrow_all",
})
# Libraries that hold data in memory: a frame they convert (`table.to_pandas()`) is not read again.
_IN_MEMORY_LIBRARIES = frozenset({
    "pandas", "numpy", "polars", "pyarrow", "datasets", "torch", "tensorflow", "sklearn", "scipy", "dask",
    "cudf", "modin", "vaex", "xarray", "geopandas", "pyspark", "databricks", "statsmodels", "optuna",
    "matplotlib", "seaborn", "plotly", "keras", "jax", "networkx", "anndata", "scanpy", "pyranges",
})

# Downloaders of the classic benchmark datasets (`input_data.read_data_sets("MNIST_data/")`): bundled data.
_BUNDLED_READERS = ("tensorflow.examples", "tensorflow.contrib.learn.python.learn.datasets", "keras.datasets",
                    "tensorflow.keras.datasets", "torchvision.datasets", "tensorflow_datasets", "sklearn.datasets")

# Paths and URLs of sample data that ships with a library: `gpd.read_file(gpd.datasets.get_path("nybb"))`.
_BUNDLED_DATA = ("geopandas.datasets", "vega_datasets", "bokeh.sampledata", "sklearn.datasets", "seaborn",
                 "plotly.data", "plotly.express.data", "statsmodels.datasets", "statsmodels.api.datasets")

# Objects, not data: a pickle read into a name like these, or first used as a model, is a model.
_OBJECT_LOADERS = frozenset({"pickle.load", "dill.load", "cloudpickle.load"})
_MODEL_NAME = re.compile(
    r"(model|clf|classifier|regressor|estimator|pipe|pipeline|vectori[sz]er|scaler|encoder|tokenizer|"
    r"transformer|vocab|word2idx|idx2word|stoi|itos|^knn|^svm|^svc|^lr$|^rf$|^xgb|^lgb)", re.IGNORECASE)
# Whatever loads them, these are parts of a model or results of the notebook's own runs, not input data: a
# label map or vocabulary shipped beside a model, the metrics a training job wrote.
_ARTIFACT_NAME = re.compile(
    r"^(?:id2label|label2id|idx2label|label2idx|label_map|class_names|class_index|class_idx|vocab\w*|word2idx|"
    r"idx2word|stoi|itos|"
    r"(?:eval|test|train|val|validation)_(?:results|metrics|scores)(?:_raw)?|metrics)$", re.IGNORECASE)
_MODEL_METHODS = frozenset({
    "predict", "predict_proba", "predict_log_proba", "decision_function", "transform", "score",
    "inverse_transform", "kneighbors", "encode", "decode", "generate", "forward", "eval",
})

# Sources: opening a file or a URL is not yet reading it; reading them (below) is.
_FILE_SOURCES = frozenset({
    "open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open", "builtins.open",
    "smart_open.open", "fsspec.open", "tarfile.open", "zipfile.ZipFile", "rasterio.open",
    "urllib.request.urlopen", "urllib2.urlopen", "urllib.urlopen",
})
_OPENERS = frozenset({"open", "urlopen", "ZipFile"})
_HTTP_LIBRARIES = ("requests", "httpx", "urllib3")
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "request", "head", "urlopen"})
_READ_METHODS = frozenset({"read", "readlines", "readline"})
_ANY_RECEIVER_READS = frozenset({
    "read_text", "read_bytes", "fetchall", "fetchmany", "fetchone", "fetchdf", "fetch_df",
    "fetch_arrow_table", "fetchnumpy", "fetch_pandas_all", "fetch_pandas_batches", "fetch_arrow_all",
})
_SPARK_READ = re.compile(r"\.read(?:\.\w+\(\))*\.(?:csv|json|parquet|load|table|text|orc|jdbc|xml|avro)$")
_SPARK_SESSION_READS = frozenset({"sql", "table", "textFile", "wholeTextFiles"})
_DUCKDB_READS = frozenset({"df", "to_df", "pl", "arrow", "fetchdf", "fetch_df", "fetchnumpy"})
# Every loader's called name matches this; most calls are never resolved.
_PLAUSIBLE_LOAD = re.compile(
    r"(?i:read|load)|^(?:open|scan_|from|genfrom|fetch|to_pandas|to_dataframe|toPandas|to_arrow|to_spark)|"
    r"^(?:json|dataset|csv|parquet|table|text|orc|jdbc|xml|avro|sql|textFile|wholeTextFiles|df|to_df|pl|arrow)$")

# ---------------------------------------------------------------------------------------------
# What checks: a call that validates the data passed to it.
_VALIDATOR_NAME = re.compile(
    r"^_*(validate|check|assert|ensure|verify|expect|require)(_|[A-Z0-9]|$)|_(check|checks|validate|validation|validator)$|"
    r"^(model_validate|model_validate_json|parse_obj|parse_raw|parse_obj_as|validate_python|validate_json|is_valid)$"
)
_VALIDATOR_LIBRARIES = frozenset({"great_expectations", "jsonschema"})
_SCHEMA_CLASSES = re.compile(r"(Schema|SchemaModel|DataFrameModel|BaseModel)$")
_VALIDATING_DECORATORS = re.compile(r"(check_types|check_input|check_io|check_output|validate_call|validate_arguments)$")

# ---------------------------------------------------------------------------------------------
# What only looks at data: showing it, its shape or its metadata.
_META_ATTRIBUTES = frozenset({
    "shape", "columns", "dtypes", "dtype", "index", "size", "ndim", "empty", "name", "names", "nbytes",
    "axes", "attrs", "mode", "format", "info",
})
_LOOK_METHODS = frozenset({
    "head", "tail", "info", "describe", "sample", "isnull", "isna", "notna", "notnull", "duplicated",
    "nunique", "unique", "value_counts", "memory_usage", "count", "keys", "to_string", "to_markdown", "show",
    "printSchema", "summary", "glimpse",
})
_PLOT_ATTRIBUTES = frozenset({"plot", "style", "hvplot"})
_PLOT_METHODS = frozenset({
    "plot", "hist", "boxplot", "scatter", "bar", "barh", "imshow", "pie", "violinplot", "fill_between",
    "errorbar", "step", "stem", "contour", "contourf", "pcolormesh", "heatmap", "matshow", "spy",
    "iplot", "hvplot", "scatter_matrix", "pairplot",  # cufflinks' and hvplot's frame methods
})
_PLOT_LIBRARIES = ("matplotlib", "seaborn", "plotly", "altair", "bokeh", "missingno", "holoviews", "hvplot",
                   "pandas.plotting", "folium", "geoviews", "datashader")
_LOOK_CALLS = frozenset({
    "print", "display", "IPython.display.display", "pprint", "pprint.pprint", "rich.print", "warnings.warn",
})
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception", "log"})
_META_CALLS = frozenset({
    "len", "type", "isinstance", "id", "hasattr", "dir", "repr", "sys.getsizeof", "numpy.shape", "numpy.ndim",
})

# ---------------------------------------------------------------------------------------------
# What passes data through unchanged in substance: converting, copying, stacking the pieces read.
_WRAPPER_CALLS = frozenset({
    "pandas.DataFrame", "pandas.Series", "pandas.concat", "pandas.json_normalize", "pandas.io.json.json_normalize",
    "polars.DataFrame", "polars.concat", "numpy.array", "numpy.asarray", "numpy.stack", "numpy.vstack",
    "numpy.concatenate", "list", "tuple", "dict", "enumerate", "zip", "iter", "next", "json.loads", "pickle.loads",
    "yaml.safe_load", "yaml.load", "io.StringIO", "io.BytesIO", "copy.copy", "copy.deepcopy",
    "datasets.DatasetDict", "datasets.concatenate_datasets",
    # Parsing the text read is still reading it: what the parser returns is the data to check.
    "xmltodict.parse", "xml.etree.ElementTree.fromstring", "lxml.etree.fromstring", "bs4.BeautifulSoup",
    "ast.literal_eval", "orjson.loads", "ujson.loads", "simplejson.loads", "toml.loads", "tomllib.loads",
    "yaml.safe_load_all", "csv.reader", "csv.DictReader",
})
_PROGRESS_BARS = ("tqdm", "trange", "track")  # tqdm(rows), rich.progress.track(rows): the rows pass through
_PASS_METHODS = frozenset({
    "copy", "to_numpy", "to_dict", "to_list", "tolist", "to_records", "collect", "compute", "toPandas",
    "to_pandas", "load", "persist", "cache", "iterrows", "itertuples", "items", "iteritems",
})
# Only right where data is read: decoding or splitting the text read is still reading it.
_LOAD_PASS_METHODS = frozenset({"decode", "strip", "rstrip", "lstrip", "split", "splitlines", "get"})
# Rows picked, unchanged (a subset to look at, or to go on with): narrowing, not computing.
_SUBSET_METHODS = frozenset({"shuffle", "select", "take", "limit"})
_CONTAINER_METHODS = frozenset({"append", "extend", "appendleft"})  # list.append(data): the list holds it
_COPY_OUT = frozenset({"write", "writelines", "writestr"})
# The bytes of an image file (sent to an endpoint, decoded later): an image, as for the decoders above.
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|bmp|tiff?|webp)$", re.IGNORECASE)
_MASK_NODES = (ast.Compare, ast.BoolOp, ast.Call, ast.UnaryOp)

# Outcome kinds of following a value to the statement that receives it.
CHECK, LOOK, USE, RETURN, SUBSUMED, BIND, DERIVE, NONE = (
    "check", "look", "use", "return", "subsumed", "bind", "derive", "none")


@dataclass(slots=True)
class _Outcome:
    kind: str
    names: tuple[str, ...] = ()
    statement: ast.stmt | None = None
    computed: bool = False
    meta: bool = False


@dataclass(frozen=True)
class _Use:
    """Where a flow ends: its kind, and for a use, the cell and node of the first use."""

    kind: str
    cell: CellModel | None = None
    node: ast.AST | None = None


@dataclass(slots=True)
class _Event:
    key: tuple
    kind: str  # read, bind, augassign, call
    name: str
    cell: CellModel
    node: ast.AST
    statement: ast.stmt | None


@dataclass
class _Load:
    cell: CellModel
    node: ast.AST  # the call (or iterated expression) that reads the data
    scope: ast.AST | None  # the def it sits in, or None at top level
    callee: str
    source: str  # where the data comes from, as shown in the message
    targets: tuple[str, ...] = field(default_factory=tuple)
    result: _Use | None = None


class UncheckedDataLoad(Rule):
    """## What it does
    Reports a cell that loads external data (`pd.read_csv`, `np.load`, `json.load`, a response's
    `.json()`, `open(...).read()`, `cv2.imread`, `load_dataset`, a database query, ...) when the data
    is then transformed, aggregated, filtered, merged, written or passed to a model or function before
    anything checks it: an `assert` on it, an `if ...: raise`, a schema's `validate` (pandera,
    pydantic, great_expectations, jsonschema), a function named `validate_*`/`check_*`/`assert_*`/
    `ensure_*`/`verify_*`/`require_*`, a function of the notebook that asserts or raises on its
    argument, or a validator named in `data-validators`. The check may be in a later cell as long as
    it comes before the first use; a value computed from the data counts as a check only when it is
    used for nothing but checks (`n_bad = (df.x < 0).sum(); assert n_bad == 0`). Extra loaders are
    named in `data-loaders`.

    What reads external data is learnt from its shape more than from a list: a `read_*`/`scan_*`
    function of any imported library (`pd.read_csv`, `pl.scan_parquet`, `dd.read_csv`,
    `wr.s3.read_parquet`, `ray.data.read_parquet`, `nx.read_edgelist`), Spark's `spark.read...`,
    `spark.table` and `spark.sql`, a frame materialised from a client or SDK (`.to_dataframe()`,
    `.to_pandas_dataframe()`, `.to_pandas()`, `.fetch_pandas_all()`, DuckDB's `.df()`: BigQuery, Azure ML
    datasets, Snowflake, DuckDB), a response's `.json()`, a file's `read()` or lines, the loaders named
    above, and a function of the notebook whose return (or `yield`) comes from a read: a loader that
    parses what it reads (`df["day"] = pd.to_datetime(df["day"]); return df`) is checked where it is
    called. Parsing what was read (`json.loads`, `xmltodict.parse`, `pd.read_json(line)`) is still
    reading it.

    Looking is not checking: `head()`, `info()`, `describe()`, `.shape`, `isnull().sum()`, `print`,
    `display`, plots and warnings neither use nor check the data; one record picked by position to look
    at or to try a model on (`ds["test"][3]`) neither. A check on another variable does not count.
    Transforming or aggregating is using, even when the result is only shown.

    Not reported: data that is never used after loading; a loader function of the notebook, or of a
    module of its project (beside it, at its project's root or in `src/`), that validates inside;
    datasets bundled with a library (`load_iris`, `fetch_openml`, `sns.load_dataset`, `keras.datasets`,
    TensorFlow's MNIST `read_data_sets`); readers of models, configs and images (`read_model`,
    `cv2.dnn.readNet`, `torchvision.io.read_image`); images decoded by libraries that raise on a bad file
    (PIL, imageio, scikit-image, matplotlib; OpenCV's `imread`, which returns None instead, is
    reported); fitted models and their parts (`joblib.load`, `torch.load`, a pickle named or first used
    as a model, a vocabulary, a label map such as `id2label`), the metrics a job wrote
    (`eval_results`); a file the notebook itself wrote further up (`df.to_csv(p)` ... `pd.read_csv(p)`,
    `np.save`, `open(p, "w")` in a cell that downloads nothing, a `%%writefile` cell); a password or
    token read from a file (a secret, not data); data only copied or unpacked into another file. A load
    used inside a function without a check (to train, write or compute something else than what the
    function returns) is reported on the `def` cell. Code in a `%%writefile x.py` cell is checked as the
    module it writes.

    ## Why is this bad?
    In production the file changes: a renamed column, a new category, a blank row, a unit switched
    from euros to cents. Without a check that raises, the notebook keeps going and quietly produces
    wrong numbers or a wrong model instead of stopping where the data went wrong.

    ## Example
    ```python
    import pandas as pd
    # %%
    sales = pd.read_csv("data/sales.csv")
    sales.head()
    # %%
    monthly = sales.groupby("month")["amount"].sum()
    ```

    ## Use instead
    ```python
    import pandas as pd
    # %%
    sales = pd.read_csv("data/sales.csv")
    assert {"month", "amount"} <= set(sales.columns), "sales.csv lacks month/amount"
    assert (sales["amount"] >= 0).all(), "negative amounts in sales.csv"
    # %%
    monthly = sales.groupby("month")["amount"].sum()
    ```
    """

    code = "RP301"
    name = "unchecked-data-load"
    category = "missing-data-check"
    severity = Severity.ERROR
    # Data is followed by name from the cell that loads it to its first check or use, in any cell below:
    # one pass over the notebook, not a cell at a time.
    reads = ("calls", "names read and bound across cells", "the notebook's functions", "imports",
             "modules beside the notebook", "settings: data-loaders, data-validators")

    def check(self, model: NotebookModel) -> Iterator[Finding]:
        yield from _DataFlow(model).findings(self)


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1].rstrip("()[]") if name else ""


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _quoted(names) -> str:
    names = [f"'{name}'" for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    return []


def _raises(statement: ast.If | ast.While) -> bool:
    """The branch raises (or exits): a test guarding it is a check."""
    bodies = list(statement.body)
    if not (len(statement.orelse) == 1 and isinstance(statement.orelse[0], ast.If)):
        bodies += statement.orelse  # an `elif` is its own test, not this one's
    for node, _ in _scope_nodes(bodies):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("exit", "quit") or (name == "_exit"):
                return True
    return False


def _is_literal_index(index: ast.AST) -> bool:
    """`df["a"]`, `df[["a", "b"]]`, `df.iloc[:5]`, `df[cols]`: narrowing, not a filter mask."""
    return not any(isinstance(node, _MASK_NODES) or (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)))
                   for node in walk(index))


def _is_one_record(subscript: ast.Subscript) -> bool:
    """One record picked by position: `ds["train"][10]`, `df.iloc[3]`, `rows[randint(0, n)]`. A bare
    `data[1]` may be a column of a frame read without a header: not this."""
    index = subscript.slice
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index = index.operand
    if isinstance(index, ast.Call):
        return _call_name(index) in ("randint", "randrange", "choice", "integers")
    return isinstance(index, ast.Constant) and type(index.value) is int and \
        isinstance(subscript.value, (ast.Subscript, ast.Attribute))


def _checked_properties(callee: str) -> str:
    """What the message asks to assert: a table's columns and ranges, or any other data's shape."""
    last = _last(callee)
    tabular = last.startswith(("read_", "scan_")) and last not in ("read_text", "read_bytes") or last in (
        "fetchall", "fetchmany", "fetchdf", "fetch_df", "sql", "table", "csv", "parquet", "load_dataset", "load_from_disk")
    return "columns, types and ranges" if tabular else "structure, types and values"


def _comprehension_bound(cell: CellModel, node: ast.Name) -> bool:
    """`[x["a"] for x in rows]`: this `x` is the comprehension's own, not a notebook name."""
    if node.id not in comprehension_target_names(cell.facts):
        return False  # no comprehension of the cell binds it: most reads end here
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, ast.stmt):
            return False
        if isinstance(ancestor, _COMPREHENSIONS) and any(
                node.id in _target_names(generator.target) for generator in ancestor.generators):
            return True
    return False


@lru_cache(maxsize=256)
def _project_modules(folder: str, changed: int = 0) -> frozenset[str]:
    """Modules and packages beside a notebook, and at the root of its project (the first folder above
    holding `.git` or a pyproject.toml) or in that root's `src/`."""
    places = [Path(folder)]
    for parent in [Path(folder), *Path(folder).parents][:6]:
        if (parent / ".git").exists() or (parent / "pyproject.toml").exists() or (parent / "setup.py").exists():
            places += [parent, parent / "src"]
            break
    names = set()
    for place in places:
        try:
            names.update(entry.name.rsplit(".", 1)[0] for entry in place.iterdir()
                         if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").exists()))
        except OSError:
            continue
    return frozenset(names)


_DOWNLOADS = re.compile(r"requests\.|urlopen|urlretrieve|\.content\b|\.raw\b|download|wget|curl|http")


def _opens_for_writing(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax")


def _path_key(argument: ast.AST | None) -> str | None:
    """A file as the code names it, comparable between a write and a read: `open(p, "rb")` names `p`."""
    if argument is None or isinstance(argument, ast.Starred):
        return None
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.Call) and _call_name(argument) in ("open", "Path") and argument.args:
        return _path_key(argument.args[0])
    return ast.unparse(argument)


_PATH_KEYWORDS = frozenset({"filepath_or_buffer", "path", "fname", "file", "filename", "io", "source", "path_or_buf",
                            "uri", "fp", "path_or_paths"})
# Calls that write a file the notebook may read back.
_WRITER_METHODS = frozenset({
    "to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "to_feather", "to_hdf", "to_orc", "to_netcdf",
    "to_zarr", "to_sql", "save", "savez", "savez_compressed", "savetxt", "write_csv", "write_parquet",
    "write_table", "write_json", "write_feather", "save_to_disk", "imwrite", "dump",
})
_WRITES = _WRITER_METHODS | {"open"}
_WRITTEN_FILE = re.compile(r"[ \t]*%%(?:writefile|file)(?:[ \t]+-a)?[ \t]+(?P<target>\S+)[ \t]*\n")


def _scope_nodes(statements: list[ast.stmt]):
    """The nodes of some statements (a function's body, a branch), depth first, last statement first,
    each with its statement (itself, or the innermost one holding it); a function, class or lambda
    defined in them is one node, its insides left out. A part of a cell, walked where the rule holds it:
    the cell's own index does not say which scope a node is in."""
    stack = [(statement, statement) for statement in statements]
    pop, append, AST, nested, statement_type = stack.pop, stack.append, ast.AST, _NESTED_SCOPES, ast.stmt
    while stack:
        node, statement = pop()
        if isinstance(node, statement_type):
            statement = node
        yield node, statement
        if isinstance(node, nested):
            continue
        for field_name in child_fields(type(node)):
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        append((item, statement))
            elif isinstance(value, AST):
                append((value, statement))


@lru_cache(maxsize=8192)
def _plausible_load(last: str) -> bool:
    """The called name could be a loader's (a regular expression, asked once per name)."""
    return _PLAUSIBLE_LOAD.search(last) is not None


# Called names already classified, and those of them that may open or load: a cell's names are then
# sorted with two set operations. (Names are few, and the sets stop growing past a bound.)
_NAMES_SEEN: set[str] = set()
_LOADER_NAMES: set[str] = set()


def _loader_names(words: frozenset[str]) -> set[str]:
    """The names among `words` that a file opener or a loader may have."""
    if _NAMES_SEEN.issuperset(words):
        return words & _LOADER_NAMES
    unseen = words - _NAMES_SEEN
    found = {word for word in unseen if word in _OPENERS or _plausible_load(word)}
    if len(_NAMES_SEEN) < 100_000:
        _LOADER_NAMES.update(found)  # before they are seen: another thread may look meanwhile
        _NAMES_SEEN.update(unseen)
    return found | (words & _LOADER_NAMES)


def _may_load(words: frozenset[str]) -> bool:
    """Some of `words` may name a loader or an opener (asked of every cell: no set is built when all are known)."""
    if _NAMES_SEEN.issuperset(words):
        return not _LOADER_NAMES.isdisjoint(words)
    return bool(_loader_names(words))


def _load_candidates(cell: CellModel, any_name: bool) -> tuple[list[ast.Call], bool]:
    """The calls named like a file opener or a loader (any named call when `any_name`: loaders are
    configured), and whether any opens a file."""
    # The names the cell calls first (each once): most cells call no loader, and their calls are never looked at.
    words = cell.facts.call_words
    wanted = words if any_name else _loader_names(words)
    if not wanted:
        return [], False
    Attribute, Name = ast.Attribute, ast.Name
    candidates = []
    for call in cell.facts.calls:
        func = call.func
        kind = type(func)
        if (kind is Attribute and func.attr in wanted) or (kind is Name and func.id in wanted):
            candidates.append(call)
    return candidates, not wanted.isdisjoint(_OPENERS)


_NAMES_LOOKED_UP = 16  # names whose reads are found cell by cell, before every read is indexed
_IN_LAMBDA = ast.Lambda()
# Statements that hold others (a body, branches, handlers, cases): a node in one may sit in a nested statement.
_HOLDS_STATEMENTS = frozenset(kind for kind in ast.stmt.__subclasses__()
                              if {"body", "orelse", "finalbody", "handlers", "cases"} & set(kind._fields))


def _scope_of(cell: CellModel, node: ast.AST) -> ast.AST | None:
    """The def `node` sits in (None at top level), or `_IN_LAMBDA` when a lambda comes first: one climb."""
    parents, functions, lambda_ = cell.facts.parents, _FUNCTIONS, ast.Lambda
    node = parents.get(node)
    while node is not None:
        if isinstance(node, functions):
            return node
        if isinstance(node, lambda_):
            return _IN_LAMBDA
        node = parents.get(node)
    return None


class _DataFlow:
    """Loads of one notebook, each followed by name through the cells to its first check or use."""

    def __init__(self, model: NotebookModel):
        self.model = model
        settings = model.settings
        self.extra_loaders = frozenset(getattr(settings, "data_loaders", ()) or ())
        self.extra_validators = frozenset(getattr(settings, "data_validators", ()) or ())
        self._qualified: dict[int, str] = {}
        self._top_events: dict[str, list[_Event]] = {}
        self._top_reads: dict[str, list[tuple[CellModel, NameRead]]] = {}
        self._all_reads: dict[str, list[tuple[CellModel, NameRead]]] | None = None
        self._readers_of: dict[str, list[str]] | None = None
        self._function_events: dict[int, dict[str, list[_Event]]] = {}
        self._loader_state: dict[str, object] = {}
        self._param_checks: dict[tuple[int, str], _Use] = {}
        self._counter = itertools.count()
        self._loads: list[_Load] | None = None
        self._top_values: dict[str, list[ast.AST]] = {}  # name -> values bound to it at top level
        self._loads_by_scope: tuple[list[_Load], dict[int, list[_Load]]] | None = None
        self._local_modules: set[str] | None = None
        self._written: list[tuple[str, tuple[int, int]]] | None = None
        self._rooting: set[int] = set()
        self._top_placed_by_name: dict[str, list[tuple[tuple[int, int], ast.AST]]] = {}
        self._datasets: set[str] = set()  # names bound to a Hugging Face dataset's load  # calls whose root is being looked for (a name bound from itself)

    # -- names ----------------------------------------------------------------------------------
    def qualify(self, node: ast.AST) -> str:
        key = id(node)
        found = self._qualified.get(key)
        if found is None:
            found = self.model.resolve(node) or ""
            head, dot, rest = found.partition(".")
            if head in _CONVENTIONAL_ALIASES and head not in self.model.aliases and head not in self.model.definitions:
                found = _CONVENTIONAL_ALIASES[head] + dot + rest
            self._qualified[key] = found
        return found

    def _assigned_value(self, cell: CellModel, scope, name: str) -> list[ast.AST]:
        """Expressions bound to `name` by `name = ...` or `with ... as name` in a scope (or at top level)."""
        values = []
        if scope is not None:
            for event in self._events_in_function(cell, scope).get(name, ()):
                if event.kind == "bind":
                    value = self._bound_value(event.cell, event.node)
                    if value is not None:
                        values.append(value)
            if values:
                return values
        top = self._top_values.get(name)
        if top is None:  # once per name: a name bound in every cell would make this quadratic
            top = self._top_values[name] = [
                value for definition in self.model.definitions.get(name, ())
                if (value := self._bound_value(definition.cell, definition.binding.node)) is not None]
        values.extend(top)
        return values

    @staticmethod
    def _bound_value(cell: CellModel, node: ast.AST) -> ast.AST | None:
        parent = cell.facts.parent(node)
        if isinstance(parent, ast.withitem) and parent.optional_vars is node:
            return parent.context_expr
        if isinstance(parent, ast.Assign) and node in parent.targets:
            return parent.value
        if isinstance(parent, ast.AnnAssign) and parent.target is node:
            return parent.value
        return None

    # -- sources and loads -----------------------------------------------------------------------
    def _is_file_source(self, cell: CellModel, node: ast.AST, scope) -> bool:
        if isinstance(node, ast.Call):
            callee = self.qualify(node.func)
            # Also path.open(), zipfile.open(name), fs.open(uri).
            return callee in _FILE_SOURCES or (
                isinstance(node.func, ast.Attribute) and node.func.attr == "open" and callee not in _LOADERS
                and callee not in _IMAGE_DECODERS)
        if isinstance(node, ast.Name):
            return any(self._is_file_source(cell, value, None) for value in self._assigned_value(cell, scope, node.id)
                       if value is not node)
        return False

    def _is_response(self, cell: CellModel, node: ast.AST, scope, depth: int = 0) -> bool:
        if depth > 3:
            return False
        if isinstance(node, ast.Call):
            callee = self.qualify(node.func)
            if callee.startswith(_HTTP_LIBRARIES) or callee in _FILE_SOURCES and "urlopen" in callee:
                return _last(callee) in _HTTP_VERBS
            if isinstance(node.func, ast.Attribute) and node.func.attr in _HTTP_VERBS:
                receiver = node.func.value
                if isinstance(receiver, ast.Name):  # session.get(...), client.post(...)
                    return any(self._is_http_client(value) for value in self._assigned_value(cell, scope, receiver.id))
                return self._is_http_client(receiver)
            return False
        if isinstance(node, ast.Name):
            return any(self._is_response(cell, value, scope, depth + 1)
                       for value in self._assigned_value(cell, scope, node.id) if value is not node)
        return False

    def _is_http_client(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            callee = self.qualify(node.func)
            return callee.startswith(_HTTP_LIBRARIES) or callee.startswith("aiohttp")
        return False

    def _load_callee(self, cell: CellModel, call: ast.Call, scope) -> str | None:
        """The qualified loader when `call` reads external data, else None."""
        func = call.func
        last = _call_name(call)
        if not self._plausible(last):
            return None
        callee = self.qualify(func)
        if callee in self.extra_loaders or _last(callee) in self.extra_loaders:  # a bare name matches any module
            return callee
        if call.args and self.qualify(call.args[0].func if isinstance(call.args[0], ast.Call) else call.args[0]
                                      ).startswith(_BUNDLED_DATA):
            return None
        if callee in _LOADERS:
            return None if self._is_inline_text(call) else callee
        head = callee.split(".", 1)[0]
        if head in _DATAFRAME_LIBRARIES and (last.startswith("read_") or (head == "polars" and last.startswith("scan_"))):
            return None if self._is_inline_text(call) else callee
        if _READER_FUNCTION.match(last) and self._is_library_function(func) and callee not in _IMAGE_DECODERS \
                and not _NOT_DATA_READER.search(last) and not callee.startswith(_BUNDLED_READERS):
            return None if self._is_inline_text(call) else callee
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if last in _READ_METHODS:
                return callee if self._is_file_source(cell, receiver, scope) or self._is_response(cell, receiver, scope) else None
            if last in _ANY_RECEIVER_READS:
                return callee
            if last == "json":
                return callee if self._is_response(cell, receiver, scope) else None
            if _SPARK_READ.search(callee) and not callee.startswith(("pandas", "numpy")):
                return callee
            if last in _SPARK_SESSION_READS and isinstance(receiver, ast.Name) and (
                    "spark" in receiver.id.lower() or receiver.id in ("sc", "sqlContext", "sqlCtx")):
                return callee
            if last in _DUCKDB_READS and callee.startswith("duckdb"):
                return callee
            if last in _MATERIALISE_METHODS or last in _DUCKDB_READS:
                module = self._external_root(cell, receiver, scope)
                if module is not None and (last in _MATERIALISE_METHODS or module.startswith("duckdb")):
                    return callee
        if callee == "json.loads" and call.args:
            argument = call.args[0]
            if isinstance(argument, ast.Attribute) and argument.attr in ("text", "content") and \
                    self._is_response(cell, argument.value, scope):
                return callee
        return None

    def _is_library_function(self, func: ast.AST) -> bool:
        """`func` is reached from an import of a third-party library (`wr.s3.read_csv`), not from a
        variable, and not from a module of the notebook's own project (which may check inside)."""
        while isinstance(func, ast.Attribute):
            func = func.value
        if not isinstance(func, ast.Name):
            return False
        full = self.model.aliases.get(func.id) or (
            _CONVENTIONAL_ALIASES.get(func.id) if func.id not in self.model.definitions else None)
        return full is not None and not self._is_local_module(full.split(".", 1)[0])

    def _is_local_module(self, head: str) -> bool:
        """A module of the notebook's project: beside it, at its project's root (or `src/`), or written
        by one of its cells."""
        local = self._local_modules
        if local is None:
            local = self._local_modules = set()
            if self.model.path is not None:
                folder = self.model.path.parent.resolve()
                try:
                    changed = folder.stat().st_mtime_ns  # a module added since is seen at the next check
                except OSError:
                    changed = 0
                local.update(_project_modules(str(folder), changed))
            for cell in self.model.cells:
                first = cell.cell.source.lstrip().split("\n", 1)[0]
                if cell.cell.is_code and first.startswith(("%%writefile", "%%file")) and first.endswith(".py"):
                    local.add(first.rsplit("/", 1)[-1].split()[-1].strip("'\"")[:-3])
        return head in local

    def _external_root(self, cell: CellModel, node: ast.AST, scope, depth: int = 0) -> str | None:
        """The module of the client or SDK a chain of calls starts from (`google.cloud.bigquery` for
        `client.query(q)` with `client = bigquery.Client()`), None when it starts from data in memory,
        from a load already counted, or from what cannot be told."""
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(node, ast.Call):
                if id(node) in self._rooting:
                    return None  # `data = data.to_pandas()`: the name's own value, already being followed
                self._rooting.add(id(node))
                try:
                    if self._plausible(_call_name(node)) and self._load_callee(cell, node, scope) is not None:
                        return None  # `load_dataset(...).to_pandas()`: the load is reported itself
                finally:
                    self._rooting.discard(id(node))
                node = node.func
            else:
                node = node.value
        if not isinstance(node, ast.Name) or depth > 3:
            return None
        full = self.model.aliases.get(node.id)
        if full is not None and node.id not in self.model.definitions or full is not None and \
                all(d.binding.kind == "import" for d in self.model.definitions.get(node.id, ())):
            head = full.split(".", 1)[0]
            return None if head in _IN_MEMORY_LIBRARIES or self._is_local_module(head) else full
        for value in self._assigned_value(cell, scope, node.id):
            if value is not node:
                found = self._external_root(cell, value, scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _plausible(self, last: str) -> bool:
        """A cheap first look at the called name, so most calls are never resolved."""
        return bool(last) and (bool(self.extra_loaders) or _plausible_load(last))

    @staticmethod
    def _is_inline_text(call: ast.Call) -> bool:
        """`pd.read_csv(io.StringIO("a,b\\n1,2"))`, `pd.read_json('{"a": 1}')`: data written in the notebook."""
        if not call.args:
            return False
        first = call.args[0]
        if isinstance(first, ast.Call) and first.args and isinstance(first.args[0], ast.Constant) and \
                isinstance(first.func, (ast.Name, ast.Attribute)) and \
                (getattr(first.func, "attr", None) or getattr(first.func, "id", "")) in ("StringIO", "BytesIO"):
            return True
        return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.lstrip()[:1] in ("{", "[")

    def _values_before(self, cell: CellModel, scope, node: ast.Name) -> list[ast.AST]:
        """What `node`'s name was last set to before it, nearest first (then any other value it takes)."""
        here = (cell.index, getattr(node, "lineno", 0))
        placed = []
        if scope is not None:
            for event in self._events_in_function(cell, scope).get(node.id, ()):
                value = self._bound_value(event.cell, event.node) if event.kind == "bind" else None
                if value is not None:
                    placed.append(((event.cell.index, event.node.lineno), value))
        if not placed:
            placed = self._top_placed(node.id)
        ordered = sorted(placed, key=lambda item: item[0], reverse=True) if len(placed) > 1 else placed
        before = [value for where, value in ordered if where <= here]
        taken = {id(value) for value in before}  # by identity, as `in` compares nodes; a set keeps it linear
        return before + [value for _, value in placed if id(value) not in taken]

    def _top_placed(self, name: str) -> list[tuple[tuple[int, int], ast.AST]]:
        """(where, value) of each top-level binding of `name`: once per name, however often it is read (a
        name bound in every cell of a long notebook made this quadratic)."""
        placed = self._top_placed_by_name.get(name)
        if placed is None:
            placed = self._top_placed_by_name[name] = []
            for definition in self.model.definitions.get(name, ()):
                value = self._bound_value(definition.cell, definition.binding.node)
                if value is not None:
                    placed.append(((definition.cell.index, getattr(definition.binding.node, "lineno", 0)), value))
        return placed

    def _describe(self, cell: CellModel, node: ast.AST, scope, depth: int = 0) -> str:
        """Where data comes from, for the message: 'data/sales.csv', data_path, a query."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return f"'{_short(node.value)}'"
        if isinstance(node, ast.Name):
            if depth < 3:
                for value in self._values_before(cell, scope, node):
                    if isinstance(value, ast.Call) and (self._is_file_source(cell, value, None) or
                                                        self._is_response(cell, value, None)):
                        return self._describe(cell, value, scope, depth + 1)
            return node.id
        if isinstance(node, ast.Call) and depth < 4 and (depth == 0 or self._is_file_source(cell, node, None) or
                                                         self._is_response(cell, node, None)
                                                         or _call_name(node) in ("Path", "PurePath")):
            argument = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in (
                    "filepath_or_buffer", "path", "fname", "file", "filename", "io", "source", "url", "sql",
                    "path_or_buf", "uri", "fp", "stream", "path_or_paths", "name")), None)
            if argument is not None and not isinstance(argument, ast.Starred):
                return self._describe(cell, argument, scope, depth + 1)
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, (ast.Call, ast.Name)):
                described = self._describe(cell, node.func.value, scope, depth + 1)
                if not isinstance(node.func.value, ast.Name) or described != node.func.value.id:
                    return described
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._describe(cell, node.generators[0].iter, scope, depth + 1)
        return _short(ast.unparse(node))

    def loads(self) -> list[_Load]:
        if self._loads is not None:
            return self._loads
        found: list[_Load] = []
        any_name = bool(self.extra_loaders)
        candidates_of = partial(_load_candidates, any_name=any_name)
        for cell in self.model.parsed_cells:
            facts = cell.facts
            if not any_name and not _may_load(facts.call_words):
                continue  # calls nothing named like a loader or an opener: most cells
            # The look at each call's name depends on the cell alone: kept per cell source.
            candidates, opens = self.model.per_cell(cell, "RP301.candidates", candidates_of, any_name)
            for call in candidates:
                scope = _scope_of(cell, call)
                if scope is _IN_LAMBDA:
                    continue  # runs whenever the lambda is called; too far from here to follow
                callee = self._load_callee(cell, call, scope)
                if callee is not None:
                    found.append(_Load(cell, call, scope, callee, self._describe(cell, call, scope)))
                elif self._iterated(cell, call) is not None and self._is_file_source(cell, call, scope):
                    found.append(_Load(cell, self._iterated(cell, call), scope, self.qualify(call.func),
                                       self._describe(cell, call, scope)))
            if opens:
                found.extend(self._iterated_handles(cell))
        self._loads = found
        return found

    @staticmethod
    def _iterated(cell: CellModel, node: ast.AST) -> ast.AST | None:
        """`for line in <node>` or `[... for line in <node>]`: the lines read are the data."""
        parent = cell.facts.parent(node)
        if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:
            return node
        if isinstance(parent, ast.comprehension) and parent.iter is node:
            return cell.facts.parent(parent)
        return None

    def _iterated_handles(self, cell: CellModel) -> list[_Load]:
        """`with open(p) as f: for line in f:` (the handle iterated, at top level or in a def)."""
        found = []
        facts = cell.facts
        reads = [(read.node, None) for read in facts.reads]
        for function in facts.functions:
            for events in self._events_in_function(cell, function.node).values():
                reads.extend((event.node, function.node) for event in events if event.kind == "read")
        for node, scope in reads:
            parent = facts.parent(node)
            if not isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) or parent.iter is not node:
                continue
            if scope is None:
                scope = facts.enclosing_function(node)
            if self._is_file_source(cell, node, scope):
                target = self._iterated(cell, node)
                found.append(_Load(cell, target, scope, "open", self._describe(cell, node, scope)))
        return found

    # -- notebook functions ---------------------------------------------------------------------
    @cached_property
    def _function_names(self) -> frozenset[str]:
        return frozenset(self.model.functions)

    def _function_named(self, name: str):
        entry = self.model.functions.get(name)
        if entry is None:
            return None, None
        cell, function = entry
        return cell, function.node

    def is_unchecked_loader(self, name: str) -> bool:
        """A notebook function that reads external data and returns it without checking it."""
        state = self._loader_state.get(name)
        if state is not None:
            return state is True
        cell, node = self._function_named(name)
        if node is None:
            return False
        self._loader_state[name] = False  # recursion guard
        result = False
        for load in self._loads_in_function(cell, node):
            if self.evaluate(load).kind == RETURN:
                result = True
                break
        self._loader_state[name] = result
        return result

    def _loads_in_function(self, cell: CellModel, function: ast.AST) -> list[_Load]:
        """The loads a function's body makes, its calls of other unchecked loaders included."""
        loads = self.loads()
        if self._loads_by_scope is None or self._loads_by_scope[0] is not loads:
            by_scope: dict[int, list[_Load]] = {}
            for load in loads:
                by_scope.setdefault(id(load.scope), []).append(load)
            self._loads_by_scope = (loads, by_scope)
        found = list(self._loads_by_scope[1].get(id(function), ()))
        if cell.facts.call_words.isdisjoint(self._function_names):
            return found
        for call in cell.facts.calls:
            func = call.func
            if isinstance(func, ast.Name) and func.id in self.model.functions and \
                    cell.facts.enclosing_function(call) is function and self.is_unchecked_loader(func.id):
                found.append(_Load(cell, call, function, func.id, self._describe(cell, call, function)))
        return found

    def validates_parameter(self, function: ast.AST, cell: CellModel, position: int | None, keyword: str | None) -> _Use:
        """What a notebook function does first with one of its parameters: check, use, return or nothing."""
        args = function.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if keyword is not None:
            name = keyword
        elif position is not None and position < len(positional):
            name = positional[position]
        elif args.vararg is not None:
            name = args.vararg.arg
        else:
            return _Use(NONE)
        if any(_VALIDATING_DECORATORS.search(self.qualify(d.func if isinstance(d, ast.Call) else d))
               for d in function.decorator_list):
            return _Use(CHECK)
        key = (id(function), name)
        if key in self._param_checks:
            return self._param_checks[key]
        self._param_checks[key] = _Use(NONE)  # recursion guard
        start = (cell.index, function.lineno, function.col_offset, 2)
        result = self.flow(cell, function, (name,), start, depth=1)
        self._param_checks[key] = result
        return result

    # -- events: reads and bindings of names, in document order ----------------------------------
    @staticmethod
    def _statement_of(cell: CellModel, node: ast.AST) -> ast.stmt | None:
        parents, statement = cell.facts.parents, ast.stmt
        while node is not None and not isinstance(node, statement):
            node = parents.get(node)
        return node

    def _event(self, cell: CellModel, kind: str, name: str, node: ast.AST, top: ast.stmt | None = None) -> _Event:
        """`top`: the top-level statement holding `node`, when known; when it holds no statements itself,
        it is the one the event is placed by, without climbing to it."""
        statement = top if top is not None and type(top) not in _HOLDS_STATEMENTS else self._statement_of(cell, node)
        return self._event_in(cell, kind, name, node, statement)

    @staticmethod
    def _event_in(cell: CellModel, kind: str, name: str, node: ast.AST, statement: ast.stmt | None) -> _Event:
        """The event of `node`, in `statement`, the innermost one holding it."""
        order = 0 if kind in ("read", "call") else 1
        where = (statement.lineno, statement.col_offset) if statement is not None else (0, 0)
        key = (cell.index, *where, order, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        return _Event(key, kind, name, cell, node, statement)

    def _binding_kind(self, cell: CellModel, node: ast.AST) -> str:
        parent = cell.facts.parent(node)
        return "augassign" if isinstance(parent, ast.AugAssign) and parent.target is node else "bind"

    def events(self, cell: CellModel | None, scope, name: str) -> list[_Event]:
        if scope is not None:
            return self._events_in_function(cell, scope).get(name, [])
        cached = self._top_events.get(name)
        if cached is None:
            cached = self._top_events[name] = self._build_top_events(name)
        return cached

    def _reads_of(self, name: str) -> list[tuple[CellModel, NameRead]]:
        """The top-level reads of one name, in document order. A flow follows a few names, not all: each
        of the first few is looked up in each cell's read names; past them, every read is indexed once
        (a notebook of thousands of loads, each into its own name, stays linear)."""
        found = self._top_reads.get(name)
        if found is not None:
            return found
        if len(self._top_reads) < _NAMES_LOOKED_UP:
            found = [(cell, read) for cell in self.model.parsed_cells if name in cell.facts.read_names
                     for read in cell.facts.reads if read.name == name]
        else:
            if self._all_reads is None:
                self._all_reads = {}
                for cell in self.model.parsed_cells:
                    for read in cell.facts.reads:
                        self._all_reads.setdefault(read.name, []).append((cell, read))
            found = self._all_reads.get(name, [])
        self._top_reads[name] = found
        return found

    def _references(self, name: str) -> list[tuple[CellModel, NameRead]]:
        """Reads of the notebook functions that read `name` as a global (where they are called or passed)."""
        if self._readers_of is None:  # global name -> the notebook functions reading it, indexed once
            self._readers_of = {}
            for function_name, (_, function) in self.model.functions.items():
                for read in {n.id for n in function.free_reads}:
                    self._readers_of.setdefault(read, []).append(function_name)
        found = []
        for function_name in self._readers_of.get(name, ()):
            found.extend(self._reads_of(function_name))
        return found

    def _build_top_events(self, name: str) -> list[_Event]:
        found = [self._event(cell, "read", name, read.node, read.statement) for cell, read in self._reads_of(name)
                 if not _comprehension_bound(cell, read.node)]
        for definition in self.model.definitions.get(name, ()):
            cell, binding = definition.cell, definition.binding
            kind = self._binding_kind(cell, binding.node) if isinstance(binding.node, ast.Name) else "bind"
            found.append(self._event(cell, kind, name, binding.node, binding.statement))
        # A notebook function that reads a global uses it where it is called (or passed to .map).
        found.extend(self._event(cell, "call", name, read.node, read.statement) for cell, read in self._references(name))
        found.sort(key=lambda event: event.key)
        return found

    def _events_in_function(self, cell: CellModel, function: ast.AST) -> dict[str, list[_Event]]:
        cached = self._function_events.get(id(function))
        if cached is not None:
            return cached
        found: dict[str, list[_Event]] = {}
        parents = cell.facts.parents
        event = self._event_in
        for node, statement in _scope_nodes(function.body):
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                found.setdefault(node.name, []).append(event(cell, "bind", node.name, node, statement))
                continue
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    if not _comprehension_bound(cell, node):
                        found.setdefault(node.id, []).append(event(cell, "read", node.id, node, statement))
                else:
                    parent = parents.get(node)
                    if isinstance(parent, (ast.Tuple, ast.List, ast.Starred)):
                        parent = parents.get(parent)
                    if not isinstance(parent, ast.comprehension):
                        kind = self._binding_kind(cell, node)
                        found.setdefault(node.id, []).append(event(cell, kind, node.id, node, statement))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    found.setdefault(bound, []).append(event(cell, "bind", bound, node, statement))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                found.setdefault(node.name, []).append(event(cell, "bind", node.name, node, statement))
        for events in found.values():
            events.sort(key=lambda event: event.key)
        self._function_events[id(function)] = found
        return found

    # -- following a value to the statement that receives it ------------------------------------
    def is_validator_call(self, cell: CellModel, call: ast.Call, callee: str) -> bool:
        last = _last(callee)
        if callee in self.extra_validators or last in self.extra_validators:
            return True
        if _VALIDATOR_NAME.search(last):
            return True
        if callee.split(".", 1)[0] in _VALIDATOR_LIBRARIES:
            return True  # great_expectations.from_pandas(df), jsonschema.validate(data, schema)
        func = call.func
        if isinstance(func, ast.Name):
            # Model(**data) for a pydantic model; schema(df) for a pandera schema object.
            if func.id in self.model.class_names:
                return any(_SCHEMA_CLASSES.search(self.qualify(base) or "")
                           for c in self.model.parsed_cells for node in c.facts.classes if node.name == func.id
                           for base in node.bases)
            for value in self._assigned_value(cell, None, func.id):
                if isinstance(value, ast.Call) and _SCHEMA_CLASSES.search(self.qualify(value.func)):
                    return True
        return False

    def _argument_position(self, call: ast.Call, child: ast.AST) -> tuple[int | None, str | None]:
        for index, argument in enumerate(call.args):
            if argument is child:
                return index, None
        for keyword in call.keywords:
            if keyword is child or keyword.value is child:
                return None, keyword.arg
        return None, None

    def _notebook_function_use(self, call: ast.Call, child: ast.AST, position=None, keyword=None) -> str | None:
        """What a notebook function does with the argument it gets: check, look, use or pass it back."""
        func = call.func
        if not (isinstance(func, ast.Name) and func.id in self.model.functions):
            return None
        cell, node = self._function_named(func.id)
        if position is None and keyword is None:
            position, keyword = self._argument_position(call, child)
        if keyword is None and position is None:
            return USE  # **kwargs or *args: cannot tell
        result = self.validates_parameter(node, cell, position, keyword)
        return {CHECK: CHECK, USE: USE, RETURN: RETURN}.get(result.kind, LOOK)

    def _call_with_argument(self, cell: CellModel, call: ast.Call, child: ast.AST, for_load: bool, scope) -> str:
        """What a call does with one of its arguments: check, look, meta, pass, use, subsume, container."""
        callee = self.qualify(call.func)
        if self.is_validator_call(cell, call, callee):
            return CHECK
        if self._plausible(_last(callee)) and self._load_callee(cell, call, scope) is not None:
            return SUBSUMED if for_load else "pass"  # `pd.read_json(line)`: parsing what was read
        last = _last(callee)
        if callee in _LOOK_CALLS or callee.startswith(("IPython.display.", "IPython.core.display.")):
            return LOOK
        if isinstance(call.func, ast.Attribute) and last in _LOG_METHODS and \
                (root_name(call.func) or "").lower().startswith(("log", "logging")):
            return LOOK
        if callee in _META_CALLS:
            return "meta"
        if callee.startswith(_PLOT_LIBRARIES) or (isinstance(call.func, ast.Attribute) and last in _PLOT_METHODS):
            return LOOK
        if callee in _WRAPPER_CALLS or last in _PROGRESS_BARS:
            return "pass"
        if isinstance(call.func, ast.Attribute) and last in _CONTAINER_METHODS and isinstance(call.func.value, ast.Name):
            return "container"
        if last in _COPY_OUT or callee == "shutil.copyfileobj":
            return LOOK  # `out.write(gz.read())`: copied or unpacked into a file, not computed on
        notebook = self._notebook_function_use(call, child)
        if notebook is not None:
            return {CHECK: CHECK, LOOK: LOOK, RETURN: "pass"}.get(notebook, "use")
        return "use"

    def _method_on_value(self, cell: CellModel, call: ast.Call, attribute: str, for_load: bool) -> str:
        """What `value.method(...)` does to the value."""
        if attribute in _LOOK_METHODS:
            return "meta"
        if attribute in _PLOT_METHODS:
            return LOOK
        if attribute == "pipe" and call.args:
            function = call.args[0]
            callee = self.qualify(function)
            if callee in self.extra_validators or _VALIDATOR_NAME.search(_last(callee)):
                return CHECK
            if isinstance(function, ast.Name) and function.id in self.model.functions:
                cell, node = self._function_named(function.id)
                use = self.validates_parameter(node, cell, 0, None).kind
                return {CHECK: CHECK, RETURN: "pass", USE: "use"}.get(use, LOOK)
            return "use"
        if _VALIDATOR_NAME.search(attribute) or attribute in self.extra_validators:
            return CHECK
        if attribute in _PASS_METHODS:
            return "pass"
        if attribute == "get":
            return "pass" if for_load else "narrow"
        if attribute in _SUBSET_METHODS and not for_load:
            return "narrow"  # `ds.shuffle(seed=42).select(range(1000))`: some of the rows, as they are
        if for_load and attribute in _LOAD_PASS_METHODS:
            return "pass"
        return "use"

    def climb(self, cell: CellModel, node: ast.AST, scope, for_load: bool) -> _Outcome:
        """Follow a value (a load, or a read of a loaded name) up to the statement that receives it."""
        facts = cell.facts
        meta = computed = narrowed = False
        item = None
        child = node
        parent = facts.parent(child)
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.Attribute):
                if not isinstance(parent.ctx, ast.Load):
                    return _Outcome(USE)  # df.columns = ...: changes the data
                grand = facts.parent(parent)
                if isinstance(grand, ast.Call) and grand.func is parent:
                    if not meta:
                        effect = self._method_on_value(cell, grand, parent.attr, for_load)
                        if effect in (CHECK, LOOK):
                            return _Outcome(effect)
                        if effect == "meta":
                            meta = True
                        elif effect == "narrow":
                            narrowed = True
                        elif effect == "use":
                            computed = True
                    child, parent = grand, facts.parent(grand)
                    continue
                if not meta:
                    if parent.attr in _PLOT_ATTRIBUTES:
                        return _Outcome(LOOK)
                    if parent.attr in _META_ATTRIBUTES:
                        meta = True
            elif isinstance(parent, ast.Subscript):
                if not isinstance(parent.ctx, ast.Load):
                    return _Outcome(USE)  # df["x"] = ..., del df["x"]
                if child is parent.value:
                    if not (for_load or computed or meta) and (_is_one_record(parent) or self._row_of_dataset(parent)):
                        return _Outcome(LOOK)  # `ds["test"][3]`: one example, looked at or tried on a model
                    elif not meta:
                        if _is_literal_index(parent.slice):
                            narrowed = narrowed or not for_load
                        else:
                            computed = True  # a filter mask
                elif not meta:
                    computed = True  # the data indexes something else
            elif isinstance(parent, ast.Call):
                if child is parent.func:
                    computed = computed or not meta
                else:
                    effect = self._call_with_argument(cell, parent, child, for_load, scope)
                    if effect in (CHECK, LOOK, SUBSUMED):
                        return _Outcome(effect)
                    if effect == "meta":
                        meta = True
                    elif effect == "container" and not (computed or meta):
                        return _Outcome(BIND, (parent.func.value.id,), self._statement_of(cell, parent))
                    elif effect == "use" and not meta:
                        computed = True
            elif isinstance(parent, (ast.Compare, ast.BinOp, ast.BoolOp, ast.UnaryOp)):
                if not meta and not isinstance(parent, (ast.BoolOp, ast.UnaryOp)):
                    computed = True
            elif isinstance(parent, ast.IfExp):
                if child is parent.test:
                    meta = True
            elif isinstance(parent, (ast.JoinedStr, ast.FormattedValue)):
                meta = True
            elif isinstance(parent, ast.comprehension):
                comprehension = facts.parent(parent)
                if child is parent.iter:
                    element = getattr(comprehension, "elt", None)
                    targets = _target_names(parent.target)
                    if isinstance(element, ast.Call) and self.is_validator_call(
                            cell, element, self.qualify(element.func)) and self._mentions(element, targets):
                        return _Outcome(CHECK)  # [Model(**r) for r in data]
                    if not (isinstance(element, ast.Name) and element.id in targets) and not meta:
                        computed = True
                elif not meta:
                    computed = True  # data in a comprehension's condition
                child, parent = comprehension, facts.parent(comprehension)
                continue
            elif isinstance(parent, ast.Lambda):
                return _Outcome(LOOK)  # runs whenever the lambda is called; too far to follow
            elif isinstance(parent, ast.NamedExpr) and for_load and not computed and not meta:
                # `if (df := read(p)).empty: raise ...` checks what it binds.
                if self.climb(cell, parent, scope, for_load).kind == CHECK:
                    return _Outcome(CHECK)
                return _Outcome(BIND, (parent.target.id,), self._statement_of(cell, parent))
            elif isinstance(parent, (ast.Tuple, ast.List)):
                item = child  # `a, b = read(x), read(y)`: which element this is
            # Containers, keywords, starred arguments, slices, awaits, comprehension bodies pass data on.
            child, parent = parent, facts.parent(parent)
        if parent is None:
            return _Outcome(LOOK)
        return self._at_statement(parent, child, for_load, meta, computed, narrowed, item)

    def _row_of_dataset(self, subscript: ast.Subscript) -> bool:
        """`ds[3]` where `ds` holds a Hugging Face dataset loaded by the notebook: one row, by position."""
        index = subscript.slice
        return isinstance(subscript.value, ast.Name) and subscript.value.id in self._datasets and \
            isinstance(index, ast.Constant) and type(index.value) is int

    @staticmethod
    def _mentions(node: ast.AST, names: list[str]) -> bool:
        return any(n.id in names for n in names_in(node))

    def _at_statement(self, statement: ast.stmt, child: ast.AST, for_load: bool,
                      meta: bool, computed: bool, narrowed: bool, item: ast.AST | None = None) -> _Outcome:
        if isinstance(statement, ast.Assert):
            return _Outcome(CHECK if child is statement.test else LOOK)
        if isinstance(statement, (ast.If, ast.While)):
            if child is statement.test:
                return _Outcome(CHECK if _raises(statement) else LOOK)
            return _Outcome(USE)
        if isinstance(statement, ast.Expr):
            if isinstance(statement.value, (ast.Yield, ast.YieldFrom)) and not (computed or meta):
                return _Outcome(RETURN)  # a generator hands the data to whoever iterates it
            return _Outcome(USE if computed else LOOK)  # shown (or discarded) unless it changed or aggregated
        if isinstance(statement, ast.Raise):
            return _Outcome(LOOK)
        if isinstance(statement, ast.Return):
            if computed:
                return _Outcome(USE)
            return _Outcome(LOOK if meta else RETURN)
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if child is not statement.value:
                return _Outcome(USE)  # the data is part of a target: x[df.a] = ...
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [name for target in targets for name in _target_names(target)]
            if isinstance(statement, ast.AugAssign):
                if meta:
                    return _Outcome(LOOK)
                if computed or not for_load:
                    return _Outcome(USE)
            elif for_load and len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)) and \
                    isinstance(statement.value, (ast.Tuple, ast.List)):
                names = self._matching_targets(targets[0], statement.value, item) or names
            if for_load:
                if computed:
                    return _Outcome(USE)
                if meta:
                    return _Outcome(LOOK)
                containers = [t.value.id for t in targets if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)]
                return _Outcome(BIND, tuple(names + containers), statement)
            if not names:
                # `results["rouge"] = raw["rouge"]`: copied into a container, followed there.
                containers = tuple(t.value.id for t in targets if isinstance(t, ast.Subscript) and
                                   isinstance(t.value, ast.Name))
                if containers and len(containers) == len(targets) and not meta:
                    return _Outcome(DERIVE, containers, statement, computed=computed, meta=meta)
                return _Outcome(LOOK if meta else USE)
            if not (computed or narrowed or meta):
                return _Outcome(BIND, tuple(names), statement)
            return _Outcome(DERIVE, tuple(names), statement, computed=computed, meta=meta)
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            if child is not statement.iter:
                return _Outcome(USE)
            if meta:
                return _Outcome(LOOK)
            names = tuple(_target_names(statement.target))
            if for_load:
                return _Outcome(USE) if computed else _Outcome(BIND, names, statement)
            return _Outcome(DERIVE, names, statement, computed=computed)
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            for with_item in statement.items:
                if with_item.context_expr is child and with_item.optional_vars is not None and not computed:
                    return _Outcome(BIND, tuple(_target_names(with_item.optional_vars)), statement)
            return _Outcome(LOOK if meta else USE)
        if isinstance(statement, ast.Delete):
            return _Outcome(LOOK)
        return _Outcome(LOOK if meta else USE)

    def _matching_targets(self, target: ast.Tuple | ast.List, value: ast.Tuple | ast.List, child: ast.AST) -> list[str]:
        """`a, b = read(x), read(y)`: each load binds its own name."""
        if len(target.elts) != len(value.elts):
            return []
        for element, item in zip(target.elts, value.elts):
            if item is child:
                return _target_names(element)
        return []

    # -- flows ----------------------------------------------------------------------------------
    def flow(self, cell: CellModel, scope, names: tuple[str, ...], after: tuple, depth: int = 0,
             probe: bool = False) -> _Use:
        """The first decisive thing that happens to data held in `names` after `after`, in document order.

        A probe (a value computed from the data, such as a count of bad rows) counts as a check only
        when everything done with it is checking or looking: `n_bad = ...; assert n_bad == 0`.
        """
        group = set(names)
        checked = looked = False
        rebound_here: set[tuple[int, str]] = set()
        heap: list = []
        followed: set[str] = set()
        sequence = itertools.count()

        def follow(name: str, start: tuple) -> None:
            # One event per followed name waits on the heap, the next one is pushed when it is taken:
            # a flow mostly ends at the next use, and pushing every later event made a notebook with
            # thousands of loads of one name quadratic. (The events are sorted by key.)
            followed.add(name)
            events = self.events(cell, scope, name)
            first = bisect.bisect_right(events, start, key=lambda event: event.key)
            if first < len(events):
                heapq.heappush(heap, (events[first].key, next(sequence), first, events))

        for name in names:
            follow(name, after)
        seen: set[tuple[int, str]] = set()
        while heap:
            _, order, index, events = heapq.heappop(heap)
            event = events[index]
            if index + 1 < len(events):
                heapq.heappush(heap, (events[index + 1].key, order, index + 1, events))
            if event.name not in group or (id(event.node), event.name) in seen:
                continue
            seen.add((id(event.node), event.name))
            if event.kind == "bind":
                if (id(event.statement), event.name) in rebound_here:
                    continue
                group.discard(event.name)
                if not group:
                    return _Use(NONE)
                continue
            if event.kind == "augassign":
                return _Use(USE, event.cell, event.node)
            if event.kind == "call":
                outcome = self._global_read(event)
            elif depth > 0 and self._fills(event):
                continue  # `results["a"] = ...` on a value derived from the data: filling it, not using it
            else:
                outcome = self.climb(event.cell, event.node, scope, for_load=False)
            if outcome.kind == CHECK and probe:
                checked = True
                continue
            if outcome.kind in (CHECK, RETURN):
                return _Use(outcome.kind)
            if outcome.kind == USE:
                return _Use(USE, event.cell, event.node)
            looked = looked or outcome.kind == LOOK
            if outcome.kind == BIND:
                for name in outcome.names:
                    rebound_here.add((id(outcome.statement), name))
                    group.add(name)
                    if name not in followed:
                        follow(name, event.key)
                continue
            if outcome.kind == DERIVE:
                if group & set(outcome.names):
                    return _Use(USE, event.cell, event.node)  # df = df.dropna(): changed in place
                result = _Use(NONE)
                if depth < 3:
                    # Metadata (`missing = set(cols) - set(df.columns)`) is checked as soon as it is asserted;
                    # a value derived from the data itself must serve only checks to count as one.
                    result = self.flow(event.cell, scope, outcome.names, self._after(event.cell, outcome.statement),
                                       depth + 1, probe=not outcome.meta)
                if result.kind == CHECK:
                    return result  # computed only to be checked: missing = ...; if missing: raise
                if result.kind == USE or outcome.computed:
                    return _Use(USE, event.cell, event.node)  # transformed or aggregated, even if only shown
                if result.kind == RETURN:
                    return result
                continue
        # Only looked at (LOOK) is told apart from never touched again (NONE).
        return _Use(CHECK if checked else LOOK if looked else NONE)

    @staticmethod
    def _fills(event: _Event) -> bool:
        parent = event.cell.facts.parent(event.node)
        return isinstance(parent, ast.Subscript) and parent.value is event.node and isinstance(parent.ctx, ast.Store)

    def _global_read(self, event: _Event) -> _Outcome:
        """A notebook function called here reads the data as a global."""
        cell, function = self._function_named(event.node.id)
        if _VALIDATOR_NAME.search(event.node.id):
            return _Outcome(CHECK)
        result = self.flow(cell, function, (event.name,), (cell.index, function.lineno, function.col_offset, 2), depth=1)
        call = event.cell.facts.parent(event.node)
        if result.kind == RETURN and isinstance(call, ast.Call) and call.func is event.node:
            # It hands the data back (returns or yields it): what happens to the call's result is what happens
            # to the data. `tokenizer.train_from_iterator(batches())` uses it.
            outcome = self.climb(event.cell, call, event.cell.facts.enclosing_function(call), for_load=False)
            return outcome if outcome.kind != DERIVE else _Outcome(USE if outcome.computed else BIND, outcome.names,
                                                                     outcome.statement)
        return _Outcome({CHECK: CHECK, USE: USE}.get(result.kind, LOOK))

    @staticmethod
    def _after(cell: CellModel, statement: ast.stmt | None) -> tuple:
        if statement is None:
            return (cell.index, 0, 0, 2)
        return (cell.index, statement.lineno, statement.col_offset, 2)

    def evaluate(self, load: _Load) -> _Use:
        """What happens first to the data a load reads."""
        if load.result is not None:
            return load.result
        outcome = self.climb(load.cell, load.node, load.scope, for_load=True)
        if outcome.kind == USE:
            result = _Use(USE, load.cell, None)
        elif outcome.kind == RETURN:
            result = _Use(RETURN)
        elif outcome.kind == BIND and outcome.names:
            load.targets = outcome.names
            if _last(load.callee) in ("load_dataset", "load_from_disk"):
                self._datasets.update(outcome.names)  # `ds[3]` of a Hugging Face dataset is a row
            result = self.flow(load.cell, load.scope, outcome.names, self._after(load.cell, outcome.statement))
        else:
            result = _Use(NONE)
        if result.kind == USE and isinstance(load.scope, _FUNCTIONS) and self._prepares_return(load, result):
            result = _Use(RETURN)  # a loader that parses what it reads: the caller is where to check it
        load.result = result
        return result

    def _prepares_return(self, load: _Load, use: _Use) -> bool:
        """The first use of data a function loads only shapes what the function returns (`df["d"] =
        pd.to_datetime(df["d"])`, `df = df.dropna()` ... `return df`): the function is a loader, and a
        check belongs after the call. Not when the use trains, writes or computes something else."""
        statement = self._statement_of(load.cell, use.node if use.node is not None else load.node)
        held = set(load.targets)
        body = [node for node, _ in _scope_nodes(load.scope.body)]
        for _ in range(2):  # names derived from names derived from the data
            for node in body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and \
                        self._carries(node.value, held):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    held.update(name for target in targets for name in _target_names(target))
        if isinstance(statement, ast.Return):
            if use.node is None:
                return True  # `return [r["body"] for r in requests.get(url).json()]`: what it returns is the read
            on_path = True
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            on_path = all(root_name(target) in held for target in targets)
        else:
            on_path = False
        return on_path and any(isinstance(node, ast.Return) and node.value is not None and
                               self._carries(node.value, held) for node in body)

    def _carries(self, value: ast.AST, held: set[str]) -> bool:
        """`value` is the data held in `held`, reshaped: `df[...]`, `df.dropna()`, `pd.concat([a, b])`."""
        if root_name(value) in held:
            return True
        if isinstance(value, (ast.Tuple, ast.List)):
            return any(self._carries(element, held) for element in value.elts)
        if isinstance(value, ast.Call) and self.qualify(value.func) in _WRAPPER_CALLS | {"pandas.merge"}:
            return any(self._carries(argument, held) for argument in value.args)
        return False

    def _is_model(self, load: _Load, result: _Use) -> bool:
        """A pickle holding a fitted model: named like one, or first used through a model's method."""
        if load.callee not in _OBJECT_LOADERS:
            return False
        if any(_MODEL_NAME.search(name) for name in load.targets):
            return True
        if result.node is not None:
            parent = result.cell.facts.parent(result.node)
            return isinstance(parent, ast.Attribute) and parent.attr in _MODEL_METHODS
        return False

    # -- findings -------------------------------------------------------------------------------
    def findings(self, rule: Rule) -> Iterator[Finding]:
        loads = list(self.loads())
        if not loads:
            return
        loads.extend(self._loader_calls())
        for load in loads:
            result = self.evaluate(load)
            if result.kind != USE or self._is_model(load, result) or self._reads_own_output(load) or \
                    self._reads_image_bytes(load) or \
                    any(secret_kind(name) or name.lower() == "pw" or _ARTIFACT_NAME.match(name) for name in load.targets):
                continue  # a model or its parts, the notebook's own output, a password read from a file: not data
            yield rule.at_node(load.cell, load.node, self._message(load, result), Fix(
                f"Add an assert on {self._subject(load)} (its {self._properties(load)}) or validate it "
                "with a schema right after it is loaded", applicability="unsafe"))

    def _loader_calls(self) -> list[_Load]:
        """Calls of the notebook's own functions that load and return data unchecked."""
        found = []
        functions, names = self.model.functions, self._function_names
        for cell in self.model.parsed_cells:
            if cell.facts.call_words.isdisjoint(names):
                continue  # calls none of the notebook's functions
            for call in cell.facts.calls:
                func = call.func
                if isinstance(func, ast.Name) and func.id in functions and self.is_unchecked_loader(func.id):
                    scope = cell.facts.enclosing_function(call)
                    found.append(_Load(cell, call, scope, func.id, self._describe(cell, call, scope)))
        return found

    def _reads_image_bytes(self, load: _Load) -> bool:
        if _last(load.callee) not in ("read", "read_bytes") or not isinstance(load.node, ast.Call):
            return False
        path = self._path_argument(load.cell, load.node, load.scope)
        if path is not None and path.isidentifier():  # `open(image_path, "rb")`: the name's last value
            values = self._values_before(load.cell, load.scope, ast.Name(path, lineno=load.node.lineno))
            path = values[0].value if values and isinstance(values[0], ast.Constant) else path
        return isinstance(path, str) and _IMAGE_FILE.search(path) is not None

    def _reads_own_output(self, load: _Load) -> bool:
        """The file was written by this notebook further up (`df.to_csv(p)` ... `pd.read_csv(p)`, or a
        `%%writefile data.csv` cell): its content is the notebook's own, not external data."""
        if not isinstance(load.node, ast.Call):
            return False
        path = self._path_argument(load.cell, load.node, load.scope)
        if path is None:
            return False
        where = (load.cell.index, load.node.lineno)
        return any(written == path and place < where for written, place in self._written_paths())

    def _path_argument(self, cell: CellModel, call: ast.Call, scope, depth: int = 0) -> str | None:
        argument = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg in _PATH_KEYWORDS), None)
        if argument is None and isinstance(call.func, ast.Attribute):
            argument = call.func.value  # `f.read()`: the file is what `f` opened
        if isinstance(argument, ast.Name) and depth == 0:
            for value in self._assigned_value(cell, scope, argument.id):
                if isinstance(value, ast.Call) and self._is_file_source(cell, value, None):
                    return self._path_argument(cell, value, scope, 1)
        return _path_key(argument)

    def _written_paths(self) -> list[tuple[str, tuple[int, int]]]:
        if self._written is None:
            self._written = []
            for cell in self.model.code_cells:
                target = _WRITTEN_FILE.match(cell.cell.source)
                if target:
                    self._written.append((target["target"].strip("'\""), (cell.index, 0)))
                if cell.facts.tree is None or cell.facts.call_words.isdisjoint(_WRITES):
                    continue
                # What a cell that downloads writes through a handle is the download, not its own output.
                downloads = _DOWNLOADS.search(cell.facts.source) is not None
                for call in cell.facts.calls:
                    name = _call_name(call)
                    if name == "open" and call.args and not downloads and _opens_for_writing(call):
                        self._written.append((_path_key(call.args[0]), (cell.index, call.lineno)))
                    elif name in _WRITER_METHODS:
                        for argument in [*call.args, *(k.value for k in call.keywords)]:
                            key = _path_key(argument)
                            if key is not None:
                                self._written.append((key, (cell.index, call.lineno)))
        return self._written

    def _properties(self, load: _Load) -> str:
        """What to assert, after what is read: through a notebook's loader, what that loader reads."""
        callee = load.callee
        if callee in self.model.functions:
            cell, node = self._function_named(callee)
            inner = [inner.callee for inner in self._loads_in_function(cell, node) if inner.callee != callee]
            callee = inner[0] if inner else callee
        return _checked_properties(callee)

    def _subject(self, load: _Load) -> str:
        return _quoted(load.targets) if load.targets else "the data"

    def _message(self, load: _Load, result: _Use) -> str:
        via = f" by {load.callee}()" if load.callee in self.model.functions else ""
        where = f"from {load.source}{via}"
        advice = f"assert its {self._properties(load)} (or validate it with a schema) before using it"
        if result.node is None:
            return f"Data loaded {where} here is used in the same statement without a check; load it into a " \
                   f"name and {advice}"
        line = result.cell.facts.span(result.node).line
        verb = "is" if len(load.targets) == 1 else "are"
        return (f"{_quoted(load.targets)} {verb} loaded {where} here and first used in cell {result.cell.index} "
                f"(line {line}) without a check; {advice}")


RULES = (UncheckedDataLoad,)
