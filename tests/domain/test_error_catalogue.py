import json
from importlib import resources

import pytest
import yaml

from domain.errors import (
    API_LEVEL,
    CATALOGUE,
    SELLER_FACING,
    WHO_ACTS,
    CatalogueError,
    entry,
    parse,
)
from tests import contract

SPEC_SELLER_FACING = contract.SELLER_FACING_CODES
SPEC_API_LEVEL_STATUS = contract.API_LEVEL_STATUS

SELLER_FACING_STATUS_EXCEPTIONS = {
    "AMAZON_UNAVAILABLE": 503,
    "SELLING_PARTNER_ALREADY_CONNECTED": 409,
    "SELLING_PARTNER_MISMATCH": 409,
    "API_AUTHORIZATION_REQUIRED": 409,
    # SPEC §9: a token request refused for the connection's state is 409 with the reason.
    "ACCESS_REVOKED": 409,
    "REAUTHORIZATION_REQUIRED": 409,
    "INTERNAL_ERROR": 500,
    # Amazon refused the integrator's credentials: unavailable until its operators act.
    "APP_CREDENTIALS_INVALID": 503,
}
# (code, situation) -> the status the catalogue answers there instead.
SITUATION_STATUS = {
    ("VERSION_CONFLICT", "if_match"): 412,  # SPEC §3: If-Match naming a stale version
    ("IDEMPOTENCY_KEY_REUSED", "outstanding"): 409,
    ("REAUTHORIZATION_REQUIRED", "import"): 422,
    ("TOKEN_EXCHANGE_FAILED", "token_request"): 503,
}


def test_every_spec_code_has_seller_facing_message_and_ordered_remediation():
    for code in SPEC_SELLER_FACING + tuple(SPEC_API_LEVEL_STATUS):
        found = CATALOGUE[code]
        assert found.code == code
        assert found.title.strip()
        assert found.message.strip()
        assert isinstance(found.remediation, tuple) and found.remediation
        assert all(step.strip() for step in found.remediation)


def test_seller_facing_codes_are_listed_in_the_spec_order():
    assert SELLER_FACING == SPEC_SELLER_FACING


def test_api_level_codes_are_listed_after_the_seller_facing_ones():
    assert API_LEVEL == tuple(SPEC_API_LEVEL_STATUS)
    assert tuple(CATALOGUE) == SPEC_SELLER_FACING + tuple(SPEC_API_LEVEL_STATUS)


def test_who_acts_is_always_a_known_party():
    assert {found.who_acts for found in CATALOGUE.values()} <= set(WHO_ACTS)


@pytest.mark.parametrize("code, status", SPEC_API_LEVEL_STATUS.items())
def test_api_level_errors_use_their_http_status(code, status):
    assert CATALOGUE[code].http_status == status


def test_seller_facing_errors_are_422_unless_documented_otherwise():
    for code in SELLER_FACING:
        expected = SELLER_FACING_STATUS_EXCEPTIONS.get(code, 422)
        assert CATALOGUE[code].http_status == expected, code


def test_amazon_outage_is_retryable_and_waits_on_amazon():
    found = CATALOGUE["AMAZON_UNAVAILABLE"]
    assert found.retryable and found.who_acts == "amazon"


def test_api_authorization_required_is_the_owners_move():
    assert CATALOGUE["API_AUTHORIZATION_REQUIRED"].who_acts == "owner"


def test_retryable_api_errors_are_the_transient_ones():
    retryable = {code for code in API_LEVEL if CATALOGUE[code].retryable}
    assert retryable == {
        "VERSION_CONFLICT",
        "RATE_LIMITED",
        "SERVICE_UNAVAILABLE",
        "REQUEST_TIMEOUT",
    }


def test_unknown_code_falls_back_to_internal_error():
    assert entry("NO_SUCH_CODE") is CATALOGUE["INTERNAL_ERROR"]
    assert entry("") is CATALOGUE["INTERNAL_ERROR"]


def test_known_code_returns_its_own_entry():
    assert entry("NOT_PRIMARY_OWNER") is CATALOGUE["NOT_PRIMARY_OWNER"]


def test_channeladvisor_api_authorization_message_is_quoted_verbatim():
    found = CATALOGUE["API_AUTHORIZATION_REQUIRED"]
    assert found.source == "ChannelAdvisor"
    assert found.source_message == (
        "API Authorization Status must be complete before Seller Central Authorization "
        "may be started"
    )


