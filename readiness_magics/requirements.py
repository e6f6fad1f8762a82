"""What a notebook installs and declares: install commands, requirement files, import names to distributions."""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from .config import read_toml, toml_module

# `packaging` is imported where a requirement is more than `name==1.2.3` (see `_parsed`): its utils
# module alone imports packaging.tags with logging, platform and sysconfig, a tenth of a check's start.


def canonicalize_name(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Scikit_Learn` -> `scikit-learn`): runs of `-`, `_`
    and `.` become one `-`, lower case. packaging.utils.canonicalize_name, step for step."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


# `pandas==2.2.3`, `numpy>=1.26,<3`, `jupyter_server[lab]`, `tomli>=2; python_version < "3.11"`: a name,
# extras, comparisons with plain releases and simple environment markers, as most requirement lines are
# written. packaging reads these the same way (tests/test_requirements.py compares the two); anything else
# (URLs, pre-releases, wildcards, `in`, parentheses, `extra == ...`) goes to packaging.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_COMPARISON = r"(?:==|!=|<=|>=|<|>|~=)[ \t]*\d+(?:\.\d+)*"
_MARKER_TEST = (r"(?:python_version|python_full_version|os_name|sys_platform|platform_release|platform_system"
                r"|platform_version|platform_machine|platform_python_implementation|implementation_name"
                r"|implementation_version)[ \t]*(?:==|!=|<=|>=|<|>)[ \t]*(?:'[A-Za-z0-9._+-]*'|\"[A-Za-z0-9._+-]*\")")
_SIMPLE_REQUIREMENT = re.compile(
    rf"(?P<name>{_NAME})(?:[ \t]*\[[ \t]*{_NAME}(?:[ \t]*,[ \t]*{_NAME})*[ \t]*\])?"
    rf"[ \t]*(?P<specifiers>{_COMPARISON}(?:[ \t]*,[ \t]*{_COMPARISON})*)?(?:[ \t]*;(?P<marker>.*))?"
)
# Compiled at the first line with a marker (re keeps it): most projects have none.
_SIMPLE_MARKER = rf"[ \t]*{_MARKER_TEST}(?:[ \t]+(?:and|or)[ \t]+{_MARKER_TEST})*"
_ONE_COMPARISON = re.compile(r"(==|!=|<=|>=|<|>|~=)[ \t]*(\d+(?:\.\d+)*)")


def _simple(text: str) -> tuple[str, list[tuple[str, str]], bool] | None:
    """The name, the (operator, release) pairs and whether a marker follows, of a simple requirement line;
    None for anything else."""
    match = _SIMPLE_REQUIREMENT.fullmatch(text)
    if match is None:
        return None
    marker = match.group("marker")
    if marker is not None and not re.fullmatch(_SIMPLE_MARKER, marker):
        return None
    comparisons = _ONE_COMPARISON.findall(match.group("specifiers") or "")
    if any(operator == "~=" and "." not in version for operator, version in comparisons):
        return None  # `~=1` is no valid specifier: packaging says so
    return match.group("name"), comparisons, marker is not None


def _parsed(text: str):
    """packaging's reading of a PEP 508 requirement, or None when it is not one."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PackagingRequirement

    try:
        return PackagingRequirement(text)
    except InvalidRequirement:
        return None

# ---------------------------------------------------------------------------------------------------
# One package as an install command or a requirements file names it
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """One package named by an install command or a dependency file, and whether its version is fixed."""

    name: str  # canonical distribution name ("" when a URL or path does not say)
    text: str  # as written
    pinned: bool
    problem: str = ""  # why it is not pinned, in a few words: "no version", "a range", ...
    source: str = ""  # the file it came from ("requirements.txt"), empty for a command line

    @property
    def label(self) -> str:
        return self.text if not self.source else f"{self.text} ({self.source})"


_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_FULL_HASH = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
_HASH_IN_PATH = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{40}(?![0-9a-fA-F])")
_ARCHIVE = re.compile(r"\.(?:whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip|tar)$", re.IGNORECASE)
_VERSION_IN_FILENAME = re.compile(r"\d+\.\d+")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def _vcs_requirement(url: str, text: str, name: str = "") -> Requirement:
    egg = _EGG.search(url)
    name = name or (canonicalize_name(egg.group(1)) if egg else "")
    bare = url.split("#", 1)[0].split("?", 1)[0]
    scheme_free = bare.split("://", 1)[-1]
    path = scheme_free.split("/", 1)[1] if "/" in scheme_free else ""
    revision = path.rsplit("@", 1)[1] if "@" in path else ""
    if not name:
        # No #egg=: the repository's name is the best guess (`.../openai/whisper.git` -> whisper).
        repository = path.rsplit("@", 1)[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        name = canonicalize_name(repository) if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", repository) else ""
    if _FULL_HASH.match(revision):
        return Requirement(name, text, True)
    problem = f"a VCS URL at '{revision}', not a full commit hash" if revision else "a VCS URL without a commit"
    return Requirement(name, text, False, problem)


def _archive_requirement(url: str, text: str, name: str = "") -> Requirement:
    """An http(s) or file URL: a wheel or versioned archive is fixed; `main.zip` is whatever main is today."""
    path = urlsplit(url).path
    filename = path.rsplit("/", 1)[-1]
    if filename.lower().endswith(".whl"):
        return Requirement(name or canonicalize_name(filename.split("-", 1)[0]), text, True)
    if _HASH_IN_PATH.search(path) or (_ARCHIVE.search(filename) and _VERSION_IN_FILENAME.search(filename)):
        return Requirement(name, text, True)
    return Requirement(name, text, False, "a URL whose content can change")


def looks_like_local_path(text: str) -> bool:
    return (
        text in (".", "..")
        or text.startswith(("./", "../", "/", "~", ".\\", "..\\", "file:"))
        or "/" in text
        or "\\" in text
        or bool(re.match(r"^[A-Za-z]:[\\/]", text))
        or bool(_ARCHIVE.search(text))
    )


def _local_requirement(text: str) -> Requirement:
    """A wheel, an archive or a folder on this machine: the notebook's own code, or a fixed file."""
    filename = re.split(r"[\\/]", text.rstrip("/\\"))[-1]
    name = canonicalize_name(filename.split("-", 1)[0]) if _ARCHIVE.search(filename) else ""
    return Requirement(name, text, True)


def is_exact(specifier_text: str) -> bool:
    """`==1.2.3` or `===x`, not `==1.*`, `>=1`, `~=1.2`."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifiers = SpecifierSet(specifier_text)
    except InvalidSpecifier:
        return False
    return any(
        spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))
        for spec in specifiers
    )


@lru_cache(maxsize=4096)
def parse_pip_requirement(text: str, source: str = "") -> Requirement | None:
    """A pip requirement (`pandas==2.2.0`, `numpy>=1.26`, `x @ git+https://...@sha`, `./dist/x.whl`).

    None for what is not a requirement at all (a variable `{pkg}`, an empty string).
    """
    text = text.strip()
    if not text or "$" in text or "{" in text:
        return None  # an IPython/shell variable: what it installs is unknown here
    if text.startswith(_VCS_PREFIXES):
        return _with_source(_vcs_requirement(text, text), source)
    if re.match(r"^(?:https?|ftp)://", text):
        return _with_source(_archive_requirement(text, text), source)
    simple = _simple(text)
    if simple is not None:
        name, comparisons, _marker = simple  # the marker says where it applies, not whether it is pinned
        if not comparisons:
            if looks_like_local_path(text):
                return _with_source(_local_requirement(text), source)
            return Requirement(canonicalize_name(name), text, False, "no version", source)
        if any(operator == "==" for operator, _ in comparisons):
            return Requirement(canonicalize_name(name), text, True, source=source)
        return Requirement(canonicalize_name(name), text, False, "a range, not an exact version", source)
    parsed = _parsed(text)
    if parsed is None:
        if looks_like_local_path(text):
            return _with_source(_local_requirement(text), source)
        return None
    name = canonicalize_name(parsed.name)
    if parsed.url:
        url = parsed.url
        if url.startswith(_VCS_PREFIXES):
            return _with_source(_vcs_requirement(url, text, name), source)
        if url.startswith("file:"):
            return Requirement(name, text, True, source=source)
        return _with_source(_archive_requirement(url, text, name), source)
    specifier = str(parsed.specifier)
    if not specifier:
        if looks_like_local_path(text):
            return _with_source(_local_requirement(text), source)
        return Requirement(name, text, False, "no version", source)
    if is_exact(specifier):
        return Requirement(name, text, True, source=source)
    if any(spec.operator == "==" for spec in parsed.specifier):
        return Requirement(name, text, False, "a wildcard version", source)
    return Requirement(name, text, False, "a range, not an exact version", source)


@lru_cache(maxsize=4096)
def parse_conda_spec(text: str, source: str = "") -> Requirement | None:
    """A conda match spec: `numpy=1.26.4`, `numpy==1.26.4`, `conda-forge::numpy>=1.2`, `numpy 1.26.4 py311_0`."""
    text = text.strip()
    if not text or "$" in text or "{" in text:
        return None
    if text.startswith(_VCS_PREFIXES) or "://" in text or looks_like_local_path(text.split("::")[-1]):
        return parse_pip_requirement(text, source)
    spec = text.split("::", 1)[-1]
    match = re.match(r"^([A-Za-z0-9_][A-Za-z0-9._-]*)\s*(.*)$", spec)
    if not match:
        return None
    name, rest = canonicalize_name(match.group(1)), match.group(2).strip()
    if not rest:
        return Requirement(name, text, False, "no version", source)
    if rest.startswith("["):
        version = re.search(r"version\s*=\s*['\"]?([^'\"\],]+)", rest)
        rest = version.group(1).strip() if version else ""
        if not rest:
            return Requirement(name, text, False, "no version", source)
    if rest.startswith("=="):
        version = rest[2:]
    elif rest.startswith("="):
        version = rest[1:]
    elif rest[0].isdigit():
        version = rest  # "numpy 1.26.4 py311_0"
    else:
        return Requirement(name, text, False, "a range, not an exact version", source)
    version = re.split(r"[=\s]", version, maxsplit=1)[0]  # drop a build string
    if not version or any(ch in version for ch in "*,|<>!~"):
        return Requirement(name, text, False, "a wildcard or range, not an exact version", source)
    return Requirement(name, text, True, source=source)


_POETRY_VERSION = re.compile(r"""^[^=]+=\s*(?:"(?:==)?\s*([0-9][^"]*)"|\{.*"version":\s*"(?:==)?\s*([0-9][^"]*)")""")


def pinned_version(requirement: Requirement) -> str | None:
    """The one version a pinned requirement names (`2.2.0` of `pandas==2.2.0`, `pandas=2.2.0=py311_0` or
    Poetry's `pandas = "2.2.0"`); None for pins without a version (a commit, a wheel, a lock file's name)
    and for requirements whose environment marker excludes this interpreter."""
    if not requirement.pinned:
        return None
    text = requirement.text.strip()
    simple = _simple(text)
    exact = [version for operator, version in simple[1] if operator == "=="] if simple is not None else []
    if len(exact) == 1 and not simple[2]:  # a marker is evaluated by packaging; with two pins, its set decides
        return exact[0]
    parsed = _parsed(text)
    if parsed is not None:
        if parsed.marker is not None:
            try:
                applies = parsed.marker.evaluate()
            except Exception:  # noqa: BLE001 - a marker packaging cannot evaluate: take it as applying
                applies = True
            if not applies:
                return None
        for spec in parsed.specifier:
            if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
                return spec.version
        return None
    poetry = _POETRY_VERSION.match(text)
    if poetry:
        return (poetry.group(1) or poetry.group(2)).strip()
    conda = re.match(r"^(?:[^:\s]+::)?[A-Za-z0-9_][A-Za-z0-9._-]*\s*(?:==?|\s)\s*([0-9][^=\s,|*]*)", text)
    return conda.group(1) if conda else None


def _with_source(requirement: Requirement, source: str) -> Requirement:
    if not source:
        return requirement
    return Requirement(requirement.name, requirement.text, requirement.pinned, requirement.problem, source)


# ---------------------------------------------------------------------------------------------------
# Install commands: `pip install ...`, `python -m pip install ...`, `conda install ...`
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A word of a command line; `piece` is which physical line (0 = the first), offsets within it."""

    text: str  # unquoted
    piece: int
    start: int
    end: int


@dataclass(frozen=True)
class InstallCommand:
    """One `pip install` / `conda install` in a command line (a line may chain several with `&&`)."""

    tool: str  # "pip" or "conda" (also mamba and micromamba)
    program: tuple[Token, ...]  # the words that name the installer: `pip3`, `python -m pip`, `conda`
    packages: tuple[tuple[Requirement, Token], ...]
    requirement_files: tuple[Token, ...] = ()  # -r FILE / --file FILE
    constraint_files: tuple[Token, ...] = ()  # -c FILE
    upgrade: bool = False
    chained: bool = False  # the line holds other commands too (`&&`, `;`, `|`)


_PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src", "--upgrade-strategy", "--platform",
    "--python-version", "--implementation", "--abi", "--only-binary", "--no-binary", "--progress-bar",
    "--trusted-host", "--proxy", "--timeout", "--retries", "--cache-dir", "--log", "--log-file", "-C",
    "--config-settings", "--global-option", "--install-option", "--exists-action", "--cert", "--client-cert",
    "--report", "--python", "--root-user-action", "--use-feature", "--use-deprecated", "--keyring-provider",
    "--resume-retries", "--group", "--build", "-b", "--hash",
}
_PIP_SHORT_WITH_VALUE = set("rceiftCb")
_CONDA_VALUE_OPTIONS = {
    "-c", "--channel", "-n", "--name", "-p", "--prefix", "--file", "--solver", "--repodata-fn",
    "--experimental-solver", "--subdir", "--platform", "-r", "--root-prefix",
}
_CONDA_SHORT_WITH_VALUE = set("cnpr")
_PIP_PROGRAM = re.compile(r"^(?:.*[\\/])?pip(?:\d+(?:\.\d+)?)?(?:\.exe)?$")
_PYTHON_PROGRAM = re.compile(
    r"^(?:.*[\\/])?(?:python(?:\d+(?:\.\d+)?)?|py)(?:\.exe)?$|^\{sys\.executable\}$|^\$\{?PYTHON\}?$"
)
_CONDA_PROGRAM = re.compile(r"^(?:.*[\\/])?(?:conda|mamba|micromamba)(?:\.exe)?$")


