"""Settings from environment variables: the one place every setting is read and documented."""
from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, description); README's settings table is generated from this.
SETTINGS_DOC: dict[str, tuple[str, str]] = {
    "KIA_INSTANCE_PATH": ("./instance", "Folder for the SQLite database, the generated secret key and local files."),
    "KIA_DATABASE_URL": ("sqlite:///<instance>/kia.db", "SQLAlchemy URL. Production: postgresql+psycopg://user@host/db."),
    "KIA_SECRET_KEY": ("generated into <instance>/secret_key", "Signs sessions. Set the same value on every web host."),
    "KIA_TIMEZONE": ("Europe/Stockholm", "Time zone at the edges (input without offset, display, periods)."),
    "KIA_DEFAULT_LANGUAGE": ("sv", "Language when neither user nor request says: sv or en."),
    "KIA_MAX_REQUEST_BYTES": ("1048576", "Largest accepted request body for the JSON API (413 beyond)."),
    "KIA_ATTACHMENT_MAX_BYTES": ("20971520", "Largest file accepted as a case attachment (20 MiB; 413 beyond)."),
    "KIA_DB_POOL_SIZE": ("5", "Connections per process to PostgreSQL."),
    "KIA_SESSION_COOKIE_SECURE": ("1", "Session cookie only over HTTPS; set 0 for plain-HTTP local runs."),
    "KIA_STATS_SUPPRESSION_THRESHOLD": ("5", "Statistics hide counts from 1 to this minus 1 (and what would reveal them)."),
    "KIA_PUBLIC_REQUESTS_PER_MINUTE": ("30", "Requests per minute from one client address to the public (no-login) API."),
    "KIA_PUBLIC_REPORTS_PER_HOUR": ("10", "Anonymous reports per hour from one client address."),
    "KIA_FOLLOWUP_FAILURES_PER_HOUR": ("10", "Wrong follow-up codes per hour from one client address; then it must wait."),
    "KIA_HOST": ("127.0.0.1", "Address `kia run` and `kia serve` listen on (0.0.0.0: every interface)."),
    "KIA_PORT": ("5000", "Port `kia run` and `kia serve` listen on."),
    "KIA_BASE_URL": ("http://<KIA_HOST>:<KIA_PORT>", "Public address of the web UI, for links in e-mails (…/cases/<id>)."),
    "KIA_LOG_FORMAT": ("text", "text: plain lines for a console; json: one JSON object a line, for a log collector."),
    "KIA_SMTP_HOST": ("(none)", "SMTP server for e-mail. Unset: e-mails are written to <instance>/mail/ instead."),
    "KIA_SMTP_PORT": ("587", "SMTP port."),
    "KIA_SMTP_USER": ("(none)", "SMTP login; unset: no login."),
    "KIA_SMTP_PASSWORD": ("(none)", "SMTP password (never logged or shown)."),
    "KIA_SMTP_STARTTLS": ("1", "Upgrade the SMTP connection with STARTTLS; 0 only for a relay on a trusted network."),
    "KIA_MAIL_FROM": ("KIA <noreply@kia.localhost>", "Sender of KIA's e-mails."),
    "KIA_TRUSTED_PROXIES": ("0", "Reverse proxies in front of KIA whose X-Forwarded-For/-Proto to trust (rate limits, links)."),
    "KIA_NOTIFICATION_MAX_ATTEMPTS": ("10", "Delivery attempts per e-mail or webhook (exponential backoff) before it fails."),
    "KIA_OIDC_ISSUER": ("(none)", "OpenID Connect issuer of the city's sign-in service (https://…); unset: no single sign-on."),
    "KIA_OIDC_CLIENT_ID": ("(none)", "KIA's client id at that service; needed with KIA_OIDC_ISSUER."),
    "KIA_OIDC_CLIENT_SECRET": ("(none)", "KIA's client secret there (never logged or shown); unset: a public client (PKCE alone)."),
    "KIA_OIDC_DISPLAY_NAME": ("SSO", "What the sign-in page's button names the service: \"Sign in with <name>\"."),
    "KIA_REDIS_URL": ("(none)", "Redis for alarm fan-out across workers and hosts (redis://host:6379/0); unset: in-process."),
    "KIA_ALARM_HEARTBEAT_SECONDS": ("15", "An alarm stream (SSE) sends a heartbeat comment after this many idle seconds."),
    "KIA_ALARM_STREAM_SECONDS": ("300", "An alarm stream ends after this many seconds; the browser reconnects at once."),
    "KIA_SWEEP_WORKERS": ("2", "Deadline sweeps run side by side on PostgreSQL, each on its own connection (SQLite: 1)."),
    "KIA_MAP_TILES_URL": ("(none)", "Tile URL template for the event map ({z}/{x}/{y}, {s}); unset: no tiles, nothing loaded from outside."),
    "KIA_MAP_TILES_ATTRIBUTION": ("(none)", "Attribution the tile provider requires, shown on the map (HTML allowed)."),
    "KIA_GEOREPORT_API": ("0", "1: serve the read-only Open311 GeoReport v2 API of non-confidential, anonymised events at /open311/v2."),
}


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def log_format_from_env() -> str:
    """KIA_LOG_FORMAT alone, for gunicorn's logger, which is set up before any app or Settings exists."""
    log_format = _env("KIA_LOG_FORMAT", "text").lower()
    if log_format not in ("text", "json"):
        raise ValueError("KIA_LOG_FORMAT must be text or json")
    return log_format


