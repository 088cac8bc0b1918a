"""Leads as files for the exhibitor: CSV (UTF-8 with a BOM, so Excel shows Chinese) and XLSX.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return) are prefixed with an apostrophe: visitors typed them, so they must stay
text (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl import Workbook

from rooms.expo.models import Lead

__all__ = ["leads_csv", "leads_xlsx", "COLUMNS"]

COLUMNS = ("name", "email", "phone", "company", "title", "note", "display_name", "user_id",
           "consent_at", "consent_lang", "consent_text")


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _rows(leads: Sequence[Lead]) -> list[list[str]]:
    out = []
    for ld in leads:
        c = ld.contact
        out.append([_cell(x) for x in (
            c.get("name", ""), c.get("email", ""), c.get("phone", ""), c.get("company", ""),
            c.get("title", ""), c.get("note", ""), ld.display_name, ld.user_id,
            _iso(ld.consent_at), ld.consent_lang, ld.consent_text)])
    return out


def leads_csv(leads: Sequence[Lead]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    w.writerows(_rows(leads))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def leads_xlsx(leads: Sequence[Lead], title: str = "Leads") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    # Excel sheet names: at most 31 characters, none of / \ : * ? [ ] (openpyxl refuses them)
    safe = re.sub(r"[/\\:*?\[\]]", " ", title).strip().strip("'")[:31].strip()
    ws.title = safe or "Leads"
    ws.append(list(COLUMNS))
    for row in _rows(leads):
        ws.append(row)
    for col, width in zip("ABCDEFGHIJK", (18, 26, 16, 22, 16, 30, 16, 34, 22, 8, 60), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
