"""docs/rules.md is generated from the rules' metadata; this fails when it is stale."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cslint.cli import main
from cslint.docs import demote_headings, rules_markdown
from cslint.registry import builtin_rules

ROOT = Path(__file__).resolve().parent.parent


def test_rules_md_is_up_to_date():
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "docs/rules.md is stale: run `cslint docs`"


def test_every_rule_has_a_section_with_the_help_uri_anchor():
    text = rules_markdown()
    for rule in builtin_rules():
        anchor = rule.meta.help_uri.rsplit("#", 1)[1]
        assert f"## {rule.code} {rule.meta.name}\n" in text
        assert f"(#{anchor})" in text


def test_headings_in_code_blocks_are_kept():
    assert demote_headings("## A\n```\n## not a heading\n```") == "#### A\n```\n## not a heading\n```"


def test_docs_check_command(tmp_path):
    target = tmp_path / "rules.md"
    assert CliRunner().invoke(main, ["docs", "--check", "--output", str(target)]).exit_code == 1
    assert CliRunner().invoke(main, ["docs", "--output", str(target)]).exit_code == 0
    assert CliRunner().invoke(main, ["docs", "--check", "--output", str(target)]).exit_code == 0
