"""Reading and checking catalogue data (services, counters, synonyms, hall policy).

The input is plain data, as parsed from YAML or JSON; the output is frozen value objects.
Anything unfit raises :class:`CatalogueError` (``bad_request``) naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, fields
from typing import Any

from rooms.hall.errors import CatalogueError
from rooms.hall.models import Catalogue, CounterDef, Document, HallPolicy, Localized, ServiceDef

__all__ = [
    "parse_catalogue", "parse_service", "parse_counter", "parse_policy", "check_references",
    "service_to_dict", "counter_to_dict", "catalogue_to_dict",
]

ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
LANGS = ("zh-CN", "en")


def _map(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CatalogueError(f"{where} must be a mapping", field=where)
    return value


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise CatalogueError(f"{where} must match {ID_RE.pattern}", field=where)
    return value


def _text(value: object, where: str, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise CatalogueError(f"{where} must be text of 1..{max_len} characters", field=where)
    return value.strip()


def _localized(value: object, where: str, max_len: int = 200, required: bool = True) -> Localized:
    if value is None and not required:
        return {"zh-CN": "", "en": ""}
    data = _map(value, where)
    return {lang: _text(data.get(lang), f"{where}.{lang}", max_len) for lang in LANGS}


def _number(value: object, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise CatalogueError(f"{where} must be a number in {lo}..{hi}", field=where)
    return float(value)


def _bool(value: object, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise CatalogueError(f"{where} must be true or false", field=where)
    return value


def _list(value: object, where: str, max_items: int = 100) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or len(value) > max_items:
        raise CatalogueError(f"{where} must be a list of at most {max_items}", field=where)
    return list(value)


def parse_service(data: object, where: str = "service") -> ServiceDef:
    d = _map(data, where)
    sid = _id(d.get("id"), f"{where}.id")
    where = f"services[{sid}]"
    prefix = d.get("prefix")
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise CatalogueError(f"{where}.prefix must be 1-2 capital letters", field="prefix")
    docs: list[Document] = []
    for i, doc in enumerate(_list(d.get("documents"), f"{where}.documents", 30)):
        dd = _map(doc, f"{where}.documents[{i}]")
        docs.append(Document(_id(dd.get("id"), f"{where}.documents[{i}].id"),
                             _localized(dd.get("name"), f"{where}.documents[{i}].name")))
    if len({doc.id for doc in docs}) != len(docs):
        raise CatalogueError(f"{where}.documents ids must be unique", field="documents")
    keywords = tuple(_text(k, f"{where}.keywords", 60)
                     for k in _list(d.get("keywords"), f"{where}.keywords", 80))
    url = d.get("online_url")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")
                            or len(url) > 300):
        raise CatalogueError(f"{where}.online_url must be an https URL", field="online_url")
    return ServiceDef(
        id=sid,
        prefix=prefix,
        name=_localized(d.get("name"), f"{where}.name", 60),
        description=_localized(d.get("description"), f"{where}.description", 500, required=False),
        keywords=keywords,
        documents=tuple(docs),
        online=_bool(d.get("online"), f"{where}.online", False),
        online_url=url,
        avg_service_s=int(_number(d.get("avg_service_s", 300), f"{where}.avg_service_s", 10, 7200)),
        slot_minutes=int(_number(d.get("slot_minutes", 30), f"{where}.slot_minutes", 5, 240)),
        appointable=_bool(d.get("appointable"), f"{where}.appointable", True),
        active=_bool(d.get("active"), f"{where}.active", True),
        sort=int(_number(d.get("sort", 0), f"{where}.sort", -10_000, 10_000)),
    )


def parse_counter(data: object, where: str = "counter") -> CounterDef:
    d = _map(data, where)
    cid = _id(d.get("id"), f"{where}.id")
    where = f"counters[{cid}]"
    services = tuple(_id(s, f"{where}.services") for s in _list(d.get("services"), where, 50))
    if len(set(services)) != len(services):
        raise CatalogueError(f"{where}.services lists a service twice", field="services")
    return CounterDef(
        id=cid,
        name=_localized(d.get("name"), f"{where}.name", 60),
        x=_number(d.get("x"), f"{where}.x", -1000, 1000),
        z=_number(d.get("z"), f"{where}.z", -1000, 1000),
        service_ids=services,
        appointments_per_slot=int(_number(d.get("appointments_per_slot", 1),
                                          f"{where}.appointments_per_slot", 0, 100)),
        active=_bool(d.get("active"), f"{where}.active", True),
    )


def parse_policy(data: object, base: HallPolicy | None = None) -> HallPolicy:
    base = base or HallPolicy()
    if data is None:
        return base
    d = _map(data, "hall")
    known = {f.name for f in fields(HallPolicy)}
    unknown = set(d) - known
    if unknown:
        raise CatalogueError(f"hall has unknown keys: {', '.join(sorted(unknown))}", field="hall")
    values = asdict(base)
    for key, value in d.items():
        default = values[key]
        if isinstance(default, bool):
            values[key] = _bool(value, f"hall.{key}", default)
        elif isinstance(default, int | float):
            values[key] = type(default)(_number(value, f"hall.{key}", 0, 10_000_000))
        else:
            values[key] = _text(value, f"hall.{key}", 64)
    for key in ("opens", "closes"):
        if not TIME_RE.match(values[key]):
            raise CatalogueError(f"hall.{key} must look like 09:00", field=key)
    if values["opens"] >= values["closes"]:
        raise CatalogueError("hall.opens must be before hall.closes", field="opens")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(values["timezone"])
    except (KeyError, ValueError) as exc:
        raise CatalogueError("hall.timezone is not a known time zone", field="timezone") from exc
    return HallPolicy(**values)


def check_references(services: Iterable[ServiceDef], counters: Iterable[CounterDef], *,
                     references: bool = True) -> None:
    """Ids are unique, prefixes unique among active services; counters name known services."""
    svc = list(services)
    ids = {s.id for s in svc}
    if len(ids) != len(svc):
        raise CatalogueError("service ids must be unique", field="services")
    prefixes: dict[str, str] = {}
    for s in svc:
        if s.active and s.prefix in prefixes:
            raise CatalogueError(
                f"services {prefixes[s.prefix]} and {s.id} share prefix {s.prefix}",
                field="prefix")
        if s.active:
            prefixes[s.prefix] = s.id
    cnt = list(counters)
    if len({c.id for c in cnt}) != len(cnt):
        raise CatalogueError("counter ids must be unique", field="counters")
    for c in cnt if references else ():
        missing = [s for s in c.service_ids if s not in ids]
        if missing:
            raise CatalogueError(f"counters[{c.id}] serves unknown services: {', '.join(missing)}",
                                 field="services")


def parse_catalogue(data: object, *, standalone: bool = True) -> Catalogue:
    """A catalogue (the import file's shape). ``standalone``: counters may only name services of
    this catalogue; otherwise (a partial import) the references are checked after merging."""
    d = _map(data, "catalogue")
    unknown = set(d) - {"hall", "synonyms", "services", "counters"}
    if unknown:
        raise CatalogueError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    services = tuple(parse_service(s, f"services[{i}]")
                     for i, s in enumerate(_list(d.get("services"), "services", 500)))
    counters = tuple(parse_counter(c, f"counters[{i}]")
                     for i, c in enumerate(_list(d.get("counters"), "counters", 500)))
    synonyms: list[tuple[str, ...]] = []
    for i, group in enumerate(_list(d.get("synonyms"), "synonyms", 1000)):
        words = tuple(_text(w, f"synonyms[{i}]", 60) for w in _list(group, f"synonyms[{i}]", 30))
        if len(words) >= 2:
            synonyms.append(words)
    check_references(services, counters, references=standalone)
    return Catalogue(services, counters, tuple(synonyms), parse_policy(d.get("hall")),
                     policy_given="hall" in d)


def service_to_dict(s: ServiceDef) -> dict[str, Any]:
    return {
        "id": s.id, "prefix": s.prefix, "name": dict(s.name), "description": dict(s.description),
        "keywords": list(s.keywords),
        "documents": [{"id": d.id, "name": dict(d.name)} for d in s.documents],
        "online": s.online, "online_url": s.online_url, "avg_service_s": s.avg_service_s,
        "slot_minutes": s.slot_minutes, "appointable": s.appointable, "active": s.active,
        "sort": s.sort,
    }


def counter_to_dict(c: CounterDef) -> dict[str, Any]:
    return {"id": c.id, "name": dict(c.name), "x": c.x, "z": c.z, "services": list(c.service_ids),
            "appointments_per_slot": c.appointments_per_slot, "active": c.active}


def catalogue_to_dict(cat: Catalogue) -> dict[str, Any]:
    return {
        "hall": asdict(cat.policy),
        "synonyms": [list(g) for g in cat.synonyms],
        "services": [service_to_dict(s) for s in cat.services],
        "counters": [counter_to_dict(c) for c in cat.counters],
    }
