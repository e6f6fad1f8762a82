"""hardcoded-path: absolute, user-specific and cloud locations written into a notebook's code."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from ..analysis import CellFacts, CellModel, NotebookModel, Span, names_in
from ..findings import Fix, Severity
from ..transform import MagicLine
from .base import Rule
from .literals import _default_of, magic_tokens, name_words, on_magic_line, target_name

FIX = Fix("Move the path to the parameters cell", "unsafe")
AS_PARAMETER = "pass it as a parameter (from the `parameters` cell, an environment variable or a config file)"

# Roots that exist on one machine, one person's account or one hosted platform only.
USER_ROOTS = {"home": "User-specific path", "Users": "User-specific path", "root": "User-specific path",
              "kaggle": "Kaggle path", "content": "Colab path", "dbfs": "Databricks path"}
MACHINE_ROOTS = {"mnt", "data", "opt", "srv", "media", "Volumes", "gpfs", "scratch", "nfs",
                 "workspace", "storage", "datasets", "notebooks", "lustre"}
# The same on every machine (devices, kernel files, programs): never a data location.
SYSTEM_ROOTS = {"dev", "proc", "sys", "bin", "sbin"}
SYSTEM_PREFIXES = ("/usr/bin/", "/usr/sbin/", "/usr/local/bin/")
# A program under any `bin` folder (`/opt/bin/nvidia-smi`, `/opt/conda/bin/python`): a tool, not data.
_PROGRAM = re.compile(r"/s?bin/[^/]+$")
# Paths inside a managed training or serving container, fixed by the platform on every machine that runs
# the job (SageMaker's `/opt/ml/model`, `/opt/ml/input/data/<channel>`): a contract, not this machine.
CONTAINER_PREFIXES = ("/opt/ml/",)
CONTAINER_ROOTS = ("/opt/ml",)
# Per-user configuration folders that tools define in every home (`~/.keras/keras.json`,
# `~/.kaggle/kaggle.json`, `~/.cache/huggingface`): the same place for whoever runs the notebook.
_TOOL_HOME = re.compile(r"^~[\\/]\.[\w-]+(?:[\\/]|$)")
# Further roots that shell lines touch to inspect or set up the machine, not to read data.
SHELL_SYSTEM_ROOTS = SYSTEM_ROOTS | {"usr", "etc", "lib", "lib64", "lib32", "boot", "run"}
# First segments of URL routes ("/api/v1/users", "/static"), which look like absolute paths.
ROUTE_ROOTS = {"api", "apis", "v1", "v2", "v3", "v4", "graphql", "static", "auth", "oauth", "oauth2", "login",
               "logout", "health", "healthz", "docs", "swagger", "openapi", "ws", "rest", "webhook", "webhooks"}

_CLOUD = re.compile(r"^(?:(?P<scheme>s3[an]?|gs|gcs|abfss?|az|adl|wasbs?|hdfs)://|(?P<dbfs>dbfs):/)(?P<rest>.*)$",
                    re.IGNORECASE | re.DOTALL)
_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]")
_UNC = re.compile(r"^\\\\[\w.$-]+\\[^\\\n]+")
_HOME = re.compile(r"^~(?P<user>[A-Za-z_][\w.-]*)?(?P<rest>[\\/].*)?$", re.DOTALL)
_SEGMENT = re.compile(r"[\w.@+~-]*[A-Za-z0-9][\w.@+~-]*")
# Regex syntax in a string that otherwise starts like a path: "/home/\w+", "^/data/.*\.csv$".
_REGEX_HINT = re.compile(r"\\[dDwWsSbB.]|\.[*+?]|\[\^|\(\?|(?<!\\)\$$|\|")

_FILE_EXTENSION = re.compile(r"/[^/]+\.[A-Za-z][A-Za-z0-9]{0,5}$")
_SQLITE = "sqlite:///"

# Calls whose path-like arguments are file-system locations.
_IO_MODULES = {"os", "shutil", "glob", "pathlib", "io", "subprocess", "zipfile", "tarfile", "gzip", "bz2", "lzma",
               "codecs", "sqlite3", "h5py", "fileinput", "posixpath", "ntpath"}
_IO_VERB = re.compile(
    r"^(?:open|read(?:_\w+)?|load\w*|\w+_load|save\w*|dump\w*|to_\w+|write\w*|export\w*|savefig|imread|imwrite|"
    r"imsave|listdir|scandir|walk|i?glob|rglob|chdir|makedirs|mkdirs?|rmdir|remove|unlink|rename|exists|is_?file|"
    r"is_?dir|getsize|copy\w*|move|rmtree|(?:Pure|Posix|Windows)?Path|File|connect|system|Popen|check_output|"
    r"check_call|csv|parquet|json|orc|avro|delta|text|textFile|table|from_\w+|ZipFile|TarFile|"
    r"ExcelFile|ExcelWriter|HDFStore|expanduser|abspath|realpath|FileHandler|SummaryWriter|ModelCheckpoint|"
    r"CSVLogger|TensorBoard|upload\w*|download\w*|\w+_from_directory|load_img|ImageFolder|DatasetFolder|mount|"
    r"imread_collection|Dataset|DataLoader|Workbook|load_workbook|create_engine)$"
)
# Calls that build a path from pieces: only their first argument can be a root.
_JOINERS = {"join", "joinpath", "Path", "PurePath", "PosixPath", "WindowsPath"}
# String methods whose "/..." arguments are separators or fragments, not locations.
_STRING_METHODS = {"split", "rsplit", "strip", "lstrip", "rstrip", "partition", "rpartition", "startswith",
                   "endswith", "removeprefix", "removesuffix", "replace", "count", "find", "rfind", "index",
                   "rindex", "strftime", "strptime", "translate", "maketrans", "sub", "match", "contains",
                   "extract", "extractall", "findall", "fullmatch", "search"}
_URL_CALLS = {"route", "add_url_rule", "add_api_route", "api_route", "add_route", "websocket", "urljoin",
              "url_for", "redirect", "Request", "urlopen", "urlparse", "urlsplit"}
_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "fetch", "stream"}
_HTTP_OWNERS = {"requests", "httpx", "aiohttp", "urllib", "session", "client", "app", "router", "api", "http",
                "bp", "blueprint", "s", "sess", "test", "web", "server", "flask", "fastapi", "rest"}
_PATH_WORDS = {"path", "paths", "pth", "dir", "dirs", "directory", "directories", "file", "files", "filename",
               "filenames", "filepath", "fname", "fpath", "folder", "folders", "root", "dest", "destination",
               "cwd", "location", "ckpt", "checkpoint", "mount", "workdir", "basedir", "datadir", "logdir"}
_URL_WORDS = {"url", "urls", "uri", "uris", "route", "routes", "endpoint", "endpoints", "api", "href", "link",
              "links", "page", "pages", "slug", "step", "steps", "funnel"}
# Python-code line magics: their arguments are code, not file names.
_CODE_MAGICS = {"time", "timeit", "prun", "memit", "mprun", "debug", "capture", "px"}
_SKIPPED_MAGICS = {"matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport",
                   "precision", "xmode", "colors", "alias_magic", "who", "whos", "env_list"}


@dataclass(frozen=True)
class PathLiteral:
    text: str  # the path as written
    kind: str  # cloud, windows, unc, home, machine, absolute
    label: str  # "User-specific path", "Windows path", ...
    anywhere: bool  # machine-specific: flagged wherever it sits; otherwise only where it reaches file I/O


def classify(text: str, is_prefix: bool = False, allowed: tuple[str, ...] = ()) -> PathLiteral | None:
    """What kind of location a string is, if any; `is_prefix` for the constant start of an f-string."""
    if not text or len(text) > 400 or "\n" in text or (allowed and text.startswith(allowed)):
        return None
    first = text[0]
    if first not in "/~\\" and text[1:2] != ":" and "://" not in text[:10] and \
            not text.startswith(("dbfs:", _SQLITE)):
        return None
    if text.startswith(_SQLITE) and len(text) > len(_SQLITE) + 1:
        text = text[len(_SQLITE):]  # sqlite:////home/ana/db.sqlite names a file
        if not (text.startswith("/") or _WINDOWS.match(text)):
            return None
    if text.startswith("file://"):
        text = text[len("file://"):]
        if not text.startswith("/") or text.startswith("//"):
            return None
    first = text[0]
    cloud = _CLOUD.match(text)
    if cloud:
        rest = cloud["rest"]
        if not rest or not (rest[0].isalnum() or rest[0] == "/" and cloud["dbfs"]) or rest.startswith(("{", "%", "$")):
            return None  # a bare scheme, or one whose bucket comes from a variable
        return PathLiteral(text, "cloud", "Cloud URI", True)
    if _WINDOWS.match(text):
        return PathLiteral(text, "windows", "Windows path", True)
    if _UNC.match(text):
        return PathLiteral(text, "unc", "Network path", True)
    home = _HOME.match(text)
    if home and _TOOL_HOME.match(text):
        return None
    if home:
        anywhere = bool(home["rest"] and len(home["rest"]) > 1) or is_prefix
        return PathLiteral(text, "home", "Home-directory path", anywhere)
    if first != "/" or text.startswith("//"):
        return None
    return _posix(text, is_prefix)


def _posix(text: str, is_prefix: bool) -> PathLiteral | None:
    parts = text[1:].split("/")
    root = parts[0]
    if not _SEGMENT.fullmatch(root):
        return None
    # "/home/ana/My Drive/x.csv" is a path; "/data is mounted" is prose.
    if any(ch.isspace() for ch in text) and (len(parts) < 3 or not parts[1] or any(ch.isspace() for ch in parts[1])):
        return None
    if _REGEX_HINT.search(text):
        return None
    if root in SYSTEM_ROOTS or text.startswith(SYSTEM_PREFIXES) or root.lower() in ROUTE_ROOTS:
        return None
    if text.startswith(CONTAINER_PREFIXES) or text.rstrip("/") in CONTAINER_ROOTS or _PROGRAM.search(text):
        return None
    if root == "tmp":
        return PathLiteral(text, "absolute", _SCRATCH, False)
    several = len(parts) > 1 or is_prefix
    if root in USER_ROOTS:
        return PathLiteral(text, "machine", USER_ROOTS[root], several)
    if root in MACHINE_ROOTS:
        return PathLiteral(text, "machine", "Absolute path", several)
    return PathLiteral(text, "absolute", "Absolute path", False)


@dataclass(frozen=True)
class _Use:
    """How a literal is used: ignored (regex, route, a fragment), read by I/O, or bound to names."""

    skip: bool = False
    io: bool = False
    names: tuple[str, ...] = ()
    argument: bool = False  # passed to some call (that may read files without a name saying so)


_PATH_HOME = PathLiteral("Path.home()", "home", "Home-directory path", True)


def pathish_name(name: str | None) -> bool:
    if not name:
        return False
    words = name_words(name)
    return any(word in _PATH_WORDS or (word.endswith(("dir", "path", "folder")) and len(word) > 4)
               for word in words) and not urlish_name(name)


def urlish_name(name: str | None) -> bool:
    return bool(name) and any(word in _URL_WORDS for word in name_words(name))


def is_io_call(model: NotebookModel, call: ast.Call) -> bool:
    callee = model.resolve(call.func) or ""
    if not callee:
        return False
    settings = model.settings
    return _is_io_callee(callee) or (settings is not None and callee in settings.data_loaders)


@lru_cache(maxsize=4096)
def _is_io_callee(callee: str) -> bool:
    """Whether a resolved callee reads or writes files, by its name alone (every call of every cell asks)."""
    if callee == "open" or callee.startswith("sys.path."):
        return True
    if callee.split(".", 1)[0] in _IO_MODULES and "." in callee:
        return True
    return bool(_IO_VERB.match(callee.rsplit(".", 1)[-1].rstrip("()")))


def _is_url_call(model: NotebookModel, call: ast.Call, callee: str, last: str) -> bool:
    if last in _URL_CALLS:
        return True
    if last in _HTTP_VERBS and isinstance(call.func, ast.Attribute):
        owner = callee.rsplit(".", 1)[0] if "." in callee else ""
        return any(word in _HTTP_OWNERS for word in name_words(owner))
    return False


def _use(model: NotebookModel, facts: CellFacts, node: ast.AST) -> _Use:
    child, parent = node, facts.parent(node)
    while parent is not None:
        if isinstance(parent, ast.BinOp):
            if not isinstance(parent.op, (ast.Add, ast.Div, ast.Mod)):
                return _Use()
            if child is parent.right and not isinstance(parent.op, ast.Mod):
                return _Use(skip=True)  # `base + "/raw/x.csv"`: a piece under another root
        elif isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Starred, ast.BoolOp)):
            pass
        elif isinstance(parent, ast.IfExp):
            if child is parent.test:
                return _Use()
        elif isinstance(parent, ast.Attribute):
            grand = facts.parent(parent)
            if parent.attr == "format" and isinstance(grand, ast.Call) and grand.func is parent:
                child, parent = parent, grand  # "/data/{}".format(name): the call stands for the literal
            else:
                return _Use()
        elif isinstance(parent, ast.keyword):
            call = facts.parent(parent)
            if isinstance(call, ast.Call):
                return _call_use(model, call, parent, parent.arg)
            return _Use()
        elif isinstance(parent, ast.Call):
            return _call_use(model, parent, child)
        elif isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            if child is not parent.value:
                return _Use()
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            names = tuple(name for name in (target_name(t) for t in targets) if name)
            return _Use(names=names)
        elif isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values):
                if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    return _Use(names=(key.value,))
            return _Use()
        elif isinstance(parent, ast.arguments):
            name = _default_of(parent, child)
            return _Use(names=(name,) if name else ())
        elif isinstance(parent, (ast.For, ast.comprehension)):
            if child is parent.iter:
                name = target_name(parent.target)
                return _Use(names=(name,) if name else ())
            return _Use()
        else:
            return _Use()
        child, parent = parent, facts.parent(parent)
    return _Use()


def _call_use(model: NotebookModel, call: ast.Call, child: ast.AST, keyword: str | None = None) -> _Use:
    if child is call.func:
        return _Use()
    callee = model.resolve(call.func) or ""
    last = callee.rsplit(".", 1)[-1].rstrip("()") if callee else getattr(call.func, "attr", "")
    if callee.split(".", 1)[0] in ("re", "regex", "fnmatch", "tempfile"):
        return _Use(skip=True)
    if keyword is not None:
        if urlish_name(keyword):
            return _Use(skip=True)
        if pathish_name(keyword):
            return _Use(io=True)
    if last in _STRING_METHODS and isinstance(call.func, ast.Attribute):
        return _Use(skip=True)
    if _is_url_call(model, call, callee, last):
        return _Use(skip=True)
    if last in _JOINERS and call.args and child is not call.args[0] and keyword is None:
        return _Use(skip=True)  # os.path.join(root, "/raw"): not where the path starts
    return _Use(io=is_io_call(model, call), argument=True)


def names_reaching_io(model: NotebookModel) -> frozenset[str]:
    """Names read by file I/O calls anywhere in the notebook, and the names those are built from."""
    names: set[str] = set()
    settings = model.settings
    context = (model.imports_key, tuple(settings.data_loaders) if settings is not None else ())
    for cell in model.parsed_cells:
        names.update(model.per_cell(cell, "paths.io_names", lambda cell: _io_argument_names(model, cell), context))
    frontier = set(names)
    for _ in range(4):  # `path = os.path.join(ROOT, "x")`, then `open(path)`: ROOT reaches I/O too
        found: set[str] = set()
        for name in frontier:
            for definition in model.definitions.get(name, ()):
                statement = definition.binding.statement
                if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                    found.update(name.id for name in names_in(statement.value))
        frontier = found - names
        if not frontier:
            break
        names |= frontier
    return frozenset(names)


def _io_argument_names(model: NotebookModel, cell: CellModel) -> frozenset[str]:
    names: set[str] = set()
    for call in cell.facts.calls:
        if (call.args or call.keywords) and is_io_call(model, call):
            for argument in (*call.args, *(keyword.value for keyword in call.keywords)):
                names.update(name.id for name in names_in(argument))
    return frozenset(names)


@dataclass(frozen=True)
class PathSighting:
    """A location literal in a cell, with where it sits and whether it reaches file I/O."""

    cell: CellModel
    span: Span
    literal: PathLiteral
    io: bool
    magic: MagicLine | None = None
    written: str | None = None  # the whole f-string, where the path is its start

    @property
    def shown(self) -> str:
        return _shown(self.written or self.literal.text)


def path_sightings(model: NotebookModel) -> list[PathSighting]:
    """Every location literal of the notebook, cell by cell (the exporter lifts the reported ones into Params)."""
    return model.per_notebook("_path_sightings", lambda model: [
        sighting for cell in model.code_cells for sighting in cell_path_sightings(model, cell)])


def cell_path_sightings(model: NotebookModel, cell: CellModel) -> list[PathSighting]:
    """The location literals of one cell. What a cell holds depends on its source, the notebook's imports and
    the settings (kept with the cell); only whether a name reaches I/O in another cell is read across the
    notebook, and only for a literal bound to a name."""
    facts = cell.facts
    if not facts.magics and (facts.tree is None or not _may_hold_a_location(facts.python.code)
                             and "home" not in facts.python.code):
        return []  # most cells: decided before looking up what the notebook imports
    allowed, context = model.per_notebook("_paths_context", _cell_context)
    held = model.per_cell(cell, "paths", lambda cell: _cell_sightings(model, cell, allowed), context)
    if not held:
        return []
    found: list[PathSighting] = []
    for span, literal, io, names, written, magic in held:
        if names:  # not known to reach I/O, but bound to these names: do they?
            io_names = model.per_notebook("_names_reaching_io", names_reaching_io)
            io = any(name in io_names for name in names)
        found.append(PathSighting(cell, span, literal, io, magic, written))
    return found


def _cell_context(model: NotebookModel) -> tuple[tuple[str, ...], tuple]:
    """(allowed path prefixes, the context of the per-cell sightings: imports and settings they depend on)."""
    settings = model.settings
    allowed = tuple(settings.allowed_path_prefixes) if settings is not None else ()
    return allowed, (model.imports_key, allowed, tuple(settings.data_loaders) if settings is not None else ())


def _cell_sightings(model: NotebookModel, cell: CellModel, allowed: tuple[str, ...]) -> list[tuple]:
    """(span, literal, io, names, written, magic) of each location literal in one cell; `names`, when
    not empty, are the names the literal is bound to, which reach I/O if another cell's I/O reads them."""
    facts = cell.facts
    found: list[tuple] = []
    for magic in facts.magics:
        found.extend((s.span, s.literal, s.io, (), s.written, s.magic) for s in _magic_sightings(cell, magic, allowed))
    if facts.tree is None:
        return found
    code = facts.python.code
    if _may_hold_a_location(code):
        found.extend(_string_sightings(model, facts, allowed))
    if "home" in code:
        for call in facts.calls:
            # Path.home() is os.path.expanduser("~") written another way.
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "home" and not call.args and \
                    (model.resolve(func) or "").endswith("Path.home") and not on_magic_line(facts, call):
                found.append((facts.span(call), _PATH_HOME, True, (), None, None))
    return found


