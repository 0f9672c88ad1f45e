"""The wellbeing areas (hyvinvointialue) of the Eastern Finland cooperation area: one tenant each."""

TENANTS: dict[str, str] = {
    "etela-savo": "Etelä-Savo",
    "keski-suomi": "Keski-Suomi",
    "pohjois-karjala": "Pohjois-Karjala",
    "pohjois-savo": "Pohjois-Savo",
}


def is_tenant(value: str) -> bool:
    return value in TENANTS

# Finnish genitive, for sentences like "Pohjois-Savon hyvinvointialue".
TENANTS_GENITIVE_FI: dict[str, str] = {
    "etela-savo": "Etelä-Savon",
    "keski-suomi": "Keski-Suomen",
    "pohjois-karjala": "Pohjois-Karjalan",
    "pohjois-savo": "Pohjois-Savon",
}
