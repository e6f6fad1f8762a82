"""A persistent cache of each notebook's report, as `.ruff_cache` is for ruff: an unchanged notebook is free.

An entry is used only when everything the report depends on is what it was:
- the notebook's bytes (its size and mtime when it had been stable for a while before it was read,
  as git trusts its index; else a hash of the content);
- the tool: its version and the files of this package (a changed rule is a changed tool), ruff's
  binary, the installed distributions (the rules map imports to them);
- the effective settings and the command line's overrides (selection, ruff on/off, ruff's selection);
- the project around the notebook, as the rules and ruff read it: every entry of its folder and of the
  folders above it up to the project root (dependency files, local modules, `.git`, `.gitattributes`,
  each with its size and mtime; other notebooks by name only, so editing one leaves its neighbours
  cached), data files two folders down (their size), ruff's configuration files up to the file
  system's root, and, in a git repository, the names of its notebooks (duplicate names).

Entries are written whole (a temporary file, then a rename), so two processes writing at once leave
one of their answers; an entry that cannot be read or does not parse is a miss and is written again.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

from . import __version__

try:  # the one hash used here, without loading OpenSSL as hashlib does
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - Pythons built without it
    from hashlib import blake2b

CACHE_FOLDER = ".readiness_cache"
CACHE_VARIABLE = "READINESS_CACHE_DIR"
_FORMAT = 1
# Trust size and mtime only for a file that had not changed for this long before it was read:
# a write in the same tick of the file system's clock would otherwise go unseen.
_STABLE_NS = 2_000_000_000
_RUFF_CONFIGS = ("pyproject.toml", "ruff.toml", ".ruff.toml")
_SKIPPED = {".git", ".ipynb_checkpoints", "node_modules", "venv", ".venv", "__pycache__", CACHE_FOLDER}


def default_cache_dir(start: Path | None = None) -> Path:
    """READINESS_CACHE_DIR, else `.readiness_cache` in the project root above the working directory
    (the first folder with a pyproject.toml or `.git`), else in the working directory."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    here = Path(os.path.abspath(start or os.getcwd()))
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder / CACHE_FOLDER
    return here / CACHE_FOLDER


def _stat_key(path: Path) -> list | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


