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


def test_docs_page_is_replaced_whole_or_left_as_it_was(tmp_path, monkeypatch):
    """A write that fails midway (a full disk) leaves the previous page byte for byte and no
    temporary file, as a report file (-o) does."""
    import cslint.docs as docs
    target = tmp_path / "rules.md"
    target.write_text("the previous page\n", encoding="utf-8")
    monkeypatch.setattr(docs, "rules_markdown", lambda: "x" * (1 << 20))
    import cslint.atomicwrite as atomicwrite
    real_fsync = atomicwrite.os.fsync

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomicwrite.os, "fsync", full_disk)
    result = CliRunner().invoke(main, ["docs", "--output", str(target)])
    monkeypatch.setattr(atomicwrite.os, "fsync", real_fsync)
    assert result.exit_code == 2 and "No space left on device" in result.output
    assert target.read_text(encoding="utf-8") == "the previous page\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rules.md"]
    assert CliRunner().invoke(main, ["docs", "--output", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8") == "x" * (1 << 20)
