"""The channel REST API: token per channel, idempotency, per-item batch answers, status without
personal data, consistent error bodies."""

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from channels.services import channel_token_rotate
from leads.models import Lead, RawLead
from tests.factories import ChannelFactory, DealerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


@pytest.fixture
def channel():
    return ChannelFactory(code="AUTOHOME", name="汽车之家")


def _client(channel) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {channel_token_rotate(channel=channel)}")
    return client


def _post(client, data, url="/api/v1/leads/"):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_post_creates_lead_and_answers_201_with_ids_and_outcome(channel):
    dealer = DealerFactory()

    response = _post(
        _client(channel),
        {"external_id": "E1", "mobile": "13800001234", "dealer_code": dealer.code, "consent": True},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created" and body["lead_id"] == Lead.objects.get().pk
    assert RawLead.objects.get(pk=body["raw_lead_id"]).source == "api"


def test_unusable_mobile_is_still_stored_and_answered_201_invalid(channel):
    response = _post(_client(channel), {"external_id": "E2", "mobile": "12"})

    assert response.status_code == 201
    assert response.json()["outcome"] == "invalid"
    assert response.json()["reasons"] == ["invalid_mobile"]
    assert RawLead.objects.filter(external_id="E2").exists()


def test_replay_with_same_body_returns_first_answer_without_second_raw_lead(channel):
    client = _client(channel)
    first = _post(client, {"external_id": "E3", "mobile": "13800001235"})

    again = _post(client, {"external_id": "E3", "mobile": "13800001235"})

    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert RawLead.objects.count() == 1


def test_same_external_id_with_different_body_answers_409(channel):
    client = _client(channel)
    _post(client, {"external_id": "E4", "mobile": "13800001236"})

    response = _post(client, {"external_id": "E4", "mobile": "13800009999"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "external_id_conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mobile": "13800001237"}, "external_id"),
        ({"external_id": "x" * 65, "mobile": "13800001237"}, "external_id"),
        ({"external_id": "E5", "consent": "maybe"}, "consent"),
        ({"external_id": "E5", "name": "名" * 51}, "name"),
    ],
)
def test_bad_fields_answer_400_with_field_errors_and_store_nothing(channel, body, field):
    response = _post(_client(channel), body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert RawLead.objects.count() == 0


def test_malformed_json_answers_400(channel):
    response = _client(channel).post(
        "/api/v1/leads/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_missing_or_wrong_token_answers_401(channel):
    anonymous = APIClient()
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token nope")

    assert _post(anonymous, {"external_id": "E6"}).status_code == 401
    assert _post(wrong, {"external_id": "E6"}).status_code == 401


def test_rotated_token_replaces_the_old_one(channel):
    old = _client(channel)
    new = _client(channel)

    assert _post(old, {"external_id": "E7"}).status_code == 401
    assert _post(new, {"external_id": "E7"}).status_code == 201


def test_inactive_channel_answers_403(channel):
    client = _client(channel)
    channel.is_active = False
    channel.save()

    response = _post(client, {"external_id": "E8", "mobile": "13800001238"})

    assert response.status_code == 403
    assert "停用" in response.json()["error"]["message"]


def test_throttled_channel_gets_429_with_a_clear_message(channel, settings):
    from channels.auth import ChannelRateThrottle

    client = _client(channel)
    original = ChannelRateThrottle.THROTTLE_RATES
    ChannelRateThrottle.THROTTLE_RATES = {"channel": "2/min"}
    try:
        codes = [_post(client, {"external_id": f"T{i}"}).status_code for i in range(3)]
        last = _post(client, {"external_id": "T9"})
    finally:
        ChannelRateThrottle.THROTTLE_RATES = original

    assert codes == [201, 201, 429]
    assert "请求过于频繁" in last.json()["error"]["message"]


def test_batch_answers_each_item_in_order_and_bad_items_do_not_reject_others(channel):
    response = _post(
        _client(channel),
        {
            "leads": [
                {"external_id": "B1", "mobile": "13800002001"},
                {"mobile": "13800002002"},
                {"external_id": "B3", "mobile": "bad"},
                {"external_id": "B4", "mobile": "13800002001"},
            ]
        },
        url="/api/v1/leads/batch/",
    )

    body = response.json()
    assert response.status_code == 200
    assert [item["status"] for item in body["results"]] == [201, 400, 201, 201]
    assert [item.get("result", {}).get("outcome") for item in body["results"]] == [
        "created",
        None,
        "invalid",
        "merged",
    ]
    assert (body["created"], body["merged"], body["invalid"], body["rejected"]) == (1, 1, 1, 1)


def test_batch_over_500_is_refused(channel):
    leads = [{"external_id": str(i)} for i in range(501)]

    response = _post(_client(channel), {"leads": leads}, url="/api/v1/leads/batch/")

    assert response.status_code == 400
    assert RawLead.objects.count() == 0


def test_status_shows_progress_without_personal_data(channel):
    client = _client(channel)
    _post(client, {"external_id": "S1", "mobile": "13800003001", "name": "王五"})

    response = client.get("/api/v1/leads/S1/status/")

    body = response.json()
    assert response.status_code == 200
    assert body["outcome"] == "created" and body["status"] == "cleansing"
    text = json.dumps(body, ensure_ascii=False)
    assert "13800003001" not in text and "王五" not in text


def test_status_of_another_channels_lead_is_404(channel):
    other = ChannelFactory(code="DCD")
    _post(_client(other), {"external_id": "S2", "mobile": "13800003002"})

    response = _client(channel).get("/api/v1/leads/S2/status/")

    assert response.status_code == 404


def test_channel_token_command_prints_a_working_token_on_its_last_line(channel, capsys):
    call_command("channel_token", "AUTOHOME")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert _post(client, {"external_id": "C1", "mobile": "13800004000"}).status_code == 201


def test_schema_and_swagger_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"/api/v1/leads/" in schema.content
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"jsdelivr" not in docs.content.lower()