def _may_hold_a_location(text: str) -> bool:
    """False when `text` (a cell's code, a magic line) cannot hold a location literal: each kind `classify`
    knows has a `/`, `\\` or `~`, and an escape that writes one has a backslash. Most cells have none,
    and are decided by this instead of a look at each of their strings."""
    return "/" in text or "\\" in text or "~" in text


def _string_sightings(model: NotebookModel, facts: CellFacts, allowed: tuple[str, ...]):
    for node in facts.strings:
        value = node.value
        if not value or (value[0] not in "/~\\" and value[1:2] != ":" and "://" not in value[:12]
                         and not value.startswith(("dbfs:", _SQLITE))):
            continue  # the common case, decided without a call
        parent = facts.parent(node)
        is_prefix = False
        if isinstance(parent, ast.JoinedStr):
            if parent.values[0] is not node or isinstance(facts.parent(parent), ast.FormattedValue):
                continue  # a piece after an interpolation, or a format spec
            is_prefix = len(parent.values) > 1
            literal_node = parent
        else:
            literal_node = node
        literal = classify(node.value, is_prefix, allowed)
        if literal is None or isinstance(parent, ast.Expr) or on_magic_line(facts, node):
            continue
        use = _use(model, facts, literal_node)
        if use.skip:
            continue
        if literal.kind != "cloud" and any(urlish_name(name) for name in use.names) and \
                literal.kind in ("machine", "absolute") and not use.io:
            continue
        if literal.kind == "absolute" and not use.io and "/" not in literal.text[1:] and "." not in literal.text:
            continue  # `{"paths": ["/id"]}`: a key path in a document store, not a folder of this machine
        io = use.io or any(pathish_name(name) for name in use.names) or (use.argument and _names_a_file(literal))
        names = use.names if not io and use.names and not literal.anywhere else ()
        written = ast.unparse(literal_node) if is_prefix else None
        yield facts.span(literal_node), literal, io, names, written, None


