"""factory_boy factories. Leads are built in a given state with kwargs (FSM fields are protected,
so states are set at construction, never assigned afterwards)."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels.models import Channel
from dealers.models import Advisor, Dealer, DispatchWindow, Region
from leads.models import Customer, Lead, Status, VehicleModel, VehicleSeries


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass12345")
    is_staff = False


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    code = factory.Sequence(lambda n: f"CH{n:03d}")
    name = factory.Sequence(lambda n: f"渠道{n}")
    level = 3
    parent = factory.LazyFunction(
        lambda: ChannelFactory(
            level=2,
            parent=ChannelFactory(level=1, parent=None, name="厂商渠道"),
            name="垂直媒体",
        )
    )
    needs_cleansing = True
    score_weight = 60


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "NORTH"
    name = "华北大区"


class DealerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dealer
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.Sequence(lambda n: f"测试汽车销售服务有限公司{n}")
    region = factory.SubFactory(RegionFactory)
    province = "北京"
    city = "北京"

    @factory.post_generation
    def windows(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            DispatchWindow.objects.bulk_create(
                DispatchWindow(
                    dealer=obj,
                    weekday=day,
                    opens_at=datetime.time(8, 30),
                    closes_at=datetime.time(20, 0),
                )
                for day in range(7)
            )


class AdvisorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advisor
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    dealer = factory.SubFactory(DealerFactory)
    name = factory.Sequence(lambda n: f"顾问{n}")
    role = Advisor.Role.ADVISOR
    hire_date = datetime.date(2022, 3, 1)
    years_experience = 3

    @factory.post_generation
    def role_group(obj, create, extracted, **kwargs):
        """Dealer staff hold their role's permissions through its group, as in production."""
        if not create:
            return
        from leads.services.roles import advisor_role_sync

        advisor_role_sync(obj)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    name = factory.Sequence(lambda n: f"客户{n}")
    city = "北京"


class VehicleModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VehicleModel

    series = factory.LazyFunction(
        lambda: VehicleSeries.objects.get_or_create(code="S1", defaults={"name": "测试车系"})[0]
    )
    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.Sequence(lambda n: f"车型{n}")


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead at HQ by default. Pass `status=...` with the fields that status needs, or use the
    helpers below for dealer-side states."""

    class Meta:
        model = Lead

    customer = factory.SubFactory(CustomerFactory)
    channel = factory.SubFactory(ChannelFactory)
    status = Status.NEW
    created_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=2))


def lead_at_dealer(status=Status.DISPATCHED, *, dealer=None, advisor=None, **kwargs) -> Lead:
    """A lead in a dealer-side status, with the dealer, consent and (if owned) advisor it needs."""
    from leads.models import OWNED_STATUSES

    dealer = dealer or (advisor.dealer if advisor else DealerFactory())
    if status in OWNED_STATUSES and advisor is None:
        advisor = AdvisorFactory(dealer=dealer)
    now = timezone.now()
    kwargs.setdefault("consent_dealer", dealer)
    kwargs.setdefault("consent_at", now - datetime.timedelta(hours=1))
    kwargs.setdefault("dispatched_at", now - datetime.timedelta(minutes=30))
    return LeadFactory(status=status, dealer=dealer, advisor=advisor, **kwargs)
