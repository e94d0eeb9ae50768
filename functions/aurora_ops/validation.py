"""JSON Schema validation with errors that name the offending field.

fastjsonschema is what Powertools' validation utility runs; it is called
directly because the utility's extra imports cost ~10% of a cold start."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import fastjsonschema


@cache
def _compiled(name: str):
    schema = json.loads(resources.files(__package__).joinpath(f"schemas/{name}.json").read_text())
    return fastjsonschema.compile(schema)


def validate(document: object, schema_name: str, error: type[Exception], root: str) -> None:
    """Raise `error` naming the field (e.g. `input.dry_run: must be boolean`)."""
    try:
        _compiled(schema_name)(document)
    except fastjsonschema.JsonSchemaValueException as exc:
        field = (exc.name or "data").replace("data", root, 1)
        message = exc.message.removeprefix(f"{exc.name} ")
        raise error(f"{field}: {message}") from None
