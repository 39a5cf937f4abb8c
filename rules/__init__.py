"""The cslint rule pack: one module per rule (or per family), metadata beside the check.

Each module declares `META` (a `cslint.model.RuleMeta`) and `check(target, settings)`, a
generator of `Violation`s, where `target` is what `META.scope` names. The module docstring is
the rule's documentation, printed by `cslint rule CODE`.
"""
