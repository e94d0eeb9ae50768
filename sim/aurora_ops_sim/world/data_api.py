"""The RDS Data API as AWS runs it, answered from the world's `data` (moto's `rds-data`
answers every statement with no records and checks nothing; moto's RDS implements neither
EnableHttpEndpoint nor DisableHttpEndpoint).

- RDS `EnableHttpEndpoint` / `DisableHttpEndpoint` (ResourceArn): `{ResourceArn,
  HttpEndpointEnabled}` (RDS API reference), `HttpEndpointEnabled` in DescribeDBClusters.
- `rds-data` `ExecuteStatement`: refused as AWS refuses; rows from the cluster's `data`, or for
  a cluster restored during the run from its snapshot's `data`, else its source cluster's
  (contract, "Disaster-recovery worlds"); `faults.data_api` makes a statement time out.
Facts and their sources: docs/simulator.md, "The RDS Data API"."""

from __future__ import annotations

from collections.abc import Callable

from .backends import cluster_status, rds_backend
from .data_api_rows import answer, lookup, missing_relation, multiple_statements

# "By default, the Data API cancels an operation and returns a timeout error if the operation
# doesn't finish processing within 45 seconds" (Aurora User Guide, "Controlling Data API timeout behavior").
STATEMENT_TIMEOUT_SECONDS = 45
# Aurora User Guide, "Supported Regions and Aurora DB engines for RDS Data API": Serverless v2 and
# provisioned clusters, by major version the lowest minor version with the Data API ...
POSTGRESQL_MINIMUM = {13: (13, 11), 14: (14, 8), 15: (15, 3), 16: (16, 1), 17: (17, 4), 18: (18, 3)}
MYSQL_MINIMUM = (3, 7)  # Aurora MySQL version 3.07 and higher (8.0.mysql_aurora.3.07.0)
# ... and the Regions where it is "Not available" for either engine.
UNAVAILABLE_REGIONS = {"ap-south-2", "ap-southeast-4", "ap-southeast-6", "ap-east-2", "ca-west-1", "cn-north-1",
                       "cn-northwest-1", "eu-central-2", "il-central-1", "mx-central-1", "us-gov-east-1",
                       "us-gov-west-1"}
_STATUS = {"HttpEndpointNotEnabledException": 400, "SecretsErrorException": 400, "DatabaseErrorException": 400,
           "BadRequestException": 400, "StatementTimeoutException": 400, "InvalidResourceStateException": 400,
           "DatabaseNotFoundException": 404, "DatabaseUnavailableException": 504}


def unsupported(engine: str, version: str, region: str) -> str | None:
    """Why the Data API is not available for this engine version in this region (None: it is)."""
    if region in UNAVAILABLE_REGIONS:
        return f"RDS Data API is not available in {region}"
    try:
        if engine == "aurora-postgresql":
            parts = tuple(int(p) for p in version.split(".")[:2])
            lowest = POSTGRESQL_MINIMUM.get(parts[0])
            ok = lowest is not None and parts >= lowest
        elif engine == "aurora-mysql":
            ok = tuple(int(p) for p in version.split("mysql_aurora.")[-1].split(".")[:2]) >= MYSQL_MINIMUM
        else:
            ok = False
    except (ValueError, IndexError):
        ok = False
    return None if ok else f"RDS Data API is not supported for {engine} version {version}"


def _arn_parts(arn: str, region: str) -> tuple[str, str]:
    """(region, id) of a cluster or snapshot named by ARN or by identifier (then in `region`)."""
    parts = str(arn).split(":")
    return (parts[3], parts[-1]) if len(parts) >= 7 and parts[0] == "arn" else (region, str(arn))