def _magic_sightings(cell: CellModel, magic: MagicLine, allowed: tuple[str, ...]):
    if magic.kind == "cell" and magic.name not in ("writefile", "file"):
        return
    if magic.kind == "line" and magic.name in _SKIPPED_MAGICS:
        return
    if not (_may_hold_a_location(magic.args) or any(map(_may_hold_a_location, magic.continuation))):
        return
    code = magic.kind == "line" and magic.name in _CODE_MAGICS
    for word, line, start in magic_tokens(magic):
        for token, offset in _shell_pieces(word, allowed):
            literal = classify(token, False, allowed)
            if literal is None or token == "~":
                continue  # `!cd ~` names no one's files in particular
            if literal.kind == "absolute" and token[1:].split("/")[0] in SHELL_SYSTEM_ROOTS:
                continue
            io = not code
            if literal.anywhere or io:
                column = start + offset
                yield PathSighting(cell, Span(line, column, line, column + len(token)), literal, io, magic)


def _shell_pieces(word: str, allowed: tuple[str, ...]):
    """The word itself, or what follows `NAME=`, or its comma-separated parts (`--src,s3://a/,--dest,...`)."""
    if classify(word, False, allowed) is not None:
        yield word, 0
        return
    offset = 0
    for part in word.split(","):
        name, equals, value = part.partition("=")
        if equals and "://" not in name:
            yield value, offset + len(name) + 1
        else:
            yield part, offset
        offset += len(part) + 1


