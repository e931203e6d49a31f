"""The `kia` command: database, demo data, users, tokens, event types and the server."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import inspect

import kia.models  # noqa: F401 – every mapper, so relationships named by string ("Case") resolve
from kia.config import SETTINGS_DOC, Settings, local_url
from kia.db import make_engine, make_session_factory
from kia.errors import DomainError, ValidationFailed


def _session():
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    return make_session_factory(engine)()


def _fail(error: DomainError) -> None:
    if isinstance(error, ValidationFailed):
        for path, messages in error.errors.items():
            for message in messages:
                click.echo(f"{path}: {message.render()}", err=True)
    else:
        click.echo(error.detail.render() if error.detail else error.title, err=True)
    sys.exit(2)


@click.group()
def main() -> None:
    """KIA – incident reporting and case handling. Settings come from KIA_* environment variables."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and add missing built-in event types."""
    from kia import migrate
    from kia.seed import ensure_reference_data

    settings = Settings.from_env()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with make_session_factory(engine)() as session:
        added = ensure_reference_data(session)
    click.echo("Database at the newest schema; added: "
               + ", ".join(f"{count} {what}" for what, count in added.items()) + ".")


@db.command("is-new")
def db_is_new() -> None:
    """Exit 0 if the database holds no org units yet (used by `make run` to load demo data once)."""
    from sqlalchemy import func, select

    from kia.orgs.models import OrgUnit

    with _session() as session:
        if not inspect(session.get_bind()).has_table("org_units"):
            sys.exit(0)
        sys.exit(0 if session.scalar(select(func.count()).select_from(OrgUnit)) == 0 else 1)


@main.command("demo-data")
@click.option("--incidents", "incident_count", default=0, show_default=True,
              help="Also file this many realistic incidents over the last two years.")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for the same data every time.")
def demo_data(incident_count: int, seed: int) -> None:
    """Build a Stockholm-like org tree with one user per role (passwords in the README)."""
    from kia.demo import build_demo_organisation, file_demo_incidents

    settings = Settings.from_env()
    with _session() as session:
        try:
            created = build_demo_organisation(session)
        except DomainError as error:
            _fail(error)
        click.echo("Demo organisation and users created." if created else "Demo organisation already present.")
        if incident_count:
            with click.progressbar(length=incident_count, label="Filing demo incidents") as bar:
                file_demo_incidents(session, incident_count, settings.timezone, seed=seed, progress=bar.update)
            click.echo(f"{incident_count} incidents filed.")


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; prompted for when left out.")
@click.option("--role", "roles", multiple=True, help="A role, paired in order with --unit; may repeat.")
@click.option("--unit", "units", multiple=True, help="An org unit code for the --role at the same position.")
@click.option("--language", default="sv", type=click.Choice(["sv", "en"]), show_default=True)
def users_create(email, name, password, roles, units, language) -> None:
    """Create a user: kia users create --email E --name N --password P --role handler --unit S01."""
    from kia.orgs.services import create_user

    if len(roles) != len(units):
        raise click.UsageError("Give one --unit for every --role.")
    with _session() as session:
        try:
            user = create_user(session, email, name, password, list(zip(roles, units)), language=language)
        except DomainError as error:
            _fail(error)
        click.echo(f"User {user.email} created (id {user.id}).")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--scopes", required=True, help="Comma-separated, e.g. incidents:read,incidents:write.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
def tokens_create(email, scopes, name) -> None:
    """Create an API token; the secret is printed once and only its hash is kept."""
    from kia.auth.tokens import create_token
    from kia.orgs.services import user_by_email

    with _session() as session:
        user = user_by_email(session, email)
        if user is None:
            click.echo(f"No user with e-mail {email}.", err=True)
            sys.exit(2)
        try:
            _token, secret = create_token(session, user, [s.strip() for s in scopes.split(",") if s.strip()], name)
        except DomainError as error:
            _fail(error)
        click.echo(secret)


@main.group("types")
def types_group() -> None:
    """Event types."""