class DataApi:
    def __init__(self, world: dict, faults, charge: Callable[[float], None]):
        self.account = world["account_id"]
        self.faults = faults
        self.charge = charge  # simulated milliseconds spent waiting on a statement
        self.cluster_data = {(c["region"], c["id"]): c["data"] for c in world["clusters"] if "data" in c}
        self.snapshot_data = {(s["region"], s["id"]): s["data"] for s in world["snapshots"] if "data" in s}
        self.engines = {(c["region"], c["id"]): c["engine"] for c in world["clusters"]}
        self.restored: dict[tuple, tuple] = {}  # (region, cluster) -> ("snapshot"|"cluster", (region, id))
        self.copied: dict[tuple, tuple] = {}  # (region, snapshot copy) -> (region, its source snapshot)

    # ------------------------------------------------------------ around a call
    def before(self, client, region: str, operation: str, params: dict) -> dict | None:
        """The answer to the calls moto gets wrong (None: let moto answer)."""
        service = client.meta.service_model.service_name
        if service == "rds" and operation in ("EnableHttpEndpoint", "DisableHttpEndpoint"):
            return self._endpoint(client, region, operation, params)
        if service == "rds-data" and operation == "ExecuteStatement":
            return self._execute(client, region, params)
        return None

    def after(self, region: str, operation: str, params: dict, result: dict) -> None:
        """Where a cluster restored (or a snapshot copied) during the run takes its data from."""
        if operation == "RestoreDBClusterFromSnapshot":
            self.restored[(region, params["DBClusterIdentifier"])] = \
                ("snapshot", _arn_parts(params["SnapshotIdentifier"], region))
        elif operation == "RestoreDBClusterToPointInTime":
            self.restored[(region, params["DBClusterIdentifier"])] = \
                ("cluster", _arn_parts(params["SourceDBClusterIdentifier"], region))
        elif operation == "CopyDBClusterSnapshot":
            self.copied[(region, params["TargetDBClusterSnapshotIdentifier"])] = \
                _arn_parts(params["SourceDBClusterSnapshotIdentifier"], region)

    # ------------------------------------------------------------ data
    def data_of_cluster(self, region: str, cluster_id: str, seen=()) -> dict | None:
        key = (region, cluster_id)
        if key in seen:
            return None
        if key in self.restored:
            kind, source = self.restored[key]
            if kind == "cluster":
                return self.data_of_cluster(*source, seen=(*seen, key))
            return self.data_of_snapshot(*source, seen=(*seen, key))
        return self.cluster_data.get(key)

    def data_of_snapshot(self, region: str, snapshot_id: str, seen=()) -> dict | None:
        """A snapshot's own `data`, else its source's (a copy's), else its cluster's."""
        key = (region, snapshot_id)
        if key in self.snapshot_data or key in seen:
            return self.snapshot_data.get(key)
        if key in self.copied:
            return self.data_of_snapshot(*self.copied[key], seen=(*seen, key))
        live = rds_backend(self.account, region).cluster_snapshots.get(snapshot_id)
        cluster_id = live.db_cluster_identifier if live is not None else None
        return self.data_of_cluster(region, cluster_id, seen=(*seen, key)) if cluster_id else None

    def annotate(self, dumped: dict) -> dict:
        """The world after a run: a restored cluster or a snapshot copy lists the data it answers with."""
        for cluster in dumped["clusters"]:
            if "data" not in cluster and cluster.get("status") != "deleted":
                data = self.data_of_cluster(cluster["region"], cluster["id"])
                if data is not None:
                    cluster["data"] = data
        for snapshot in dumped["snapshots"]:
            if "data" not in snapshot:
                data = self.data_of_snapshot(snapshot["region"], snapshot["id"])
                if data is not None and (snapshot["region"], snapshot["id"]) in self.copied:
                    snapshot["data"] = data
        return dumped

    # ------------------------------------------------------------ RDS: the HTTP endpoint
    def _cluster(self, region: str, arn: str):
        """The cluster whose ARN is exactly `arn` in `region` ("The ARN you specified doesn't
        precisely match the ARN of the cluster" is one of the Data API's documented refusals)."""
        arn_region, cluster_id = _arn_parts(arn, region)
        live = rds_backend(self.account, region).clusters.get(cluster_id) if arn_region == region else None
        return live if live is not None and live.db_cluster_arn == arn else None

    def _endpoint(self, client, region: str, operation: str, params: dict) -> dict:
        arn = params["ResourceArn"]
        live = self._cluster(region, arn)
        if live is None:
            raise _error(client, operation, "ResourceNotFoundFault", f"DBCluster {arn} not found.")
        why = unsupported(live.engine, live.engine_version, region)
        if why:  # AWS's own CloudFormation handler treats this refusal as InvalidParameterCombination
            raise _error(client, operation, "InvalidParameterCombination", why)
        if operation == "EnableHttpEndpoint" and cluster_status(live) != "available":
            raise _error(client, operation, "InvalidResourceStateFault",
                         f"DB cluster {live.db_cluster_identifier} is not in the available state.")
        live._enable_http_endpoint = operation == "EnableHttpEndpoint"  # what DescribeDBClusters reports
        return {"ResourceArn": arn, "HttpEndpointEnabled": live._enable_http_endpoint}

    # ------------------------------------------------------------ rds-data: ExecuteStatement
    def _execute(self, client, region: str, params: dict) -> dict:
        arn, sql = params["resourceArn"], params["sql"]
        live = self._cluster(region, arn)
        if live is None or not getattr(live, "_enable_http_endpoint", False):
            raise _error(client, "ExecuteStatement", "HttpEndpointNotEnabledException",
                         f"HttpEndpoint is not enabled for cluster {_arn_parts(arn, region)[1]}. Please refer to "
                         "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html"
                         "#data-api.troubleshooting.http-endpoint-not-enabled")
        self._check_secret(client, region, live, params["secretArn"])
        if params.get("schema"):
            raise _error(client, "ExecuteStatement", "BadRequestException", "The schema parameter isn't supported.")
        if multiple_statements(sql):
            raise _error(client, "ExecuteStatement", "BadRequestException", "Multistatements aren't supported.")
        self._check_writer(client, region, live)
        engine = live.engine
        if self.faults.data_api_fault(sql, live.db_cluster_identifier) == "timeout":
            self.charge(STATEMENT_TIMEOUT_SECONDS * 1000)  # the call waited the whole limit
            raise _error(client, "ExecuteStatement", "StatementTimeoutException",
                         f"The statement did not finish within {STATEMENT_TIMEOUT_SECONDS} seconds and was "
                         "cancelled", dbConnectionId=1)
        rows = lookup(self.data_of_cluster(region, live.db_cluster_identifier), sql)
        if rows is None:
            raise _error(client, "ExecuteStatement", "DatabaseErrorException", missing_relation(sql, engine))
        return answer(sql, rows, params, engine)

    def _check_secret(self, client, region: str, live, secret_arn: str) -> None:
        """The secret must exist; an RDS-managed secret must be this cluster's (another
        cluster's master password does not log in here)."""
        secret_region = _arn_parts(secret_arn, region)[0]
        secrets = rds_backend(self.account, secret_region).secretsmanager.secrets
        secret = secrets.get(secret_arn)
        if secret is None or getattr(secret, "deleted_date", None):
            raise _error(client, "ExecuteStatement", "SecretsErrorException",
                         f"Error fetching secret {secret_arn}: Secrets Manager can't find the specified secret.")
        own = getattr(getattr(live, "master_user_secret", None), "secret_arn", None)
        others = {getattr(getattr(c, "master_user_secret", None), "secret_arn", None)
                  for c in rds_backend(self.account, region).clusters.values()} - {None, own}
        if secret.arn in others:
            user = live.master_username
            message = (f"Access denied for user '{user}'" if live.engine == "aurora-mysql"
                       else f'FATAL: password authentication failed for user "{user}"')
            raise _error(client, "ExecuteStatement", "DatabaseErrorException", message)

    def _check_writer(self, client, region: str, live) -> None:
        """"You can only execute Data API queries on writer instances in a DB cluster" (Aurora User
        Guide, "Limitations for the Amazon RDS Data API"): a cluster not available, without
        instances, or whose writer is not available (a global secondary has none) cannot answer."""
        if cluster_status(live) != "available":
            raise _error(client, "ExecuteStatement", "InvalidResourceStateException",
                         f"DB cluster {live.db_cluster_identifier} is {cluster_status(live)}.")
        members = [db for db in rds_backend(self.account, region).databases.values()
                   if getattr(db, "db_cluster_identifier", None) == live.db_cluster_identifier]
        if not members:
            raise _error(client, "ExecuteStatement", "DatabaseNotFoundException",
                         f"DB cluster {live.db_cluster_identifier} has no DB instance.")
        if not any(db.is_cluster_writer and db.status == "available" for db in members):
            raise _error(client, "ExecuteStatement", "DatabaseUnavailableException",
                         f"The writer instance of DB cluster {live.db_cluster_identifier} isn't available.")


def _error(client, operation: str, code: str, message: str, **members):
    """The error as botocore raises it from AWS's answer (the Data API's carry `message`)."""
    response = {"Error": {"Code": code, "Message": message}, "message": message, **members,
                "ResponseMetadata": {"HTTPStatusCode": _STATUS.get(code, 400), "RequestId": "simulated"}}
    return client.exceptions.from_code(code)(response, operation)
