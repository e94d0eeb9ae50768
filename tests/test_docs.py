"""The docs hold together: README.md is short and reaches every page of docs/,
every relative link (and #anchor) resolves, every `make` target and
`aurora-ops` command the docs show exists, and every Step Functions graph is
what scripts/asl_mermaid.py draws from its ASL file today."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from aurora_ops_sim import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 200
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, *(p for p in (ROOT / "SECURITY.md", ROOT / "CHANGELOG.md") if p.exists())]
TOP_LEVEL = ("LICENSE", "SECURITY.md", "CHANGELOG.md")  # each that exists is linked from the README

_FENCE = re.compile(r"^ {0,3}(```|~~~)[^\n]*\n.*?^ {0,3}\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
_HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.I)
# A command at the start of a line, after a pipe, ;, && or a path (.venv/bin/), or
# at the start of an inline code span: not `--stack-name aurora-ops` or a tag
# `aurora-ops:policy`, nor an SNS subject `aurora-ops scale-down: ...`.
_COMMAND_START = r"(?:^[ \t]*(?:\$[ \t]+)?|[|;&(][ \t]*|/)"
_MAKE = re.compile(_COMMAND_START + r"make((?:[ \t]+[a-z][a-z0-9_-]*(?![\w:/.-]))+)", re.M)
_AURORA_OPS = re.compile(_COMMAND_START + r"aurora-ops((?:[ \t]+(?:--)?[a-z][a-z0-9-]*(?![\w:/.=-])){1,2})", re.M)


def _asl_mermaid():
    spec = importlib.util.spec_from_file_location("asl_mermaid", ROOT / "scripts" / "asl_mermaid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------ parsing


def without_code(text: str) -> str:
    """The text with fenced blocks and inline code spans blanked out (links there are not links)."""
    text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return _INLINE_CODE.sub(" ", text)


def code_of(text: str) -> list[str]:
    """Every fenced block's body and every inline code span: where the docs show commands."""
    blocks = [m.group(0) for m in _FENCE.finditer(text)]
    rest = _FENCE.sub("\n", text)
    return blocks + [m.group(2) for m in _INLINE_CODE.finditer(rest)]