def tokenize(pieces: Sequence[str]) -> list[Token | str]:
    """Shell words of each physical line, with positions; operators (`&&`, `|`, `;`) come back as plain str.

    Redirections (`> /dev/null`, `2>&1`) and comments are dropped.
    """
    out: list[Token | str] = []
    skip_next_word = False
    for index, piece in enumerate(pieces):
        text = piece.removesuffix("\\")
        position, length = 0, len(text)
        while position < length:
            char = text[position]
            if char in " \t":
                position += 1
                continue
            if char == "#":
                return out
            if char in ";&|<>":
                end = position
                while end < length and text[end] in ";&|<>":
                    end += 1
                operator = text[position:end]
                position = end
                if "<" in operator or ">" in operator:
                    skip_next_word = True  # the redirection's target
                else:
                    out.append(operator)
                continue
            start, word = position, []
            quote = None
            while position < length:
                char = text[position]
                if quote:
                    if char == quote:
                        quote = None
                    else:
                        word.append(char)
                elif char in "'\"":
                    quote = char
                elif char in "<>" and word and _continues_specifier(text, position):
                    word.append(char)  # `pandas>=2` unquoted: the shell would redirect, the user meant a range
                elif char in " \t;&|<>":
                    break
                elif char == "\\" and position + 1 < length:
                    position += 1
                    word.append(text[position])
                else:
                    word.append(char)
                position += 1
            value = "".join(word)
            if position < length and text[position] in "<>" and value.isdigit():
                continue  # a file descriptor: `2>&1`
            if skip_next_word:
                skip_next_word = False
                continue
            out.append(Token(value, index, start, position))
    return out