@pytest.mark.parametrize(
    "code, source, source_message",
    [
        (
            "NOT_PRIMARY_OWNER",
            "PayHelm",
            "You must be the primary owner of a Professional selling account to take "
            "advantage of this integration.",
        ),
        (
            "NOT_PROFESSIONAL_ACCOUNT",
            "Codisto",
            "The account you are connecting to is not a Professional Amazon seller account.",
        ),
        (
            "TOKEN_EXCHANGE_FAILED",
            "Perpetua",
            "Failed to retrieve refresh token. Please try again.",
        ),
        (
            "SELLING_PARTNER_ALREADY_CONNECTED",
            "Perpetua",
            "This account is already in use. Please Try Again.",
        ),
        (
            "SELLER_CENTRAL_AUTHORIZATION_FAILED",
            "ChannelAdvisor",
            "Error: Seller Central Authorization failed. Please update authorization.",
        ),
        ("REAUTHORIZATION_REQUIRED", "Perpetua", "We no longer have access to the SP API"),
        ("INTERNAL_ERROR", "Codisto", "An error has occurred"),
    ],
)
def test_source_messages_quote_the_source_product_verbatim(code, source, source_message):
    found = CATALOGUE[code]
    assert (found.source, found.source_message) == (source, source_message)


def test_source_and_source_message_come_together():
    for found in CATALOGUE.values():
        assert (found.source is None) == (found.source_message is None), found.code


def test_api_level_errors_have_no_source_product():
    assert all(CATALOGUE[code].source is None for code in API_LEVEL)


def test_internal_error_tells_what_support_needs_to_escalate():
    steps = " ".join(CATALOGUE["INTERNAL_ERROR"].remediation)
    assert "merchant ID" in steps
    assert "time zone" in steps
    assert CATALOGUE["INTERNAL_ERROR"].retryable


def test_seller_central_failure_says_feeds_are_not_affected():
    assert "NOT affected" in CATALOGUE["SELLER_CENTRAL_AUTHORIZATION_FAILED"].message


def test_not_primary_owner_explains_how_to_find_the_owner():
    first_step = CATALOGUE["NOT_PRIMARY_OWNER"].remediation[0]
    assert "Settings > User Permissions" in first_step
    assert "Primary" in first_step


def test_as_dict_is_json_ready_with_remediation_as_a_list():
    as_dict = CATALOGUE["INTERNAL_ERROR"].as_dict()
    assert list(as_dict) == [
        "code",
        "title",
        "message",
        "remediation",
        "who_acts",
        "retryable",
        "http_status",
        "source_message",
        "source",
        "recognised_from",
        "shown_on",
        "http_status_when",
    ]
    assert isinstance(as_dict["remediation"], list)
    assert json.loads(json.dumps(as_dict)) == as_dict


def test_every_entry_states_what_it_is_recognised_from_and_where_the_owner_sees_it():
    for found in CATALOGUE.values():
        assert len(found.recognised_from) > 20, found.code
        assert found.shown_on in ("amazon", "service"), found.code


def test_causes_amazon_shows_on_its_own_page_are_named_in_the_expired_windows_guide():
    stopped = {c for c, e in CATALOGUE.items() if e.shown_on == "amazon"}
    assert stopped == {"NOT_PRIMARY_OWNER", "NOT_PROFESSIONAL_ACCOUNT", "ACCOUNT_SETUP_INCOMPLETE"}
    last_step = CATALOGUE["AUTHORIZATION_EXPIRED"].remediation[-1]
    for code in stopped:
        assert f"{CATALOGUE[code].title} ({code})" in last_step


def test_the_owner_rule_names_the_permission_amazon_now_accepts():
    # amzn/selling-partner-api-models#4642: a secondary user with "Manage Authorized
    # Partners" may authorize.
    found = CATALOGUE["NOT_PRIMARY_OWNER"]
    assert "Manage Authorized Partners" in found.message
    assert any("Manage Authorized Partners" in step for step in found.remediation)


