"""`aurora-ops policy check DOCUMENT [--world WORLD] [--json]`: a policy document
checked before it is deployed (docs/policy.md). Run in process: cli.main + capsys."""

import io
import json
import re

import pytest
import yaml

from aurora_ops_sim import cli
from aurora_ops_sim.policy_check import check

V2 = {
    "defaults": {"promotion_tier": 5, "max_readers": 8, "scale_down": {"cpu_threshold": 20}},
    "policies": {
        "oltp": {"max_readers": 6, "instance_classes": ["db.r6g.xlarge", "db.r7g.xlarge"],
                 "scale_down": {"lookback_minutes": 10}},
        "analytics": {"max_readers": 10, "strategy": "az-priority"},
    },
    "clusters": {"orders": "oltp", "billing": {"max_readers": 3, "scale_up": {"cooldown_minutes": 30}}},
}


def _cluster(cluster_id, tags=None, writer_class="db.r6g.large"):
    return {"id": cluster_id, "engine": "aurora-postgresql", "tags": tags or {},
            "availability_zones": ["us-east-1a", "us-east-1b"],
            "instances": [{"id": f"{cluster_id}-1", "class": writer_class, "az": "us-east-1a", "writer": True}]}


WORLD = {
    "region": "us-east-1",
    "now": "2026-11-24T12:00:00Z",
    "policies": {"old": {"max_readers": 99}},  # the world's own document: ignored by the check
    "clusters": [
        _cluster("orders", {"aurora-ops:policy": "analytics"}),  # the id entry wins over the tag
        _cluster("reports", {"aurora-ops:policy": "analytics"}, "db.r6g.2xlarge"),
        _cluster("billing"),
        _cluster("scratch"),
    ],
}


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else
                    yaml.safe_dump(content) if name.endswith(".yaml") else json.dumps(content))
    return str(path)


def run(capsys, *args):
    code = cli.main(["policy", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def blocks(stdout):
    """{block title: {field: (mark, value, origin)}} from the listing."""
    found, rows = {}, None
    for line in stdout.splitlines():
        if line.startswith(("cluster ", "clusters tagged ")):
            rows = found[line] = {}
        elif rows is not None and line.startswith("  ") and line.strip():
            match = re.match(r"  ([* ]) (\S+)\s+(.*?)(?:\s{2,}(own entry|defaults|policy \S+))?$", line)
            rows[match[2]] = (match[1], match[3], match[4])
        else:
            rows = None
    return found


def error_lines(stderr):
    return [line.removeprefix("aurora-ops: error: ") for line in stderr.splitlines()
            if line.startswith("aurora-ops: error: ")]


def warning_lines(stderr):
    return [line.removeprefix("aurora-ops: warning: ") for line in stderr.splitlines()
            if line.startswith("aurora-ops: warning: ")]


def test_a_valid_v1_document_lists_each_cluster_marking_what_differs_from_the_built_in_defaults(tmp_path, capsys):
    document = {"orders": {"max_readers": 5, "instance_classes": ["db.r6g.large", "db.r6g.xlarge"],
                           "scale_down": {"cpu_threshold": 15}},
                "billing": {"min_readers": 1}}
    code, out, err = run(capsys, write(tmp_path, "policy.json", document))
    assert code == 0 and err == ""
    listed = blocks(out)
    orders = listed["cluster orders: by id, its own entry (policy.orders)"]
    assert orders["max_readers"] == ("*", "5", "own entry")
    assert orders["instance_classes"] == ("*", "db.r6g.large, db.r6g.xlarge", "own entry")
    assert orders["scale_down.cpu_threshold"] == ("*", "15", "own entry")
    assert orders["min_readers"] == (" ", "1", None)
    assert orders["availability_zones"] == (" ", "the cluster's AZs", None)
    assert orders["strategy"] == (" ", "instance-priority", None)
    assert orders["promotion_tier"] == (" ", "15", None)
    assert orders["scale_down.lookback_minutes"] == (" ", "5", None)
    assert orders["scale_down.cooldown_minutes"] == (" ", "15", None)
    assert orders["scale_up.cooldown_minutes"] == (" ", "15", None)
    billing = listed["cluster billing: by id, its own entry (policy.billing)"]
    assert billing["min_readers"] == (" ", "1", "own entry")  # set, but equal to the default: no mark
    assert billing["instance_classes"] == (" ", "the writer's class", None)
    assert not [title for title in listed if title.startswith("clusters tagged")]  # v1: no named policies
    assert out.splitlines()[-1] == "policy document (v1): valid; 2 clusters by id, 0 named policies; 0 warnings"


def test_a_valid_v2_document_resolves_field_by_field(tmp_path, capsys):
    code, out, err = run(capsys, write(tmp_path, "policy.json", V2))
    assert code == 0, err
    listed = blocks(out)
    orders = listed["cluster orders: by id (policy.clusters.orders) -> policy oltp"]
    assert orders["max_readers"] == ("*", "6", "policy oltp")  # the policy over defaults' 8
    assert orders["promotion_tier"] == ("*", "5", "defaults")
    assert orders["scale_down.cpu_threshold"] == ("*", "20", "defaults")  # nested: defaults' field kept
    assert orders["scale_down.lookback_minutes"] == ("*", "10", "policy oltp")  # beside the policy's own
    assert orders["scale_down.cooldown_minutes"] == (" ", "15", None)  # built-in
    assert orders["min_readers"] == (" ", "1", None)
    billing = listed["cluster billing: by id, its own entry (policy.clusters.billing)"]
    assert billing["max_readers"] == ("*", "3", "own entry")  # the cluster's object over defaults' 8
    assert billing["promotion_tier"] == ("*", "5", "defaults")
    assert billing["scale_up.cooldown_minutes"] == ("*", "30", "own entry")
    assert billing["instance_classes"] == (" ", "the writer's class", None)
    analytics = listed["clusters tagged aurora-ops:policy=analytics -> policy analytics"]
    assert analytics["strategy"] == ("*", "az-priority", "policy analytics")
    assert analytics["max_readers"] == ("*", "10", "policy analytics")
    assert "clusters tagged aurora-ops:policy=oltp (and by id: orders) -> policy oltp" in listed
    # analytics is named by no entry: only tagged clusters could use it, which --world would show
    assert warning_lines(err) == ["policy.policies.analytics: no entry of policy.clusters names it; only clusters "
                                  "tagged aurora-ops:policy=analytics would use it (--world checks the tags)"]


def test_yaml_and_stdin_are_read_too(tmp_path, capsys, monkeypatch):
    code, out, _ = run(capsys, write(tmp_path, "policy.yaml", V2))
    assert code == 0 and "cluster orders: by id" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"orders": {"max_readers": 2}})))
    code, out, _ = run(capsys, "-")
    assert code == 0 and blocks(out)["cluster orders: by id, its own entry (policy.orders)"]["max_readers"][1] == "2"


