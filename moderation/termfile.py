"""Term lists: the file format and its parser.

Term file (UTF-8; the server will point ``METAHALL_MODERATION_TERMS`` at one)::

    # comment lines start with '#'; blank lines are ignored
    代开发票                 <- action defaults to block
    free bitcoin<TAB>block
    click here,flag          <- a comma also separates the action column
    笨蛋<TAB>redact
    傻瓜相机<TAB>allow          <- exception: matches inside it are dropped

Actions: ``block``, ``flag``, ``redact`` and ``allow``. The action column is whatever follows
the last tab (or, without a tab, the last comma); an unknown action is an error with its line
number, so a term containing a comma needs a tab before its action.
Blank lines and lines starting with ``#`` are ignored; the file may start with a BOM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeAlias

from moderation.errors import TermFileError

__all__ = ["ACTIONS", "Action", "Term", "parse_terms", "read_terms"]

Action: TypeAlias = Literal["block", "flag", "redact", "allow"]
ACTIONS: Final[tuple[Action, ...]] = ("block", "flag", "redact", "allow")


@dataclass(frozen=True, slots=True)
class Term:
    """One line of a term list."""

    text: str
    """The term as written."""
    action: Action = "block"
    """What a match does."""
    line: int | None = None
    """1-based line in the term file, for error messages."""


def parse_terms(lines: Iterable[str], *, source: str = "<lines>") -> list[Term]:
    """Parse term-file lines; :class:`TermFileError` names the first bad line."""
    terms: list[Term] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        sep = "\t" if "\t" in line else "," if "," in line else ""
        text, _, action = line.rpartition(sep) if sep else (line, "", "")
        text, action = text.strip(), action.strip().lower() or "block"
        if action not in ACTIONS:
            hint = "; a term containing a comma needs a tab before its action" if sep == "," else ""
            msg = f"unknown action {action!r} (expected block, flag, redact or allow){hint}"
            raise TermFileError(msg, source=source, line=number)
        if not text:
            raise TermFileError("empty term", source=source, line=number)
        terms.append(Term(text, action, number))
    return terms


def read_terms(path: str | Path) -> list[Term]:
    """Read and parse a term file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TermFileError(f"cannot read term file: {exc}", source=str(path)) from exc
    return parse_terms(text.splitlines(), source=str(path))
