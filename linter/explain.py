"""`cslint explain-cold-start`: per engine workload, the four cold-start levers side by side.

For each lever the report states what the manifest does (numbers only where the manifest
gives them: probe budget, /dev/shm size, memory limit, GPU count) and the findings that leave
it unaddressed, each with the mechanism it costs. It invents no timings.
"""
from __future__ import annotations

import heapq
import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from .model import Finding, Lever
from .profiles import ProfileChoice

LEVERS = (Lever.WEIGHTS, Lever.IMAGE, Lever.NODE, Lever.RUNTIME)
MECHANISM = {
    Lever.WEIGHTS: "every start reads the weights from where the manifest says (download, volume, stream)",
    Lever.IMAGE: "a new node pulls and unpacks the images before any container starts",
    Lever.NODE: "scaling from zero waits for a node (and its accelerator) unless one is kept warm",
    Lever.RUNTIME: "vLLM loads, profiles memory, compiles and captures graphs before /health answers",
    Lever.CONFIG: "engine arguments that make the start fail or ignore settings",
}


@dataclass
class LeverReport:
    lever: Lever
    facts: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def addressed(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"lever": self.lever.value, "mechanism": MECHANISM[self.lever], "manifest": self.facts,
                "addressed": self.addressed, "findings": [f.to_json() for f in self.findings]}


@dataclass
class WorkloadBudget:
    title: str  # Kind/namespace/name
    file: str
    line: int
    container: str
    scale_to_zero: str | None
    levers: list[LeverReport]

    @property
    def unaddressed(self) -> list[str]:
        return [r.lever.value for r in self.levers if not r.addressed and r.lever in LEVERS]

    def to_json(self) -> dict[str, Any]:
        return {"workload": self.title, "file": self.file, "line": self.line, "container": self.container,
                "scale_to_zero": self.scale_to_zero, "unaddressed": self.unaddressed,
                "levers": [r.to_json() for r in self.levers]}


def budgets(results: list, context: Any = None) -> list[WorkloadBudget]:  # list[FileResult], ScaleContext
    """One budget per engine container of the run, with the findings that concern it. `context` is
    the linter's run-wide ScaleContext (its pre-pass saw every ScaledObject); else it is rebuilt."""
    from .budget_facts import lever_facts
    from .scaling import collect_scale_context, scale_to_zero_reason
    from .warmbuffer import warm_buffers
    from .workloads import iter_objects
    objects = [o for r in results for d in r.documents if d.error is None for o in iter_objects(d.data, "", d)]
    context = context if context is not None else collect_scale_context(objects)
    for obj in objects:  # as the linter hands them to rules: a predictor finds its KServe runtime
        obj.context = context  # type: ignore[attr-defined]
    buffers = warm_buffers(objects)
    # read once: a scan per container was quadratic; the object's own findings and a container's
    # apart, their order kept (a pod of 5,000 containers scanned all the pod's findings for each)
    by_container: dict[tuple, list[tuple[int, Finding]]] = {}
    for i, f in enumerate(f for r in results for f in r.findings):
        by_container.setdefault((f.file, f.document, f.object, f.container), []).append((i, f))
    out: list[WorkloadBudget] = []
    for obj in objects:
        where = (obj.document.file, obj.document.index, obj.ref)
        for tpl in obj.templates:
            for c in tpl.containers:
                if not c.is_engine:
                    continue
                mine = [f for _, f in heapq.merge(by_container.get((*where, None), ()),
                                                  by_container.get((*where, c.name), ()), key=lambda x: x[0])]
                reason = scale_to_zero_reason(obj, tpl, context)
                levers = []
                for lever in LEVERS + (Lever.CONFIG,):
                    facts = lever_facts(lever, c, reason, buffers)
                    levers.append(LeverReport(lever, facts, [f for f in mine if f.lever == lever]))
                line = obj.document.position(c.pointer).line if obj.document else 1
                out.append(WorkloadBudget(str(obj.ref), obj.document.file, line, c.name, reason, levers))
    return out


def render_text(items: list[WorkloadBudget], out: TextIO) -> None:
    if not items:
        out.write("No engine workloads found.\n")
    for item in items:
        out.write(f"{item.title}  container {item.container}  ({item.file}:{item.line})\n")
        out.write(f"  scales to zero: {item.scale_to_zero or 'no'}\n")
        for rep in item.levers:
            if rep.lever == Lever.CONFIG and rep.addressed:
                continue
            mark = "ok " if rep.addressed else "GAP"
            out.write(f"  [{mark}] {rep.lever.title}: {MECHANISM[rep.lever]}\n")
            for fact in rep.facts:
                out.write(f"        manifest: {fact}\n")
            for f in rep.findings:
                out.write(f"        {f.code} {f.name} (line {f.line}): {f.message}\n")
        gaps = ", ".join(item.unaddressed) or "none"
        out.write(f"  unaddressed levers: {gaps}\n\n")