ERRORS = [
    ({"orders": {"max_readers": "5"}}, "policy.orders.max_readers: must be integer"),
    ({"orders": {"colour": "blue"}}, "policy.orders: must not contain {'colour'} properties"),
    ({"orders": {"instance_classes": ["r6g.large"]}}, "policy.orders.instance_classes[0]: must match pattern"),
    ({"orders": {"instance_classes": ["db.r6g.large", "db.r6g.huge"]}},
     "policy.orders.instance_classes[1]: db.r6g.huge has no known instance size"),
    ({"orders": {"min_readers": 3, "max_readers": 2}}, "policy.orders.min_readers: 3 exceeds max_readers 2"),
    ({"1orders": {}}, "policy.1orders: not a valid cluster identifier"),
    ({"orders": {}, "Orders": {}}, "policy.Orders: names the same cluster as policy.orders (orders)"),
    ({**V2, "clusters": {"orders": "oltpp"}},
     "policy.clusters.orders: names no policy 'oltpp' (known: analytics, oltp)"),
    ({**V2, "clusters": {"billing": {"strategy": "random"}}}, "policy.clusters.billing.strategy: must be one of"),
    ({**V2, "clusters": {"orders": "oltp", "ORDERS": {}}},
     "policy.clusters.ORDERS: names the same cluster as policy.clusters.orders (orders)"),
    ({**V2, "policies": {"oltp": {"max_readers": 16}}, "clusters": {"orders": "oltp"}},
     "policy.policies.oltp.max_readers: must be smaller than or equal to 15"),
    ({**V2, "defaults": {"min_readers": 4}}, "policy.clusters.billing.min_readers: 4 exceeds max_readers 3"),
    ({**V2, "defaults": {"promotion_tier": 16}}, "policy.defaults.promotion_tier: must be smaller than or equal to 15"),
    ({**V2, "policies": {"bad name": {}}, "clusters": {}}, "policy.policies.bad name: not a valid policy name"),
    ({**V2, "colour": "blue"}, "policy: must not contain {'colour'} properties"),
    ({**V2, "dsql_clusters": [{"region": "us-east-1"}]}, "policy.dsql_clusters[0]: must contain ['id'] properties"),
    ({**V2, "clusters": ["orders"]}, "policy.clusters: must be object"),
    ([], "policy: must be an object"),
]


