"""JSON Schema validation with errors that name the offending field.

fastjsonschema is what Powertools' validation utility runs; it is called
directly because the utility's extra imports cost ~10% of a cold start.
Schemas live beside the code that owns them: `<package>/schemas/<name>.json`
(the core's event and policy schemas here, each workflow's input in its wing)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import fastjsonschema

Schema = tuple[str, str]  # (package, name): <package>/schemas/<name>.json


def core_schema(name: str) -> Schema:
    return (__package__, name)


@cache
def _compiled(schema: Schema):
    package, name = schema
    return fastjsonschema.compile(json.loads(resources.files(package).joinpath(f"schemas/{name}.json").read_text()))


def validate(document: object, schema: Schema, error: type[Exception], root: str) -> None:
    """Raise `error` naming the field (e.g. `input.dry_run: must be boolean`)."""
    try:
        _compiled(schema)(document)
    except fastjsonschema.JsonSchemaValueException as exc:
        field = (exc.name or "data").replace("data", root, 1)
        message = exc.message.removeprefix(f"{exc.name} ")
        raise error(f"{field}: {message}") from None
