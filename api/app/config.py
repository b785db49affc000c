"""Settings from the environment (prefix ``ATUM_``); fail fast on anything unsafe in production."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

# Values that must never sign tokens in production.
_WEAK_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "atum-desk"}
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATUM_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str | None = None
    data_dir: Path = REPO_ROOT / "var"
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    access_token_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    max_upload_mb: int = Field(default=25, ge=1, le=10_240)
    # Behind nginx: attachment downloads answer with X-Accel-Redirect: <prefix>/<key[:2]>/<key>
    # and nginx sends the file from an internal location. Unset: the app sends the file itself.
    accel_redirect_prefix: str | None = Field(
        default=None, pattern=r"^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$"
    )
    # Where `atum-desk backup`/`restore` find pg_dump and pg_restore (default: searched).
    pg_bin_dir: Path | None = None
    max_json_body_kb: int = Field(default=1024, ge=1)
    docs_enabled: bool = True
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    trusted_proxies: list[str] = Field(default_factory=list)
    login_max_failures_per_account: int = Field(default=10, ge=1)
    login_max_failures_per_ip: int = Field(default=100, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    ticket_create_per_hour: int = Field(default=60, ge=1)
    # Accounts (docs/RUNBOOK.md "Accounts"): how long links live, how often a forgotten password
    # may be asked for, and the half-login between the password and the second factor.
    invitation_hours: int = Field(default=72, ge=1, le=24 * 30)
    password_reset_minutes: int = Field(default=30, ge=5, le=60)
    email_change_hours: int = Field(default=24, ge=1, le=24 * 7)
    password_reset_per_address_per_hour: int = Field(default=5, ge=1)
    password_reset_per_ip_per_hour: int = Field(default=30, ge=1)
    mfa_login_minutes: int = Field(default=5, ge=1, le=30)
    # WebAuthn relying party (default: the host of ATUM_PUBLIC_URL; an IP address cannot be one).
    webauthn_rp_id: str | None = None
    db_pool_size: int = Field(default=10, ge=1)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    # The From of every notification (default: "ATUM DESK <ATUM_INBOUND_ADDRESS>", so that a
    # reply reaches the desk even when a client ignores Reply-To).
    mail_from: str | None = None
    # Host part of Message-IDs (kept for compatibility; ATUM_MAIL_DOMAIN wins when set).
    mail_host: str | None = None
    # The e-mail channel (docs/EMAIL.md): the domain of our Message-IDs and reply addresses
    # (default: the host of ATUM_PUBLIC_URL; "localhost" when that is an IP address), the default
    # mailbox, the LMTP listener and the largest message taken (default: uploads + 5 MB).
    mail_domain: str | None = None
    inbound_address: str | None = None
    lmtp_host: str = "127.0.0.1"
    lmtp_port: int = Field(default=8024, ge=1, le=65535)
    mail_max_mb: int | None = Field(default=None, ge=1, le=10_240)
    # Mails for one recipient about one ticket within this many seconds become one mail.
    mail_coalesce_seconds: int = Field(default=60, ge=0, le=3600)
    imap_poll_seconds: float = Field(default=60, gt=0)
    # Inbound messages whose processing failed are retried this many times, then quarantined.
    inbound_max_attempts: int = Field(default=5, ge=1)
    # Stored messages a worker processes at once (each in a transaction of its own).
    inbound_concurrency: int = Field(default=4, ge=1, le=32)
    mail_batch_size: int = Field(default=20, ge=1, le=1000)
    mail_lease_seconds: int = Field(default=120, ge=5)
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_retry_base_seconds: int = Field(default=30, ge=1)
    mail_sink_port: int = Field(default=8025, ge=1, le=65535)
    worker_poll_seconds: float = Field(default=10, gt=0)
    sla_sweep_seconds: float = Field(default=30, gt=0)
    # The worker logs the audit chain heads and appends them to <data dir>/audit-heads this often
    # (docs/AUDIT_CHAIN.md), and deletes expired rate-limit counters this often.
    audit_head_export_minutes: float = Field(default=15, gt=0)
    rate_limit_prune_minutes: float = Field(default=5, gt=0)
    ollama_url: str | None = None
    ollama_model: str = "qwen2.5:3b-instruct"
    # Local AI triage (app/ai): embeddings for hybrid retrieval (unset: full-text only), the
    # per-request timeout to Ollama, and the confidence below which nothing is suggested.
    ollama_embed_model: str | None = None
    ollama_timeout_seconds: float = Field(default=60, gt=0)
    ai_min_confidence: float = Field(default=0.6, ge=0, le=1)
    # Which triage engine runs (docs/AI.md): "auto" is ollama when ATUM_OLLAMA_URL is set, else
    # the in-process model ("local") when its package is installed, else "lexical".
    ai_engine: Literal["auto", "local", "lexical", "ollama"] = "auto"
    # Operator documentation (docs/*.md) is not agent knowledge: suggestions cite KB articles
    # only, unless an administrator opts in here.
    ai_operator_docs: bool = False
    # The worker retrains the category/priority classifiers once this many resolved tickets
    # were labelled since the last training (and ./atum-desk ai-train does it on demand).
    ai_retrain_new_labels: int = Field(default=25, ge=1)

    @model_validator(mode="after")
    def _secret_is_safe(self) -> Settings:
        if self.env == "production":
            key = self.resolved_secret_key(generate=False)
            if key is None or key in _WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "ATUM_SECRET_KEY (or ATUM_SECRET_KEY_FILE) must be set to a random value of at "
                    f"least {MIN_SECRET_LENGTH} characters in production"
                )
        return self

    def resolved_secret_key(self, *, generate: bool = True) -> str | None:
        """The signing key: explicit value, else a file, else (outside production) a key generated
        once and kept in the data dir, so a developer never needs to invent one."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.secret_key_file is not None:
            return self.secret_key_file.read_text().strip()
        if not generate or self.env == "production":
            return None
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def resolved_mail_domain(self) -> str:
        if self.mail_domain:
            return self.mail_domain.lower()
        host = (urlsplit(self.public_url).hostname or "localhost").lower()
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host
        return "localhost"

    @property
    def resolved_inbound_address(self) -> str:
        return (self.inbound_address or f"support@{self.resolved_mail_domain}").lower()

    @property
    def resolved_mail_from(self) -> str:
        return self.mail_from or f"ATUM DESK <{self.resolved_inbound_address}>"

    @property
    def mail_max_bytes(self) -> int:
        return (self.mail_max_mb or self.max_upload_mb + 5) * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
