"""The files a deployer or a contributor reads first: LICENSE, the version and
CHANGELOG.md, the deploy configuration (samconfig.toml and `make deploy`), and
the links of SECURITY.md and docs/deploy.md.

The deploy checks are the ones that matter. A deploy from samconfig.toml must
show its change set first. The default profile must pass the deploy gate
(PolicyGate: the document's by-id clusters equal ManagedClusterIds). The prod
profile must say what it wants for every parameter, because an update keeps
the previous value of a parameter it doesn't give."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from datetime import date
from pathlib import Path

import pytest

from aurora_ops.core.policy import iam_list_mismatches, parse_document
from aurora_ops_sim.template import load_template

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG_TEXT = (ROOT / "samconfig.toml").read_text()
SAMCONFIG = tomllib.loads(SAMCONFIG_TEXT)
PROFILES = sorted(name for name, value in SAMCONFIG.items() if isinstance(value, dict))
PARAMETERS = load_template(ROOT / "template.yaml")["Parameters"]
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"

# sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
APACHE_COPYRIGHT_TEMPLATE = "   Copyright [yyyy] [name of copyright owner]"
COPYRIGHT = "   Copyright 2026 the aurora-ops authors"

# Keep a Changelog headings: "## [Unreleased]" or "## [0.6.0] - 2026-11-26".
RELEASE_HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?[ \t]*$", re.M)
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:\.dev(\d+))?$")

# In [prod.deploy.parameters]: parameters deliberately left at the template's default.
LEFT_AT_DEFAULT = re.compile(r"^\s*#\s*left at the template default:(.*)$", re.M | re.I)


def deploy_parameters(profile: str) -> dict:
    return SAMCONFIG[profile].get("deploy", {}).get("parameters", {})


def overrides(profile: str) -> dict[str, str]:
    """parameter_overrides as SAM reads the forms this file uses: one Key=Value
    per entry, the value bare or in quotes with \\" (or \\') inside.
    test_sam_reads_the_profiles_as_these_tests_do holds this to SAM's own parser."""
    values = {}
    for entry in deploy_parameters(profile).get("parameter_overrides", []):
        key, sep, value = entry.partition("=")
        assert sep and key, f"[{profile}] {entry!r}: not Key=Value"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")
        else:
            assert not set(value) & set(" \"'"), \
                f"[{profile}] {entry!r}: SAM cuts a bare value at a space or quote; put it in double quotes"
        assert key not in values, f"[{profile}] {key} given twice"
        values[key] = value
    return values


def section(header: str) -> str:
    """The raw text of one samconfig.toml table, comments included."""
    start = SAMCONFIG_TEXT.index(f"[{header}]")
    following = re.search(r"^\[", SAMCONFIG_TEXT[start + 1:], re.M)
    return SAMCONFIG_TEXT[start:start + 1 + following.start()] if following else SAMCONFIG_TEXT[start:]


def _version(text: str) -> tuple[tuple[int, int, int], int | None]:
    match = VERSION.match(text)
    assert match, f"{text!r} is not X.Y.Z or X.Y.Z.devN"
    major, minor, patch, dev = match.groups()
    return (int(major), int(minor), int(patch)), None if dev is None else int(dev)


# ------------------------------------------------------------------ license

def test_license_is_the_apache_2_0_text_with_our_copyright():
    text = (ROOT / "LICENSE").read_text()
    assert text.count(COPYRIGHT + "\n") == 1
    standard = text.replace(COPYRIGHT + "\n", APACHE_COPYRIGHT_TEMPLATE + "\n")
    assert hashlib.sha256(standard.encode()).hexdigest() == APACHE_2_0_SHA256, \
        "LICENSE differs from the Apache License 2.0 text in more than the copyright line"


# ------------------------------------------------------- version, changelog

