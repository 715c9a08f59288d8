"""Column-name tokens: ``BillingPostalCode`` -> ``("billing", "postal", "code")``."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["name_tokens", "name_hints", "address_prefix"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

#: Token sequences (joined by "_") naming each type; the LAST tokens of a column name are matched.
#: English first, then German, French, Spanish, Italian, Dutch and Portuguese (accents folded: ``straße``
#: -> ``strasse``, ``código`` -> ``codigo``).
_HINTS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "given_name", "givenname", "fname", "forename", "first",
                   "vorname", "rufname", "prenom", "nombre", "nombre_de_pila", "nome", "nome_proprio",
                   "voornaam", "roepnaam", "primeiro_nome"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "familyname", "lname", "last",
                  "nachname", "familienname", "zuname", "nom_de_famille", "nom", "apellido", "apellidos",
                  "cognome", "achternaam", "familienaam", "sobrenome", "apelido", "ultimo_nome"),
    "full_name": ("full_name", "fullname", "name", "contact_name", "customer_name", "person_name",
                  "contact", "person", "vollstandiger_name", "kundenname", "nom_complet", "nombre_completo",
                  "nome_completo", "volledige_naam", "naam"),
    "email": ("email", "e_mail", "mail", "email_address", "mail_address", "emailadresse", "e_mail_adresse",
              "courriel", "adresse_mail", "adresse_email", "correo", "correo_electronico",
              "posta_elettronica", "indirizzo_email", "mailadres", "correio_eletronico"),
    "phone_number": ("phone", "phone_number", "fax", "mobile", "tel", "telephone", "cell", "cellphone",
                     "phone_no", "mobile_number", "fax_number", "msisdn", "telefon", "telefonnummer",
                     "handy", "handynummer", "mobilnummer", "mobiltelefon", "numero_de_telephone", "portable",
                     "telefono", "movil", "celular", "numero_de_telefono", "cellulare", "numero_di_telefono",
                     "telefoon", "telefoonnummer", "mobiel", "telemovel", "numero_de_telefone"),
    "street_address": ("address", "street", "address_line1", "address_line_1", "address1", "addr",
                       "street_address", "address_line", "line1", "strasse", "adresse", "anschrift",
                       "hausanschrift", "rue", "adresse_postale", "direccion", "calle", "domicilio",
                       "indirizzo", "straat", "adres", "straatnaam", "morada", "endereco", "rua",
                       "logradouro"),
    "city": ("city", "town", "municipality", "locality", "stadt", "ort", "wohnort", "ville", "ciudad",
             "localidad", "poblacion", "citta", "comune", "plaats", "woonplaats", "stad", "cidade",
             "municipio", "localidade"),
    "state": ("state", "province", "region", "state_province", "county", "bundesland", "provincia",
              "provincie", "estado"),
    "postcode": ("postal_code", "postalcode", "zip", "zipcode", "zip_code", "postcode", "post_code", "plz",
                 "postleitzahl", "code_postal", "codigo_postal", "cod_postal", "codice_postale",
                 "codice_avviamento_postale", "cep", "codigo_de_endereco_postal"),
    "country": ("country", "nation", "country_name", "country_code", "land", "pays", "pais", "paese", "nazione"),
    "company": ("company", "employer", "organisation", "organization", "company_name", "firm", "org",
                "firma", "unternehmen", "entreprise", "societe", "empresa", "azienda", "societa", "bedrijf"),
    "job_title": ("job_title", "jobtitle", "job", "position", "occupation", "role", "title", "beruf"),
    "title": ("title",),
    "url": ("url", "website", "homepage", "web", "link", "web_site", "home_page", "site"),
    "ip_address": ("ip", "ip_address", "ipaddress", "ipv4", "ipv6", "ip_addr", "ip_adresse", "adresse_ip",
                   "direccion_ip", "indirizzo_ip", "ip_adres", "endereco_ip"),
    "iban": ("iban",),
    "credit_card_number": ("card_number", "credit_card", "credit_card_number", "cc_number", "card_no",
                           "cardnumber", "creditcard", "pan", "kreditkarte", "kreditkartennummer",
                           "kartennummer", "carte_bancaire", "numero_de_carte", "carte_de_credit", "tarjeta",
                           "tarjeta_de_credito", "numero_de_tarjeta", "carta_di_credito", "numero_carta",
                           "creditcardnummer", "cartao", "cartao_de_credito", "numero_do_cartao"),
    "text": ("description", "comment", "comments", "notes", "note", "text", "body", "review", "message",
             "summary", "bio", "content"),
    "national_id": ("ssn", "social_security_number", "social_security_no", "national_id", "national_id_number",
                    "nin", "nino", "national_insurance_number", "ni_number", "tax_id", "taxpayer_id", "tin",
                    "steuer_id", "steuerid", "steuer_identifikationsnummer", "steueridentifikationsnummer",
                    "idnr", "sozialversicherungsnummer", "svnr", "nir", "numero_de_securite_sociale",
                    "numero_securite_sociale", "insee", "dni", "nie", "nif", "numero_de_identificacion",
                    "codice_fiscale", "codicefiscale", "bsn", "burgerservicenummer", "cpf", "pesel",
                    "personnummer", "sin", "aadhaar", "ahv", "ahv_nummer", "avs", "personal_id",
                    "personalausweisnummer", "id_number", "identity_number"),
    "date_of_birth": ("dob", "date_of_birth", "birth_date", "birthdate", "birthday", "born", "born_on",
                      "geburtsdatum", "geburtstag", "date_de_naissance", "date_naissance",
                      "fecha_de_nacimiento", "fecha_nacimiento", "data_di_nascita", "data_nascita",
                      "geboortedatum", "data_de_nascimento", "data_nascimento", "nascimento"),
}

_FOLD = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                       "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"})


def _ascii_fold(text: str) -> str:
    """``Straße`` -> ``Strasse``, ``código`` -> ``codigo``: accents dropped, ligatures spelled out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def name_tokens(column: str) -> tuple[str, ...]:
    """Lower-case ASCII word tokens of a column name (camelCase, snake_case, kebab and spaces split; accents
    folded: ``Straße`` -> ``("strasse",)``)."""
    spaced = _CAMEL.sub("_", _ascii_fold(str(column)))
    return tuple(t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t)


