"""The timeline of a report on the simulated clock: one line per step, `T+m:ss <what>`.
Task attempts (retries included), waits, Map states and their labelled iterations,
failures, and under each Task attempt the AWS calls its handler made, each with
its region and the identifiers it names."""

from __future__ import annotations

from .render_style import Style, readable_cause

_HIDDEN_STATES = ("Choice", "Succeed")  # a Choice decides instantly; the end line says how it ended
_CALL_WIDTH = 220  # a call line never grows past this (a fleet's batched reads)


def clock(seconds: float) -> str:
    """T+m:ss, or T+h:mm:ss from an hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours}:{minutes:02}:{secs:02}" if hours else f"T+{minutes}:{secs:02}"


def duration(seconds: float) -> str:
    return clock(seconds)[2:]


def _dynamodb_keys(params: dict) -> list[str]:
    keys = []
    for holder in ("Key", "Item"):
        if isinstance(params.get(holder), dict):
            keys += [v.get("S") for k, v in params[holder].items() if k in ("pk", "sk") and isinstance(v, dict)]
    for item in params.get("TransactItems") or []:  # {"Put": {"TableName", "Item"}} and the like
        for action, request in item.items():
            keys += [f"{action.lower()} " + " ".join(_dynamodb_keys(request) or [request.get("TableName", "")])]
    for table, request in (params.get("RequestItems") or {}).items():
        found = [v.get("S") for key in request.get("Keys", []) for v in key.values() if isinstance(v, dict)]
        keys += [table] + found[:4] + ([f"+{len(found) - 4} more"] if len(found) > 4 else [])
    return [k for k in keys if k]


def identifiers(params: dict) -> list[str]:
    """What a call names, most telling first: class and AZ, the resource, its cluster."""
    named = []
    for key in ("DBInstanceClass", "AvailabilityZone", "DBInstanceIdentifier"):
        if params.get(key):
            named.append(str(params[key]))
    cluster = params.get("DBClusterIdentifier")
    if cluster:
        named.append(f"(cluster {cluster})" if params.get("DBInstanceIdentifier") else str(cluster))
    for key, prefix in (("SnapshotIdentifier", "from snapshot "), ("DBClusterSnapshotIdentifier", "snapshot "),
                        ("SourceDBClusterSnapshotIdentifier", "from "), ("TargetDBClusterSnapshotIdentifier", "to "),
                        ("SourceDBClusterIdentifier", "from cluster "), ("GlobalClusterIdentifier", "global "),
                        ("SourceRegion", "from region "), ("KmsKeyId", "key "), ("SecretId", "secret "),
                        ("Engine", ""), ("EngineVersion", ""), ("TableName", ""), ("identifier", "")):
        if params.get(key) and not (key == "Engine" and cluster):
            named.append(f"{prefix}{params[key]}")
    for f in params.get("Filters") or []:
        values = [str(v) for v in f.get("Values", [])]
        if f.get("Name") == "db-instance-id":
            named += values
        elif f.get("Name") == "db-cluster-id":
            named.append(f"cluster{'s' * (len(values) != 1)} {','.join(values)}")
        else:
            named.append(f"{f.get('Name')}={','.join(values)}")
    named += _dynamodb_keys(params)
    for key in ("ResourceArn", "resourceArn"):  # RDS Enable/DisableHttpEndpoint, the Data API
        if params.get(key):
            named.append(f"cluster {str(params[key]).rsplit(':', 1)[-1]}")
    if params.get("sql"):
        sql = " ".join(str(params["sql"]).split())
        named.append(repr(sql if len(sql) <= 80 else sql[:77] + "..."))
    metrics = [d.get("Value") for q in params.get("MetricDataQueries") or []
               for d in ((q.get("MetricStat") or {}).get("Metric") or {}).get("Dimensions", [])]
    if metrics:
        name = ((params["MetricDataQueries"][0].get("MetricStat") or {}).get("Metric") or {}).get("MetricName")
        named.append(f"{name} of " + ", ".join(metrics[:6]) + (f" +{len(metrics) - 6} more" if len(metrics) > 6 else ""))
    if params.get("Subject"):
        named.append(repr(params["Subject"]))
    elif params.get("TopicArn"):
        named.append(str(params["TopicArn"]).rsplit(":", 1)[-1])
    return named


def call_line(call: dict, poll: bool, style: Style) -> str:
    """`rds:CreateDBInstance us-east-1 db.r6g.large us-east-1a orders-aops-...-1 -> Insufficient...`;
    a describe right after a Wait is a poll: `poll orders-aops-...-4: creating (rds:DescribeDBInstances us-east-1)`."""
    params = call.get("params") or {}
    name = f"{call['service']}:{call['operation']}"
    statuses = call.get("statuses") or {}
    named = identifiers(params)
    error = call["error"]
    if poll and len(named) == 1:
        seen = (f"not found ({error})" if error.endswith(("NotFound", "NotFoundFault")) else style.red(error)) \
            if error else statuses.get(named[0]) or ", ".join(f"{k} {v}" for k, v in statuses.items()) or "not found"
        return f"poll {named[0]}: {seen} ({name} {call.get('region', '')})"
    if not error and len(statuses) == 1 and next(iter(statuses)) in named:  # the one resource it asked for
        statuses = {}
        named[named.index(next(iter(call["statuses"])))] += f": {next(iter(call['statuses'].values()))}"
    text = " ".join([call.get("region") or "", *named])
    if not call["error"] and statuses:
        text += ": " + (", ".join(f"{k} {v}" for k, v in statuses.items()) if len(statuses) <= 4
                        else f"{len(statuses)} found")
    if len(text) > _CALL_WIDTH:
        text = text[: _CALL_WIDTH - 3] + "..."
    return f"{style.bold(name)} {text}" + (" -> " + style.red(error) if error else "")


def _where(entry: dict) -> str:
    return f"{entry['iteration']} > " if entry.get("iteration") else ""


def nested_line(nested: dict, style: Style) -> str:
    """`nested snapshot-restore execution NAME: SUCCEEDED (30 transitions, 13 Lambda invocations, 32 AWS calls, 5:36)`."""
    status = nested["status"]
    shown = style.green(status) if status == "SUCCEEDED" else style.red(status)
    counts = (f"{nested['transitions']} transitions, {nested['lambda_invocations']} Lambda invocations, "
              f"{nested.get('aws_calls', 0)} AWS calls, {duration(nested.get('simulated_seconds') or 0)}")
    error = f": {nested['error']}" if nested.get("error") else ""
    return f"nested {nested['state_machine']} execution {nested['execution_name']}: {shown}{error} ({counts})"


def timeline_lines(report: dict, style: Style) -> list[str]:
    """The report's timeline with its AWS calls under each Task attempt (a nested execution's
    calls are its own: a line under the Task that started it stands for them)."""
    entries = report.get("timeline") or []
    own = report.get("execution_name")
    nested_by_task: dict = {}
    for nested in report.get("nested_executions") or []:
        if nested.get("parent") == own:
            nested_by_task.setdefault(nested.get("parent_task"), []).append(nested)
    calls_by_task: dict = {}
    loose = []
    for call in report.get("aws_calls") or []:
        if call.get("execution") not in (None, own):
            continue
        if call.get("task") is not None:
            calls_by_task.setdefault(call["task"], []).append(call)
        else:
            loose.append(call)
    lines: list[str] = []
    last_state: dict = {}  # iteration -> the type of the state last entered there
    polling: dict = {}  # iteration -> whether its current state came right after a Wait

    def add(at, text, indent=0):
        lines.append(f"  {clock(at):<9}{'  ' * indent}{text}")

    for entry in entries:
        kind, at, where, iteration = entry["event"], entry["at"], _where(entry), entry.get("iteration")
        if kind == "state":
            polling[iteration] = last_state.get(iteration) == "Wait"
            last_state[iteration] = entry["type"]
            if entry["type"] == "Wait":
                add(at, f"{where}wait {duration(entry.get('seconds') or 0)} ({entry['state']})")
            elif entry["type"] == "Map":
                items = entry.get("items") or []
                shown = ", ".join(items[:8]) + (f", +{len(items) - 8} more" if len(items) > 8 else "")
                add(at, f"{where}{entry['state']}: Map over {len(items)} item{'s' * (len(items) != 1)}"
                        + (f" ({shown})" if items else ""))
            elif entry["type"] == "Fail":
                add(at, style.red(f"{where}{entry['state']} (Fail)"))
            elif entry["type"] not in _HIDDEN_STATES + ("Task",):
                add(at, f"{where}{entry['state']} ({entry['type']})")
        elif kind == "task":
            if entry["attempt"] > 1:
                add(at, style.yellow(f"retry {where}{entry['state']} after {entry.get('after')} "
                                     f"(attempt {entry['attempt']})"))
            else:
                add(at, style.bold(f"{where}{entry['state']}"))
            for call in calls_by_task.get(entry["id"], []):
                poll = polling.get(iteration, False) and call["operation"].startswith("Describe")
                add(call.get("at", at), call_line(call, poll, style), 1)
            for nested in nested_by_task.get(entry["id"], []):
                add(at, nested_line(nested, style), 1)
        elif kind == "failed":
            add(at, style.red(f"{where}{entry['state']} failed: {entry['error']}")
                + (f": {readable_cause(entry['cause'])}" if entry.get("cause") else ""))
        elif kind == "iteration-failed":
            add(at, style.red(f"{entry['iteration']} failed")
                + (f": {entry['error']}" if entry.get("error") else ""))
        elif kind == "end":
            text = f"execution {entry['status']}" + (f": {entry['error']}" if entry.get("error") else "")
            add(at, style.green(text) if entry["status"] == "SUCCEEDED" else style.red(text))
    for call in loose:
        add(call.get("at", 0), call_line(call, False, style))
    return lines
