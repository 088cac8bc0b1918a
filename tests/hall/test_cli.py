"""`metahall hall import FILE.yaml` as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rooms.hall.errors import CatalogueError
from server.hall_setup import SEED_FILE, load_catalogue_file
from tests.server.test_cli import run_cli

EXTRA = """
services:
  - id: pets
    prefix: R
    name: {zh-CN: 犬只登记, en: Dog registration}
    keywords: [养狗, 犬证, dog licence, dog]
    documents:
      - {id: id_card, name: {zh-CN: 居民身份证, en: Resident ID card}}
    online: true
    online_url: https://zwfw.example.cn/pets
counters:
  - {id: c12, name: {zh-CN: 12号窗口（综合）, en: Counter 12 (general)}, x: 49.5, z: -33,
     services: [certificates, elderly, marriage, vehicle, pets]}
"""


def test_hall_import_upserts_and_reports(tmp_path: Path) -> None:
    r = run_cli(["hall", "import", str(SEED_FILE)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "15 services" in r.stdout and "12 counters" in r.stdout
    extra = tmp_path / "extra.yaml"
    extra.write_text(EXTRA, encoding="utf-8")
    r = run_cli(["hall", "import", str(extra)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 services" in r.stdout and "16 services in the hall" in r.stdout


def test_hall_import_refuses_a_bad_file_and_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  - id: x\n    prefix: lower\n", encoding="utf-8")
    r = run_cli(["hall", "import", str(bad)], tmp_path)
    assert r.returncode == 1 and "prefix" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "metahall.db").exists()  # refused before touching the database


def test_unreadable_files_are_reported_in_words(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue_file(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("services: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="YAML"):
        load_catalogue_file(broken)
