"""`manage.py bench` (make bench): build a scratch PostgreSQL database and measure."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leadcentre_bench"


class Command(BaseCommand):
    help = (
        "Measure the pipeline against raw PostgreSQL baselines; prints a table, writes bench.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", default="bench.json")
        parser.add_argument("--inner", action="store_true", help="(internal) run the measures")
        parser.add_argument(
            "--only", default="", help="comma-separated groups: intake,api,dispatch (default: all)"
        )

    def handle(self, *args, out, inner, only, **options):
        groups = {g.strip() for g in only.split(",") if g.strip()} or None
        if inner:
            from leads.bench import run, table

            figures = run(Path(out), only=groups)
            self.stdout.write(table(figures))
            self.stdout.write(f"\nwritten: {out}")
            return
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
        name = url.rsplit("/", 1)[-1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as error:
            raise CommandError(f"无法创建基准测试数据库（{admin_url}）：{error}") from error
        env = {
            **os.environ,
            "DATABASE_URL": url,
            # Production settings (DEBUG off: no query log) with a throwaway key, plain HTTP.
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
        }
        try:
            code = subprocess.call(
                [sys.executable, "manage.py", "bench", "--inner", "--out", out, "--only", only],
                cwd=settings.BASE_DIR,
                env=env,
            )
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if code:
            raise CommandError(f"bench failed ({code})")
