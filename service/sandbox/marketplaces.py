"""The marketplaces the sandbox's accounts sell in, by region."""

from __future__ import annotations

# id, country, currency, language, domain
MARKETPLACES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "na": (
        ("ATVPDKIKX0DER", "US", "USD", "en_US", "www.amazon.com"),
        ("A2EUQ1WTGCTBG2", "CA", "CAD", "en_CA", "www.amazon.ca"),
        ("A1AM78C64UM0Y8", "MX", "MXN", "es_MX", "www.amazon.com.mx"),
        ("A2Q3Y263D00KWC", "BR", "BRL", "pt_BR", "www.amazon.com.br"),
    ),
    "eu": (
        ("A1F83G8C2ARO7P", "GB", "GBP", "en_GB", "www.amazon.co.uk"),
        ("A1PA6795UKMFR9", "DE", "EUR", "de_DE", "www.amazon.de"),
        ("A13V1IB3VIYZZH", "FR", "EUR", "fr_FR", "www.amazon.fr"),
        ("A1RKKUPIHCS9HS", "ES", "EUR", "es_ES", "www.amazon.es"),
        ("APJ6JRA9NG5V4", "IT", "EUR", "it_IT", "www.amazon.it"),
        ("A1805IZSGTT6HS", "NL", "EUR", "nl_NL", "www.amazon.nl"),
        ("A2NODRKZP88ZB9", "SE", "SEK", "sv_SE", "www.amazon.se"),
        ("A1C3SOZRARQ6R3", "PL", "PLN", "pl_PL", "www.amazon.pl"),
        ("A33AVAJ2PDY3EV", "TR", "TRY", "tr_TR", "www.amazon.com.tr"),
        ("A2VIGQ35RCS4UG", "AE", "AED", "en_AE", "www.amazon.ae"),
        ("A21TJRUUN4KGV", "IN", "INR", "en_IN", "www.amazon.in"),
        ("ARBP9OOSHTCHU", "EG", "EGP", "en_EG", "www.amazon.eg"),
    ),
    "fe": (
        ("A1VC38T7YXB528", "JP", "JPY", "ja_JP", "www.amazon.co.jp"),
        ("A39IBJ37TRP1C6", "AU", "AUD", "en_AU", "www.amazon.com.au"),
        ("A19VAU5U5O7RUS", "SG", "SGD", "en_SG", "www.amazon.sg"),
    ),
}
MARKETPLACE_IDS: dict[str, tuple[str, ...]] = {
    region: tuple(m[0] for m in marketplaces) for region, marketplaces in MARKETPLACES.items()
}
ELSEWHERE = {"na": "eu", "eu": "na", "fe": "na"}