def _continues_specifier(text: str, position: int) -> bool:
    following = text[position + 1: position + 2]
    return following == "=" or (following.isdigit() and not text[position - 1: position].isdigit())


def parse_install_commands(pieces: Sequence[str], program: str | None = None) -> list[InstallCommand]:
    """Every install in a command line given as its physical lines (`%pip` passes program="pip")."""
    words = tokenize(pieces)
    if program is not None:
        words.insert(0, Token(program, -1, 0, 0))
    segments: list[list[Token]] = [[]]
    for word in words:
        if isinstance(word, str):
            segments.append([])
        else:
            segments[-1].append(word)
    segments = [segment for segment in segments if segment]
    chained = len(segments) > 1
    found = []
    for segment in segments:
        command = _install_in(segment, chained)
        if command is not None:
            found.append(command)
    return found


def _install_in(words: list[Token], chained: bool) -> InstallCommand | None:
    position = 0
    while position < len(words) and (words[position].text in ("sudo", "env", "time", "command")
                                     or re.match(r"^\w+=", words[position].text)):
        position += 1
    words = words[position:]
    if not words:
        return None
    first = words[0].text
    if _PIP_PROGRAM.match(first):
        tool, program, rest = "pip", words[:1], words[1:]
    elif _PYTHON_PROGRAM.match(first):
        at = 1
        while at < len(words) and words[at].text.startswith("-") and words[at].text != "-m":
            at += 1
        if at + 1 < len(words) and words[at].text == "-m" and words[at + 1].text == "pip":
            tool, program, rest = "pip", words[: at + 2], words[at + 2:]
        elif at < len(words) and words[at].text == "-mpip":
            tool, program, rest = "pip", words[: at + 1], words[at + 1:]
        else:
            return None
    elif first == "uv" and len(words) > 1 and words[1].text == "pip":
        tool, program, rest = "pip", words[:2], words[2:]
    elif _CONDA_PROGRAM.match(first):
        tool, program, rest = "conda", words[:1], words[1:]
    else:
        return None
    # General options may come before the subcommand (`pip -q install x`).
    at = 0
    while at < len(rest) and rest[at].text.startswith("-"):
        at += 2 if rest[at].text in ("--proxy", "--log", "--cache-dir", "--timeout", "--retries", "--python",
                                     "--cert", "--client-cert", "--exists-action", "--trusted-host") else 1
    if at >= len(rest) or rest[at].text != "install":
        return None
    arguments = rest[at + 1:]
    if tool == "pip":
        return _pip_arguments(arguments, tuple(program), chained)
    return _conda_arguments(arguments, tuple(program), chained)


def _pip_arguments(words: list[Token], program: tuple[Token, ...], chained: bool) -> InstallCommand:
    packages, requirement_files, constraint_files = [], [], []
    upgrade = False
    index = 0
    while index < len(words):
        word = words[index]
        text = word.text
        index += 1
        value_token: Token | None = None
        option = ""
        if text.startswith("--"):
            option, _, inline = text.partition("=")
            if option in ("--upgrade",):
                upgrade = True
            if option in _PIP_VALUE_OPTIONS:
                if inline:
                    value_token = Token(inline, word.piece, word.end - len(inline), word.end)
                elif index < len(words):
                    value_token = words[index]
                    index += 1
        elif text.startswith("-") and len(text) > 1:
            for position, letter in enumerate(text[1:], start=1):
                if letter == "U":
                    upgrade = True
                if letter in _PIP_SHORT_WITH_VALUE:
                    option = "-" + letter
                    inline = text[position + 1:]
                    if inline:
                        value_token = Token(inline, word.piece, word.end - len(inline), word.end)
                    elif index < len(words):
                        value_token = words[index]
                        index += 1
                    break
        else:
            requirement = parse_pip_requirement(text)
            if requirement is not None:
                packages.append((requirement, word))
            continue
        if value_token is None:
            continue
        if option in ("-r", "--requirement"):
            requirement_files.append(value_token)
        elif option in ("-c", "--constraint"):
            constraint_files.append(value_token)
        elif option in ("-e", "--editable"):
            requirement = parse_pip_requirement(value_token.text)
            if requirement is not None:
                packages.append((requirement, value_token))
    return InstallCommand("pip", program, tuple(packages), tuple(requirement_files), tuple(constraint_files),
                          upgrade, chained)


def _conda_arguments(words: list[Token], program: tuple[Token, ...], chained: bool) -> InstallCommand:
    packages, files = [], []
    upgrade = False
    index = 0
    while index < len(words):
        word = words[index]
        text = word.text
        index += 1
        if text.startswith("--"):
            option, _, inline = text.partition("=")
            if option in ("--update-deps", "--update-all", "--all"):
                upgrade = True
            if option in _CONDA_VALUE_OPTIONS and not inline and index < len(words):
                if option == "--file":
                    files.append(words[index])
                index += 1
            elif option == "--file" and inline:
                files.append(Token(inline, word.piece, word.end - len(inline), word.end))
        elif text.startswith("-") and len(text) > 1:
            if text[-1] in _CONDA_SHORT_WITH_VALUE and index < len(words):
                index += 1
        else:
            requirement = parse_conda_spec(text)
            if requirement is not None:
                packages.append((requirement, word))
    return InstallCommand("conda", program, tuple(packages), tuple(files), (), upgrade, chained)


# ---------------------------------------------------------------------------------------------------
# Dependency files: requirements.txt, pyproject.toml, environment.yml, lock files
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DependencyFile:
    """What one file declares; `unreadable` names files it includes that could not be read."""

    path: Path
    requirements: tuple[Requirement, ...]
    unreadable: tuple[str, ...] = ()
    project_name: str = ""  # [project] name / [tool.poetry] name: the project itself, not a dependency
    is_conda_environment: bool = False  # a YAML file with a `dependencies:` list of conda match specs

    @property
    def unpinned(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.pinned)


def file_beside(folder: Path, name: str) -> Path:
    """A file an install line names (`-r requirements.txt`), as the shell in the notebook's folder finds it."""
    expanded = os.path.expanduser(name)
    return Path(expanded) if os.path.isabs(expanded) else folder / name


