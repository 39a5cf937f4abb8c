"""Configuration discovery and parsing (`.cslint.yaml`, `[tool.cslint]` in pyproject.toml).

Returns Settings plus where each value came from, for `cslint config`.
"""
from __future__ import annotations

from typing import Any

from .settings import Settings


class ConfigError(Exception):
    """A configuration file that cannot be used (exit code 2), naming the key and the file."""


def load_settings(config_file: str | None = None, isolated: bool = False) -> tuple[Settings, dict[str, Any]]:
    return Settings(), {}
