"""The violation taxonomy, grounded in international humanitarian and human-rights law.

The defaults name the acts as the law does (Geneva Conventions and Additional Protocols,
customary IHL as compiled by the ICRC, the Rome Statute, the ICCPR and the Convention
against Torture). Admins add, rename and retire entries; retired entries stay on the
incidents that used them.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testament.investigate.models import ViolationType

DEFAULTS: list[tuple[str, str, str, str]] = [
    # (code, label, category, legal basis)
    ("wilful-killing", "Wilful killing / murder of protected persons", "Killing",
     "GC III art. 130, GC IV art. 147 (grave breaches); Rome Statute 8(2)(a)(i), 8(2)(c)(i)"),
    ("extrajudicial-execution", "Extrajudicial or summary execution", "Killing",
     "ICCPR art. 6; Common Article 3(1)(d); Rome Statute 8(2)(c)(iv)"),
    ("killing-hors-de-combat", "Killing or wounding a person hors de combat", "Killing",
     "AP I art. 41; ICRC customary IHL rule 47; Rome Statute 8(2)(b)(vi)"),
    ("torture", "Torture", "Treatment of detainees",
     "Convention against Torture art. 1; Common Article 3(1)(a); Rome Statute 8(2)(a)(ii)"),
    ("cruel-treatment", "Cruel, inhuman or degrading treatment of detainees or prisoners of war",
     "Treatment of detainees", "GC III art. 13; Common Article 3(1)(a),(c); ICCPR art. 7, 10"),
    ("humiliation-pow", "Outrages upon personal dignity; exposing prisoners to public curiosity",
     "Treatment of detainees", "GC III art. 13(2); Rome Statute 8(2)(b)(xxi), 8(2)(c)(ii)"),
    ("enforced-disappearance", "Enforced disappearance", "Treatment of detainees",
     "ICPPED art. 2; ICRC customary IHL rule 98"),
    ("mutilation", "Mutilation", "Treatment of the dead and wounded",
     "AP I art. 11; Common Article 3(1)(a); Rome Statute 8(2)(b)(x), 8(2)(e)(xi)"),
    ("desecration-of-dead", "Mutilation or desecration of the dead",
     "Treatment of the dead and wounded",
     "GC I art. 15; AP I art. 34; ICRC customary IHL rule 113"),
    ("attack-on-civilians", "Direct attack on civilians", "Conduct of hostilities",
     "AP I art. 51(2); AP II art. 13(2); Rome Statute 8(2)(b)(i), 8(2)(e)(i)"),
    ("indiscriminate-attack", "Indiscriminate or disproportionate attack", "Conduct of hostilities",
     "AP I art. 51(4)-(5); ICRC customary IHL rules 11-14; Rome Statute 8(2)(b)(iv)"),
    ("prohibited-weapons", "Use of prohibited weapons (e.g. cluster munitions in populated areas)",
     "Conduct of hostilities",
     "Convention on Cluster Munitions; ICRC customary IHL rules 70-71; Rome Statute 8(2)(b)(xx)"),
    ("attack-on-civilian-objects", "Attack on or destruction of civilian objects",
     "Conduct of hostilities", "AP I art. 52; Rome Statute 8(2)(b)(ii), 8(2)(a)(iv)"),
    ("attack-protected-objects", "Attack on hospitals, cultural or religious property",
     "Conduct of hostilities",
     "GC I art. 19; 1954 Hague Convention; Rome Statute 8(2)(b)(ix), 8(2)(e)(iv)"),
    ("hostage-taking", "Taking of hostages", "Deprivation of liberty",
     "Common Article 3(1)(b); GC IV art. 34; Rome Statute 8(2)(a)(viii), 8(2)(c)(iii)"),
    ("pillage", "Pillage", "Property", "GC IV art. 33; Rome Statute 8(2)(b)(xvi), 8(2)(e)(v)"),
    ("sexual-violence", "Rape and other sexual violence", "Sexual and gender-based violence",
     "Rome Statute 8(2)(b)(xxii), 8(2)(e)(vi); ICRC customary IHL rule 93"),
    ("forced-displacement", "Unlawful deportation or forcible transfer", "Displacement",
     "GC IV art. 49; AP II art. 17; Rome Statute 8(2)(a)(vii), 7(1)(d)"),
    ("denial-of-quarter", "Declaring that no quarter will be given", "Conduct of hostilities",
     "AP I art. 40; Rome Statute 8(2)(b)(xii), 8(2)(e)(x)"),
    ("other", "Other (describe in the summary)", "Other", ""),
]  # fmt: skip


class TaxonomyError(ValueError):
    """A taxonomy edit that cannot be made; the message says why."""


def ensure_defaults(session: Session) -> None:
    """Seed the taxonomy once, when it is empty."""
    if session.execute(select(func.count(ViolationType.id))).scalar_one():
        return
    for code, label, category, basis in DEFAULTS:
        session.add(ViolationType(code=code, label=label, category=category, legal_basis=basis))


def all_types(session: Session, *, active_only: bool = False) -> list[ViolationType]:
    query = select(ViolationType).order_by(ViolationType.category, ViolationType.label)
    if active_only:
        query = query.where(ViolationType.active.is_(True))
    return list(session.execute(query).scalars())


def save_type(
    session: Session,
    *,
    code: str,
    label: str,
    category: str,
    legal_basis: str,
    active: bool,
    type_id: int | None = None,
) -> ViolationType:
    """Add a type (no id) or change one; codes are permanent once used."""
    code, label, category = code.strip().lower(), label.strip(), category.strip()
    if not code or not label or not category:
        raise TaxonomyError("a violation type needs a code, a label and a category")
    if type_id is None:
        if session.execute(select(ViolationType).where(ViolationType.code == code)).first():
            raise TaxonomyError(f"the code {code!r} is already used")
        entry = ViolationType(code=code)
        session.add(entry)
    else:
        found = session.get(ViolationType, type_id)
        if found is None:
            raise TaxonomyError(f"no violation type {type_id}")
        entry = found
    entry.label, entry.category, entry.legal_basis = label, category, legal_basis.strip()
    entry.active = active
    session.flush()
    return entry