def _names_a_file(literal: PathLiteral) -> bool:
    """`/usr/share/opencv4/haarcascade.xml`: a file under a folder, whatever the call that gets it."""
    text = literal.text
    return text.count("/") >= 2 and bool(_FILE_EXTENSION.search(text))


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "…"


def _where(magic: MagicLine | None) -> str:
    if magic is None:
        return ""
    if magic.kind == "shell":
        return f" in `!{magic.name}`"
    return f" in `%{'%' if magic.kind == 'cell' else ''}{magic.name}`"


def is_reported(sighting: PathSighting) -> bool:
    """Whether RP101 (or RP102, for a cloud URI) reports this sighting; the exporter lifts the same ones
    into Params. In the parameters cell a default is fine unless it only exists on one machine."""
    literal = sighting.literal
    if sighting.cell.is_parameters and sighting.magic is None:
        return literal.kind != "cloud" and (literal.anywhere or (literal.kind == "machine" and sighting.io))
    return literal.kind == "cloud" or literal.anywhere or sighting.io


class HardcodedLocalPath(Rule):
    """## What it does
    Reports an absolute or user-specific local path written into code: `/home/..`, `/Users/..`,
    `/mnt`, `/data`, `/kaggle/input`, Colab's `/content`, `C:\\...`, `D:/...`, network shares,
    `~/...`, `os.path.expanduser("~")` and `Path.home()`, also as the root of `os.path.join(...)`, an f-string,
    `Path("/x") / ...`, and in `%cd`, `!cp` or `sys.path.append(...)`. Other absolute paths
    (`/etc/app.conf`, `/tmp/out.csv`) are reported where they reach file I/O.

    Relative project paths, `tempfile`, `/dev/null`, URLs and URL routes, regular expressions and
    date formats are not reported; nor are names read from the `parameters` cell. A machine-specific
    default in the `parameters` cell is reported: a default must run on any machine. Not files on
    this machine either: experiment-tracker, registry and datastore URIs (`runs:/`, `models:/`,
    `azureml://`), hub ids (`org/model`), cloud resource names (`projects/p/locations/l/...`, ARNs),
    paths inside a managed training container (SageMaker's `/opt/ml/...`), a tool's own folder in
    the home directory (`~/.keras/keras.json`, `~/.kaggle`) and programs under a `bin` folder. One
    cell naming several files under one place is one finding, listing the other lines.

    ## Why is this bad?
    The notebook only runs on the machine (or in the account) where it was written. Anyone else,
    a CI job or a scheduled run fails on the first read, and the exported package cannot be
    pointed at other data.

    ## Example
    ```python
    import pandas as pd

    churn = pd.read_csv("/home/ana/projects/churn/data/churn.csv")
    ```

    ## Use instead
    ```python
    # parameters
    data_path = "data/churn.csv"
    # %%
    import pandas as pd

    churn = pd.read_csv(data_path)
    ```
    """

    code = "RP101"
    name = "hardcoded-local-path"
    category = "hardcoded-path"
    severity = Severity.ERROR
    visits_cells = True  # the strings, calls and magic lines of each cell
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse
    reads = ("names that reach file I/O in other cells",)

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        sightings = cell_path_sightings(model, cell)
        return self._findings(sightings) if sightings else ()

    def _findings(self, sightings: list[PathSighting]):
        reported = [s for s in sightings if s.literal.kind != "cloud" and is_reported(s)]
        for sighting, others in _grouped(reported):
            literal = sighting.literal
            shown = sighting.shown
            if sighting.cell.is_parameters and sighting.magic is None:
                message = (f"{literal.label} '{shown}' is the default in the parameters cell but only exists "
                           f"on one machine; make the default a path relative to the project (or read it from "
                           f"an environment variable) so it runs anywhere")
            elif literal.label == _SCRATCH:
                message = (f"Fixed scratch path '{shown}'{_where(sighting.magic)} is used for file access here: "
                           f"every run on the machine shares it and it does not exist on Windows; use "
                           f"tempfile.mkdtemp() for scratch files, or {AS_PARAMETER}")
            elif literal.anywhere:
                where = "depends on whose account runs it" if literal.kind == "home" else \
                    _PLATFORMS.get(literal.label, "only exists on one machine")
                message = f"{literal.label} '{shown}'{_where(sighting.magic)} {where}; {AS_PARAMETER}"
            else:  # used for file access
                message = (f"{literal.label} '{shown}'{_where(sighting.magic)} is used for file access here; "
                           f"{AS_PARAMETER}")
            yield self.finding(sighting.cell, sighting.span, message + _also(others), FIX)


