"""The RDS Data API's answer shapes (botocore's `rds-data` service model: ExecuteStatementResponse,
Field, ColumnMetadata) for rows a world lists, the statement they answer, and the error a
database gives for a statement the world does not list."""

from __future__ import annotations

import json
import re

# ColumnMetadata.type is the JDBC type (java.sql.Types), typeName the database's own name.
_PG_TYPES = {bool: (-7, "bool"), int: (-5, "int8"), float: (8, "float8"), str: (12, "text"),
             type(None): (12, "text")}
_MYSQL_TYPES = {bool: (-7, "BIT"), int: (-5, "BIGINT"), float: (8, "DOUBLE"), str: (12, "VARCHAR"),
                type(None): (12, "VARCHAR")}
_FROM = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)", re.I)


def normalise(sql: str) -> str:
    """A statement as the world's `data` keys are matched: whitespace runs as one space, no
    trailing semicolon. Otherwise exact (the world lists the statements a workflow sends)."""
    return " ".join(str(sql).split()).rstrip(";").rstrip()


def lookup(data: dict | None, sql: str) -> list | None:
    """The rows `data` lists for `sql`, or None when it lists none."""
    wanted = normalise(sql)
    return next((rows for listed, rows in (data or {}).items() if normalise(listed) == wanted), None)


def field(value) -> dict:
    """One value as a Data API Field: longValue, doubleValue, booleanValue, stringValue or isNull."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"stringValue": json.dumps(value)}  # json/jsonb columns come back as their text


def column_names(sql: str, width: int) -> list[str]:
    """The result's column names as PostgreSQL and MySQL name them from the select list: an
    alias (`AS n`), else a column's own name, else a function's name (`count(*)` -> `count`)."""
    match = re.match(r"\s*SELECT\s+(?:DISTINCT\s+)?(.*?)(?:\s+FROM\s+|;|$)", sql, re.I | re.S)
    items, depth, current = [], 0, ""
    for char in match.group(1) if match else "":
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    names = []
    for item in (i.strip() for i in items):
        alias = re.search(r"\s+(?:AS\s+)?\"?([\w$]+)\"?\s*$", item, re.I) if " " in item.strip() else None
        function = re.match(r"([\w$]+)\s*\(", item)
        if alias:
            names.append(alias.group(1))
        elif function:
            names.append(function.group(1).lower())
        else:
            plain = re.fullmatch(r"[\w$.\"]+", item) and not re.fullmatch(r"[\d.]+", item)
            names.append(item.rsplit(".", 1)[-1].strip('"') if plain else "?column?")
    names = names[:width] + [f"column{i + 1}" for i in range(len(names), width)]
    return names[:width]


def column_metadata(sql: str, rows: list, engine: str) -> list[dict]:
    """ColumnMetadata for each column, its type read from the first row's non-null value."""
    width = max((len(row) for row in rows), default=0)
    types = _MYSQL_TYPES if engine == "aurora-mysql" else _PG_TYPES
    metadata = []
    for index, name in enumerate(column_names(sql, width)):
        sample = next((row[index] for row in rows if index < len(row) and row[index] is not None), None)
        kind = type(sample) if type(sample) in types else str
        jdbc, type_name = types[kind]
        metadata.append({"name": name, "label": name, "type": jdbc, "typeName": type_name,
                         "schemaName": "", "tableName": "", "isAutoIncrement": False,
                         "isSigned": kind in (int, float), "isCurrency": False,
                         "isCaseSensitive": kind is str, "nullable": 2, "precision": 0, "scale": 0,
                         "arrayBaseColumnType": 0})
    return metadata


def answer(sql: str, rows: list, params: dict, engine: str) -> dict:
    """ExecuteStatement's answer: `records` (or `formattedRecords` with formatRecordsAs JSON),
    `numberOfRecordsUpdated`, and `columnMetadata` only when includeResultMetadata."""
    result: dict = {"numberOfRecordsUpdated": 0}
    if params.get("formatRecordsAs") == "JSON":
        names = column_names(sql, max((len(row) for row in rows), default=0))
        result["formattedRecords"] = json.dumps([dict(zip(names, row)) for row in rows])
    else:
        result["records"] = [[field(value) for value in row] for row in rows]
        if params.get("includeResultMetadata"):
            result["columnMetadata"] = column_metadata(sql, rows, engine)
    return result


def missing_relation(sql: str, engine: str) -> str:
    """What the database says of a statement the world does not list: the relation it names does
    not exist (PostgreSQL SQLSTATE 42P01, MySQL error 1146 / SQLSTATE 42S02)."""
    found = _FROM.search(sql)
    if not found:
        return f"simulated world: no answer listed for {normalise(sql)!r} (add it to the cluster's data)"
    relation = found.group(1)
    if engine == "aurora-mysql":
        return f"Table '{relation if '.' in relation else 'mysql.' + relation}' doesn't exist; SQLState: 42S02"
    return (f'ERROR: relation "{relation.replace(chr(34), "")}" does not exist\n'
            f"  Position: {found.start(1) + 1}; SQLState: 42P01")


def multiple_statements(sql: str) -> bool:
    """Whether `sql` holds more than one statement (a `;` with more after it, outside quotes)."""
    unquoted = re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"", "''", sql)
    return ";" in unquoted.strip().rstrip(";")
