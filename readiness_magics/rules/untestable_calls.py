"""untestable-code's vocabulary: what a call does by its name (writes, loads, plumbing, training), where a
node sits (its scope, the nodes inside a loop or a def), and which names are notebook state."""
from __future__ import annotations

import ast
import bisect
import re

from ..analysis import CellModel, NotebookModel, _walk_statements, root_name, walk

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _last(name: str | None) -> str:
    return name.rsplit(".", 1)[-1] if name else ""


def _callee(model: NotebookModel, call: ast.Call) -> str:
    """The callee's qualified name, or "" when it is not a plain name or attribute chain."""
    return model.resolve(call.func) or ""


def _method(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _short_name(model: NotebookModel, call: ast.Call) -> str:
    """The last part of what is called, through import aliases (`ri` for `from numpy.random import randint
    as ri` gives "randint"): a cheap first test before resolving the whole name."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return _last(model.aliases.get(func.id, func.id))
    return ""


def _keyword(call: ast.Call, *names: str) -> ast.keyword | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword
    return None


def _has_star_kwargs(call: ast.Call) -> bool:
    return any(keyword.arg is None for keyword in call.keywords)


def _is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _at_top_level(cell: CellModel, node: ast.AST) -> bool:
    """Runs when the cell runs: not inside a def, lambda or class body."""
    return not any(isinstance(ancestor, _SCOPES) for ancestor in cell.facts.ancestors(node))


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _within(cell: CellModel, kind: type, root: ast.AST) -> list:
    """The cell's nodes of one type inside `root` (a statement of the cell, a def with its decorators),
    any depth, in source order: a slice of the cell's index, found by position, instead of a walk."""
    nodes = cell.facts.of(kind)
    if not nodes:
        return nodes
    decorators = getattr(root, "decorator_list", None)
    start = _start(decorators[0] if decorators else root)
    low = bisect.bisect_left(nodes, start, key=_start)
    high = bisect.bisect_left(nodes, (root.end_lineno, root.end_col_offset), key=_start)
    return nodes[low:high]


def _same_scope(cell: CellModel, node: ast.AST, root: ast.AST) -> bool:
    """No def, lambda or class body between `node` and `root`, which holds it: they run when `root` runs."""
    for ancestor in cell.facts.ancestors(node):
        if ancestor is root:
            return True
        if isinstance(ancestor, _SCOPES):
            return False
    return True


def _breadth_first(node: ast.AST):
    """`ast.walk` of a part of a cell (a loop, a function, a test) where the first match counts, in its order."""
    return _walk_statements((node,))


def _outer_function(cell: CellModel, node: ast.AST):
    """The top-level def a node sits in (the outermost one), or None."""
    found = None
    for ancestor in cell.facts.ancestors(node):
        if isinstance(ancestor, _FUNCTIONS):
            found = ancestor
    return found


_MATH_NAME = re.compile(r"[A-Z][0-9]*(?:_?[0-9]+)?")


def _is_state(model: NotebookModel, name: str) -> bool:
    """`model.is_state`, except that a one-letter capital computed from data (`X = df.drop(...)`) is data
    by the convention of maths and scikit-learn, not an UPPER_CASE constant; `N = 100` stays a constant."""
    if model.is_state(name):
        return True
    if not _MATH_NAME.fullmatch(name) or name in model.functions or name in model.class_names \
            or name in model.imported_names:
        return False
    definitions = model.definitions.get(name, ())
    return any(not _is_literal(getattr(d.binding.statement, "value", None) or ast.Constant(None))
               or not isinstance(d.binding.statement, (ast.Assign, ast.AnnAssign)) for d in definitions)


# Methods that write their receiver to the path given as first argument; some return a string instead
# when called without one.
_WRITE_METHODS_NEED_TARGET = {"to_csv", "to_json", "to_html", "to_latex", "to_markdown", "to_xml", "to_string"}

_WRITE_METHODS = {
    "to_parquet", "to_excel", "to_pickle", "to_feather", "to_hdf", "to_stata", "to_orc", "to_sql", "to_netcdf",
    "to_file", "to_zarr", "savefig", "write_text", "write_bytes", "write_csv", "write_parquet", "write_json",
    "write_ndjson", "write_excel", "write_ipc", "write_image", "write_html", "save_pretrained", "save_model",
    "save_weights", "saveAsTable", "saveAsTextFile", "imwrite", "imsave", "save",
}

_WRITE_FUNCTIONS = {
    "json.dump", "pickle.dump", "joblib.dump", "sklearn.externals.joblib.dump", "dill.dump", "cloudpickle.dump",
    "yaml.dump", "yaml.safe_dump", "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt",
    "torch.save", "cv2.imwrite", "imageio.imwrite", "imageio.imsave", "matplotlib.pyplot.imsave",
    "matplotlib.pyplot.savefig", "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.copytree",
    "shutil.move", "pandas.ExcelWriter", "scipy.io.savemat", "skimage.io.imsave", "tifffile.imwrite",
    "soundfile.write", "scipy.io.wavfile.write",
}

_OPENERS = {"open", "io.open", "gzip.open", "bz2.open", "lzma.open", "tarfile.open", "codecs.open"}

_MODE_OPENERS = {"zipfile.ZipFile", "h5py.File", "netCDF4.Dataset"}

# Calls that move data or build paths without computing anything.
_PLUMBING_FUNCTIONS = {
    "print", "display", "str", "repr", "len", "format", "open", "dict", "list", "tuple", "set", "isinstance",
    "range", "enumerate", "zip", "int", "float", "bool", "hasattr", "getattr", "type", "iter", "next",
    "pandas.DataFrame", "pandas.Series", "pandas.ExcelWriter", "csv.writer", "csv.DictWriter",
    "json.dumps", "yaml.safe_dump", "pathlib.Path", "pathlib.PurePath", "Path", "os.makedirs", "os.mkdir",
    "os.remove", "os.rename", "os.replace", "os.getcwd", "os.getenv", "os.environ.get", "datetime.datetime.now",
    "datetime.date.today", "datetime.datetime.today", "time.strftime", "time.time", "tempfile.mkdtemp",
    "IPython.display.display", "warnings.warn", "time.sleep", "io.BytesIO", "io.StringIO", "BytesIO", "StringIO",
    "wget.download", "gdown.download",
}

# Downloading is I/O too: a helper that fetches a URL and saves it computes nothing.
_PLUMBING_PREFIXES = ("os.path.", "logging.", "shutil.", "matplotlib.", "seaborn.", "plotly.", "tqdm.",
                      "requests.", "urllib.", "httpx.", "boto3.")


_FILE_METHODS = {
    "write", "writelines", "writerow", "writerows", "writeheader", "close", "flush", "mkdir", "exists",
    "is_file", "is_dir", "joinpath", "with_suffix", "with_name", "resolve", "absolute", "expanduser", "open",
    "format", "strftime", "now", "today", "isoformat", "touch", "unlink", "raise_for_status", "iter_content",
    "urlretrieve", "urlopen", "download_file", "upload_file", "put_object", "items", "keys", "values", "seek",
    "getvalue",
}

_LOG_METHODS = {"info", "debug", "warning", "error", "exception", "critical", "print", "display"}

# Presentation around a chart; drawing the data itself is in _DRAWING below.
_DECORATIONS = {
    "axhline", "axvline", "axhspan", "axvspan", "text", "annotate", "legend", "grid", "title", "suptitle",
    "xlabel", "ylabel", "xticks", "yticks", "xlim", "ylim", "set_title", "set_xlabel", "set_ylabel",
    "set_zlabel", "set_xticks", "set_yticks", "set_xticklabels", "set_yticklabels", "set_xlim", "set_ylim",
    "set_xscale", "set_yscale", "set_aspect", "set_size_inches", "tight_layout", "subplots", "subplot",
    "add_subplot", "figure", "colorbar", "axis", "set_axis_off", "update_layout", "update_traces", "show",
    "clf", "cla", "gcf", "gca", "twinx", "twiny", "tick_params", "subplots_adjust", "set",
}


def _is_write(model: NotebookModel, call: ast.Call) -> bool:
    if _short_name(model, call) not in _WRITE_LAST_NAMES:
        return False
    method = _method(call)
    name = _callee(model, call)
    if name in _WRITE_FUNCTIONS:
        return True
    if name in _OPENERS or (isinstance(call.func, ast.Attribute) and method == "open"):
        mode_position = 0 if (isinstance(call.func, ast.Attribute) and name not in _OPENERS) else 1
        return _write_mode(call, mode_position)
    if name in _MODE_OPENERS:
        return _write_mode(call, 1)
    if isinstance(call.func, ast.Attribute):
        if method in _WRITE_METHODS_NEED_TARGET:
            return bool(call.args) or _keyword(call, "path_or_buf", "buf", "path") is not None
        if method in _WRITE_METHODS:
            return bool(call.args) or any(k.arg in ("path", "fname", "filepath", "file", "save_directory")
                                          for k in call.keywords)
        if ".write." in f".{name}." and method in {"csv", "parquet", "json", "orc", "text", "save"}:
            return True  # Spark's df.write.parquet(path)
    return False


_WRITE_LAST_NAMES = (_WRITE_METHODS | _WRITE_METHODS_NEED_TARGET | {_last(n) for n in _WRITE_FUNCTIONS}
                     | {_last(n) for n in _OPENERS | _MODE_OPENERS} | {"csv", "parquet", "json", "orc", "text"})


_MODE = re.compile(r"[rwxabt+U]{1,4}")


def _write_mode(call: ast.Call, position: int) -> bool:
    mode = call.args[position] if len(call.args) > position else None
    keyword = _keyword(call, "mode")
    if keyword is not None:
        mode = keyword.value
    # A mode string, not a path: `Image.open("./example.jpg")` opens nothing for writing.
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(_MODE.fullmatch(mode.value)) \
        and any(c in mode.value for c in "wax")


# Drawing data is producing a result (a chart), not I/O: a function that draws and saves the plot computes
# and writes. Titles, labels, layout and closing the figure are only presentation.
_DRAWING = {
    "plot", "hist", "hist2d", "bar", "barh", "scatter", "pie", "boxplot", "violinplot", "imshow", "matshow",
    "contour", "contourf", "fill_between", "errorbar", "stem", "heatmap", "lineplot", "barplot", "histplot",
    "countplot", "scatterplot", "pairplot", "kdeplot", "distplot", "regplot", "lmplot", "catplot", "relplot",
    "displot", "jointplot", "stripplot", "swarmplot", "pointplot", "clustermap", "hexbin", "pcolormesh",
    "plot_surface", "plot3D", "scatter3D", "line", "area", "density", "kde", "step", "semilogy", "semilogx",
    "loglog", "quiver", "streamplot", "add_trace", "Figure",
}

_PLUMBING_METHODS = _FILE_METHODS | _LOG_METHODS | _DECORATIONS | _DRAWING


def _is_plumbing(model: NotebookModel, call: ast.Call) -> bool:
    if _is_write(model, call) or _is_loader(model, call):
        return True
    if _short_name(model, call) in _DRAWING:
        return False
    name = _callee(model, call)
    if name in _PLUMBING_FUNCTIONS or name.startswith(_PLUMBING_PREFIXES):
        return True
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr in _STRING_METHODS:  # only when building a path or a URL: not DataFrame.replace
        return _is_path_like(call.func.value)
    if call.func.attr == "join":  # "_".join(parts) or a path join, not DataFrame.join
        receiver = call.func.value
        return _is_path_like(receiver) or (isinstance(receiver, ast.Name) and receiver.id in {"sep", "separator",
                                                                                           "delimiter", "delim"})
    return call.func.attr in _PLUMBING_METHODS


_LOADER_NAMES = {"load", "loads", "read", "readlines", "readline", "imread", "loadtxt", "genfromtxt", "fromfile",
                 "load_workbook", "load_dataset", "load_model", "load_state_dict", "from_pretrained"}


def _is_loader(model: NotebookModel, call: ast.Call) -> bool:
    name = _callee(model, call)
    last = _last(name) or _method(call)
    if last.startswith("read_") or last in _LOADER_NAMES:
        return True
    loaders = tuple(getattr(model.settings, "data_loaders", ()) or ())
    return bool(name) and name in loaders


_PATH_WORDS = ("path", "dir", "folder", "root", "file", "fname", "dest", "out", "url")

_STRING_METHODS = {"replace", "lower", "upper", "strip", "rstrip", "lstrip", "split", "rsplit", "startswith",
                   "endswith", "removeprefix", "removesuffix"}


def _is_path_like(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_path_like(node.left) or _is_path_like(node.right)
    if isinstance(node, ast.Call):
        name = _method(node)
        if name in _STRING_METHODS and isinstance(node.func, ast.Attribute):
            return _is_path_like(node.func.value)
        return name in {"Path", "PurePath", "join", "joinpath", "with_suffix", "with_name", "str", "format",
                        "dirname", "abspath", "expanduser"}
    identifier = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    lowered = identifier.lower()
    return any(word in lowered for word in _PATH_WORDS) or lowered in {"parent", "name", "stem", "suffix"}


_TRAIN_METHODS = {"fit", "partial_fit", "fit_predict", "fit_generator", "fit_one_cycle", "fit_flat_cos",
                  "fine_tune", "train_on_batch", "train_supervised", "train_unsupervised", "hyperparameter_search"}


_TRAIN_FUNCTIONS = {"xgboost.train", "lightgbm.train", "xgboost.cv", "lightgbm.cv", "catboost.train",
                    "fasttext.train_supervised", "fasttext.train_unsupervised"}


_NOT_TRAINING = ("PIL.", "scipy.", "numpy.")

_TRAIN_LAST_NAMES = _TRAIN_METHODS | {"train", "fit_transform"} | {_last(name) for name in _TRAIN_FUNCTIONS}

# fit_transform trains when what is fitted is a model: a preprocessing pipeline (its steps may end in a
# model, and it is the unit that gets deployed) or a learned projection. A scaler or an encoder preparing
# features, and stateless transforms, are not training.
_PIPELINES = {"Pipeline", "make_pipeline", "ColumnTransformer", "make_column_transformer", "FeatureUnion",
              "make_union"}


_LEARNED_PROJECTIONS = {"PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "TruncatedSVD", "NMF", "FastICA",
                        "FactorAnalysis", "LatentDirichletAllocation", "TSNE", "UMAP", "Isomap",
                        "LocallyLinearEmbedding", "MDS", "SpectralEmbedding", "DictionaryLearning"}


_STATELESS = {"FunctionTransformer", "Normalizer", "Binarizer", "PolynomialFeatures", "SplineTransformer",
              "FeatureHasher", "HashingVectorizer"}


def _learns_when_fitted(model: NotebookModel, receiver: ast.AST, depth: int = 0) -> bool:
    """Whether `receiver.fit_transform(...)` fits a pipeline (with a step that learns) or a learned projection."""
    if isinstance(receiver, ast.Name) and depth < 3:
        made = [d.binding.statement.value for d in model.definitions.get(receiver.id, ())
                if isinstance(d.binding.statement, ast.Assign) and isinstance(d.binding.statement.value, ast.Call)]
        return bool(made) and all(_learns_when_fitted(model, value, depth + 1) for value in made)
    if not isinstance(receiver, ast.Call):
        return False
    last = _last(_callee(model, receiver)) or _method(receiver)
    if last in _LEARNED_PROJECTIONS:
        return True
    if last not in _PIPELINES:
        return False
    steps = [node for node in walk(receiver) if type(node) is ast.Call and node is not receiver]
    kinds = {_last(_callee(model, step)) or _method(step) for step in steps}
    kinds = {kind for kind in kinds if kind[:1].isupper() and kind not in _PIPELINES}
    return bool(kinds) and not kinds <= _STATELESS  # a pipeline of stateless steps learns nothing


def _training_call(model: NotebookModel, call: ast.Call) -> str | None:
    """`model.fit` or `xgb.train` when the call trains something; None otherwise."""
    if _short_name(model, call) not in _TRAIN_LAST_NAMES:
        return None  # the cheap test first: most calls are not named like training
    name = _callee(model, call)
    if name in _TRAIN_FUNCTIONS:
        return name
    if not isinstance(call.func, ast.Attribute) or name.startswith(_NOT_TRAINING):
        return None
    method = call.func.attr
    if method in _TRAIN_METHODS:
        if _made_by(model, call.func.value).startswith(_NOT_TRAINED_HERE):
            return None
        return name or method
    if method == "fit_transform" and _learns_when_fitted(model, call.func.value):
        return name or method
    if method == "train":
        # PyTorch's model.train() / model.train(False) only switches a mode; a trainer's train() trains.
        receiver = (root_name(call.func.value) or "").lower()
        mode_only = (not call.args and not call.keywords) or (
            len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, bool)
        ) or _keyword(call, "mode") is not None
        if not mode_only or "trainer" in receiver or "learner" in receiver:
            return name or method
    return None


# `fit` on these runs no training in the notebook: SageMaker's and Azure ML's estimators launch a job that
# runs a training script elsewhere; scalers, encoders, imputers, vectorizers and feature selectors prepare
# features (as with fit_transform).
_NOT_TRAINED_HERE = ("sagemaker.", "azureml.", "sklearn.preprocessing.", "sklearn.impute.",
                     "sklearn.feature_selection.", "sklearn.feature_extraction.", "pyspark.ml.feature.")


def _made_by(model: NotebookModel, receiver: ast.AST) -> str:
    """The qualified name of what built `receiver`: `StandardScaler()` or `scaler` bound to one."""
    if isinstance(receiver, ast.Name):
        made = {_callee(model, d.binding.statement.value) for d in model.definitions.get(receiver.id, ())
                if isinstance(d.binding.statement, ast.Assign) and isinstance(d.binding.statement.value, ast.Call)}
        return made.pop() if len(made) == 1 else ""
    return _callee(model, receiver) if isinstance(receiver, ast.Call) else ""


_MUTATING_METHODS = {"append", "extend", "insert", "update", "add", "pop", "remove", "discard", "setdefault",
                     "clear", "appendleft", "popitem", "sort", "reverse"}


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "float", "str"):
        return all(_is_literal(arg) for arg in node.args) and not node.keywords
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    # An empty container is an accumulator about to be filled, not a setting.
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return bool(node.elts) and all(_is_literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        return bool(node.keys) and all(key is None or _is_literal(key) for key in node.keys) \
            and all(_is_literal(v) for v in node.values)
    return False
