"""Small word lexicons used by detection: known first names and job-title words."""

from __future__ import annotations

from functools import lru_cache

from syntho_hive.core.semantic.locales import provider_attr

__all__ = ["known_first_names", "is_job_title"]

_NAME_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pt_PT", "cs_CZ", "nl_NL",
                 "pl_PL", "sv_SE", "da_DK", "no_NO", "fi_FI", "hu_HU", "en_IN", "es_MX")

_JOB_WORDS = frozenset({
    "manager", "agent", "staff", "support", "sales", "ceo", "cto", "cfo", "coo", "director", "engineer",
    "assistant", "developer", "analyst", "officer", "clerk", "representative", "consultant", "president",
    "vp", "head", "lead", "specialist", "coordinator", "administrator", "executive", "supervisor",
    "technician", "intern", "accountant", "designer", "architect", "scientist", "nurse", "teacher",
    "programmer", "secretary", "receptionist", "cashier", "chef", "driver", "operator", "advisor",
    "adviser", "associate", "auditor", "buyer", "editor", "planner", "producer", "researcher", "trainer",
    "owner", "founder", "partner", "chairman", "chief", "marketing", "controller", "recruiter", "attorney",
    "lawyer", "physician", "pharmacist", "therapist", "mechanic", "electrician", "worker", "labourer",
    "laborer", "surveyor", "inspector", "broker", "banker", "librarian", "officer", "rep", "it",
})


@lru_cache(maxsize=1)
def known_first_names() -> frozenset[str]:
    """Case-folded first names of the person providers of common Faker locales."""
    names: set[str] = set()
    for locale in _NAME_LOCALES:
        for attr in ("first_names", "first_names_male", "first_names_female"):
            value = provider_attr(locale, attr)
            if value:
                names.update(str(v).casefold() for v in value)
    return frozenset(names)


@lru_cache(maxsize=1)
def _faker_jobs() -> frozenset[str]:
    jobs = provider_attr("en_US", "jobs") or ()
    return frozenset(str(j).casefold() for j in jobs)


def is_job_title(value: str) -> bool:
    """Whether ``value`` reads like a job title (a known job, or containing a job word such as 'Manager')."""
    folded = value.strip().casefold()
    if folded in _faker_jobs():
        return True
    words = {w.strip(".,()/&-") for w in folded.split()}
    return bool(words & _JOB_WORDS)