def _match(tokens: tuple[str, ...]) -> list[tuple[int, str]]:
    joined_all = "".join(tokens)
    found: list[tuple[int, str]] = []
    for sem, names in _HINTS.items():
        best = 0
        for name in names:
            parts = tuple(name.split("_"))
            if tokens[-len(parts):] == parts:
                best = max(best, len(name))
            elif len(name) > 4 and joined_all.endswith(name.replace("_", "")):
                best = max(best, len(name) - 1)
        if best:
            found.append((best, sem))
    return found


@lru_cache(maxsize=4096)
def name_hints(column: str) -> tuple[str, ...]:
    """Semantic types whose name the column name ends with, most specific first.

    ``BillingCity`` -> ``("city",)``; ``FirstName`` -> ``("first_name", "full_name")``; a trailing
    number is ignored when nothing matches with it (``Email2``, ``phone_2``).
    """
    tokens = name_tokens(column)
    found = _match(tokens)
    if not found and tokens:
        stripped = [*tokens[:-1], tokens[-1].rstrip("0123456789")]
        found = _match(tuple(t for t in stripped if t))
    found.sort(key=lambda item: -item[0])
    return tuple(sem for _, sem in found)


def address_prefix(column: str, semantic_type: str) -> str:
    """The name prefix that groups one address's columns (``BillingCity`` -> ``"billing"``; ``City`` -> ``""``)."""
    tokens = list(name_tokens(column))
    for name in sorted(_HINTS.get(semantic_type, ()), key=len, reverse=True):
        parts = name.split("_")
        if tokens[-len(parts):] == parts:
            return "_".join(tokens[: -len(parts)])
    return "_".join(tokens[:-1])
