"""Config mistakes and warnings in the config's own words.

pydantic reports a mistake with a location (``("site", 0, "channel", 1, "feed")``),
an error type and its own English ("Input should be a valid dictionary or
instance of MirrorLink"). An operator wrote TOML, so every message here is
rebuilt from the error type, the value given and the model's field types, in
TOML's words: tables, arrays of tables, strings, integers, true or false —
never a Python class name. It works for any model and any key, so a new
setting gets good messages without a line of code here.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from newsmirror.words import counted

# RFC 2606 / 6761 names reserved for examples: a config that still holds one is unfinished.
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example")


def _shown_string(value: str) -> str:
    return json.dumps(value if len(value) <= 60 else value[:57] + "…", ensure_ascii=False)


def _iso(value: date | time) -> str:
    return value.isoformat()


# How a value read from TOML is shown in a message, by its type: the first that matches (a bool is
# an int to Python, a datetime a date).
_SCALARS: tuple[tuple[type, str, Callable[[Any], str]], ...] = (
    (bool, "a boolean", lambda value: str(value).lower()),
    (int, "an integer", str),
    (float, "a float", str),
    (str, "a string", _shown_string),
    (datetime, "a date-time", _iso),
    (date, "a date", _iso),
    (time, "a time", _iso),
)


def describe_errors(errors: Sequence[Mapping[str, Any]], data: Mapping[str, Any], model: type[BaseModel]) -> list[str]:
    """One line per mistake: ``<key>: <what is expected>; <what was given>``."""
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        field = _field_at(model, loc)
        key, header = _location(loc, data, model)
        lines.append(f"{key}: {_message(error, field, header, model, loc)}")
    return list(dict.fromkeys(lines))


def _message(error: Mapping[str, Any], field: Any, header: str, model: type[BaseModel], loc: tuple) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    given = f"; {_given(value, header)} was given"
    if kind == "extra_forbidden":
        parent = _field_at(model, loc[:-1]) if loc[:-1] else model
        known = sorted(_keys(parent)) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return f"unknown key; did you mean {close[0]}?"
        return f"unknown key (check its spelling; the keys here are {', '.join(known)})" if known else "unknown key"
    if kind == "missing":
        return "missing: this key is required"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        hint = (
            f" (write {value} without quotes)" if isinstance(value, str) and value.strip().lstrip("-").isdigit() else ""
        )
        return f"an integer is expected{given}{hint}"
    if kind in ("bool_type", "bool_parsing"):
        return f"true or false (without quotes) is expected{given}"
    if kind in ("float_type", "float_parsing"):
        return f"a number is expected{given}"
    if kind == "path_type":
        return f"a path (a string in quotes) is expected{given}"
    if kind in ("datetime_type", "datetime_parsing", "date_type", "date_parsing"):
        return f"a date (e.g. 2026-01-31 or 2026-01-31T08:00:00Z) is expected{given}"
    if kind == "string_type":
        return f"a string (in quotes) is expected{given}"
    if kind == "literal_error":
        return f"one of {_toml_quotes(str(ctx.get('expected', '')))} is expected{given}"
    if kind in ("list_type", "tuple_type", "set_type"):
        item = _list_item(field)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return f"`[[{header}]]` (an array of tables) is expected{given}"
        return f"an array (in [ ]) is expected{given}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        target = field if isinstance(field, type) and issubclass(field, BaseModel) else None
        if loc and isinstance(loc[-1], str) and header:
            return f"`[{header}]` (a table) is expected{given}"
        required = [k for k, f in target.model_fields.items() if f.is_required()] if target else []
        keys = f" with {' and '.join(required)}" if required else ""
        example = f" (e.g. {{ {', '.join(f'{k} = …' for k in required)} }})" if required else ""
        return f"a table{keys} is expected{example}{given}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"a value of {words} {ctx.get(name)} is expected{given}"
    if kind in ("value_error", "assertion_error"):
        return _toml_quotes(re.sub(r"^(Value|Assertion) error, ", "", error["msg"]))
    return _toml_quotes(error["msg"].replace("Input should be", "must be"))


def _given(value: object, header: str) -> str:
    for kind, name, show in _SCALARS:
        if isinstance(value, kind):
            return f"{show(value)} ({name})"
    if isinstance(value, Mapping):
        return f"`[{header}]`" if header else "a table"
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value) and header:
        return f"`[[{header}]]` (an array of tables)"
    if isinstance(value, list):
        return f"an array of {counted(len(value), 'value')}"
    return "something else"


def _toml_quotes(text: str) -> str:
    """pydantic quotes values the Python way ('a'); TOML writes "a"."""
    return re.sub(r"'([^'\"]*)'", r'"\1"', text)


def _keys(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items() if not f.exclude}


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → X; ``Annotated[X, …]`` → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _list_item(annotation: Any) -> Any:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (list, tuple, set):
        args = typing.get_args(annotation)
        return _unwrap(args[0]) if args else None
    return None


def _field_at(model: type[BaseModel], loc: tuple) -> Any:
    """The annotation of the field an error location points at, following
    nested models and list items; None where the location leaves the models."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _list_item(current)
            continue
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fields = {f.alias or name: f for name, f in current.model_fields.items()}
        fields.update(current.model_fields)
        if part not in fields:
            return None
        current = fields[part].annotation
    return _unwrap(current)