class ReportCache:
    """Reports of notebooks by what they depend on; `get` before checking, `put` after."""

    def __init__(self, folder: str | os.PathLike, *, use_ruff: bool, overrides: dict):
        self.folder = Path(os.path.abspath(folder))
        self._entries = self.folder / f"v{_FORMAT}"
        self._run_key = self._digest([
            __version__, sys.version, _package_fingerprint(), _environment_fingerprint(),
            _ruff_fingerprint() if use_ruff else None, use_ruff, sorted((k, repr(v)) for k, v in overrides.items()),
        ])
        self._folder_keys: dict[str, str] = {}
        self._context_keys: dict[tuple[str, int], tuple] = {}
        self._repo_names: dict[Path, list] = {}
        self._ready = False

    # -- keys --------------------------------------------------------------------------------------

    @staticmethod
    def _digest(value) -> str:
        return blake2b(json.dumps(value, default=str, sort_keys=True).encode(), digest_size=20).hexdigest()

    def context_key(self, path: Path, settings) -> str:
        """Everything but the notebook's own bytes."""
        folder = os.path.dirname(os.path.abspath(path))
        known = self._context_keys.get((folder, id(settings)))
        if known is not None and known[0] is settings:  # notebooks of one folder share their settings
            return known[1]
        key = self._folder_keys.get(folder)
        if key is None:
            key = self._folder_keys[folder] = self._digest(self._folder_context(Path(folder)))
        context = self._digest([self._run_key, key, repr(settings)])
        self._context_keys[(folder, id(settings))] = (settings, context)
        return context

    def _folder_context(self, folder: Path) -> list:
        # The cache's own folder is no input (it appears with the first run's first entry).
        own = [entry for entry in _listing(folder) if folder / entry[0] != self.folder]
        chain, root = [[str(folder), own]], None
        names = {entry[0] for entry in chain[0][1]}
        if ".git" in names or "pyproject.toml" in names:
            root = folder
        for candidate in folder.parents:  # above it: only what the rules and ruff read there
            found = _project_files(candidate)
            chain.append([str(candidate), found])
            if root is None and any(entry[0] in (".git", "pyproject.toml") for entry in found):
                root = candidate
        user_ruff = Path.home() / ".config" / "ruff"
        chain.append([str(user_ruff), [[name, _stat_key(user_ruff / name)] for name in _RUFF_CONFIGS]])
        return [chain, _below(folder), self._repo_notebooks(root)]

    def _repo_notebooks(self, root: Path | None) -> list:
        if root is None or not (root / ".git").exists():
            return []
        if root not in self._repo_names:
            found = []
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _SKIPPED)
                found.extend(os.path.join(folder, name) for name in sorted(files) if name.endswith(".ipynb"))
            self._repo_names[root] = found
        return self._repo_names[root]

    # -- entries -----------------------------------------------------------------------------------

    def _entry_path(self, path: Path) -> Path:
        name = blake2b(os.path.abspath(path).encode(), digest_size=16).hexdigest()
        return self._entries / name[:2] / f"{name}.json"

    def get(self, path: Path, settings) -> tuple[dict | None, dict]:
        """(the cached report's data or None, what `put` needs to store a new one)."""
        context = self.context_key(path, settings)
        state = {"context": context, "stat": _stat_key(path), "digest": None}
        try:
            with open(self._entry_path(path), encoding="utf-8") as stream:
                entry = json.load(stream)
            if entry["context"] != context or not isinstance(entry["report"], dict):
                return None, state
            if state["stat"] is not None and entry["stat"] == state["stat"] and entry["stable"]:
                return entry["report"], state
            state["digest"] = _content_digest(path)
            if state["digest"] is not None and entry["digest"] == state["digest"]:
                if not entry["stable"]:
                    self.put(path, state, entry["report"])  # stable by now: the next run trusts the stat
                return entry["report"], state
        except (OSError, ValueError, KeyError, TypeError):  # missing, damaged or from another format
            pass
        return None, state

    def put(self, path: Path, state: dict, report: dict) -> None:
        """Store a report; never fails the run (a read-only or full disk only costs the next run time)."""
        try:
            before = state["stat"]
            digest = state["digest"] or _content_digest(path)
            after = _stat_key(path)
            if digest is None or after != before:  # changed while it was checked: keep nothing
                return
            entry = {"context": state["context"], "stat": after, "digest": digest,
                     "stable": after is not None and after[1] < time.time_ns() - _STABLE_NS,
                     "report": report}
            self._write(self._entry_path(path), json.dumps(entry))
        except (OSError, ValueError, TypeError):
            pass

    def _write(self, target: Path, text: str) -> None:
        if not self._ready:
            self._prepare()
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)  # atomic: readers see the old entry or the new one, whole
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise

    def _prepare(self) -> None:
        """The folder ignores itself in git and tells backup tools what it is, as ruff's does."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", "# Automatically created by readiness-magics.\n*\n"),
                           ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n")):
            marker = self.folder / name
            if not marker.exists():
                try:
                    marker.write_text(text, encoding="utf-8")
                except OSError:
                    pass
        self._ready = True


def _content_digest(path: Path) -> str | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a FIFO would block the read; other odd entries are not cached
        with open(path, "rb") as stream:
            return blake2b(stream.read(), digest_size=20).hexdigest()
    except OSError:
        return None


# Files whose content a rule or ruff reads (modules, dependency and configuration files): size and
# mtime. Other files matter only by name and by size in MiB (a data file over 10 MiB is a finding),
# so a report or an output the notebook writes beside itself does not make its neighbours stale.
_READ_SUFFIXES = {".py", ".pyc", ".pyd", ".pyi", ".so", ".txt", ".in", ".toml", ".yml", ".yaml", ".cfg", ".lock",
                  ".dvc", ".ini", ".pth"}
_MIB = 1024 * 1024


def _entry_key(name: str, info) -> list:
    if name.endswith(".ipynb"):
        return [name]
    if info is None:
        return [name, None]
    if _is_dir(info):
        # a folder: what it holds changes its mtime (a local package gains a module); hidden ones
        # (.git, .ruff_cache, ...) change on every use and matter by name only
        return [name] if name.startswith(".") else [name, "dir", info.st_mtime_ns]
    if os.path.splitext(name)[1].lower() in _READ_SUFFIXES or name in (".gitattributes", "Pipfile"):
        return [name, info.st_size, info.st_mtime_ns]
    return [name, info.st_size // _MIB]


def _is_dir(info) -> bool:
    return stat.S_ISDIR(info.st_mode)


def _is_project_file(name: str) -> bool:
    """Dependency files (as requirements.py finds them), project markers and ruff's configuration."""
    lower = name.lower()
    return (name in (".git", ".gitattributes", "setup.py", "setup.cfg", "Pipfile", "Pipfile.lock", "poetry.lock",
                     "uv.lock", "ruff.toml", ".ruff.toml", "constraints.txt", "pyproject.toml")
            or (lower.startswith("requirements") and lower.endswith(".txt"))
            or (lower.startswith("environment") and lower.endswith((".yml", ".yaml")))
            or (lower.startswith("pylock.") and lower.endswith(".toml")))