@pytest.mark.parametrize("document,error", ERRORS, ids=[e.split(":")[0] + f"-{i}" for i, (_, e) in enumerate(ERRORS)])
def test_each_error_exits_1_with_one_line_naming_the_field(tmp_path, capsys, document, error):
    code, out, err = run(capsys, write(tmp_path, "policy.json", document))
    assert code == 1
    assert len(error_lines(err)) == 1 and error_lines(err)[0].startswith(error), err
    assert "Traceback" not in err and not blocks(out)
    version = 2 if isinstance(document, dict) and "clusters" in document else 1
    assert out.strip().splitlines()[-1].startswith(f"policy document (v{version}): invalid; 1 error")


def test_every_bad_entry_gets_its_own_line_in_document_order(tmp_path, capsys):
    document = {"defaults": {"promotion_tier": 20},
                "policies": {"oltp": {"max_readers": 99}, "analytics": {"instance_classes": ["db.r6g.huge"]}},
                "clusters": {"orders": "oltpp", "billing": {"colour": "blue"}, "Billing": {}, "ok": "oltp"}}
    code, _, err = run(capsys, write(tmp_path, "policy.json", document))
    assert code == 1
    assert [line.split(":")[0] for line in error_lines(err)] == [
        "policy.defaults.promotion_tier", "policy.policies.oltp.max_readers",
        "policy.policies.analytics.instance_classes[0]", "policy.clusters.orders", "policy.clusters.billing",
        "policy.clusters.Billing"]


def test_with_a_world_tagged_clusters_are_listed_and_an_unknown_policy_tag_is_an_error(tmp_path, capsys):
    world = json.loads(json.dumps(WORLD))
    world["clusters"].append(_cluster("legacy", {"aurora-ops:policy": "oltpp"}))
    code, out, err = run(capsys, write(tmp_path, "policy.json", V2), "--world", write(tmp_path, "world.yaml", world))
    assert code == 1
    assert error_lines(err) == ["world.clusters[4].tags.aurora-ops:policy: names no policy 'oltpp' (known: analytics, "
                                "oltp); cluster legacy would not be managed (unknown-policy)"]
    assert warning_lines(err) == ["world.clusters[0].tags.aurora-ops:policy: the tag of cluster orders ('analytics') "
                                  "is ignored: policy.clusters.orders wins (policy oltp)"]
    listed = blocks(out)
    assert set(listed) == {"cluster orders: by id (policy.clusters.orders) -> policy oltp",
                           "cluster reports: by tag aurora-ops:policy=analytics -> policy analytics",
                           "cluster billing: by id, its own entry (policy.clusters.billing)"}
    reports = listed["cluster reports: by tag aurora-ops:policy=analytics -> policy analytics"]
    assert reports["strategy"] == ("*", "az-priority", "policy analytics")
    assert reports["promotion_tier"] == ("*", "5", "defaults")
    assert reports["instance_classes"] == (" ", "the writer's class (db.r6g.2xlarge)", None)
    assert reports["availability_zones"] == (" ", "the cluster's AZs (us-east-1a, us-east-1b)", None)
    unmanaged = out[out.index("not managed:"):].splitlines()
    assert unmanaged[1].split() == ["scratch", "not-managed", "(no", "entry", "in", "the", "document,", "no",
                                    "aurora-ops:policy", "tag)"]
    assert unmanaged[2].split()[:2] == ["legacy", "unknown-policy"]
    assert out.splitlines()[-1] == "policy document (v2): invalid; 1 error, 1 warning (on stderr)"


def test_with_a_world_typos_and_unused_policies_are_warnings_and_the_document_is_valid(tmp_path, capsys):
    document = {**V2, "clusters": {"orders": "oltp", "biling": {"max_readers": 3}}}
    world = {**WORLD, "clusters": [_cluster("orders"), _cluster("billing")]}
    code, out, err = run(capsys, write(tmp_path, "policy.json", document),
                         "--world", write(tmp_path, "world.json", world))
    assert code == 0 and error_lines(err) == []
    assert warning_lines(err) == [
        "policy.clusters.biling: matches no cluster of the world (a typo leaves that cluster unmanaged)",
        "policy.policies.analytics: used by no cluster (no entry of policy.clusters names it, and no cluster of the "
        "world is tagged aurora-ops:policy=analytics)"]
    assert "  billing  not-managed" in out
    assert out.splitlines()[-1] == "policy document (v2): valid; 1 of 2 world clusters managed; 2 warnings (on stderr)"