def _location(loc: tuple, data: Mapping[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    """The key a user wrote (``site["kzg"].channel[2].feed``) and its TOML
    table header (``site.channel``)."""
    parts: list[str] = []
    header: list[str] = []
    node: Any = data
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            # Name array entries by their id where they have one: site["kzg"].
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            label = (entry.get("id") or entry.get("name")) if isinstance(entry, Mapping) else None
            if parts:
                parts[-1] += f"[{json.dumps(label, ensure_ascii=False)}]" if isinstance(label, str) else f"[{part + 1}]"
            node = entry
            current = _list_item(current)
            continue
        # pydantic adds the member of a union it tried ("str", "function-after[…]"): not a key.
        unwrapped = _unwrap(current)
        if isinstance(unwrapped, type) and issubclass(unwrapped, BaseModel):
            fields = {f.alias or name: f for name, f in unwrapped.model_fields.items()}
            fields.update(unwrapped.model_fields)
            if part in fields:
                current = fields[part].annotation
            elif not isinstance(node, Mapping) or part not in node:
                continue
        elif not isinstance(node, Mapping) or part not in node:
            continue
        parts.append(str(part))
        header.append(str(part))
        node = node.get(part) if isinstance(node, Mapping) else None
    return ".".join(parts) or "(top level)", ".".join(header)


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str, str]]:
    """(key as the user sees it, key as a pattern, value) of every string in the config."""
    if isinstance(node, Mapping):
        for name, value in node.items():
            yield from _strings(value, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for number, value in enumerate(node, 1):
            label = (value.get("id") or value.get("name")) if isinstance(value, Mapping) else None
            name = json.dumps(label, ensure_ascii=False) if isinstance(label, str) else str(number)
            yield from _strings(value, f"{key}[{name}]")
    elif isinstance(node, str):
        yield key, re.sub(r"\[[^\]]*\]", "[]", key), node


def _example_host(value: str) -> str | None:
    try:
        host = (urlsplit(value).hostname or "") if "://" in value else ""
    except ValueError:
        return None
    for domain in _EXAMPLE_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


def example_warnings(data: Mapping[str, Any], starter: Mapping[str, Any]) -> list[str]:
    """Addresses still at the starter's examples, or at a domain reserved for examples."""
    examples = {(pattern, value) for _, pattern, value in _strings(starter) if "://" in value}
    warnings = []
    for key, pattern, value in _strings(data):
        domain = _example_host(value)
        if (pattern, value) in examples:
            warnings.append(f'{key} is still the starter\'s example "{value}": put your own address here')
        elif domain:
            warnings.append(f'{key}: "{value}" is an example address ({domain}): put the real one here')
    return warnings