def read_listed_file(path: Path, tool: str) -> DependencyFile:
    """What `pip install -r FILE` or `conda install --file FILE` (one match spec a line) installs."""
    if tool == "pip":
        return read_requirements_txt(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return DependencyFile(path, (), (str(path),))
    specs = (line.split("#", 1)[0].strip() for line in text.splitlines())
    requirements = tuple(r for r in (parse_conda_spec(spec, path.name) for spec in specs if spec) if r is not None)
    return DependencyFile(path, requirements)


def read_requirements_txt(path: Path, _seen: frozenset[Path] = frozenset(), text: str | None = None) -> DependencyFile:
    """A pip requirements file, following `-r` and `-c` includes relative to it; `text` is its content when
    the notebook writes the file itself (`%%writefile requirements.txt`)."""
    path = Path(path)
    name = path.name
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            return DependencyFile(path, (), (str(path),))
    requirements: list[Requirement] = []
    unreadable: list[str] = []
    seen = _seen | {path.resolve()}
    for line in _logical_lines(text):
        words = line.split()
        if not words:
            continue
        first = words[0]
        include = None
        for option in ("-r", "--requirement", "-c", "--constraint"):
            if first == option and len(words) > 1:
                include = words[1]
            elif first.startswith(option + "=") or (len(option) == 2 and first.startswith(option) and len(first) > 2):
                include = first[len(option):].lstrip("=")
        if include is not None:
            included = (path.parent / include)
            if included.resolve() in seen:
                continue
            nested = read_requirements_txt(included, seen)
            requirements.extend(nested.requirements)
            unreadable.extend(nested.unreadable)
            continue
        if first in ("-e", "--editable") and len(words) > 1:
            requirement = parse_pip_requirement(words[1], name)
        elif first.startswith("-"):
            continue  # --index-url, --find-links, --hash ...
        else:
            # Per-requirement options (`--hash=...`) follow the requirement.
            spec = re.split(r"\s--?[a-zA-Z]", " " + line)[0] if " -" in " " + line else line
            requirement = parse_pip_requirement(spec.strip(), name)
        if requirement is not None:
            requirements.append(requirement)
    return DependencyFile(path, tuple(requirements), tuple(unreadable))


def _logical_lines(text: str) -> list[str]:
    lines, pending = [], ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append((pending + line).strip())
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return lines


def read_pyproject(path: Path) -> DependencyFile:
    """[project] dependencies and extras, [dependency-groups], and Poetry's dependency tables."""
    path = Path(path)
    tomllib = toml_module()
    try:
        data = read_toml(path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DependencyFile(path, (), (str(path),))
    source = path.name
    requirements: list[Requirement] = []
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    specs: list = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        specs.extend(extra or [])
    for group in (data.get("dependency-groups", {}) or {}).values():
        specs.extend(item for item in group or [] if isinstance(item, str))
    for spec in specs:
        if isinstance(spec, str):
            requirement = parse_pip_requirement(spec, source)
            if requirement is not None:
                requirements.append(requirement)
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables.extend(group.get("dependencies", {}) for group in (poetry.get("group", {}) or {}).values()
                  if isinstance(group, dict))
    for table in tables:
        if isinstance(table, dict):
            requirements.extend(_poetry_requirement(name, value, source) for name, value in table.items()
                                if name.lower() != "python")
    project_name = project.get("name") or poetry.get("name") or ""
    return DependencyFile(path, tuple(requirements), (),
                          canonicalize_name(project_name) if isinstance(project_name, str) else "")


def _poetry_requirement(name: str, value, source: str) -> Requirement:
    canonical = canonicalize_name(name)
    text = f"{name} = {json.dumps(value)}" if not isinstance(value, str) else f'{name} = "{value}"'
    if isinstance(value, list):  # multiple constraints by marker: pinned only if each is
        parts = [_poetry_requirement(name, item, source) for item in value]
        pinned = bool(parts) and all(part.pinned for part in parts)
        return Requirement(canonical, text, pinned, "" if pinned else "a range, not an exact version", source)
    if isinstance(value, dict):
        if "path" in value:
            return Requirement(canonical, text, True, source=source)
        if "git" in value:
            revision = str(value.get("rev", ""))
            if _FULL_HASH.match(revision):
                return Requirement(canonical, text, True, source=source)
            return Requirement(canonical, text, False, "a git dependency without a full commit", source)
        if "url" in value:
            return _with_source(_archive_requirement(str(value["url"]), text, canonical), source)
        value = str(value.get("version", ""))
    version = str(value).strip()
    if re.match(r"^(?:==\s*)?\d+(?:\.\d+)*(?:[a-zA-Z0-9.+-]*)$", version) and "*" not in version:
        return Requirement(canonical, text, True, source=source)
    if not version or version == "*":
        return Requirement(canonical, text, False, "no version", source)
    return Requirement(canonical, text, False, "a range, not an exact version", source)


def read_setup_py(path: Path) -> DependencyFile:
    """`install_requires` and `extras_require` of a setup.py, read from its syntax tree (never run): list
    literals given directly or through a module-level name, and `extras_require["x"] = [...]` additions."""
    import ast

    path = Path(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return DependencyFile(path, (), (str(path),))
    names: dict[str, ast.expr] = {}
    added: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = node.value
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                added.append(node.value)  # extras_require["all"] = [...]
    specs: list[str] = []
    project_name = ""

    def strings(node: ast.expr | None, depth: int = 0) -> list[str]:
        if isinstance(node, ast.Name) and depth < 3:
            return strings(names.get(node.id), depth + 1)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
        if isinstance(node, ast.Dict):
            return [spec for value in node.values for spec in strings(value, depth + 1)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            return [spec for keyword in node.keywords for spec in strings(keyword.value, depth + 1)]
        return []

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "setup"):
            continue
        for keyword in node.keywords:
            if keyword.arg in ("install_requires", "extras_require", "tests_require"):
                specs.extend(strings(keyword.value))
                if keyword.arg == "extras_require":
                    for value in added:
                        specs.extend(strings(value))
            elif keyword.arg == "name" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                project_name = canonicalize_name(keyword.value.value)
    requirements = tuple(r for r in (parse_pip_requirement(spec, path.name) for spec in specs) if r is not None)
    return DependencyFile(path, requirements, (), project_name)


def read_setup_cfg(path: Path) -> DependencyFile:
    """`[options] install_requires` and `[options.extras_require]` of a setup.cfg, and `[metadata] name`."""
    import configparser

    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return DependencyFile(path, (), (str(path),))
    lists = [parser.get("options", "install_requires", fallback="")]
    if parser.has_section("options.extras_require"):
        lists.extend(value for _, value in parser.items("options.extras_require"))
    specs = [line.split("#", 1)[0].strip() for text in lists for line in text.splitlines()]
    requirements = tuple(r for r in (parse_pip_requirement(spec, path.name) for spec in specs if spec) if r is not None)
    name = parser.get("metadata", "name", fallback="").strip()
    return DependencyFile(path, requirements, (), canonicalize_name(name) if name else "")


def read_pipfile(path: Path) -> DependencyFile:
    """A Pipfile's `[packages]` and `[dev-packages]` (`pandas = "==2.2.0"` is pinned, `"*"` is not)."""
    path = Path(path)
    tomllib = toml_module()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DependencyFile(path, (), (str(path),))
    requirements = tuple(_poetry_requirement(name, value, path.name)
                         for section in ("packages", "dev-packages")
                         for name, value in (data.get(section) or {}).items())
    return DependencyFile(path, requirements)


def read_environment_yml(path: Path) -> DependencyFile:
    """A conda environment file's `dependencies` (and its nested `pip:` list), read without a YAML library."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return DependencyFile(path, (), (str(path),))
    source = path.name
    if not is_conda_environment(text):
        return DependencyFile(path, ())
    requirements: list[Requirement] = []
    for kind, spec in environment_dependencies(text):
        parse = parse_pip_requirement if kind == "pip" else parse_conda_spec
        requirement = parse(spec, source)
        if requirement is not None and requirement.name not in ("python", "pip"):
            requirements.append(requirement)
    return DependencyFile(path, tuple(requirements), is_conda_environment=True)


def is_conda_environment(text: str) -> bool:
    """A top-level `dependencies:` list whose items are match specs (`numpy=1.26`) or a `pip:` list: not a
    Helm chart's or a CI file's `dependencies:` of mappings (`- name: redis`)."""
    if not re.search(r"^dependencies\s*:", text, re.MULTILINE):
        return False
    items = environment_dependencies(text)
    return bool(items) and not any(re.match(r"^[\w.-]+\s*:(?:\s|$)", spec) for _, spec in items)


def environment_dependencies(text: str) -> list[tuple[str, str]]:
    """("conda" | "pip", spec) for each item under `dependencies:`, in order."""
    found: list[tuple[str, str]] = []
    in_dependencies = False
    pip_indent: int | None = None
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0 and not stripped.startswith("-"):
            key, _, rest = stripped.partition(":")
            in_dependencies = key.strip() == "dependencies"
            pip_indent = None
            rest = rest.strip()
            if in_dependencies and rest.startswith("["):
                found.extend(("conda", _unquote(item)) for item in rest.strip("[]").split(",") if item.strip())
            continue
        if not in_dependencies or not stripped.startswith("-"):
            continue
        item = _unquote(stripped[1:].strip())
        if pip_indent is not None and indent > pip_indent:
            found.append(("pip", item))
            continue
        pip_indent = None
        if re.match(r"^pip\s*:", item):
            pip_indent = indent
            inline = item.split(":", 1)[1].strip()
            if inline.startswith("["):
                found.extend(("pip", _unquote(x)) for x in inline.strip("[]").split(",") if x.strip())
            continue
        if item:
            found.append(("conda", item))
    return found


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def read_lock_file(path: Path) -> DependencyFile:
    """poetry.lock, uv.lock, pylock.toml (`[[package]]` name/version) and Pipfile.lock: everything pinned."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.name == "Pipfile.lock":
            data = json.loads(text)
            names = [name for section in ("default", "develop") for name in (data.get(section) or {})]
        else:
            data = toml_module().loads(text)
            names = [package.get("name", "") for package in data.get("package", []) or []
                     if isinstance(package, dict) and package.get("version")]
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return DependencyFile(path, (), (str(path),))
    return DependencyFile(path, tuple(Requirement(canonicalize_name(n), n, True, source=path.name)
                                      for n in names if n))


_LOCK_FILES = ("poetry.lock", "uv.lock", "pylock.toml", "Pipfile.lock")


def dependency_files_in(folder: Path) -> list[DependencyFile]:
    """The dependency files of one folder (requirements*.txt, constraints.txt, pyproject, environment, locks)."""
    names = sorted(_folder_listing(Path(folder))[0])
    found = []
    for name in names:
        lower = name.lower()
        path = folder / name
        if (lower.startswith("requirements") and lower.endswith(".txt")) or lower in ("constraints.txt",):
            found.append(read_requirements_txt(path))
        elif lower == "requirements" and path.is_dir():
            found.extend(read_requirements_txt(child) for child in sorted(path.glob("*.txt")))
        elif lower == "pyproject.toml":
            found.append(read_pyproject(path))
        elif lower == "setup.py":
            found.append(read_setup_py(path))
        elif lower == "setup.cfg":
            found.append(read_setup_cfg(path))
        elif lower == "pipfile":
            found.append(read_pipfile(path))
        elif lower.endswith((".yml", ".yaml")):
            environment = read_environment_yml(path)
            if environment.is_conda_environment:
                found.append(environment)
        elif name in _LOCK_FILES or re.match(r"^pylock\..+\.toml$", lower):
            found.append(read_lock_file(path))
    return [file for file in found if file.requirements or file.project_name or file.is_conda_environment]


@dataclass(frozen=True)
class ProjectDependencies:
    """The dependency files beside and above a notebook, up to the project root."""

    files: tuple[DependencyFile, ...] = ()
    root: Path | None = None  # the folder holding .git or pyproject.toml where the search stopped
    pinned: frozenset[str] = field(default_factory=frozenset)
    declared: dict = field(default_factory=dict, compare=False, hash=False)  # name -> first unpinned mention

    @property
    def project_names(self) -> frozenset[str]:
        return frozenset(f.project_name for f in self.files if f.project_name)


@lru_cache(maxsize=1024)
def _listing(folder: str, _mtime_ns: int) -> tuple[frozenset[str], bool]:
    """(dependency file names, is a project root) of a folder; cached until an entry is added or removed."""
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return frozenset(), False
    # A checkout is not always a git repository (an archive, a copied folder): its packaging files mark it too.
    is_root = any(name in _ROOT_MARKERS for name in names)
    return frozenset(name for name in names if _is_dependency_file_name(name)), is_root


_ROOT_MARKERS = frozenset({".git", "pyproject.toml", "setup.py", "setup.cfg"})


def _folder_listing(folder: str | Path) -> tuple[frozenset[str], bool]:
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return frozenset(), False
    return _listing(os.fspath(folder), mtime)


def project_root_and_folders(notebook_path: str | os.PathLike) -> tuple[list[Path], Path | None]:
    """The folders from the notebook's up to the project root (the first holding .git, pyproject.toml,
    setup.py or setup.cfg)."""
    folder = os.path.dirname(os.path.abspath(notebook_path))
    folders: list[str] = []
    while True:
        folders.append(folder)
        if _folder_listing(folder)[1]:
            return [Path(f) for f in folders], Path(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            return [Path(f) for f in folders], None
        folder = parent


def project_dependencies(notebook_path: str | os.PathLike | None) -> ProjectDependencies:
    if notebook_path is None:
        return ProjectDependencies()
    folders, root = project_root_and_folders(notebook_path)
    key = tuple(_folder_signature(folder) for folder in folders)
    return _project_dependencies(tuple(folders), root, key)


def _folder_signature(folder: Path) -> tuple:
    """Changes when a dependency file in the folder is added, removed or edited (the sidebar re-lints)."""
    names, _ = _folder_listing(folder)
    signature: list = [str(folder)]
    for name in sorted(names):
        try:
            stat = os.stat(folder / name)
        except OSError:
            continue
        signature.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def _is_dependency_file_name(name: str) -> bool:
    """A name that may hold dependencies: a conda environment file may be called anything `.yml`, and a
    `requirements/` folder holds requirements files (`requirements/base.txt`)."""
    lower = name.lower()
    return ((lower.startswith("requirements") and lower.endswith(".txt")) or lower == "constraints.txt"
            or lower in ("pyproject.toml", "setup.py", "setup.cfg", "pipfile", "requirements")
            or lower.endswith((".yml", ".yaml"))
            or name in _LOCK_FILES or (lower.startswith("pylock.") and lower.endswith(".toml")))


@lru_cache(maxsize=256)
def _project_dependencies(folders: tuple[Path, ...], root: Path | None, _signature: tuple) -> ProjectDependencies:
    files: list[DependencyFile] = []
    for folder in folders:
        files.extend(dependency_files_in(folder))
    pinned: set[str] = set()
    declared: dict[str, Requirement] = {}
    for file in files:
        for requirement in file.requirements:
            if not requirement.name:
                continue
            if requirement.pinned:
                pinned.add(requirement.name)
            elif requirement.name not in declared or (";" in declared[requirement.name].text
                                                      and ";" not in requirement.text):
                declared[requirement.name] = requirement  # shown in messages: one without a marker reads best
    return ProjectDependencies(tuple(files), root, frozenset(pinned), declared)


# ---------------------------------------------------------------------------------------------------
# Import names and distributions
# ---------------------------------------------------------------------------------------------------

# Import names whose distribution is called something else (pip names first, then conda's).
IMPORT_TO_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn",),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
            "opencv-contrib-python-headless", "opencv", "py-opencv"),
    "PIL": ("Pillow", "pillow-simd"),
    "yaml": ("PyYAML",),
    "bs4": ("beautifulsoup4",),
    "skimage": ("scikit-image",),
    "dateutil": ("python-dateutil",),
    "dotenv": ("python-dotenv",),
    "Crypto": ("pycryptodome", "pycrypto"),
    "Cryptodome": ("pycryptodomex",),
    "OpenSSL": ("pyOpenSSL",),
    "jwt": ("PyJWT",),
    "attr": ("attrs",),
    "magic": ("python-magic",),
    "docx": ("python-docx",),
    "pptx": ("python-pptx",),
    "fitz": ("PyMuPDF",),
    "serial": ("pyserial",),
    "usb": ("pyusb",),
    "MySQLdb": ("mysqlclient",),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    "psycopg": ("psycopg", "psycopg-binary"),
    "Bio": ("biopython",),
    "mpl_toolkits": ("matplotlib",),
    "pylab": ("matplotlib",),
    "umap": ("umap-learn",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "pinecone": ("pinecone", "pinecone-client"),
    "igraph": ("igraph", "python-igraph"),
    "community": ("python-louvain",),
    "googleapiclient": ("google-api-python-client",),
    "git": ("GitPython",),
    "github": ("PyGithub",),
    "telegram": ("python-telegram-bot",),
    "discord": ("discord.py",),
    "slack": ("slackclient",),
    "win32api": ("pywin32",),
    "win32com": ("pywin32",),
    "zmq": ("pyzmq",),
    "kafka": ("kafka-python",),
    "jose": ("python-jose",),
    "multipart": ("python-multipart",),
    "ruamel": ("ruamel.yaml",),
    "imblearn": ("imbalanced-learn",),
    "osgeo": ("GDAL",),
    "newspaper": ("newspaper3k",),
    "speech_recognition": ("SpeechRecognition",),
    "websocket": ("websocket-client",),
    "socketio": ("python-socketio",),
    "pkg_resources": ("setuptools",),
    "bson": ("pymongo",),
    "dns": ("dnspython",),
    "nacl": ("PyNaCl",),
    "snappy": ("python-snappy",),
    "Levenshtein": ("Levenshtein", "python-Levenshtein"),
    "llama_index": ("llama-index", "llama-index-core"),
    "weaviate": ("weaviate-client",),
    "torch": ("torch", "pytorch"),
    "xgboost": ("xgboost", "py-xgboost"),
    "lightgbm": ("lightgbm", "py-lightgbm"),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tf-nightly",
                   "tensorflow-intel"),
    "cupy": ("cupy", "cupy-cuda11x", "cupy-cuda12x"),
    "pyximport": ("Cython",),
    "keras_tuner": ("keras-tuner",),
    "graphviz": ("graphviz", "python-graphviz"),
    "tables": ("tables", "pytables"),
    "sentence_transformers": ("sentence-transformers",),
    "duckduckgo_search": ("duckduckgo-search",),
    "pandas_profiling": ("pandas-profiling", "ydata-profiling"),
    "Image": ("Pillow",),
    "lxml": ("lxml",),
    "gi": ("PyGObject",),
    "wx": ("wxPython",),
    "tensorflow_hub": ("tensorflow-hub",),
    "fbprophet": ("fbprophet", "prophet"),
    "google.protobuf": ("protobuf",),
    "google.generativeai": ("google-generativeai",),
    "google.genai": ("google-genai",),
    "google.auth": ("google-auth",),
    "google.oauth2": ("google-auth",),
    "google.api_core": ("google-api-core",),
    "snowflake.connector": ("snowflake-connector-python",),
    "snowflake.snowpark": ("snowflake-snowpark-python",),
    "databricks.sdk": ("databricks-sdk",),
    "azure.storage.blob": ("azure-storage-blob",),
    "pinecone_plugins.assistant": ("pinecone-plugin-assistant",),
    "pinecone_plugins.inference": ("pinecone-plugin-inference",),
    "whisper": ("openai-whisper", "whisper"),
    "tabula": ("tabula-py",),
    "Orange": ("Orange3",),
    "iris": ("scitools-iris",),
    "clip": ("openai-clip", "clip"),
    "sklearn_crfsuite": ("sklearn-crfsuite",),
    "surprise": ("scikit-surprise",),
    "mysql": ("mysql-connector-python",),
    "spellchecker": ("pyspellchecker",),
    "tensorflow_text": ("tensorflow-text",),
    "official": ("tf-models-official",),
    "mpl_toolkits.basemap": ("basemap",),
    "azureml": ("azureml-core",),
    "azureml.core": ("azureml-core",),
    "azureml.data": ("azureml-core",),
    "azureml.exceptions": ("azureml-core",),
    "azureml.train.hyperdrive": ("azureml-train-core",),
    "azureml.train.estimator": ("azureml-train-core",),
    "azureml.train.automl": ("azureml-train-automl-client",),
    "azureml.pipeline.core": ("azureml-pipeline-core",),
    "azureml.pipeline.steps": ("azureml-pipeline-steps",),
    "azureml.contrib": ("azureml-contrib-services",),
    "orangecontrib.associate": ("Orange3-Associate",),
    "argon2": ("argon2-cffi",),
    "synapse.ml": ("synapseml",),
    "mujoco_py": ("mujoco-py", "free-mujoco-py"),
    "vertexai": ("google-cloud-aiplatform",),
    "google.cloud.aiplatform": ("google-cloud-aiplatform",),
    "scrapbook": ("nteract-scrapbook",),
    "canopy": ("canopy-sdk",),
    "skopt": ("scikit-optimize",),
    "talib": ("TA-Lib",),
    "ffmpeg": ("ffmpeg-python",),
    "pyro": ("pyro-ppl",),
    "open_clip": ("open-clip-torch",),
    "ibis": ("ibis-framework",),
    "cairo": ("pycairo",),
    "OpenGL": ("PyOpenGL",),
    "ldap": ("python-ldap",),
    "haystack": ("farm-haystack", "haystack-ai"),
    "guardrails": ("guardrails-ai",),
    "dspy": ("dspy-ai", "dspy"),
    "nemo": ("nemo-toolkit",),
    "llama_cpp": ("llama-cpp-python",),
    "pynvml": ("nvidia-ml-py", "pynvml"),
    "past": ("future",),
    "libfuturize": ("future",),
    "pythoncom": ("pywin32",),
    "pywintypes": ("pywin32",),
    "socks": ("PySocks",),
    "pdfminer": ("pdfminer.six",),
    "camelot": ("camelot-py",),
    "lavis": ("salesforce-lavis",),
    "awq": ("autoawq",),
    "mmcv": ("mmcv", "mmcv-full"),
    "Xlib": ("python-xlib",),
    "editdistance": ("editdistance",),
    "fasttext": ("fasttext", "fasttext-wheel"),
    "pygments": ("Pygments",),
    "markdown": ("Markdown",),
    "jinja2": ("Jinja2",),
    "theano": ("Theano",),
    "lasagne": ("Lasagne",),
    "cartopy": ("Cartopy",),
    "netCDF4": ("netCDF4",),
    "pymysql": ("PyMySQL",),
    "xlsxwriter": ("XlsxWriter",),
    "pyaudio": ("PyAudio",),
    "unidecode": ("Unidecode",),
    "gensim": ("gensim",),
    "tf_slim": ("tf-slim",),
    "smart_open": ("smart-open",),
    "nvidia.dali": ("nvidia-dali-cuda120",),
    "en_core_web_sm": ("en-core-web-sm",),
    "sagemaker": ("sagemaker",),
    "huggingface_hub": ("huggingface-hub",),
    "docarray": ("docarray",),
    "tensorflow_datasets": ("tensorflow-datasets",),
}

# Namespace packages that many distributions share: the distribution follows the dotted name.
NAMESPACE_PACKAGES = frozenset({"google", "azure", "jaraco", "zope", "sphinxcontrib", "backports", "snowflake",
                                "databricks", "opentelemetry", "pinecone_plugins", "azureml", "autogluon",
                                "nvidia", "orangecontrib"})

# Modules the running kernel itself provides (or that only exist inside one hosted service).
KERNEL_PROVIDED = frozenset({"IPython", "ipykernel", "google.colab", "kaggle_secrets", "kaggle_datasets",
                             "pyodide", "js", "micropip"})

# Import names of widely used distributions (beyond the table above, whose keys count too): a notebook that
# computes a folder onto `sys.path` may import its own modules from there, but not these. A built-in list, so
# the answer never depends on what happens to be installed where the check runs.
WELL_KNOWN_IMPORTS = frozenset({
    "numpy", "pandas", "scipy", "matplotlib", "seaborn", "plotly", "bokeh", "altair", "statsmodels", "sympy",
    "torch", "torchvision", "torchaudio", "torchtext", "tensorflow", "keras", "jax", "jaxlib", "flax", "optax",
    "transformers", "datasets", "evaluate", "accelerate", "diffusers", "peft", "trl", "tokenizers", "timm",
    "sentencepiece", "safetensors", "bitsandbytes", "xformers", "einops", "onnx", "onnxruntime", "optimum",
    "requests", "httpx", "aiohttp", "urllib3", "boto3", "botocore", "s3fs", "gcsfs", "fsspec", "pyarrow",
    "sqlalchemy", "pymongo", "redis", "psutil", "tqdm", "joblib", "dill", "cloudpickle", "click", "typer",
    "rich", "tabulate", "pydantic", "fastapi", "flask", "django", "uvicorn", "gradio", "streamlit", "dash",
    "openai", "anthropic", "cohere", "langchain", "langchain_core", "langchain_community", "langchain_openai",
    "tiktoken", "pinecone", "chromadb", "qdrant_client", "wandb", "mlflow", "optuna", "hyperopt", "ray",
    "dask", "distributed", "pyspark", "polars", "duckdb", "xarray", "numba", "networkx", "nltk", "spacy",
    "gensim", "shap", "lime", "xgboost", "lightgbm", "catboost", "h5py", "tables", "zarr", "imageio",
    "albumentations", "librosa", "soundfile", "pydub", "geopandas", "shapely", "pyproj", "folium", "holoviews",
    "hvplot", "datashader", "panel", "param", "ipywidgets", "nbformat", "papermill", "pytest", "six",
    "packaging", "setuptools", "wheel", "certifi", "pytz", "tzdata", "regex", "toolz", "cytoolz", "attrs",
    "cachetools", "filelock", "jsonschema", "lxml", "html5lib", "openpyxl", "xlrd", "wordcloud", "textblob",
    "faiss", "sentence_transformers", "huggingface_hub", "sagemaker", "tensorboard", "pytorch_lightning",
    "lightning", "torchmetrics", "fastai", "fastcore", "mxnet", "theano", "cornac", "implicit", "lightfm",
    "geoviews", "colorcet", "cufflinks", "pandas_datareader", "plotly_express", "featuretools", "numexpr",
    "contractions", "afinn", "pymc", "pymc3", "arviz", "intake", "streamz", "fastparquet", "xesmf", "pydot",
    "pydotplus", "emoji", "quandl", "yfinance", "pytrends", "selenium", "scrapy", "gspread", "oauth2client",
    "xmltodict", "mahotas", "pyLDAvis", "caffe", "insightface", "controlnet_aux", "torch_scatter", "torch_sparse",
    "torch_geometric", "mujoco_py", "gym", "gymnasium", "neural_compressor", "vega_datasets", "category_encoders",
    "hdbscan", "bertopic", "praw", "tweepy", "semantic_router", "ollama", "langgraph", "langsmith", "nest_asyncio",
    "langchain_text_splitters", "langchain_pinecone", "typing_extensions", "pdpipe", "pydocumentdb", "slacker",
    "fuel", "mlxtend", "yellowbrick", "eli5", "tpot", "sktime", "prophet", "pmdarima", "imblearn", "missingno",
    "sweetviz", "pandera", "great_expectations", "evidently", "geopy", "osmnx", "rasterio", "fiona",
    "graphviz", "pygraphviz", "igraph", "pyvis", "gradio_client", "jiwer", "sacrebleu", "rouge_score", "seqeval",
    "spacy_transformers", "flair", "stanza", "textattack", "keybert", "jieba", "langdetect", "pdfplumber", "pypdf", "PyPDF2", "unstructured", "llama_index", "haystack", "dspy", "guidance", "instructor",
    "voyageai", "groq", "mistralai", "replicate", "together", "ragas", "trulens_eval", "deepeval", "weaviate",
    "pymilvus", "lancedb", "elasticsearch", "opensearchpy", "kafka", "pika", "celery", "docker",
    "kubernetes", "paramiko", "fabric", "pexpect", "sh", "GPUtil", "humanize", "ujson", "orjson", "simplejson",
    "msgpack", "protobuf", "grpc", "thrift", "avro", "pyodbc", "psycopg2", "pymysql", "cx_Oracle", "snowflake",
    "databricks", "pycaret", "h2o", "autogluon", "flaml", "dowhy", "econml", "causalml", "fairlearn",
    "alibi", "interpret", "captum", "cleanlab", "snorkel", "skorch", "keras_tuner", "kerastuner",
    "tensorflow_addons", "tensorflow_probability", "tensorflow_hub", "tensorflow_text", "tensorflow_datasets",
    "tf_keras", "keras_nlp", "keras_cv", "sacremoses", "nlpaug", "vaderSentiment",
    "pattern", "pyspellchecker", "symspellpy", "rapidfuzz", "fuzzywuzzy", "Levenshtein", "editdistance",
    "ipyvolume", "ipyleaflet", "bqplot", "pydeck", "plotnine", "ggplot", "squarify", "mplfinance", "adjustText",
    "tensorboardX", "visdom", "comet_ml", "neptune", "clearml", "dvc", "bentoml", "kfp", "prefect", "airflow",
    "dagster", "zenml", "metaflow", "kedro", "hydra", "omegaconf", "fire", "absl", "gin", "ml_collections",
})

# Standard-library modules of Python 2 or of older Python 3 versions than the one running.
_OTHER_STDLIB = frozenset({
    "cPickle", "cStringIO", "StringIO", "urllib2", "urlparse", "httplib", "HTMLParser", "ConfigParser",
    "Queue", "SocketServer", "SimpleHTTPServer", "BaseHTTPServer", "Cookie", "cookielib", "commands", "sets",
    "md5", "sha", "Tkinter", "tkMessageBox", "thread", "dummy_thread", "copy_reg", "repr", "UserDict",
    "UserList", "UserString", "htmlentitydefs", "robotparser", "xmlrpclib", "anydbm", "dbhash", "whichdb",
    "exceptions", "new", "__builtin__", "future_builtins", "string_escape", "imputil", "popen2", "sgmllib",
    "HTMLgen", "mimetools", "rfc822", "dircache", "statvfs", "fpformat", "posixfile", "cgi", "cgitb",
    "distutils", "imp", "asynchat", "asyncore", "smtpd", "crypt", "imghdr", "mailcap", "nis", "nntplib",
    "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "aifc", "audioop",
    "chunk", "msilib", "lib2to3", "tomllib", "zoneinfo", "graphlib", "_thread", "__future__", "__main__",
})


def is_standard_library(module: str) -> bool:
    top = module.split(".", 1)[0]
    return top in sys.stdlib_module_names or top in _OTHER_STDLIB


def is_kernel_provided(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in KERNEL_PROVIDED)


def import_key(module: str) -> str:
    """The part of a dotted import that decides its distribution: `sklearn` for `sklearn.model_selection`,
    `google.cloud.storage` for `google.cloud.storage.blob` (namespace packages that many distributions share).
    """
    parts = module.split(".")
    for length in range(len(parts), 1, -1):
        prefix = ".".join(parts[:length])
        if prefix in IMPORT_TO_DISTRIBUTIONS:
            return prefix
    if parts[0] in NAMESPACE_PACKAGES and len(parts) > 1:
        depth = 3 if parts[:2] == ["google", "cloud"] or (parts[0] == "azure" and parts[1] in _AZURE_GROUPS) else 2
        return ".".join(parts[:depth])
    return parts[0]


# `azure.storage.blob` is azure-storage-blob, but `azure.identity` and `azure.common.x` are azure-identity and
# azure-common: only these second-level names group several distributions.
_AZURE_GROUPS = frozenset({"ai", "storage", "mgmt", "keyvault", "monitor", "search", "data", "cognitiveservices",
                           "communication", "digitaltwins", "eventgrid", "iot", "messaging", "security", "synapse",
                           "mixedreality", "purview", "schemaregistry", "developer", "health"})


def is_namespace_prefix(module: str) -> bool:
    """`google`, `google.cloud`, `azure`: an import from these names its distribution only with what it imports."""
    return module in NAMESPACE_PACKAGES or module == "google.cloud" or module in {f"azure.{g}" for g in _AZURE_GROUPS}


@lru_cache(maxsize=4096)
def likely_distributions(module: str) -> tuple[str, ...]:
    """Canonical distribution names an import may come from, best guess first, without looking at the
    installed environment (cheap)."""
    key = import_key(module)
    names = list(IMPORT_TO_DISTRIBUTIONS.get(key, ()))
    parts = key.split(".")
    if len(parts) > 1:
        # `azure.storage.blob` -> azure-storage-blob, then azure-storage
        names.extend("-".join(parts[:length]) for length in range(len(parts), 1, -1))
    else:
        names.append(key)
    return tuple(dict.fromkeys(canonicalize_name(name) for name in names))


@lru_cache(maxsize=1)
def _installed_packages() -> dict[str, tuple[str, ...]]:
    """Import name -> distributions, for the whole environment.

    Read straight from each distribution's top_level.txt (else its RECORD) on sys.path: what
    importlib.metadata.packages_distributions() answers, in a fifteenth of the time (the CLI asks
    before it starts its workers, so every run waits for it)."""
    mapping: dict[str, list[str]] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, a missing folder
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            distribution = canonicalize_name(name.rsplit(".", 1)[0].split("-", 1)[0])
            for module in _metadata_top_levels(os.path.join(entry or ".", name)):
                owners = mapping.setdefault(module, [])
                if distribution not in owners:
                    owners.append(distribution)
    return {module: tuple(owners) for module, owners in mapping.items()}


def _metadata_top_levels(folder: str) -> frozenset[str]:
    for listing, parse in (("top_level.txt", _top_level_txt), ("RECORD", _record_top_levels)):
        try:
            with open(os.path.join(folder, listing), encoding="utf-8", errors="replace") as file:
                text = file.read()
        except OSError:
            continue
        if text.strip():
            return parse(text)
    return frozenset()


def _top_level_txt(text: str) -> frozenset[str]:
    return frozenset(line.strip().replace("/", ".").split(".")[0] for line in text.splitlines() if line.strip())


def _record_top_levels(record: str) -> frozenset[str]:
    """RECORD lines are `path,hash,size`; the first part of each path is what can be imported."""
    names: set[str] = set()
    for line in record.splitlines():
        path = line.split(",", 1)[0].strip('"')
        first, slash, _ = path.partition("/")
        if not first or first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".data")):
            continue
        if slash:
            if "." not in first:  # numpy.libs/ holds shared libraries, not a package
                names.add(first)
        elif first.endswith(".py"):
            names.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            names.add(first.split(".")[0])
    return frozenset(names)