def test_without_named_policies_no_tag_is_read_so_a_tag_is_an_error(tmp_path, capsys):
    world = {**WORLD, "clusters": [_cluster("orders"), _cluster("reports", {"aurora-ops:policy": "analytics"})]}
    code, out, err = run(capsys, write(tmp_path, "policy.json", {"orders": {}}),
                         "--world", write(tmp_path, "w.yaml", world))
    assert code == 1
    assert error_lines(err) == ["world.clusters[1].tags.aurora-ops:policy: names no policy 'analytics' (the document "
                                "has no named policies, so tags are not read); cluster reports would not be managed "
                                "(not-managed)"]
    assert "  reports  not-managed (no entry in the document; it has no named policies, so the aurora-ops:policy " \
           "tag is not read)" in out


def test_json_is_one_object_with_the_resolved_policies(tmp_path, capsys):
    code, out, err = run(capsys, write(tmp_path, "policy.json", V2), "--world", write(tmp_path, "world.yaml", WORLD),
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"valid", "errors", "warnings", "clusters", "policies"} <= set(result)
    assert result["valid"] is True and result["errors"] == [] and len(result["warnings"]) == 1
    assert set(result["clusters"]) == {"orders", "reports", "billing"}
    orders, reports = result["clusters"]["orders"], result["clusters"]["reports"]
    assert (orders["source"], orders["policy_name"]) == ("id", "oltp")
    assert (reports["source"], reports["policy_name"]) == ("tag", "analytics")
    assert result["clusters"]["billing"]["source"] == "id" and result["clusters"]["billing"]["policy_name"] is None
    assert orders["policy"]["max_readers"] == 6 and orders["policy"]["promotion_tier"] == 5
    assert orders["policy"]["scale_down"] == {"enabled": True, "cpu_threshold": 20, "lookback_minutes": 10,
                                              "cooldown_minutes": 15}
    assert orders["policy"]["availability_zones"] is None and "source" not in orders["policy"]
    assert orders["set_by"] == {"max_readers": "policy:oltp", "instance_classes": "policy:oltp",
                                "promotion_tier": "defaults", "scale_down.cpu_threshold": "defaults",
                                "scale_down.lookback_minutes": "policy:oltp"}
    assert result["unmanaged"] == {"scratch": {"reason": "not-managed", "tag": None}}
    assert set(result["policies"]) == {"oltp", "analytics"}
    assert result["policies"]["analytics"]["used_by"] == ["reports"]
    assert result["policies"]["oltp"]["policy"]["max_readers"] == 6


def test_json_of_an_invalid_document(tmp_path, capsys):
    code, out, err = run(capsys, write(tmp_path, "policy.json", {"orders": {"max_readers": -1}}), "--json")
    assert code == 1
    result = json.loads(out)
    assert result["valid"] is False and result["clusters"] == {}
    assert result["errors"] == ["policy.orders.max_readers: must be bigger than or equal to 0"]
    assert error_lines(err) == result["errors"]


def test_db_serverless_for_a_cluster_without_a_serverless_v2_configuration_is_a_warning():
    document = {"orders": {"instance_classes": ["db.serverless", "db.r6g.large"]},
                "flex": {"instance_classes": ["db.serverless"]}}
    flex = {**_cluster("flex", writer_class="db.serverless"), "serverless_v2": {"min_acu": 0.5, "max_acu": 16}}
    result = check(document, {"clusters": [_cluster("orders"), flex]})
    assert result["valid"] is True
    assert result["warnings"] == ["world.clusters[0]: the instance_classes of cluster orders hold db.serverless, but "
                                  "it has no Serverless v2 scaling configuration (serverless_v2); db.serverless is "
                                  "only for such clusters"]


def one_line(code, out, err):
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("aurora-ops: ") and "Traceback" not in err
    return err


def test_unreadable_files_exit_2_with_one_line(tmp_path, capsys):
    document = write(tmp_path, "policy.json", V2)
    assert "cannot read policy document" in one_line(*run(capsys, str(tmp_path / "missing.json")))
    assert "cannot read policy document" in one_line(*run(capsys, str(tmp_path)))
    assert "not valid JSON or YAML" in one_line(*run(capsys, write(tmp_path, "bad.json", '{"orders": [')))
    assert "cannot read world file" in one_line(*run(capsys, document, "--world", str(tmp_path / "missing.yaml")))
    bad_world = {**WORLD, "clusters": [{**_cluster("orders"), "engine": 5}]}
    bad_world = write(tmp_path, "w.yaml", bad_world)
    assert "world.clusters[0].engine" in one_line(*run(capsys, document, "--world", bad_world))
    assert "world: must be a mapping" in one_line(*run(capsys, document, "--world", write(tmp_path, "w2.yaml", "[1]")))


def test_bad_arguments_exit_2_and_help_lists_the_command(capsys):
    for argv in (["policy"], ["policy", "check"], ["policy", "lint", "x.json"], ["policy", "check", "x", "--colour"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.startswith("aurora-ops: ")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "policy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["policy", "--help"])
    assert "check" in capsys.readouterr().out
