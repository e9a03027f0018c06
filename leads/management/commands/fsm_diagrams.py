from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leads.diagrams import diagrams_markdown

START, END = "<!-- fsm-diagrams:start -->", "<!-- fsm-diagrams:end -->"


class Command(BaseCommand):
    help = "Write the state-machine diagrams to docs/state-machines.md and into README.md."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if the files are stale")

    def handle(self, *args, check=False, **options):
        body = diagrams_markdown()
        docs = Path(settings.BASE_DIR) / "docs" / "state-machines.md"
        readme = Path(settings.BASE_DIR) / "README.md"
        wanted = {docs: "# 线索的两个状态机 / The lead's two state machines\n\n" + body}
        text = readme.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _old, tail = rest.split(END, 1)
            wanted[readme] = f"{head}{START}\n{body}{END}{tail}"
        stale = [
            p
            for p, content in wanted.items()
            if not p.exists() or p.read_text(encoding="utf-8") != content
        ]
        if check:
            if stale:
                raise CommandError(
                    f"过期的状态机图，请运行 make diagrams: {[p.name for p in stale]}"
                )
            self.stdout.write("diagrams up to date")
            return
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted[path], encoding="utf-8")
            self.stdout.write(f"wrote {path.relative_to(settings.BASE_DIR)}")
