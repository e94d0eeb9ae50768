"""The thin adapters on their own, against moto: the lock's conditions, the
RDS adapter's not-found answers, and AWS errors becoming named exceptions."""

import boto3
import pytest
from moto import mock_aws

from aurora_ops.aws import clients, locks, rds
from aurora_ops.core import clock, errors

NOW = clock.parse("2026-11-24T12:00:00Z")


@pytest.fixture
def account(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("STATE_TABLE_NAME", "state")
    monkeypatch.setattr(clock, "now_fn", lambda: NOW)
    clients.client.cache_clear()
    with mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="state", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        yield
    clients.client.cache_clear()


def test_a_lock_is_held_until_released_and_a_retry_of_its_owner_gets_it_again(account):
    assert locks.acquire("orders", "exec-1", "scale-up") is None
    assert locks.acquire("orders", "exec-1", "scale-up") is None  # a retried invocation
    assert locks.acquire("orders", "exec-2", "scale-up") == "in-progress"
    assert locks.holder("orders") == "exec-1"
    locks.release("orders", "exec-2")  # not the holder: nothing happens
    assert locks.holder("orders") == "exec-1"
    locks.release("orders", "exec-1")
    assert locks.holder("orders") is None
    assert locks.acquire("orders", "exec-2", "scale-up") is None


def test_an_expired_lock_is_free(account, monkeypatch):
    assert locks.acquire("orders", "exec-1", "scale-down", ttl=600) is None
    monkeypatch.setattr(clock, "now_fn", lambda: NOW.replace(minute=11))
    assert locks.holder("orders") is None
    assert locks.acquire("orders", "exec-2", "scale-up") is None


def test_an_event_is_handled_once(account):
    assert locks.acquire("orders", "exec-1", "scale-up", event_id="event-1") is None
    locks.release("orders", "exec-1")
    assert locks.acquire("orders", "exec-2", "scale-up", event_id="event-1") == "duplicate-event"
    assert locks.acquire("orders", "exec-1", "scale-up", event_id="event-1") is None  # its own retry


def test_the_removal_history_keeps_the_latest_removal(account):
    assert locks.last_removal("orders") is None
    locks.record_removal("orders", "orders-aops-1", "exec-1")
    assert locks.last_removal("orders") == {"at": NOW, "instance_id": "orders-aops-1", "owner": "exec-1"}


def test_rds_reads_answer_none_for_what_does_not_exist(account):
    assert rds.describe_cluster("nope") is None
    assert rds.describe_instance("nope") is None
    assert rds.describe_snapshot("nope") is None


def test_aws_errors_become_exceptions_named_after_their_code(account):
    with pytest.raises(errors.AwsApiError) as raised:
        rds.create_instance(instance_id="orders-9", cluster_id="nope", engine="aurora-postgresql",
                            instance_class="db.r6g.large", availability_zone=None, promotion_tier=1, tags={})
    assert type(raised.value).__name__ == "DBClusterNotFoundFault"
    assert errors.aws_error("Throttling", "slow down").__class__ is errors.AwsThrottled
    assert errors.aws_error("InternalFailure", "oops").__class__ is errors.AwsUnavailable


def test_deleting_what_is_already_gone_counts_as_done(account):
    rds.delete_instance("nope")
    rds.delete_cluster("nope")
    rds.delete_snapshot("nope")


def _cluster(cluster_id, **extra):
    boto3.client("rds", region_name="us-east-1").create_db_cluster(
        DBClusterIdentifier=cluster_id, Engine="aurora-postgresql", EngineVersion="16.4",
        MasterUsername="admin1", MasterUserPassword="password-1", **extra)


def test_describe_cluster_gives_the_serverless_v2_capacity_range_or_none(account):
    _cluster("flex", ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16})
    _cluster("fixed")
    assert rds.describe_cluster("flex")["serverless_v2"] == {"min_acu": 0.5, "max_acu": 16}
    assert rds.describe_cluster("fixed")["serverless_v2"] is None


def test_a_serverless_reader_is_created_with_the_class_alone_and_the_writers_settings(account):
    _cluster("flex", ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16})
    sent = []
    clients.client("rds", None).meta.events.register(
        "provide-client-params.rds.CreateDBInstance", lambda params, **_: sent.append(dict(params)))
    settings = {"parameter_group": None, "monitoring_interval": 60,
                "monitoring_role_arn": "arn:aws:iam::123456789012:role/rds-monitoring-role",
                "performance_insights": True, "performance_insights_kms_key_id": "alias/aws/rds",
                "performance_insights_retention": 7, "ca_certificate": None,
                "auto_minor_version_upgrade": True, "publicly_accessible": False}
    rds.create_reader(instance_id="flex-aops-1", cluster_id="flex", engine="aurora-postgresql",
                      instance_class="db.serverless", availability_zone="us-east-1b", promotion_tier=1,
                      settings=settings, created_by="exec-1")
    assert sent == [{
        "DBInstanceIdentifier": "flex-aops-1", "DBClusterIdentifier": "flex", "Engine": "aurora-postgresql",
        "DBInstanceClass": "db.serverless", "PromotionTier": 1, "AvailabilityZone": "us-east-1b",
        "Tags": [{"Key": "aurora-ops:created-by", "Value": "exec-1"}],
        "AutoMinorVersionUpgrade": True, "PubliclyAccessible": False, "MonitoringInterval": 60,
        "MonitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring-role",
        "EnablePerformanceInsights": True, "PerformanceInsightsKMSKeyId": "alias/aws/rds",
        "PerformanceInsightsRetentionPeriod": 7,
    }]
    assert rds.describe_instance("flex-aops-1")["instance_class"] == "db.serverless"