def local_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on host:port."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _secret_key(instance_path: Path) -> str:
    """Use KIA_SECRET_KEY, or a key generated once and kept under the instance folder."""
    configured = _env("KIA_SECRET_KEY")
    if configured:
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    instance_path.mkdir(parents=True, exist_ok=True)
    # Workers starting together race here. Write an owner-only (mkstemp: 0600) file, then link it into
    # place: the first link wins and the others read its complete key, never a half-written, empty file.
    fd, tmp_name = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        os.link(tmp_name, key_file)
    except FileExistsError:
        return key_file.read_text().strip()
    finally:
        os.unlink(tmp_name)
    return key


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str = field(repr=False)
    timezone: ZoneInfo
    default_language: str = "sv"
    max_request_bytes: int = 1024 * 1024
    attachment_max_bytes: int = 20 * 1024 * 1024
    db_pool_size: int = 5
    session_cookie_secure: bool = True
    stats_suppression_threshold: int = 5
    public_requests_per_minute: int = 30
    public_reports_per_hour: int = 10
    followup_failures_per_hour: int = 10
    base_url: str = "http://127.0.0.1:5000"
    smtp_host: str = ""                 # empty: e-mails go to <instance>/mail/
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    mail_from: str = "KIA <noreply@kia.localhost>"
    notification_max_attempts: int = 10
    sweep_workers: int = 2
    trusted_proxies: int = 0           # 0: the client is the peer address; never trust headers by default
    host: str = "127.0.0.1"
    port: int = 5000
    log_format: str = "text"           # or "json"
    oidc_issuer: str = ""              # empty: no single sign-on (kia/auth/oidc.py, web/oidc.py)
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_display_name: str = "SSO"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
    map_tiles_url: str = ""            # empty: the map has no tile layer
    map_tiles_attribution: str = ""
    open311_enabled: bool = False
    redis_url: str = field(default="", repr=False)   # empty: alarms fan out in this process only
    alarm_heartbeat_seconds: float = 15
    alarm_stream_seconds: float = 300

    @property
    def attachments_path(self) -> Path:
        """Where the attachments' files are stored (kia.cases.attachments.AttachmentStore)."""
        return self.instance_path / "attachments"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        instance_path = Path(overrides.pop("instance_path", None) or _env("KIA_INSTANCE_PATH", "instance")).resolve()
        database_url = _env("KIA_DATABASE_URL") or f"sqlite:///{instance_path / 'kia.db'}"
        host, port = _env("KIA_HOST", "127.0.0.1"), int(_env("KIA_PORT", "5000"))
        values = dict(
            instance_path=instance_path,
            database_url=database_url,
            secret_key=_secret_key(instance_path) if "secret_key" not in overrides else overrides.pop("secret_key"),
            timezone=ZoneInfo(_env("KIA_TIMEZONE", "Europe/Stockholm")),
            default_language=_env("KIA_DEFAULT_LANGUAGE", "sv"),
            max_request_bytes=int(_env("KIA_MAX_REQUEST_BYTES", str(1024 * 1024))),
            attachment_max_bytes=int(_env("KIA_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024))),
            db_pool_size=int(_env("KIA_DB_POOL_SIZE", "5")),
            session_cookie_secure=_env("KIA_SESSION_COOKIE_SECURE", "1") not in ("0", "false", "no"),
            stats_suppression_threshold=int(_env("KIA_STATS_SUPPRESSION_THRESHOLD", "5")),
            public_requests_per_minute=int(_env("KIA_PUBLIC_REQUESTS_PER_MINUTE", "30")),
            public_reports_per_hour=int(_env("KIA_PUBLIC_REPORTS_PER_HOUR", "10")),
            followup_failures_per_hour=int(_env("KIA_FOLLOWUP_FAILURES_PER_HOUR", "10")),
            base_url=(_env("KIA_BASE_URL") or local_url(host, port)).rstrip("/"),
            smtp_host=_env("KIA_SMTP_HOST", ""),
            smtp_port=int(_env("KIA_SMTP_PORT", "587")),
            smtp_user=_env("KIA_SMTP_USER", ""),
            smtp_password=_env("KIA_SMTP_PASSWORD", ""),
            smtp_starttls=_env("KIA_SMTP_STARTTLS", "1") not in ("0", "false", "no"),
            mail_from=_env("KIA_MAIL_FROM", "KIA <noreply@kia.localhost>"),
            notification_max_attempts=int(_env("KIA_NOTIFICATION_MAX_ATTEMPTS", "10")),
            sweep_workers=int(_env("KIA_SWEEP_WORKERS", "2")),
            trusted_proxies=int(_env("KIA_TRUSTED_PROXIES", "0")),
            host=host,
            port=port,
            log_format=log_format_from_env(),
            oidc_issuer=_env("KIA_OIDC_ISSUER", "").rstrip("/"),
            oidc_client_id=_env("KIA_OIDC_CLIENT_ID", ""),
            oidc_client_secret=_env("KIA_OIDC_CLIENT_SECRET", ""),
            oidc_display_name=_env("KIA_OIDC_DISPLAY_NAME", "SSO"),
            map_tiles_url=_env("KIA_MAP_TILES_URL", ""),
            map_tiles_attribution=_env("KIA_MAP_TILES_ATTRIBUTION", ""),
            open311_enabled=_env("KIA_GEOREPORT_API", "0") in ("1", "true", "yes"),
            redis_url=_env("KIA_REDIS_URL", ""),
            alarm_heartbeat_seconds=float(_env("KIA_ALARM_HEARTBEAT_SECONDS", "15")),
            alarm_stream_seconds=float(_env("KIA_ALARM_STREAM_SECONDS", "300")),
        )
        values.update(overrides)
        if values["default_language"] not in ("sv", "en"):
            raise ValueError("KIA_DEFAULT_LANGUAGE must be sv or en")
        if values["stats_suppression_threshold"] < 2:
            raise ValueError("KIA_STATS_SUPPRESSION_THRESHOLD must be 2 or more")
        if not 0 < values["port"] < 65536:
            raise ValueError("KIA_PORT must be a port number, 1 to 65535")
        if bool(values["oidc_issuer"]) != bool(values["oidc_client_id"]):
            raise ValueError("KIA_OIDC_ISSUER and KIA_OIDC_CLIENT_ID are set together (or neither)")
        if values["oidc_issuer"] and not values["oidc_issuer"].startswith(("https://", "http://127.0.0.1",
                                                                           "http://localhost")):
            raise ValueError("KIA_OIDC_ISSUER must be an https:// address")
        for name in ("public_requests_per_minute", "public_reports_per_hour", "followup_failures_per_hour",
                     "notification_max_attempts", "sweep_workers"):
            if values[name] < 1:
                raise ValueError(f"KIA_{name.upper()} must be 1 or more")
        return cls(**values)
