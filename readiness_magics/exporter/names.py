"""Package names a user may ask for, and fresh Python identifiers for generated code."""
from __future__ import annotations

import builtins
import keyword
import re
import sys

_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
# Names that would shadow what the generated package itself imports, or confuse pytest and pip.
_RESERVED = frozenset({"tests", "test", "src", "setup", "conftest", "site", "pip", "pytest", "params", "pipeline"})
_MAX_LENGTH = 64


class PackageNameError(ValueError):
    """A package name that cannot be used; the message says why and what would work."""


def check_package_name(name: str) -> str:
    """Return `name` when it is a safe, importable, ASCII package name; else raise PackageNameError."""
    if not isinstance(name, str) or not name.strip():
        raise PackageNameError("the package name is empty; pass one with --name")
    if name != name.strip():
        raise PackageNameError(f"the package name {name!r} has surrounding whitespace")
    if any(sep in name for sep in ("/", "\\", "\x00")) or name in (".", "..") or name.startswith("."):
        raise PackageNameError(f"the package name {name!r} is a path; give a plain name such as 'churn'")
    if not name.isascii():
        raise PackageNameError(
            f"the package name {name!r} has non-ASCII characters (look-alikes of Latin letters are refused); "
            "use lowercase ASCII letters, digits and underscores"
        )
    if not _PACKAGE.match(name):
        raise PackageNameError(
            f"the package name {name!r} is not a valid import name; use lowercase ASCII letters, digits and "
            "underscores, starting with a letter"
        )
    if len(name) > _MAX_LENGTH:
        raise PackageNameError(f"the package name is longer than {_MAX_LENGTH} characters")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise PackageNameError(f"the package name {name!r} is a Python keyword")
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        raise PackageNameError(f"the package name {name!r} would shadow the standard library module of that name")
    if name in _RESERVED:
        raise PackageNameError(f"the package name {name!r} is reserved; choose a more specific name")
    return name


def package_name_from(stem: str) -> str:
    """A package name derived from a notebook's file name: `Churn Model v2` -> `churn_model_v2`."""
    ascii_only = "".join(ch for ch in stem if ch.isascii())
    name = re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_")
    name = re.sub(r"^[0-9_]+", "", name)
    return name


def slug(text: str, max_words: int = 5) -> str:
    """`## 2. Load & validate the data` -> `load_validate_the_data` (ASCII words, at most `max_words`)."""
    words = re.findall(r"[a-z][a-z0-9]*", text.lower())
    return "_".join(words[:max_words])


def fresh_name(base: str, taken: set[str]) -> str:
    """`base`, else `base_2`, `base_3`...; never a keyword or a builtin; records the result in `taken`."""
    candidate = base
    if keyword.iskeyword(candidate) or keyword.issoftkeyword(candidate) or hasattr(builtins, candidate):
        candidate = f"{base}_"
    number = 2
    start = candidate
    while candidate in taken:
        candidate = f"{start}_{number}" if not start.endswith("_") else f"{start}{number}"
        number += 1
    taken.add(candidate)
    return candidate


def identifier(text: str, fallback: str = "value") -> str:
    """A lowercase identifier from arbitrary text: `Churn-2024.csv` -> `churn_2024_csv`."""
    name = re.sub(r"[^a-z0-9]+", "_", "".join(ch for ch in text.lower() if ch.isascii())).strip("_")
    if not name:
        return fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name
