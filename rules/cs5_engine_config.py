"""Engine command-line mistakes that vLLM accepts silently (CS501–CS503)."""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.vllm_fixes import positional_to_flag_ops, remove_tokens_ops, split_inline_ops
from cslint.workloads import Container

CS501_DOCS = """## What it does
Finds `--config=FILE`. vLLM only reads a config file given as two tokens, `--config FILE`; the
`=` form is stored and never read.

## Why it matters for cold start
Every setting in the file — utilization, load format, eager mode — is silently ignored, so the
engine starts with defaults you did not test.

## Example
```yaml
args: ["--config=/etc/vllm/config.yaml"]
```

## Use instead
```yaml
args: ["--config", "/etc/vllm/config.yaml"]
```

## Fix safety
Safe: splits the token in two.
"""

CS502_DOCS = """## What it does
Finds `python -m vllm.entrypoints.openai.api_server MODEL` with a positional model.

## Why it matters for cold start
That entrypoint ignores the positional and serves its default model (`Qwen/Qwen3-0.6B`): the
pod starts, downloads the wrong model and reports ready.

## Example
```yaml
command: ["python3", "-m", "vllm.entrypoints.openai.api_server", "meta-llama/Llama-3.1-8B"]
```

## Use instead
```yaml
command: ["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "meta-llama/Llama-3.1-8B"]
```

## Fix safety
Safe: inserts `--model` before the positional.
"""

CS503_DOCS = """## What it does
Finds the official vLLM image (`ENTRYPOINT ["vllm", "serve"]`) used without `command` while
`args` start with `vllm serve` or `serve`, or are a whole command of their own (`sh -c "vllm serve
…"`, `python3 -m vllm.entrypoints.openai.api_server …`).

## Why it matters for cold start
The container runs `vllm serve vllm serve …` and exits with "unrecognized arguments": the pod
crash-loops and never serves.

## Example
```yaml
image: vllm/vllm-openai:v0.11.0
args: ["vllm", "serve", "Qwen/Qwen3-8B"]
```

## Use instead
```yaml
args: ["Qwen/Qwen3-8B"]
```

## Fix safety
Safe: removes the duplicated tokens. No fix for a whole command in `args`: move it under
`command:` yourself.
"""

META_501 = RuleMeta(code="CS501", name="config-flag-ignored", lever=Lever.CONFIG, severity=Severity.ERROR,
                    summary="--config=FILE is silently ignored by vLLM", scope=Scope.CONTAINER,
                    fix=FixAvailability.ALWAYS, engine_only=True, docs=CS501_DOCS)
META_502 = RuleMeta(code="CS502", name="api-server-positional-model", lever=Lever.CONFIG, severity=Severity.ERROR,
                    summary="The api_server entrypoint ignores a positional model", scope=Scope.CONTAINER,
                    fix=FixAvailability.ALWAYS, engine_only=True, docs=CS502_DOCS)
META_503 = RuleMeta(code="CS503", name="duplicated-entrypoint", lever=Lever.CONFIG, severity=Severity.ERROR,
                    summary="args repeat the image's `vllm serve` entrypoint", scope=Scope.CONTAINER,
                    fix=FixAvailability.SOMETIMES, engine_only=True, docs=CS503_DOCS)


def check_config_flag(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    for flag in (args.config_files if args else ()):
        if flag.inline:
            fix = Fix(Applicability.SAFE, tuple(split_inline_ops(args, flag)), "Split into --config FILE")
            yield Violation(f"{flag.token.value!r} is silently ignored: vLLM reads a config file only as "
                            f"`--config {flag.value_text}` (two tokens)", flag.token.path, fix, span=flag.token.span)


def check_positional_model(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    if args is None or args.entrypoint != "api-server" or not args.positionals:
        return
    tok = args.positionals[0]
    fix = Fix(Applicability.SAFE, tuple(positional_to_flag_ops(args, tok, "--model")), "Use --model MODEL")
    yield Violation(f"api_server ignores the positional model {tok.value!r} and serves its default model — "
                    f"pass it as --model {tok.value}", tok.path, fix, span=tok.span)


def check_duplicated_entrypoint(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    first = args.command_in_args if args else None
    if first is not None:
        yield Violation(f"the image's entrypoint is `vllm serve` and there is no `command`: args starting with "
                        f"{first.value!r} run as `vllm serve {first.value} …` and exit — put these words under "
                        "`command:` instead of `args:`", first.path, span=first.span)
        return
    dup = args.duplicated_entrypoint if args else ()
    if not dup:
        return
    words = " ".join(t.value for t in dup)
    fix = Fix(Applicability.SAFE, tuple(remove_tokens_ops(args, list(dup))), f"Remove {words!r} from args")
    yield Violation(f"the image's entrypoint is already `vllm serve`: args starting with {words!r} run "
                    f"`vllm serve {words} …` and exit — drop them", dup[0].path, fix, span=dup[0].span)


RULES = [(META_501, check_config_flag), (META_502, check_positional_model), (META_503, check_duplicated_entrypoint)]
