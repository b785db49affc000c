"""SQLAlchemy tables. Importing this package registers every table on ``Base.metadata``."""

from app.models.account import AccountToken, MfaPolicy, RecoveryCode, WebAuthnCredential
from app.models.ai import AiJob, AiModel, AiSuggestion, KbPassage, TicketEmbedding
from app.models.attachment import TicketAttachment
from app.models.audit import AuditLog
from app.models.auth_session import AuthSession
from app.models.calendar import SlaCalendar
from app.models.comment import TicketComment
from app.models.csat import TicketCsat
from app.models.kb import KbArticle
from app.models.live import LiveEvent
from app.models.mail import InboundMessage, InboundRaw, MailBounce, Mailbox, OrgEmailDomain
from app.models.organization import Organization
from app.models.outbox import OutboxMessage
from app.models.rate_limit import RateLimitCounter
from app.models.service import Service
from app.models.sla_policy import SlaPolicy
from app.models.sso import IdentityProvider, SigninPolicy, SsoLogin, UserIdentity
from app.models.tag import Tag, TicketTag
from app.models.team import Team, TeamMember
from app.models.ticket import Ticket
from app.models.user import User
from app.models.workspace import (
    CannedReply,
    Macro,
    SavedView,
    TicketCc,
    TicketLink,
    TicketPresence,
)

__all__ = [
    "AccountToken",
    "AiJob",
    "AiModel",
    "AiSuggestion",
    "AuditLog",
    "AuthSession",
    "CannedReply",
    "IdentityProvider",
    "InboundMessage",
    "InboundRaw",
    "KbArticle",
    "KbPassage",
    "LiveEvent",
    "Macro",
    "MailBounce",
    "Mailbox",
    "MfaPolicy",
    "OrgEmailDomain",
    "Organization",
    "OutboxMessage",
    "RateLimitCounter",
    "RecoveryCode",
    "SavedView",
    "Service",
    "SigninPolicy",
    "SlaCalendar",
    "SlaPolicy",
    "SsoLogin",
    "Tag",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketAttachment",
    "TicketCc",
    "TicketComment",
    "TicketCsat",
    "TicketEmbedding",
    "TicketLink",
    "TicketPresence",
    "TicketTag",
    "User",
    "UserIdentity",
    "WebAuthnCredential",
]