@types_group.command("add")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--admin-email", required=True, help="The administrator adding the type (for the access rules).")
def types_add(spec_file: Path, admin_email: str) -> None:
    """Add an event type from a JSON file shaped like POST /api/v1/incident-types."""
    from marshmallow import ValidationError as SchemaError

    from api.problems import flatten_schema_errors
    from api.schemas import IncidentTypeIn
    from kia.access import Actor
    from kia.incidents.types import create_incident_type
    from kia.orgs.services import user_by_email

    try:
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
    except ValueError as error:
        raise click.UsageError(f"{spec_file} is not valid JSON: {error}") from error
    if not isinstance(spec, dict):
        raise click.UsageError(f"{spec_file} must hold one JSON object, shaped like POST /api/v1/incident-types.")
    # The API's own input schema: the same shape checks, so a list or a wrong type is a message, not a traceback.
    try:
        spec = IncidentTypeIn().load(spec)
    except SchemaError as error:
        for path, messages in flatten_schema_errors(error.messages).items():
            for message in messages:
                click.echo(f"{path}: {message}", err=True)
        sys.exit(2)
    with _session() as session:
        admin = user_by_email(session, admin_email)
        if admin is None:
            click.echo(f"No user with e-mail {admin_email}.", err=True)
            sys.exit(2)
        try:
            created = create_incident_type(session, Actor.for_user(admin), spec)
        except DomainError as error:
            _fail(error)
        click.echo(f"Event type {created.code} added.")


def ready_banner(settings: Settings, session) -> list[str]:
    """What `kia serve` and `kia run` print once the socket is bound: where KIA is, where e-mails go, how to sign in."""
    from sqlalchemy.exc import SQLAlchemyError

    from kia.demo import DEMO_ADMIN, DEMO_PASSWORD, has_demo_sign_in

    url = local_url(settings.host, settings.port)
    if settings.smtp_host:
        mail = f"E-mails are sent through {settings.smtp_host}:{settings.smtp_port}"
    else:
        folder = settings.instance_path / "mail"
        try:
            folder = folder.relative_to(Path.cwd())
        except ValueError:
            pass
        mail = f"E-mails are written to {folder}/ (no KIA_SMTP_HOST)"
    try:
        demo = has_demo_sign_in(session)
    except SQLAlchemyError:   # not migrated yet: the server answers, the sign-in line can wait
        demo = False
    sign_in = (f"Sign in as {DEMO_ADMIN} / {DEMO_PASSWORD} (see README for the other roles)" if demo
               else "Sign in: no demo data here; see README (kia users create, kia demo-data)")
    return [f"KIA is running at {url}/", f"API docs: {url}/api/docs", mail, sign_in]