@lru_cache(maxsize=1024)
def modules_of(distribution: str) -> frozenset[str]:
    """Top-level import names an installed distribution provides (empty when it is not installed here)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import distribution as find

    try:
        found = find(distribution)
        text = found.read_text("top_level.txt")
        record = None if text else (found.read_text("RECORD") or "")
    except (PackageNotFoundError, ValueError):
        return frozenset()
    except Exception:  # noqa: BLE001 - broken metadata
        return frozenset()
    if text:
        return _top_level_txt(text)
    return _record_top_levels(record or "")


def providing(module: str, distributions: Iterable[str]) -> tuple[str, ...]:
    """Which of these (installed) distributions provide the import: `numpy` is not in `pandas`, `yaml` is in
    `pyyaml`. Namespace packages (`google.*`) are too shared to answer for."""
    key = import_key(module)
    if "." in key:
        return ()
    distributions = tuple(distributions)
    if len(distributions) > 40:  # a lock file's worth: one scan of the environment is cheaper
        owners = set(_installed_packages().get(key, ()))
        return tuple(name for name in distributions if name in owners)
    return tuple(name for name in distributions if key in modules_of(name))


def installed_distributions(module: str) -> tuple[str, ...]:
    """Distributions of this environment that provide the import (empty for namespace tops: too vague)."""
    key = import_key(module)
    if "." in key:
        return ()
    return _installed_packages().get(key, ())


@lru_cache(maxsize=4096)
def is_installed(module: str) -> bool:
    """Whether the top-level module can be found in this environment (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module.split(".", 1)[0]) is not None
    except (ImportError, ValueError):
        return False


