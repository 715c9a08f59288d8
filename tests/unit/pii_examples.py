"""Valid and invalid examples of each personal-data type, shared by the privacy tests (and by the
Presidio comparison recorded in docs): published check-digit examples, libphonenumber's example numbers."""

from __future__ import annotations

import phonenumbers

PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "JP", "AU", "CA")


def international_phones() -> list[str]:
    """One valid mobile number per region of :data:`PHONE_REGIONS`, written internationally."""
    out = []
    for region in PHONE_REGIONS:
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        out.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return out


def national_phones() -> list[tuple[str, str]]:
    """``(number written nationally, region)`` for each region of :data:`PHONE_REGIONS`."""
    out = []
    for region in PHONE_REGIONS:
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
        out.append((phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), region))
    return out


VALID = {
    "email": ["jane.doe@example.com", "j.smith+news@mail.co.uk", "o'brien@shop.ie".replace("'", ""),
              "info@bundesamt.de", "a_b-c@sub.domain.org"],
    "iban": ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606",
             "NL91ABNA0417164300", "ES9121000418450200051332"],
    "credit_card_number": ["4111111111111111", "5500 0055 5555 5559", "378282246310005", "6011111111111117",
                           "3530111333300000", "2223000048400011"],
    "national_id": ["536-90-4399", "111222333", "390.533.447-05", "295109912611193", "36 574 261 809",
                    "54362315K", "X2482300W", "RCCMNL83S18D969H", "44051401359", "880320-0016", "123-456-782",
                    "2341 2341 2346", "AB 12 34 56 C", "756.9217.0769.85"],
    "ip_address": ["192.168.0.1", "8.8.4.4", "2001:db8::1", "fe80::1ff:fe23:4567:890a"],
}

INVALID = {
    "email": ["jane.doe@", "@example.com", "jane doe@example.com", "jane@example", "jane..doe@@example.com"],
    "iban": ["DE89370400440532013001", "GB82 WEST 1234 5698 7654 33", "FR1420041010050500013M02607",
             "NL91ABNA0417164301", "XX00123"],
    "credit_card_number": ["4111111111111112", "5500 0055 5555 5550", "1234567812345670", "9999999999999995",
                           "411111111111"],
    "national_id": ["536-90-439X", "111222334", "390.533.447-06", "295109912611194", "36 574 261 800",
                    "54362315A", "X2482300A", "RCCMNL83S18D969X", "44051401358", "880320-0017", "123-456-783",
                    "2341 2341 2347", "DA 12 34 56 E", "756.9217.0769.86", "000-12-3456", "666-12-3456",
                    "912-34-5678"],
    "ip_address": ["256.1.1.1", "1.2.3", "2001:db8:::1", "192.168.0.1/24", "localhost"],
}
