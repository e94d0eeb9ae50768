"""Aurora DSQL as AWS answers it, from the world's `dsql_clusters`
([{id, region, status, witness_region, peers: [ids]}]).

moto 5.2.5 has a DSQL backend, but only in us-east-1 and us-east-2 (a call from
another region fails inside moto with a KeyError), it draws every identifier at
random (a world cannot name its clusters), and its GetCluster answers
multiRegionProperties exactly as CreateCluster was given it, without the cluster's
own ARN in `clusters` (tests/sim/test_moto_patches.py pins all three). So GetCluster
is answered here, in the shape of botocore's `dsql` model:

- `status` as the world says (CREATING, ACTIVE, IDLE, INACTIVE, UPDATING, DELETING,
  DELETED, FAILED, PENDING_SETUP, PENDING_DELETE; default ACTIVE);
- `multiRegionProperties` only for a cluster with a witness Region or peers:
  `witnessRegion`, and `clusters`, the ARNs of the cluster itself and of each peer,
  as AWS lists them ("Configuring multi-Region clusters", Aurora DSQL User Guide:
  a cluster's `clusters` holds its own ARN from its creation on);
- a cluster the world does not list in that region: ResourceNotFoundException, the
  error GetCluster documents. A peer that is not in the world is gone: its ARN names
  the world's region, where it does not exist.

The other DSQL operations are left to moto (no workflow calls them)."""

from __future__ import annotations

from datetime import timedelta

from aurora_ops.core import clock

from .failover_model import aws_error

STATUSES = ("CREATING", "ACTIVE", "IDLE", "INACTIVE", "UPDATING", "DELETING", "DELETED", "FAILED", "PENDING_SETUP",
            "PENDING_DELETE")


class DsqlClusters:
    def __init__(self, world: dict):
        self.account = world["account_id"]
        self.default_region = world["region"]
        self.created = clock.parse(world["now"]) - timedelta(days=30)
        self.clusters = {(c["region"], c["id"]): c for c in world.get("dsql_clusters", [])}
        self.regions = {c["id"]: c["region"] for c in world.get("dsql_clusters", [])}

    def arn(self, dsql_id: str) -> str:
        region = self.regions.get(dsql_id, self.default_region)
        return f"arn:aws:dsql:{region}:{self.account}:cluster/{dsql_id}"

    def before(self, client, region: str, operation: str, params: dict) -> dict | None:
        """The answer to the calls modelled here (None: moto answers)."""
        if operation == "GetCluster":
            return self._get(client, region, params["identifier"])
        return None

    def _get(self, client, region: str, identifier: str) -> dict:
        cluster = self.clusters.get((region, identifier))
        if cluster is None or cluster["status"] == "DELETED":
            raise aws_error(client, "GetCluster", "ResourceNotFoundException",
                            f"The resource with ARN arn:aws:dsql:{region}:{self.account}:cluster/{identifier} "
                            "doesn't exist. Verify the ARN and try again.")
        answer = {
            "identifier": identifier,
            "arn": self.arn(identifier),
            "status": cluster["status"],
            "creationTime": self.created,
            "deletionProtectionEnabled": True,
            "tags": {},
            "encryptionDetails": {"encryptionType": "AWS_OWNED_KMS_KEY", "encryptionStatus": "ENABLED"},
            "endpoint": f"{identifier}.dsql.{region}.on.aws",
        }
        if cluster.get("witness_region") or cluster["peers"]:
            answer["multiRegionProperties"] = {
                **({"witnessRegion": cluster["witness_region"]} if cluster.get("witness_region") else {}),
                "clusters": [self.arn(identifier)] + [self.arn(peer) for peer in cluster["peers"]],
            }
        return answer