def distributions_for_import(module: str, *, look_installed: bool = True) -> tuple[str, ...]:
    names = list(likely_distributions(module))
    if look_installed:
        names.extend(installed_distributions(module))
    return tuple(dict.fromkeys(names))


@lru_cache(maxsize=1024)
def installed_version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except (PackageNotFoundError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - broken metadata
        return None


@lru_cache(maxsize=1)
def _display_names() -> dict[str, str]:
    return {canonicalize_name(name): name for names in IMPORT_TO_DISTRIBUTIONS.values() for name in names}


def display_name(distribution: str) -> str:
    """The name as PyPI users write it, where the table knows it (`scikit-learn`, `Pillow`)."""
    return _display_names().get(distribution, distribution)


_AFFIXES = re.compile(r"^(?:python-|py-|py)|(?:-python|-py|-client|-sdk|-api|-cpu|-gpu|-headless|-binary|-lib)$")


def distribution_provides(distribution: str, module: str) -> bool:
    """Whether a distribution name says, by itself, that it provides an import (`pinecone-client` gives
    `pinecone`, `python-dotenv` gives `dotenv`, `langchain-openai` gives `langchain_openai`). Names only: the
    answer is the same on every machine, unlike installed metadata."""
    distribution = canonicalize_name(distribution)
    key = import_key(module)
    if distribution in likely_distributions(module):
        return True
    wanted = canonicalize_name(key.replace(".", "-"))
    if "." in key:
        return False  # namespace packages: only the full dotted name says which distribution
    stripped = distribution
    for _ in range(2):  # `python-foo-client`
        stripped = _AFFIXES.sub("", stripped)
        if stripped == wanted or stripped.replace("-", "") == wanted.replace("-", ""):
            return True
    return False


_VERSION = r"\d+(?:\.\d+)*(?:[.+-]?[A-Za-z0-9]+(?:\.\d+)*)*"
_SUCCESSFULLY_INSTALLED = re.compile(r"Successfully installed ([^\n]+)")
_ALREADY_SATISFIED = re.compile(
    r"Requirement already (?:satisfied|up-to-date): ([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?"
    r"(?:==(" + _VERSION + r"))?[^\n]*?(?:\((" + _VERSION + r")\))?\s*$", re.MULTILINE)
_SHOW_VERSION = re.compile(r"^Name: ([A-Za-z0-9][A-Za-z0-9._-]*)\s*\nVersion: (" + _VERSION + r")\s*$", re.MULTILINE)
_FREEZE_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(" + _VERSION + r")\s*$", re.MULTILINE)


def versions_in_output(text: str) -> dict[str, str]:
    """Distribution -> version that an install's or `pip show`/`pip freeze`'s saved output reports
    (`Successfully installed pandas-1.5.3`, `Requirement already satisfied: numpy in ... (1.26.4)`)."""
    found: dict[str, str] = {}
    if "Requirement already" in text:
        for match in _ALREADY_SATISFIED.finditer(text):
            version = match.group(2) or match.group(3)
            if version:
                found[canonicalize_name(match.group(1))] = version
    if "Successfully installed" in text:
        for match in _SUCCESSFULLY_INSTALLED.finditer(text):
            for item in match.group(1).split():
                name, dash, version = item.rpartition("-")
                if dash and name and re.fullmatch(_VERSION, version):
                    found[canonicalize_name(name)] = version
    if "Version: " in text:
        found.update((canonicalize_name(n), v) for n, v in _SHOW_VERSION.findall(text))
    if "==" in text:
        found.update((canonicalize_name(n), v) for n, v in _FREEZE_LINE.findall(text))
    return found


def printed_versions(text: str) -> list[str]:
    """Version numbers a cell's output shows, in order (`2.3.0`, `'1.5.3'`), for `print(pd.__version__)`."""
    return re.findall(r"(?<![\w.])'?(\d+\.\d+(?:\.\d+)*(?:[.+-]?(?:[a-z]+\d*|\d+))*)'?(?![\w.])", text)
