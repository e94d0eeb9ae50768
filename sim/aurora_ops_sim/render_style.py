"""Colours for the human-readable account (only on a terminal, never with NO_COLOR
set to anything but the empty string: https://no-color.org), and causes made short."""

from __future__ import annotations

import json
import os
import re

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def wants_colour(stream, environ=None) -> bool:
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    """`Style(True).red("x")` is x in red; `Style(False)` leaves every text as it is."""

    def __init__(self, colour: bool = False):
        self.colour = colour

    def __getattr__(self, name: str):
        if name not in _CODES:
            raise AttributeError(name)
        code = _CODES[name]
        return lambda text: f"\033[{code}m{text}\033[0m" if self.colour and text else text


def parse_cause(cause):
    """A cause as data: JSON parsed (a Lambda error, an outcome), else the text."""
    if not isinstance(cause, str):
        return cause
    try:
        return json.loads(cause)
    except ValueError:
        return cause


def readable_cause(cause) -> str:
    """A cause in one short readable line: a Lambda error's message (not its stack
    trace), a plain-text cause without the SDK's suffix, a JSON cause summed up."""
    parsed = parse_cause(cause)
    if isinstance(parsed, str) and parsed.lstrip().startswith(("{", "[")) and parsed is not cause:
        return readable_cause(parsed)
    if isinstance(parsed, dict):
        for key in ("errorMessage", "message", "error"):
            if isinstance(parsed.get(key), str) and parsed[key]:
                return readable_cause(parsed[key])
        return _short(", ".join(f"{k}: {_gist(v)}" for k, v in parsed.items() if v not in (None, [], {})))
    if isinstance(parsed, list):
        return _short(_gist(parsed))
    return _short(re.sub(r" \(Service: \w+; Status Code: .*\)$", "", str(parsed or "")))


def _gist(value) -> str:
    """A value in a few words: attempts as counts of their results, other lists as a count."""
    if isinstance(value, list):
        results = [v.get("result") for v in value if isinstance(v, dict) and "result" in v]
        if results and len(results) == len(value):
            counts = {r: results.count(r) for r in dict.fromkeys(results)}
            return f"{len(value)} ({', '.join(f'{n} {r}' for r, n in counts.items())})"
        return f"{len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_gist(v)}" for k, v in value.items() if not isinstance(v, (dict, list))) + "}"
    return str(value)


def _short(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."
