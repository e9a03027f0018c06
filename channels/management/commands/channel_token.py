from django.core.management.base import BaseCommand, CommandError

from channels.models import Channel
from channels.services import channel_token_rotate
from config.errors import DomainError


class Command(BaseCommand):
    help = "Create or rotate the API token of a level-3 channel; prints it on the last line."

    def add_arguments(self, parser):
        parser.add_argument("code", help="channel code, e.g. AUTOHOME")

    def handle(self, *args, code, **options):
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"渠道不存在：{code}")
        try:
            key = channel_token_rotate(channel=channel)
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stderr.write(f"渠道 {channel.name}（{channel.code}）的新令牌（旧令牌已失效）：")
        self.stdout.write(key)
