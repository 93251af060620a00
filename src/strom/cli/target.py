"""Find the App a ``run``/``describe`` TARGET names: ``app.py``, ``app.py:name``,
``package.module`` or ``package.module:name``.

The module is imported under its own name (never ``"__main__"``), so its
``if __name__ == "__main__": app.run()`` block does not fire.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from strom.app import DEFAULT_BROKER, App
from strom.cli.common import BROKER_ENV, CliError

__all__ = ["apply_overrides", "load_app"]

_FALLBACK_MODULE = "__strom_target__"


def split_target(target: str) -> tuple[str, str | None]:
    """``"app.py:app"`` -> ``("app.py", "app")``; ``"app.py"`` -> ``("app.py", None)``."""
    where, sep, attr = target.rpartition(":")
    if sep and where and all(part.isidentifier() for part in attr.split(".")):
        return where, attr
    return target, None


def _is_path(where: str) -> bool:
    return where.endswith(".py") or os.sep in where or Path(where).is_file()


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    name = path.stem
    if not name.isidentifier() or name in sys.modules:
        name = _FALLBACK_MODULE
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"{path}: cannot be imported as a Python module")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as ``python app.py`` does: sibling modules import
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_module(name: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as ``python -m`` does
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            raise CliError(
                f"no module named {e.name!r} (TARGET is a .py file or an importable module, "
                "optionally followed by :ATTRIBUTE)"
            ) from None
        raise


def _attribute(module: ModuleType, attr: str, where: str) -> object:
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CliError(f"{where} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _only_app(names: Iterable[tuple[str, object]], where: str) -> App:
    found: dict[int, tuple[str, App]] = {}
    for name, obj in names:
        if isinstance(obj, App) and id(obj) not in found:
            found[id(obj)] = (name, obj)
    if not found:
        raise CliError(
            f"no strom.App found in {where}: create one at module level "
            "(app = strom.App(...)), or name it as TARGET:ATTRIBUTE"
        )
    if len(found) > 1:
        listed = ", ".join(sorted(name for name, _ in found.values()))
        first = min(name for name, _ in found.values())
        raise CliError(
            f"several strom.App instances in {where} ({listed}): pick one, e.g. {where}:{first}"
        )
    return next(iter(found.values()))[1]


def load_app(target: str) -> App:
    """Import TARGET and return its App (the attribute named, else the only App it holds)."""
    where, attr = split_target(target)
    module = _import_file(Path(where)) if _is_path(where) else _import_module(where)
    if attr is None:
        return _only_app(vars(module).items(), where)
    obj = _attribute(module, attr, where)
    if not isinstance(obj, App):
        raise CliError(f"{where}:{attr} is a {type(obj).__name__}, not a strom.App")
    return obj


def apply_overrides(app: App, broker: str | None, config: Iterable[tuple[str, str]]) -> None:
    """Set the broker and config keys given on the command line (before the topology is built).

    ``--broker`` always wins; ``$STROM_BROKER`` replaces only the App's default broker, so an
    App that names its broker keeps it.
    """
    env = os.environ.get(BROKER_ENV)
    if broker:
        app.broker = broker
    elif env and app.broker == DEFAULT_BROKER:
        app.broker = env
    for key, value in config:
        if key == "application.id" and value != app.application_id:
            raise CliError(
                f"--config application.id={value}: the application id is the App's "
                f"({app.application_id!r}) and cannot be overridden"
            )
        app.config[key] = value
