"""Reporters turn findings into one output format each. They never know a rule by name."""
from __future__ import annotations

import importlib
import json
from typing import Callable, TextIO

from ..engine import FileResult
from ..settings import Settings

# name → module within this package; each module has `report(results, settings, out, **options)`
FORMATS = {
    "text": "text",
    "json": "json_format",
    "sarif": "sarif",
    "github": "github",
    "junit": "junit",
    "markdown": "markdown",
}


def available_formats() -> list[str]:
    out = []
    for name, module in FORMATS.items():
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ImportError:
            continue
        out.append(name)
    return out


def get_reporter(name: str) -> Callable[..., None]:
    module = importlib.import_module(f"{__name__}.{FORMATS[name]}")
    return module.report


def report(name: str, results: list[FileResult], settings: Settings, out: TextIO, **options: object) -> None:
    get_reporter(name)(results, settings, out, **options)


def indented_json(value: object, margin: str) -> str:
    """`value` as `json.dump(indent=2)` writes it `margin` deep, for reporters that stream the
    items of a large document one at a time (JSON strings hold no raw newline)."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + margin)