def test_the_version_is_the_newest_changelog_release():
    """Either the top section is a release, "## [X.Y.Z] - YYYY-MM-DD", and that
    is the version; or it is "## [Unreleased]" and the version is a .devN of a
    release newer than every one below it."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = RELEASE_HEADING.findall((ROOT / "CHANGELOG.md").read_text())
    assert releases, "CHANGELOG.md has no release heading"
    top, _ = releases[0]
    numbered = [name for name, _ in releases if name != "Unreleased"]
    release, dev = _version(version)
    if top == "Unreleased":
        assert dev is not None, f"CHANGELOG.md starts with [Unreleased]: the version must be X.Y.Z.devN, not {version}"
        assert not numbered or release > _version(numbered[0])[0], \
            f"{version} must be newer than the newest release in CHANGELOG.md, {numbered[0]}"
    else:
        assert version == top, f"pyproject.toml says {version}; the newest release in CHANGELOG.md is {top}"


def test_changelog_releases_are_dated_and_newest_first():
    releases = RELEASE_HEADING.findall((ROOT / "CHANGELOG.md").read_text())
    names = [name for name, _ in releases]
    assert names.count("Unreleased") <= 1 and "Unreleased" not in names[1:], "[Unreleased] only once, at the top"
    numbered = [(name, when) for name, when in releases if name != "Unreleased"]
    for name, when in numbered:
        _, dev = _version(name)
        assert dev is None, f"release {name}: no .dev in a release"
        date.fromisoformat(when)  # every release has a YYYY-MM-DD date
    versions = [_version(name)[0] for name, _ in numbered]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions), names
    assert [when for _, when in numbered] == sorted((when for _, when in numbered), reverse=True)


# ------------------------------------------------------------ samconfig.toml

def test_there_are_the_two_documented_profiles():
    assert {"default", "prod"} <= set(PROFILES)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_shows_its_change_set_before_deploying(profile):
    assert deploy_parameters(profile).get("confirm_changeset") is True, \
        f"[{profile}.deploy.parameters] needs confirm_changeset = true"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_override_is_a_template_parameter_cloudformation_would_accept(profile):
    """SAM drops a key the template doesn't have without a word, so a typo'd
    parameter would silently keep its old value."""
    for key, value in overrides(profile).items():
        assert key in PARAMETERS, f"[{profile}] {key} is no parameter of template.yaml"
        spec = PARAMETERS[key]
        items = value.split(",") if spec["Type"] == "CommaDelimitedList" else [value]
        for item in items:
            if "AllowedPattern" in spec:
                assert re.fullmatch(spec["AllowedPattern"], item), f"[{profile}] {key}: {item!r}"
            if "AllowedValues" in spec:
                assert item in [str(v) for v in spec["AllowedValues"]], f"[{profile}] {key}: {item!r}"
        if spec["Type"] == "Number":
            assert spec.get("MinValue", float("-inf")) <= float(value) <= spec.get("MaxValue", float("inf"))
        assert len(value) <= spec.get("MaxLength", len(value)), f"[{profile}] {key} is too long"


def test_the_default_profile_is_one_cluster_in_observe_mode_that_the_deploy_gate_accepts():
    values = overrides("default")
    assert values["Mode"] == "observe"
    document = parse_document(json.loads(values["PolicyDocument"]))  # InvalidPolicy: the gate would refuse it
    managed = values["ManagedClusterIds"].split(",")
    assert iam_list_mismatches(document, managed) == []
    assert len(managed) == 1 and list(document.clusters) == managed and not document.selects_by_tag


def test_prod_sets_every_parameter_or_says_it_is_left_at_the_default():
    text = section("prod.deploy.parameters")
    left = {name.strip() for line in LEFT_AT_DEFAULT.findall(text) for name in line.split(",") if name.strip()}
    given = set(overrides("prod"))
    assert left <= set(PARAMETERS), f"unknown parameters in the comment: {sorted(left - set(PARAMETERS))}"
    assert not left & given, f"both set and left at the default: {sorted(left & given)}"
    missing = set(PARAMETERS) - given - left
    assert not missing, (f"[prod] sets neither {sorted(missing)} nor names them in a comment "
                         "'# left at the template default: A, B'")


def test_prod_reads_its_document_from_the_layer_and_acts():
    values = overrides("prod")
    assert values["PolicyDocument"] == "", "prod's document is policy/policy.json (an empty PolicyDocument)"
    assert values["Mode"] == "act"
    assert values["ManagedClusterIds"]


def test_prod_clusters_agree_with_policy_json_once_it_names_any():
    document = parse_document(json.loads((ROOT / "policy" / "policy.json").read_text()))
    if not document.clusters and not document.selects_by_tag:
        pytest.skip("policy/policy.json is the repository's empty document: the deploy gate refuses prod until "
                    "you write yours (docs/deploy.md)")
    assert iam_list_mismatches(document, overrides("prod")["ManagedClusterIds"].split(",")) == []


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="no .venv-sam (make setup)")
def test_sam_reads_the_profiles_as_these_tests_do():
    script = (
        "import json, sys\n"
        "from samcli.commands.deploy.command import cli\n"
        "out = {}\n"
        "for env in sys.argv[1:]:\n"
        "    p = cli.make_context('deploy', ['--config-env', env]).params\n"
        "    out[env] = {'overrides': p['parameter_overrides'], 'confirm': p['confirm_changeset']}\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([str(SAM_PYTHON), "-c", script, *PROFILES], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, timeout=120, check=True)
    read = json.loads(result.stdout.strip().splitlines()[-1])
    for profile in PROFILES:
        assert read[profile] == {"overrides": overrides(profile), "confirm": True}, profile


# ------------------------------------------------------------- make deploy

def _make_dry_run(*args: str, env: dict | None = None) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                            env={**environment, **(env or {})}, timeout=120, check=True)
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("args, env, profile", [
    (("deploy",), None, "default"),
    (("deploy", "ENV=prod"), None, "prod"),
    (("deploy-prod",), None, "prod"),
    (("deploy",), {"ENV": "prod"}, "default"),  # an ENV from the environment never picks the stack
])
def test_make_deploy_builds_then_deploys_the_profile_with_the_projects_sam(args, env, profile):
    lines = _make_dry_run(*args, env=env)
    deploys = [i for i, line in enumerate(lines) if " sam deploy " in f" {line} " or "/sam deploy" in line]
    assert len(deploys) == 1, lines
    deploy = lines[deploys[0]]
    assert ".venv-sam/bin/sam deploy" in deploy and f"--config-env {profile} " in f"{deploy} ", deploy
    builds = [i for i, line in enumerate(lines) if ".venv-sam/bin/sam build" in line]
    assert builds and builds[0] < deploys[0], "make deploy must build first"


def test_make_help_lists_deploy():
    helped = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("#   ")]
    assert any("make deploy " in line for line in helped)
    assert any("ENV=prod" in line for line in helped)


# ------------------------------------------------------------------- links

def _anchors(markdown: str) -> set[str]:
    """GitHub's heading ids: lowercase, punctuation but - and _ dropped, spaces to -."""
    found, seen = set(), {}
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


@pytest.mark.parametrize("page", ["SECURITY.md", "CHANGELOG.md", "docs/deploy.md"])
def test_links_resolve(page):
    path = ROOT / page
    text = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", path.read_text(), flags=re.M | re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{page}: {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked.read_text()), f"{page}: {target}: no such heading"