_SCRATCH = "Fixed scratch path"
# A hosted platform's own folders exist on every machine of that platform, and nowhere else.
_PLATFORMS = {"Colab path": "only exists in Google Colab", "Kaggle path": "only exists in Kaggle's notebooks",
              "Databricks path": "only exists on a Databricks cluster"}


def _location_key(literal: PathLiteral) -> str:
    """The place a literal points into: a cloud bucket, or a local path's first two folders. One cell
    naming several files under one place hardcodes one location, reported once."""
    text = literal.text.replace("\\", "/")
    if literal.kind == "cloud":
        scheme, _, rest = text.partition(":")
        return scheme.lower() + ":" + rest.lstrip("/").split("/", 1)[0]
    parts = [part for part in text.split("/") if part]
    return "/".join(parts[:2])


def _grouped(sightings: list[PathSighting]):
    """(first sighting, the others) per cell and location, in the order of the first sightings."""
    groups: dict[tuple, list[PathSighting]] = {}
    for sighting in sightings:
        groups.setdefault((sighting.cell.index, _location_key(sighting.literal)), []).append(sighting)
    for group in groups.values():
        yield group[0], group[1:]


def _also(others: list[PathSighting]) -> str:
    if not others:
        return ""
    lines = sorted({other.span.line for other in others})
    if len(lines) > 5:
        where = "lines " + ", ".join(str(n) for n in lines[:5]) + ", ..."
    else:
        where = f"line {lines[0]}" if len(lines) == 1 else \
            "lines " + ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"
    count = len(others)
    return f" (and {count} more {'use' if count == 1 else 'uses'} of the same location in this cell, {where})"


