"""Every way a mobile is written (and that intake accepts) is masked in free text; other
numbers are left alone."""

import pytest

from leads.masking import mask_data, mask_mobiles
from leads.phone import normalise_mobile


@pytest.mark.parametrize(
    "written",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "139.1234.5678",
        "139 123 45678",
        "+8613912345678",
        "+86 139 1234 5678",
        "8613912345678",
        "0086 13912345678",
        "１３９１２３４５６７８",
    ],
)
def test_every_accepted_way_of_writing_a_mobile_is_masked(written):
    assert normalise_mobile(written) == "13912345678"

    masked = mask_mobiles(f"客户说：{written}，请回电")

    assert masked == "客户说：139****5678，请回电"


@pytest.mark.parametrize(
    "text", ["订单 13912345678901", "2026-11-25 13:00", "12345678901", "邮编 100000"]
)
def test_other_numbers_are_left_alone(text):
    assert mask_mobiles(text) == text


def test_a_url_encoded_number_in_a_logged_search_is_masked():
    assert mask_mobiles("?q=139+1234+5678&o=1") == "?q=139****5678&o=1"


def test_two_numbers_side_by_side_are_both_masked():
    assert mask_mobiles("13912345678 13812345678") == "139****5678 138****5678"


def test_numbers_inside_json_details_are_masked():
    data = {"old": "13912345678", "notes": ["换号 +86 138 0013 8000"], "n": 13700000000}

    assert mask_data(data) == {
        "old": "139****5678",
        "notes": ["换号 138****8000"],
        "n": "137****0000",
    }
