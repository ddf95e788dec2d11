"""The rule registry: every check is a plain function registered with ``@check``.

>>> @check("WF112", level=1, severity="error", fix="write times in increasing order")
... def time_increasing(ctx):
...     '''dimensions/time is strictly increasing.'''
...     ...
...     yield Issue("/dimensions/time", "time goes backwards at index 4")

A check receives a context (a :class:`~wellforge.validate.context.FileContext` for
``scope="file"``, a :class:`~wellforge.validate.context.DatasetContext` for
``scope="dataset"``) and yields :class:`~wellforge.validate.findings.Issue` objects. Its
docstring is the rule's documentation (``wellforge rules CODE``): first line the
summary, the rest the rationale.

Levels: 0 safe open, 1 structure, 2 semantics/units, 3 data sanity, 4 physics,
5 dataset. Checks at level 3 and above may declare ``needs``: names of streaming
reducers (``wellforge.validate.stream``) whose results they read; the runner switches
on exactly the reducers that the selected checks need, and reads each file once.

The checks live in ``validate/checks/`` and register themselves when that package is
imported (``checks.load_all()``, by the runner, the config and the CLI): the registry
knows no check module, so the checks can import it without a circle.
"""

from __future__ import annotations

import inspect
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .findings import Issue, Severity

LEVELS = {
    0: "safe open",
    1: "structure",
    2: "semantics and units",
    3: "data sanity",
    4: "physics",
    5: "dataset",
}
CODE_RE = re.compile(r"^WF\d{3}$")
INTERNAL_CODE = "WF000"


@dataclass(frozen=True)
class Rule:
    code: str
    level: int
    severity: Severity
    func: Callable
    fix: str = ""
    scope: str = "file"  # "file" | "dataset"
    needs: tuple[str, ...] = ()
    refuses: bool = False  # a finding means the input was refused (exit 3)
    #: other severities some of its findings carry, each with the condition (shown by
    #: ``wellforge rules``): e.g. (("info", "on plain Well files"),)
    also: tuple[tuple[Severity, str], ...] = ()

    @property
    def severities(self) -> tuple[Severity, ...]:
        """Every severity a finding of this rule can carry (the first: the default)."""
        return (self.severity, *(s for s, _ in self.also))

    @property
    def severity_text(self) -> str:
        """The severity as ``wellforge rules`` lists it: ``error``, or ``warning; error
        when the card declares the axis's BC``."""
        return "; ".join([self.severity.label] + [f"{s.label} {why}" for s, why in self.also])

    @property
    def name(self) -> str:
        return self.func.__name__.replace("_", "-")

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return " ".join(doc.split("\n\n")[0].split()) if doc else self.name

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.func) or ""


REGISTRY: dict[str, Rule] = {}


def check(code: str, *, level: int, severity: str, fix: str = "", scope: str = "file",
          needs: Iterable[str] = (), refuses: bool = False,
          also: Iterable[tuple[str, str]] = ()):
    """Register a check function under a stable ``code``. ``also``: (severity, when)
    pairs for findings that carry another severity than the default; a finding never
    carries a severity its rule does not list."""
    if not CODE_RE.match(code):
        raise ValueError(f"rule code {code!r} must look like WF123")
    if level not in LEVELS:
        raise ValueError(f"{code}: level must be one of {sorted(LEVELS)}")
    if scope not in ("file", "dataset"):
        raise ValueError(f"{code}: scope must be 'file' or 'dataset'")

    def deco(func):
        if code in REGISTRY and REGISTRY[code].func.__qualname__ != func.__qualname__:
            raise ValueError(f"rule code {code} registered twice "
                             f"({REGISTRY[code].func.__qualname__}, {func.__qualname__})")
        if not inspect.getdoc(func):
            raise ValueError(f"{code}: a check needs a docstring (it is the rule's doc)")
        REGISTRY[code] = Rule(code, level, Severity.parse(severity), func, fix, scope,
                              tuple(needs), refuses,
                              tuple((Severity.parse(s), why) for s, why in also))
        return func

    return deco


def _internal(ctx):
    """A check raised an exception; the run went on.

    This is a bug in wellforge (or a file so unusual that a check did not expect it):
    please report it with the message. The other checks still ran.
    """
    return ()


check(INTERNAL_CODE, level=0, severity="error",
      fix="report this as a wellforge bug, with the message")(_internal)


def matches(code: str, patterns: Iterable[str]) -> bool:
    return any(code.startswith(p) for p in patterns)


def run_check(rule: Rule, ctx) -> tuple[list[Issue], str | None]:
    """Run one check; an exception becomes an error message instead of a crash."""
    try:
        out = rule.func(ctx)
        issues = list(out) if out is not None else []
        return issues, None
    except Exception as e:  # noqa: BLE001 - the contract: a failing check is a finding
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
        return [], f"check {rule.code} ({rule.name}) raised {type(e).__name__}: {e} [{where}]"
