"""Leads: a visitor shares their contact only with explicit consent (the consent text and its
time are stored), the exhibitor sees and exports them (CSV, XLSX), and a withdrawal deletes
the lead."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from server.expo_models import LeadRow
from tests.expo.live import exhibitor, organiser, visitor
from tests.helpers import LiveServer, connect

CONTACT = {"name": "王小明", "email": "xm@example.com", "phone": "+86 138 0000 0000",
           "company": "=HYPERLINK(\"http://evil\")", "note": "想了解茶具"}


async def lead_rows(live: LiveServer) -> int:
    async with live.app.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(LeadRow))).scalar_one())


async def test_share_needs_explicit_consent_and_a_way_to_reach_you(server: LiveServer) -> None:
    admin = await organiser(server)
    _, _, booth = await exhibitor(server, admin, "teashop", "b20", "Tea Shop")
    v, _ = await visitor(server, "Xiaoming")
    path = f"/api/expo/booths/{booth}/lead"
    for body, field in (({"contact": CONTACT}, "consent"),
                        ({"consent": "yes", "contact": CONTACT}, "consent"),
                        ({"consent": 1, "contact": CONTACT}, "consent"),
                        ({"consent": True, "contact": {"name": "X"}}, "contact"),
                        ({"consent": True, "contact": {"email": "not-an-email"}}, "contact.email"),
                        ({"consent": True, "contact": {"phone": "call me"}}, "contact.phone"),
                        ({"consent": True, "contact": {"email": "a@b.cn", "ssn": "1"}}, "contact")):
        status, err = await v.call("POST", path, body)
        assert status == 422 and err["error"]["field"] == field, (body, err)
    assert await lead_rows(server) == 0


async def test_lead_consent_export_and_withdrawal(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "teahouse", "b21", "Tea House")
    v, vid = await visitor(server, "Xiaoming")
    staff_socket = await connect(server.url, ex.token)
    try:
        status, info = await v.call("GET", f"/api/expo/booths/{booth}")
        shown = info["consent_text"]["zh-CN"]
        assert "Tea House" in shown and "撤回" in shown
        t0 = server.app.expo.now()
        status, body = await v.call("POST", f"/api/expo/booths/{booth}/lead",
                                    {"consent": True, "lang": "zh-CN", "contact": CONTACT})
        assert status == 201, body
        lead = body["lead"]
        assert lead["consent_text"] == shown and lead["consent_lang"] == "zh-CN"
        assert t0 <= lead["consent_at"] <= server.app.expo.now()
        pushed = await staff_socket.wait("lead.new")
        assert pushed["lead"]["contact"]["email"] == "xm@example.com"

        status, leads = await ex.call("GET", f"/api/expo/booths/{booth}/leads")
        assert status == 200 and [ld["user_id"] for ld in leads] == [vid]
        # Sharing again updates the same lead (one per visitor and booth).
        status, _ = await v.call("POST", f"/api/expo/booths/{booth}/lead",
                                 {"consent": True, "lang": "en",
                                  "contact": {**CONTACT, "phone": "+86 139 1111 2222"}})
        assert status == 201 and await lead_rows(server) == 1
        status, leads = await ex.call("GET", f"/api/expo/booths/{booth}/leads")
        assert leads[0]["contact"]["phone"] == "+86 139 1111 2222"
        assert leads[0]["consent_lang"] == "en" and "Tea House" in leads[0]["consent_text"]

        status, headers, raw = await ex.raw("GET", f"/api/expo/booths/{booth}/leads.csv")
        assert status == 200 and headers["Content-Type"].startswith("text/csv")
        assert headers["Content-Disposition"] == 'attachment; filename="leads-b21.csv"'
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][:3] == ["name", "email", "phone"]
        assert rows[1][0] == "王小明" and rows[1][2] == "'+86 139 1111 2222"
        assert rows[1][3].startswith("'=HYPERLINK")  # stays text in a spreadsheet
        status, headers, raw = await ex.raw("GET", f"/api/expo/booths/{booth}/leads.xlsx")
        assert status == 200 and raw[:2] == b"PK"
        ws = load_workbook(io.BytesIO(raw)).active
        assert ws is not None
        assert ws["A2"].value == "王小明" and ws["B2"].value == "xm@example.com"
        assert str(ws["D2"].value).startswith("'=")

        status, mine = await v.call("GET", "/api/me/expo")
        assert [ld["booth_id"] for ld in mine["leads"]] == [booth]
        status, body = await v.call("DELETE", f"/api/expo/booths/{booth}/lead")
        assert status == 200 and body["withdrawn"]
        assert await lead_rows(server) == 0
        assert (await staff_socket.wait("lead.withdrawn"))["user_id"] == vid
        assert (await ex.call("GET", f"/api/expo/booths/{booth}/leads"))[1] == []
        status, err = await v.call("DELETE", f"/api/expo/booths/{booth}/lead")
        assert status == 404 and err["error"]["code"] == "not_found"
        _, _, raw = await ex.raw("GET", f"/api/expo/booths/{booth}/leads.csv")
        assert len(list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))) == 1
    finally:
        await staff_socket.close()


async def test_lead_over_the_socket(server: LiveServer) -> None:
    v, _ = await visitor(server, "Sock")
    c = await connect(server.url, v.token)
    try:
        ack = await c.call("lead.share", {"booth_id": "demo-yunfan", "consent": True,
                                          "contact": {"email": "s@example.org"}})
        assert ack["ok"] and ack["lead"]["consent_lang"] == "en"
        ack = await c.call("lead.withdraw", {"booth_id": "demo-yunfan"})
        assert ack["ok"]
        ack = await c.call("lead.share", {"booth_id": "nope", "consent": True,
                                          "contact": {"email": "s@example.org"}})
        assert not ack["ok"] and ack["error"]["code"] == "not_found"
    finally:
        await c.close()


def test_the_xlsx_export_takes_any_company_name() -> None:
    """Sheet titles may not hold / \\ : * ? [ ] — a company called "A/B Corp" broke the export."""
    from server.expo_export import leads_xlsx

    for company, sheet in (("A/B Corp", "A B Corp"), ("Q&A: Co", "Q&A  Co"),
                           ("研发[北京]", "研发 北京"), ("'*?'", "Leads"), ("x" * 40, "x" * 31)):
        wb = load_workbook(io.BytesIO(leads_xlsx([], company)))
        assert wb.active is not None and wb.active.title == sheet
        assert [c.value for c in wb.active[1]][:2] == ["name", "email"]