def _banner_text(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            lines = ready_banner(settings, session)
    finally:
        engine.dispose()
    width = max(len(line) for line in lines)
    return "\n".join(["", "-" * width, *lines, "-" * width, ""])


HOST_HELP = "Address to listen on; default: KIA_HOST, else 127.0.0.1."
PORT_HELP = "Port to listen on; default: KIA_PORT, else 5000."


ALARM_STREAM_THREADS = 64


@main.command()
@click.option("--host", default=None, help=HOST_HELP)
@click.option("--port", default=None, type=click.IntRange(1, 65535), help=PORT_HELP)
@click.option("--workers", default=2, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve web + API with gunicorn (the same server as production)."""
    import dataclasses

    from gunicorn.app.base import BaseApplication

    from kia.app import create_app, serving
    from kia.logs import GunicornLogger, configure_logging

    settings = Settings.from_env()
    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    configure_logging(settings.log_format)
    if workers > 1 and not settings.redis_url:
        # The in-process alarm broker reaches the open pages of its own process only (README, alarms).
        click.echo("KIA_REDIS_URL is not set: one worker, so that every alarm reaches every open page.")
        workers = 1
    # Read before gunicorn starts, so that printing it holds up nothing: the workers boot right after.
    banner = _banner_text(settings)

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            # gunicorn's control socket defaults to one path per machine user: keep it per instance,
            # so `make run` and a benchmark server can run side by side.
            self.cfg.set("control_socket", str(settings.instance_path / "gunicorn.ctl"))
            self.cfg.set("workers", workers)
            # Each open page holds a thread for its alarm stream (SSE) while it is open: room for them.
            self.cfg.set("threads", ALARM_STREAM_THREADS)
            self.cfg.set("logger_class", GunicornLogger)
            self.cfg.set("accesslog", "-")
            # No client address (an anonymous reporter's), referrer or query string (a search for a name).
            self.cfg.set("access_log_format", '"%(m)s %(U)s" %(s)s %(B)s %(M)sms')
            # After the socket is bound, before the workers boot: requests wait on the socket meanwhile.
            self.cfg.set("when_ready", lambda _arbiter: click.echo(banner))

        def load(self):
            return serving(create_app(settings))

    _Server().run()


@main.command("settings")
def show_settings() -> None:
    """List the environment variables KIA reads, with their defaults."""
    for name, (default, description) in SETTINGS_DOC.items():
        click.echo(f"{name}  (default: {default})\n    {description}")


@main.command()
def scheduler() -> None:
    """Run the scheduler: deadline sweeps, notification dispatch, nightly housekeeping."""
    from kia.logs import configure_logging
    from kia.scheduler import run

    settings = Settings.from_env()
    configure_logging(settings.log_format)
    run(settings)


def _now_option(now_text: str | None, settings: Settings):
    """--now as an aware time (no offset: local time), or now."""
    from kia.db import utcnow
    from kia.incidents.fields import parse_datetime

    try:
        return parse_datetime(now_text, settings.timezone) if now_text else utcnow()
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 time: {now_text}", param_hint="--now") from error


@main.group()
def deadlines() -> None:
    """Deadlines and escalations."""


@deadlines.command("sweep")
@click.option("--now", "now_text", default=None, help="Sweep as of this time (ISO 8601; no offset: local time).")
def deadlines_sweep(now_text: str | None) -> None:
    """Run one deadline sweep, e.g. kia deadlines sweep --now 2026-12-01T08:00."""
    from kia.scheduler import Jobs

    settings = Settings.from_env()
    now = _now_option(now_text, settings)
    result = Jobs(settings).sweep_deadlines(now)
    click.echo(f"Swept as of {now.astimezone(settings.timezone).isoformat()}: {result.obligations} obligations, "
               + ", ".join(f"{count} {step}" for step, count in result.steps.items())
               + f", {result.notifications} notifications queued.")


@main.group()
def gallring() -> None:
    """Gallring: erasing personal data whose retention time has run out."""


@gallring.command("run")
@click.option("--now", "now_text", default=None, help="Run as of this time (ISO 8601; no offset: local time).")
def gallring_run(now_text: str | None) -> None:
    """Tonight's gallring now, unless a scheduler has run it tonight (it then runs once this night)."""
    from kia.scheduler import Jobs

    settings = Settings.from_env()
    now = _now_option(now_text, settings)
    result = Jobs(settings).gallring(now)
    if result is None:
        click.echo("Gallring has already run this night.")
        return
    click.echo(f"Gallring as of {now.astimezone(settings.timezone).isoformat()}: {result.records} records"
               + "".join(f"; {code}: {c['anonymised']} anonymised, {c['destroyed']} destroyed, {c['files']} files"
                         for code, c in result.counts.items()) + ".")


@deadlines.command("recompute")
def deadlines_recompute() -> None:
    """Recompute every open case's obligations (after changing deadline rules by hand)."""
    from kia.db import utcnow
    from kia.deadlines.services import resync_open_cases

    settings = Settings.from_env()
    with _session() as session:
        count = resync_open_cases(session, settings.timezone, utcnow())
    click.echo(f"{count} open cases recomputed.")


@main.command()
@click.option("--host", default=None, help=HOST_HELP)
@click.option("--port", default=None, type=click.IntRange(1, 65535), help=PORT_HELP)
@click.option("--workers", default=2, show_default=True)
def run(host: str | None, port: int | None, workers: int) -> None:
    """Web + API and the scheduler together (what `make run` starts); Ctrl-C stops both."""
    import os
    import subprocess

    Settings.from_env()   # a wrong setting stops here, before there is a scheduler to stop
    # The links in the scheduler's e-mails (KIA_BASE_URL's default) follow --host and --port.
    given = {"KIA_HOST": host, "KIA_PORT": str(port) if port else None}
    env = {**os.environ, **{name: value for name, value in given.items() if value}}
    scheduler_process = subprocess.Popen([sys.executable, "-m", "kia.cli", "scheduler"], env=env)
    try:
        serve.callback(host=host, port=port, workers=workers)
    finally:
        scheduler_process.terminate()
        try:
            scheduler_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scheduler_process.kill()


if __name__ == "__main__":
    main()
