"""Per-class generated code (as dataclasses do): ``__init__`` and the ``from_dict`` builder."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from strom.core.errors import SerializationError
from strom.model._convert import Bad, Converter, exact_type

MISSING: Any = object()
#: Defaults copied per instance so instances never share them.
MUTABLE = (list, dict, set, bytearray)

_new = object.__new__


def error(model: str, message: str, path: str) -> SerializationError:
    """The error for a bad field: ``Order.amount: expected float, got str 'abc'``."""
    return SerializationError(f"{model}.{path}: {message}" if path else f"{model}: {message}")


def _compile(name: str, src: str, ns: dict[str, Any], qualname: str) -> Callable[..., Any]:
    exec(src, ns)
    fn = ns[name]
    fn.__qualname__ = qualname
    return fn


def _required(cls: type, name: str) -> TypeError:
    return TypeError(f"{cls.__name__}() missing required argument: {name!r}")


def make_init(
    cls: type, fields: dict[str, Any], validate: Callable[[Any], None] | None
) -> Callable[..., None]:
    """``__init__(self, *fields)``: one direct assignment per field.

    Required fields declared after a defaulted one (e.g. in a subclass) become optional in the
    signature and are checked in the body.
    """
    ns: dict[str, Any] = {"_MISSING": MISSING, "_copy": copy.copy, "_required": _required}
    params, body = [], []
    seen_default = False
    for name, default in fields.items():
        if default is MISSING and not seen_default:
            params.append(name)
        else:
            seen_default = True
            if default is MISSING:
                params.append(f"{name}=_MISSING")
                body.append(f"    if {name} is _MISSING: raise _required(_cls, {name!r})")
            else:
                ns[f"_d_{name}"] = default
                params.append(f"{name}=_d_{name}")
                if isinstance(default, MUTABLE):  # a fresh copy per instance
                    body.append(f"    if {name} is _d_{name}: {name} = _copy({name})")
        body.append(f"    __model_self__.{name} = {name}")
    if validate is not None:
        ns["_validate"] = validate
        body.append("    _validate(__model_self__)")
    if getattr(cls, "__post_init__", None) is not None:
        body.append("    __model_self__.__post_init__()")
    signature = ", ".join(["__model_self__", *params])
    src = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    ns["_cls"] = cls
    return _compile("__init__", src, ns, f"{cls.__qualname__}.__init__")


def make_build(
    cls: type, converters: tuple[tuple[str, Converter, Any], ...]
) -> Callable[[Mapping[str, Any], str], Any]:
    """``build(data, prefix)``: read, check and convert each field, then make the instance.

    Values already of the annotated scalar class (``str``, ``int``, ``float``, ``bool``) skip
    their converter. ``prefix`` is the path of a nested model inside the outermost one.
    """
    model = cls.__name__

    def slow(i: int, value: Any, prefix: str) -> Any:
        name, conv, default = converters[i]
        if value is MISSING:
            if default is MISSING:
                if prefix:
                    raise Bad(prefix + name, "required field missing")
                raise error(model, "required field missing", name)
            return copy.copy(default) if isinstance(default, MUTABLE) else default
        try:
            return conv(value, name)
        except Bad as e:
            if prefix:  # nested: the outermost model reports the whole path
                raise Bad(prefix + e.path, e.message) from None
            raise error(model, e.message, e.path) from None

    ns: dict[str, Any] = {"_MISSING": MISSING, "_slow": slow, "_new": _new, "_cls": cls}
    body = ["    get = data.get", "    obj = _new(_cls)"]
    for i, (name, conv, _default) in enumerate(converters):
        exact = exact_type(conv)
        if exact is None:
            body.append(f"    obj.{name} = _slow({i}, get({name!r}, _MISSING), prefix)")
        else:
            ns[f"_t{i}"] = exact
            body.append(f"    v = get({name!r}, _MISSING)")
            body.append(f"    obj.{name} = v if v.__class__ is _t{i} else _slow({i}, v, prefix)")
    if getattr(cls, "__post_init__", None) is not None:
        body.append("    obj.__post_init__()")
    body.append("    return obj")
    src = "def build(data, prefix):\n" + "\n".join(body) + "\n"
    return _compile("build", src, ns, f"{cls.__qualname__}._build")
