"""Every fixture yields exactly the findings its `# expect:` comments declare."""
import pytest

from fixture_runner import actual, cases, expected


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_fixture(case):
    assert actual(case) == expected(case)


def test_every_rule_has_a_fixture():
    from cslint.registry import builtin_rules
    from fixture_runner import ROOT
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    missing = [r.code for r in builtin_rules() if r.code not in folders]
    assert missing == []


def test_golden_manifest_is_clean():
    golden = [c for c in cases(["golden"])]
    assert golden, "fixtures/golden/ must hold at least one manifest"
    for case in golden:
        assert expected(case) == []
        assert actual(case) == []