def links(text: str) -> list[str]:
    prose = without_code(text)
    return [m.group(1) for m in _INLINE_LINK.finditer(prose)] + [m.group(1) for m in _REFERENCE.finditer(prose)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text (no markup) lowercased, punctuation but
    - and _ dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every #fragment a markdown text has: its headings (GitHub numbers repeats -1, -2, ...)
    and explicit <a id=...> anchors."""
    seen: Counter[str] = Counter()
    found = set()
    for match in _HEADING.finditer(_FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)):
        base = slug(match.group(2))
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found | set(_HTML_ANCHOR.findall(text))


def is_relative(target: str) -> bool:
    return bool(target) and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("//")


def broken_links(text: str, source: Path) -> list[str]:
    """Each relative link of `text` (a page at `source`) whose file, or whose #anchor
    in a markdown file, does not exist: '<target>: why'."""
    broken = []
    for target in links(text):
        if not is_relative(target):
            continue
        path_part, _, fragment = target.partition("#")
        path = (source.parent / unquote(path_part)).resolve() if path_part else None
        if path is not None and not path.exists():
            broken.append(f"{target}: no such file")
            continue
        if fragment and (path is None or path.suffix == ".md"):
            page = text if path is None else path.read_text()
            if unquote(fragment).lower() not in anchors(page):
                broken.append(f"{target}: no heading #{fragment} in {(path or source).name}")
    return broken


def linked_pages(page: Path) -> set[Path]:
    """The markdown files of the repository that `page` links to."""
    found = set()
    for target in links(page.read_text()):
        path_part = target.partition("#")[0]
        if is_relative(target) and path_part:
            path = (page.parent / unquote(path_part)).resolve()
            if path.suffix == ".md" and path.is_file() and ROOT in path.parents:
                found.add(path)
    return found


def make_targets_shown(text: str) -> set[str]:
    return {target for code in code_of(text) for m in _MAKE.finditer(code) for target in m.group(1).split()}


def aurora_ops_commands_shown(text: str) -> set[tuple[str, ...]]:
    """Each `aurora-ops <command> [<word>]` shown, as a tuple of words (the second word:
    a subcommand such as `policy check`, or a positional argument), or a top-level
    option alone (`aurora-ops --version`)."""
    found = set()
    for code in code_of(text):
        for match in _AURORA_OPS.finditer(code):
            words = tuple(match.group(1).split())
            found.add(words[:1] if words[0].startswith("-") else words)
    return found


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    targets = set()
    for match in re.finditer(r"^([A-Za-z0-9_][A-Za-z0-9_. -]*?)\s*::?(?![=])", text, re.M):
        targets.update(match.group(1).split())
    return targets


def command_exists(words: tuple[str, ...]) -> bool:
    """Whether the aurora-ops CLI knows the command: `--help` after it (or the top-level
    option alone) exits 0; an unknown command or option is a usage error (exit 2)."""
    argv = list(words) if words[0].startswith("-") else [*words, "--help"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(argv)
        except SystemExit as exit_:
            return exit_.code in (0, None)
    return True


# ------------------------------------------------------------------ the checks


def test_readme_is_at_most_200_lines():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/ (at most {MAX_README_LINES})"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_relative_link_resolves(page):
    assert broken_links(page.read_text(), page) == []


def test_every_docs_page_is_reachable_from_the_readme():
    reached, todo = {README.resolve()}, [README.resolve()]
    while todo:
        for page in linked_pages(todo.pop()) - reached:
            reached.add(page)
            todo.append(page)
    unreachable = [_rel(p) for p in DOCS if p.resolve() not in reached]
    assert unreachable == [], f"not reachable from README.md through links: {unreachable}"


def test_the_readme_links_the_license_security_policy_and_changelog():
    linked = {p for p in linked_pages(README)} | {
        (ROOT / t).resolve() for t in links(README.read_text()) if is_relative(t) and t.partition("#")[0] in TOP_LEVEL}
    missing = [name for name in TOP_LEVEL if (ROOT / name).exists() and (ROOT / name).resolve() not in linked]
    assert missing == [], f"README.md does not link {missing}"


def test_every_make_target_the_docs_show_exists():
    known = makefile_targets()
    shown = {(target, _rel(page)) for page in PAGES for target in make_targets_shown(page.read_text())}
    assert {"demo", "test"} <= {target for target, _ in shown if _ == "README.md"}, "README: make demo, make test"
    assert sorted(f"make {t} ({page})" for t, page in shown if t not in known) == []


def test_every_aurora_ops_command_the_docs_show_exists():
    shown = {(words, _rel(page)) for page in PAGES for words in aurora_ops_commands_shown(page.read_text())}
    assert {words[0] for words, _ in shown} >= {"simulate", "chaos", "policy"}
    unknown = sorted(f"aurora-ops {' '.join(words)} ({page})" for words, page in shown if not command_exists(words))
    assert unknown == []


def test_every_state_machine_graph_is_what_asl_mermaid_draws_today():
    asl_mermaid = _asl_mermaid()
    drawn: Counter[str] = Counter()
    for page in PAGES:
        for asl, written, expected in asl_mermaid.generated_blocks(page.read_text()):
            drawn[asl] += 1
            assert written == expected, (f"{_rel(page)}: the graph of {asl} is stale; "
                                         f"run .venv/bin/python scripts/asl_mermaid.py --update {_rel(page)}")
    machines = sorted(_rel(p) for p in (ROOT / "statemachines").glob("*.asl.json"))
    assert sorted(drawn) == machines, "every state machine has its graph in docs/, and no graph names a missing one"


# ------------------------------------------------------------------ the checkers check


def test_the_link_checker_finds_broken_links():
    page = ROOT / "docs" / "made-up.md"
    text = "\n".join([
        "# A page", "## Second `part`: here", "## Second `part`: here",
        "[ok](policy.md) [ok](../README.md) [ok](#a-page) [ok](#second-part-here-1)",
        "[ok](operations.md#observe-mode) [ok](https://example.com/nope.md) [ok][ref]",
        "[bad](nope.md) [bad](#nowhere) [bad](policy.md#no-such-heading) [bad][bad-ref]",
        "`[in code](nope.md)`", "```", "[in a block](nope.md)", "```",
        "[ref]: triggers.md#rds-event-ids", "[bad-ref]: ../no-such-dir/file.md",
    ])
    assert broken_links(text, page) == [
        "nope.md: no such file", "#nowhere: no heading #nowhere in made-up.md",
        "policy.md#no-such-heading: no heading #no-such-heading in policy.md",
        "../no-such-dir/file.md: no such file",
    ]


def test_slugs_follow_githubs_rules():
    assert slug("The fixtures in `events/`") == "the-fixtures-in-events"
    assert slug("`test_iam_data.py`: does every statement mean something to AWS?") == \
        "test_iam_datapy-does-every-statement-mean-something-to-aws"
    assert slug("Reading the demo's output") == "reading-the-demos-output"
    assert slug("RestoreTargetPattern: the trade-off") == "restoretargetpattern-the-trade-off"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1", "a-2"}


def test_the_command_scanners_find_what_a_page_shows():
    text = "\n".join([
        "```sh", "make setup && make demo   # then make believe", "$ make lint build",
        ".venv/bin/aurora-ops simulate scale-up --world W --input -",
        "echo '{}' | aurora-ops policy check - --json", "sam delete --stack-name aurora-ops",
        "aurora-ops --version", "aurora-ops --frobnicate", "STACK=aurora-ops", "```",
        "Tag it `aurora-ops:policy`; subject `aurora-ops scale-down: 2 deleted`; run `make test` or `aurora-ops chaos`.",
        "To make sure, see aurora-ops frobnicate in prose (not code).",
    ])
    assert make_targets_shown(text) == {"setup", "demo", "lint", "build", "test"}
    assert aurora_ops_commands_shown(text) == {("simulate", "scale-up"), ("policy", "check"), ("chaos",),
                                               ("--version",), ("--frobnicate",)}
    assert command_exists(("policy", "check")) and not command_exists(("frobnicate",))
    assert not command_exists(("policy", "frobnicate")) and not command_exists(("--frobnicate",))