@pytest.mark.parametrize(("code", "situation"), SITUATION_STATUS)
def test_the_few_situations_answered_with_another_status_are_named_in_the_catalogue(
    code, situation
):
    assert CATALOGUE[code].status(situation) == SITUATION_STATUS[code, situation]
    assert CATALOGUE[code].status() == CATALOGUE[code].http_status
    assert CATALOGUE[code].as_dict()["http_status_when"] == {
        s: status for (c, s), status in SITUATION_STATUS.items() if c == code
    }


def test_no_other_code_changes_its_status_with_the_situation():
    varying = {code for code, found in CATALOGUE.items() if found.http_status_when}
    assert varying == {code for code, _ in SITUATION_STATUS}


def test_a_situation_the_code_does_not_name_keeps_its_usual_status():
    assert CATALOGUE["NOT_FOUND"].status("if_match") == 404
    assert CATALOGUE["VERSION_CONFLICT"].status(None) == 409


# ------------------------------------------------------------------ the file, checked on load

_VALID = {
    "code": "SOME_ERROR",
    "title": "A title",
    "message": "A message.",
    "remediation": ["A step."],
    "who_acts": "owner",
    "retryable": False,
    "http_status": 422,
    "recognised_from": "Something the service sees.",
}


def _catalogue(*seller_facing: dict, api_level: list | None = None) -> str:
    internal = {**_VALID, "code": "INTERNAL_ERROR", "http_status": 500}
    return yaml.safe_dump(
        {"seller_facing": [*seller_facing, internal], "api_level": api_level or [_VALID]}
    )


def test_the_shipped_catalogue_file_parses_to_the_loaded_catalogue():
    text = resources.files("domain").joinpath("catalogue.yaml").read_text("utf-8")
    sections = parse(text)
    assert tuple(e.code for e in sections["seller_facing"]) == SELLER_FACING
    assert tuple(e.code for e in sections["api_level"]) == API_LEVEL


def test_a_well_formed_catalogue_parses():
    sections = parse(_catalogue(api_level=[{**_VALID, "http_status_when": {"busy": 409}}]))
    assert sections["api_level"][0].status("busy") == 409
    assert sections["seller_facing"][0].shown_on == "service"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"title": None}, "title is missing"),
        ({"remediation": []}, "remediation must be"),
        ({"remediation": ["Fine.", ""]}, "remediation must be"),
        ({"message": " padded"}, "message must be"),
        ({"who_acts": "someone"}, "who_acts must be"),
        ({"retryable": "yes"}, "retryable must be"),
        ({"http_status": "422"}, "http_status must be"),
        ({"http_status": True}, "http_status must be"),
        ({"http_status": 200}, "http_status must be"),
        ({"http_status": 499}, "http_status must be"),
        ({"http_status_when": {"If-Match": 412}}, "http_status_when must be"),
        ({"http_status_when": {"if_match": 600}}, "http_status_when must be"),
        ({"shown_on": "elsewhere"}, "shown_on must be"),
        ({"code": "someError"}, "code must be"),
        ({"code": "SOME__ERROR"}, "code must be"),
        ({"source": "PayHelm"}, "source and source_message come together"),
        ({"remedy": ["A step."]}, "unknown fields ['remedy']"),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_entry_and_the_field(change, complaint):
    broken = {k: v for k, v in {**_VALID, **change}.items() if v is not None}
    with pytest.raises(CatalogueError, match=r"seller_facing\[0\]") as refused:
        parse(_catalogue(broken))
    assert complaint in str(refused.value)


def test_a_code_listed_twice_is_refused():
    with pytest.raises(CatalogueError, match="SOME_ERROR is listed twice"):
        parse(_catalogue(_VALID))


def test_a_field_given_twice_is_refused_not_silently_overwritten():
    text = _catalogue().replace("title: A title", "title: A title\n  title: Another", 1)
    with pytest.raises(CatalogueError, match="given twice"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "- just a list",
        "seller_facing: []\napi_level: []",
        "seller_facing: [{}]\napi_level: []\nmore: []",
        "seller_facing: [unclosed",
    ],
)
def test_a_catalogue_without_its_two_sections_is_refused(text):
    with pytest.raises(CatalogueError):
        parse(text)


def test_a_catalogue_without_internal_error_is_refused():
    text = yaml.safe_dump({"seller_facing": [_VALID], "api_level": [{**_VALID, "code": "B"}]})
    with pytest.raises(CatalogueError, match="INTERNAL_ERROR is missing"):
        parse(text)