def render_markdown(items: list[WorkloadBudget], out: TextIO) -> None:
    """Also the cold-start section a Markdown report can embed."""
    out.write("## Cold-start budget\n\n")
    if not items:
        out.write("No engine workloads found.\n")
    for item in items:
        out.write(f"### `{item.title}` — container `{item.container}`\n\n")
        out.write(f"`{item.file}:{item.line}` · scales to zero: {item.scale_to_zero or 'no'}\n\n")
        out.write("| Lever | Status | What the manifest does | Findings |\n|---|---|---|---|\n")
        for rep in item.levers:
            if rep.lever == Lever.CONFIG and rep.addressed:
                continue
            status = "addressed" if rep.addressed else "**unaddressed**"
            facts = "<br>".join(_md(f) for f in rep.facts) or "—"
            found = "<br>".join(f"`{f.code}` {_md(f.message)}" for f in rep.findings) or "—"
            out.write(f"| {rep.lever.title} | {status} | {facts} | {found} |\n")
        out.write("\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_section(results: list) -> str:
    import io
    buf = io.StringIO()
    render_markdown(budgets(results), buf)
    return buf.getvalue()


@click.command("explain-cold-start")
@click.argument("paths", nargs=-1)
@click.option("--output-format", type=click.Choice(["text", "markdown", "json"]), default="text")
@click.option("--profile", type=ProfileChoice(), default=None, help="Rule profile (portable, gke, …).")
@click.option("--goal", type=click.Choice(["auto", "cold-start", "throughput"]), default=None)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
def explain_cold_start(paths: tuple[str, ...], **opts: Any) -> None:
    """Print, per engine workload, what each cold-start lever costs and which are unaddressed.

    Exit 1 when a file does not parse (its workloads are not explained), 2 on a usage error or
    when a path cannot be read (the other paths are still explained)."""
    from .cli import EXIT_CLEAN, EXIT_ERROR, StdoutError, base_settings
    try:
        code = _explain(list(paths) or ["."], opts, base_settings)
    except BrokenPipeError:  # `| head`
        code = EXIT_CLEAN
    except (_Usage, StdoutError) as exc:
        click.echo(f"cslint: error: {exc}", err=True)
        code = EXIT_ERROR
    except Exception as exc:  # never a traceback
        click.echo(f"cslint: internal error: {type(exc).__name__}: {exc}", err=True)
        code = EXIT_ERROR
    sys.exit(code if code is not None else EXIT_CLEAN)


class _Usage(Exception):
    pass


def _explain(paths: list[str], opts: dict[str, Any], base_settings: Any) -> int:
    from .engine import Linter
    from .runner import read_paths
    from .sources import MAX_FILE_BYTES, SourceError
    try:
        settings = base_settings(opts)
        # as `cslint check` reads them: a kustomization directory is rendered, not its YAML read
        sources, errors = read_paths(paths, {}, MAX_FILE_BYTES)
    except (SourceError, ValueError) as exc:
        raise _Usage(str(exc)) from None
    except Exception as exc:
        if type(exc).__name__ == "ConfigError":
            raise _Usage(str(exc)) from None
        raise
    for error in errors:  # as `cslint check`: each path that cannot be read is an error; the others are explained
        click.echo(f"cslint: error: {error}", err=True)
    if errors and not sources:
        return 2
    linter = Linter(settings, keep_data=True)
    results = linter.lint_sources(sources)
    unexplained = [(r.source.path, f) for r in results for f in r.findings if f.code == "CS000"]
    for path, f in unexplained:  # not explained: say so, or "no engine workloads" would be a lie
        where = f"{path}:{f.position.line}:{f.position.column}" if f.position else path
        click.echo(f"cslint: {where}: CS000 {f.message} (not explained)", err=True)
    items = budgets(results, linter.context)
    fmt = opts.get("output_format") or "text"
    if fmt == "json":
        click.echo(json.dumps([i.to_json() for i in items], indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        render_markdown(items, sys.stdout)
    else:
        render_text(items, sys.stdout)
    return 2 if errors else 1 if unexplained else 0
