"""Write a package folder whole: into a temporary folder beside the target, then renamed into place."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class WriteError(OSError):
    """The package could not be written; nothing was left behind."""


def check_relative(path: str) -> PurePosixPath:
    """A file name inside the package: relative, no `..`, no drive, no empty parts."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(part in ("", ".", "..") for part in pure.parts) \
            or "\\" in path or ":" in path or "\x00" in path:
        raise WriteError(f"refusing to write {path!r}: not a plain relative path inside the package")
    return pure


def _write_file(root: Path, relative: str, content: bytes) -> None:
    target = root.joinpath(*check_relative(relative).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as handle:
        handle.write(content)


def write_package(files: dict[str, bytes], target: Path, *, force: bool = False) -> None:
    """Create `target` holding exactly `files`; replace an existing folder only when `force`.

    Everything is written into a temporary folder in the same parent and renamed into place, so a
    failure part-way leaves no partial package and the old one (with force) stays until the new one is whole.
    """
    target = Path(target)
    parent = target.parent
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; pass --force to replace it")
    if target.exists() and not target.is_dir():
        raise WriteError(f"{target} exists and is not a folder; not replacing it")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.export-", dir=parent))
    old: Path | None = None
    try:
        for relative in sorted(files):
            _write_file(staging, relative, files[relative])
        os.chmod(staging, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rmdir(old)
            os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            if old is not None:
                os.rename(old, target)
                old = None
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
