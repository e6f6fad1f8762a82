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
    """Writes the same package as `readiness export`, itself; the body nbconvert gets is its README.md."""

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
        """Write the package as `readiness export` writes it (whole, or not at all: staged beside the
        target and renamed into place; `force` replaces the folder as a whole), then hand nbconvert
        its README as the body, which nbconvert's writer writes again, the same bytes, in place."""
        from ..config import settings_for
        from ..notebook import parse_notebook
        from .api import ExportError, export_loaded_notebook

        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        metadata = resources.get("metadata", {})
        folder = metadata.get("path") or os.getcwd()
        name = metadata.get("name") or "notebook"
        path = Path(folder) / f"{name}.ipynb"
        notebook = parse_notebook(dict(nb_copy), path=path)
        settings = settings_for(path)
        if self.fail_on:
            settings = settings.with_overrides(fail_on=self.fail_on)
        build_directory = self.config.get("FilesWriter", {}).get("build_directory", "") or folder
        try:
            result = export_loaded_notebook(notebook, path, build_directory, name=self.package_name or None,
                                            force=self.force, settings=settings)
        except ExportError as exc:
            message = exc.message.replace("pass --force", "pass --ReadinessExporter.force=True")
            raise ExportRefused(message) from None
        except Exception as exc:
            self._cannot_write(path, exc)
        if result.status == "refused":
            lines = [f"refused: {len(result.blocking)} finding(s) at the fail level in {path.name}; fix them or "
                     "pass --ReadinessExporter.force=True:"]
            lines += [f"  cell {f.cell_index}:{f.line}: {f.code} {f.message}" for f in result.blocking]
            raise ExportRefused("\n".join(lines))
        target = Path(result.output)
        body = (target / "README.md").read_text(encoding="utf-8")
        # nbconvert writes the body to <output dir>/<unique_key><extension>: the package's README.md.
        resources["unique_key"] = f"{result.package}/README"
        resources["output_extension"] = ".md"
        resources["readiness"] = {"package": result.package, "warnings": result.warnings}
        return body, resources

    def _cannot_write(self, path: Path, exc: Exception):
        """Run by `jupyter nbconvert`: one logged line naming the notebook and the reason, exit 2 (not
        nbconvert's traceback and 1, which means a refusal for findings). From Python: ExportFailed."""
        from nbconvert.nbconvertapp import NbConvertApp

        from ..failures import debug_enabled, hint, one_line
        from .render import RenderError

        if isinstance(exc, RenderError):
            reason = " ".join(str(exc).splitlines()[0].split()).rstrip(":")
        else:
            reason = f"internal error: {one_line(exc)}"
        message = f"cannot write a package for {path.name}: {reason}"
        if not NbConvertApp.initialized():
            raise ExportFailed(message) from exc
        self.log.error("readiness: %s%s", message, hint(), exc_info=exc if debug_enabled() else None)
        NbConvertApp.instance().exit(2)


class ExportFailed(ConversionException):
    """The package cannot be written (a failure of the exporter, not a refusal for findings)."""