class HardcodedCloudUri(Rule):
    """## What it does
    Reports a cloud storage location written into code: `s3://`, `gs://`, `gcs://`, `abfs(s)://`,
    `az://`, `wasb(s)://`, `hdfs://` and `dbfs:/` literals, in Python and in `!shell` lines. A URI
    whose bucket comes from a variable (`f"s3://{bucket}/x"`) is not reported, nor a default in the
    `parameters` cell, which is where such locations belong.

    ## Why is this bad?
    The notebook reads (or writes) one bucket of one account: it cannot be run against a copy of the
    data, in another environment, or by someone without access to that bucket, and changing the
    location means editing code.

    ## Example
    ```python
    import pandas as pd

    events = pd.read_parquet("s3://acme-analytics/events/2024/")
    ```

    ## Use instead
    ```python
    # parameters
    events_uri = "data/events/"
    # %%
    import pandas as pd

    events = pd.read_parquet(events_uri)
    ```
    """

    code = "RP102"
    name = "hardcoded-cloud-uri"
    category = "hardcoded-path"
    severity = Severity.ERROR
    visits_cells = True  # the strings and magic lines of each cell
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        sightings = cell_path_sightings(model, cell)
        return self._findings(sightings) if sightings else ()

    def _findings(self, sightings: list[PathSighting]):
        reported = [s for s in sightings if s.literal.kind == "cloud" and is_reported(s)]
        for sighting, others in _grouped(reported):
            message = f"Cloud URI '{sighting.shown}'{_where(sighting.magic)} is hardcoded; {AS_PARAMETER}"
            yield self.finding(sighting.cell, sighting.span, message + _also(others), FIX)


RULES = (HardcodedLocalPath, HardcodedCloudUri)