def _project_files(folder: Path) -> list:
    """The project files of a folder above the notebook's, with size and mtime (`.git` by name)."""
    found = []
    try:
        entries = [entry for entry in os.scandir(folder) if _is_project_file(entry.name)]
    except OSError:
        return found
    for entry in entries:
        if entry.name == ".git":
            found.append([entry.name])
            continue
        try:
            info = entry.stat()
            found.append([entry.name, info.st_size, info.st_mtime_ns])
        except OSError:
            found.append([entry.name, None])
    found.sort(key=str)
    return found


def _listing(folder: Path) -> list:
    """Each entry of a folder, as far as the rules' answers depend on it (`_entry_key`)."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name == CACHE_FOLDER:
            continue
        try:
            info = entry.stat()
        except OSError:
            info = None
        found.append(_entry_key(entry.name, info))
    found.sort(key=str)
    return found


def _below(folder: Path) -> list:
    """Entries one and two folders down (data files over 10 MiB; what `.dvc` and modules there say)."""
    found = []
    top = str(folder)
    for root, subfolders, files in os.walk(top):
        relative = root[len(top):].lstrip(os.sep)
        depth = relative.count(os.sep) + 1 if relative else 0
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _SKIPPED)
        if depth >= 2:
            subfolders[:] = []
        if depth == 0:
            continue
        for name in sorted(files):
            try:
                info = os.stat(os.path.join(root, name))
            except OSError:
                info = None
            found.append([relative, *_entry_key(name, info)])
    return found


def _package_fingerprint() -> list:
    """Size and mtime of every source file of this package: an edited rule is another tool."""
    here = Path(__file__).resolve().parent
    found = []
    for folder, subfolders, files in os.walk(here):
        subfolders[:] = sorted(d for d in subfolders if d not in ("__pycache__", "labextension"))
        found.extend([os.path.relpath(os.path.join(folder, name), here), _stat_key(Path(folder, name))]
                     for name in sorted(files) if name.endswith(".py"))
    return found


def _environment_fingerprint() -> list:
    """The folders distributions are installed into change when one is installed or removed."""
    return [[entry, _stat_key(Path(entry))] for entry in sys.path
            if os.path.basename(entry) in ("site-packages", "dist-packages")]


def _ruff_fingerprint() -> list:
    """Where ruff would be found, and its file's size and mtime. Cheaper than asking ruff_bridge (which
    imports sysconfig, a third of a cached run's start); an upgrade through pip also changes the
    site-packages folders of `_environment_fingerprint`."""
    from shutil import which

    beside = os.path.join(os.path.dirname(sys.executable), "ruff")
    found = which("ruff")
    return [beside, _stat_key(Path(beside)), found, _stat_key(Path(found)) if found else None]
