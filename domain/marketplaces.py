"""Amazon marketplaces by SP-API region: what `region` and `marketplace_ids` may say."""

REGIONS: dict[str, dict[str, str]] = {
    "na": {
        "ATVPDKIKX0DER": "United States",
        "A2EUQ1WTGCTBG2": "Canada",
        "A1AM78C64UM0Y8": "Mexico",
        "A2Q3Y263D00KWC": "Brazil",
    },
    "eu": {
        "A1F83G8C2ARO7P": "United Kingdom",
        "A1PA6795UKMFR9": "Germany",
        "A13V1IB3VIYZZH": "France",
        "APJ6JRA9NG5V4": "Italy",
        "A1RKKUPIHCS9HS": "Spain",
        "A1805IZSGTT6HS": "Netherlands",
        "A2NODRKZP88ZB9": "Sweden",
        "A1C3SOZRARQ6R3": "Poland",
        "AMEN7PMS3EDWL": "Belgium",
        "A33AVAJ2PDY3EV": "Turkey",
        "A2VIGQ35RCS4UG": "United Arab Emirates",
        "A21TJRUUN4KGV": "India",
        "ARBP9OOSHTCHU": "Egypt",
        "A17E79C6D8DWNP": "Saudi Arabia",
        "A28R8C7NBKEWEA": "Ireland",
        "AE08WJ6YKNBMC": "South Africa",
    },
    "fe": {
        "A1VC38T7YXB528": "Japan",
        "A39IBJ37TRP1C6": "Australia",
        "A19VAU5U5O7RUS": "Singapore",
    },
}
