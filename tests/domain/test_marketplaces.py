"""The marketplace table (domain/marketplaces.csv) as loaded: complete, well-formed, and the
same as Amazon's published tables."""

from __future__ import annotations

import csv
import re
from importlib import resources

import pytest

from domain import marketplaces
from domain.marketplaces import ALL, BY_ID, COLUMNS, REGIONS, SP_API_REGIONS
from tests.amazon.fixtures.consent_hosts import AMAZON_CONSENT_HOSTS


def test_the_file_has_exactly_the_columns_the_code_reads_and_no_empty_cell():
    with resources.files("domain").joinpath("marketplaces.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert rows and all(
        all((row[c] or "").strip() == row[c] and row[c] for c in COLUMNS) for row in rows
    )


def test_every_marketplace_amazon_lists_is_in_the_table_once():
    assert [m.id for m in ALL] == list(AMAZON_CONSENT_HOSTS)
    assert len(BY_ID) == len(ALL) == 23


@pytest.mark.parametrize("m", ALL, ids=lambda m: m.country_code)
def test_each_row_is_well_formed(m):
    country, region, _, _ = AMAZON_CONSENT_HOSTS[m.id]
    assert (m.country_code, m.region) == (country, region)
    assert m.region in SP_API_REGIONS
    assert re.fullmatch(r"[A-Z]{3}", m.currency)
    assert re.fullmatch(rf"[a-z]{{2}}_{m.country_code}", m.language)
    assert re.fullmatch(r"www\.amazon\.[a-z.]+", m.domain)
    assert re.fullmatch(r"sellercentral(-europe)?\.amazon\.[a-z.]+", m.seller_central)
    assert re.fullmatch(r"(www\.)?vendorcentral\.(amazon\.)?[a-z.]+", m.vendor_central)


def test_regions_group_the_table_and_belgium_ireland_saudi_arabia_south_africa_egypt_are_eu():
    assert sorted(REGIONS) == sorted(SP_API_REGIONS)
    assert sum(len(ids) for ids in REGIONS.values()) == len(ALL)
    for marketplace_id in (
        "AMEN7PMS3EDWL",
        "A28R8C7NBKEWEA",
        "A17E79C6D8DWNP",
        "AE08WJ6YKNBMC",
        "ARBP9OOSHTCHU",
    ):
        assert marketplace_id in REGIONS["eu"]


def test_an_unknown_marketplace_has_no_consent_host():
    assert marketplaces.consent_host("A1NOTAMARKET") is None
    assert marketplaces.consent_host("A2EUQ1WTGCTBG2", "vendor") == "vendorcentral.amazon.ca"
