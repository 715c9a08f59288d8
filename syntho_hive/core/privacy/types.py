"""Privacy actions, the semantic types that are personal data, and the default action of each."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Action", "ACTIONS", "PII_TYPES", "DEFAULT_ACTIONS", "REMOVED_ACTIONS", "GENERATED_ACTIONS",
           "PROTECTED_ACTIONS"]

#: What happens to a column:
#:
#: - ``drop``: removed before training and absent from the output;
#: - ``fake``: removed before training; fresh realistic values are generated at sample time by the
#:   semantic-type generators (an e-mail made from the row's generated name, a phone of the row's country);
#: - ``mask``: like ``fake``, then each generated value is masked keeping its format (``j***@e******.com``);
#:   masked values are never derived from real values;
#: - ``hash``: replaced by keyed HMAC-SHA256 pseudonyms before training (the model learns the pseudonyms;
#:   the same real value has the same pseudonym in every table and run, so hashed keys still join);
#: - ``custom``: the user's function transforms the real column before training and its output is
#:   modelled (e.g. a birth date generalised to a year); its privacy is the user's responsibility;
#: - ``keep``: modelled as is.
Action = Literal["drop", "mask", "hash", "fake", "keep", "custom"]
ACTIONS: tuple[str, ...] = get_args(Action)

#: Columns removed before the transformer sees them.
REMOVED_ACTIONS: frozenset[str] = frozenset({"drop", "fake", "mask"})
#: Columns generated at sample time.
GENERATED_ACTIONS: frozenset[str] = frozenset({"fake", "mask"})
#: Columns that may never be parent context or a sampling condition (their real values are gone or
#: pseudonymised).
PROTECTED_ACTIONS: frozenset[str] = frozenset({"drop", "fake", "mask", "hash"})

#: The semantic types that are personal data, and what detection does with them when no action is given:
#: direct identifiers (and the date of birth) are ``fake`` (every one has a generator); a city is a
#: quasi-identifier that is useful to model (a generated city still follows the row's modelled country
#: and state), so it is reported and ``keep`` by default.
DEFAULT_ACTIONS: dict[str, Action] = {
    "first_name": "fake", "last_name": "fake", "full_name": "fake", "email": "fake", "phone_number": "fake",
    "street_address": "fake", "postcode": "fake", "iban": "fake", "credit_card_number": "fake",
    "ip_address": "fake", "national_id": "fake", "date_of_birth": "fake", "city": "keep",
}
PII_TYPES: frozenset[str] = frozenset(DEFAULT_ACTIONS)
