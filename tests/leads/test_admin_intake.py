"""HQ manual entry and channel tokens in the admin: both go through the services."""

import pytest
from django.urls import reverse

from channels.models import ChannelToken
from leads.models import Lead, RawLead
from tests.factories import ChannelFactory, DealerFactory

pytestmark = pytest.mark.django_db


def test_manual_entry_goes_through_intake_and_opens_the_new_lead(client, hq_admin):
    channel, dealer = ChannelFactory(needs_cleansing=False), DealerFactory()
    client.force_login(hq_admin)
    url = reverse("admin:leads_rawlead_enter_lead")

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "channel": channel.pk,
            "mobile": "138 0000 7777",
            "name": "赵六",
            "dealer": dealer.pk,
            "consent": "on",
        },
    )

    lead = Lead.objects.get(customer__mobile="13800007777")
    raw = RawLead.objects.get(lead=lead)
    assert response.status_code == 302 and response["Location"].endswith(f"/{lead.pk}/change/")
    assert (raw.source, raw.submitted_by) == ("admin", hq_admin)
    assert lead.status == "qualified" and lead.consent_dealer == dealer


def test_manual_entry_with_bad_mobile_keeps_the_raw_lead_and_says_why(client, hq_admin):
    channel = ChannelFactory()
    client.force_login(hq_admin)

    response = client.post(
        reverse("admin:leads_rawlead_enter_lead"),
        {"channel": channel.pk, "mobile": "12345"},
        follow=True,
    )

    assert RawLead.objects.get().outcome == "invalid"
    assert "手机号不是有效的中国大陆手机号" in response.content.decode()


def test_manual_entry_requires_a_mobile_and_a_channel(client, hq_admin):
    client.force_login(hq_admin)

    response = client.post(reverse("admin:leads_rawlead_enter_lead"), {})

    assert response.status_code == 200
    assert RawLead.objects.count() == 0
    assert "该字段是必填项" in response.content.decode()


def test_channel_action_rotates_token_and_shows_it_once(client, hq_admin):
    channel = ChannelFactory()
    client.force_login(hq_admin)

    response = client.post(
        reverse("admin:channels_channel_changelist"),
        {"action": "rotate_token", "_selected_action": [channel.pk]},
        follow=True,
    )

    token = ChannelToken.objects.get(channel=channel)
    assert token.prefix in response.content.decode()
    assert token.key_hash not in response.content.decode()


def test_lead_page_explains_its_score(client, hq_admin):
    from leads.services.intake import lead_intake

    result = lead_intake(
        channel=ChannelFactory(score_weight=100),
        source="api",
        data={"mobile": "13800007778", "name": "孙七"},
    )
    client.force_login(hq_admin)

    page = client.get(reverse("admin:leads_lead_change", args=[result.lead_id])).content.decode()

    assert "渠道质量" in page and "留有姓名" in page and "合计" in page
