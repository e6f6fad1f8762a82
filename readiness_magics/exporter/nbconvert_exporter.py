"""`jupyter nbconvert --to readiness NB.ipynb [--output-dir D]`: the notebook as a package folder D/NAME."""
from __future__ import annotations

import os
from pathlib import Path

from nbconvert.exporters import Exporter
from nbconvert.utils.exceptions import ConversionException
from traitlets import Bool, Enum, Unicode


class ExportRefused(ConversionException):
    """The gate refused the notebook, or the package cannot be written; nbconvert exits with status 1."""


class ReadinessExporter(Exporter):
    """Writes the same package as `readiness export`: the body is its README.md, every other file an output."""

    export_from_notebook = "Readiness package"
    output_mimetype = "text/markdown"

    package_name = Unicode("", help="Package name (default: from the notebook's file name).").tag(config=True)
    force = Bool(False, help="Export despite findings at the fail level (listed in the README as known issues) "
                             "and replace an existing package folder.").tag(config=True)
    fail_on = Enum(["error", "warning", "info", ""], default_value="",
                   help="Lowest severity that refuses the export (default: the notebook's config, else error)."
                   ).tag(config=True)

    def _file_extension_default(self):
        return ".md"

    def from_notebook_node(self, nb, resources=None, **kw):
        from ..config import settings_for
        from ..notebook import parse_notebook
        from .api import ExportError, build_package, gate, resolve_package_name
        from .names import PackageNameError

        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        metadata = resources.get("metadata", {})
        folder = metadata.get("path") or os.getcwd()
        name = metadata.get("name") or "notebook"
        path = Path(folder) / f"{name}.ipynb"
        try:
            package = resolve_package_name(path, self.package_name or None)
        except PackageNameError as exc:
            raise ExportRefused(str(exc)) from None
        notebook = parse_notebook(dict(nb_copy), path=path)
        settings = settings_for(path)
        if self.fail_on:
            settings = settings.with_overrides(fail_on=self.fail_on)
        _, blocking = gate(notebook, settings)
        if blocking and not self.force:
            lines = [f"refused: {len(blocking)} finding(s) at the fail level in {path.name}; fix them or pass "
                     "--ReadinessExporter.force=True:"]
            lines += [f"  cell {f.cell_index}:{f.line}: {f.code} {f.message}" for f in blocking]
            raise ExportRefused("\n".join(lines))
        build_directory = self.config.get("FilesWriter", {}).get("build_directory", "") or folder
        target = Path(os.path.abspath(build_directory)) / package
        if target.exists() and not self.force:
            raise ExportRefused(f"{target} already exists; pass --ReadinessExporter.force=True to replace it")
        try:
            build = build_package(notebook, package, known_issues=blocking, settings=settings)
        except ExportError as exc:
            raise ExportRefused(exc.message) from None
        files = dict(build.files)
        body = files.pop("README.md").decode("utf-8")
        outputs = resources.setdefault("outputs", {})
        for relative, content in files.items():
            outputs[f"{package}/{relative}"] = content
        # nbconvert writes the body to <output dir>/<unique_key><extension>: the package's README.md.
        resources["unique_key"] = f"{package}/README"
        resources["output_extension"] = ".md"
        resources["readiness"] = {"package": package, "warnings": build.warnings}
        return body, resources
