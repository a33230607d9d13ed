"""Repositories: one per aggregate, each working inside a transaction it is given."""

# The transaction handle services hand on to repositories, named here so that code outside
# storage/ never imports SQLAlchemy.
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession as Session

from storage.repositories.broadcasts import BroadcastRepository
from storage.repositories.catalog import CatalogRepository
from storage.repositories.conversations import ConversationRecord, ConversationRepository
from storage.repositories.events import EventRepository
from storage.repositories.interpreting import InterpreterRepository
from storage.repositories.jobs import JobRecord, JobRepository
from storage.repositories.links import LinkRepository
from storage.repositories.messages import MessageRepository
from storage.repositories.organisers import OrganisationRecord, OrganiserRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.pace import PaceRepository
from storage.repositories.planning import (
    CodeRepository,
    DigestRepository,
    NoticeRepository,
    OfferRepository,
    ReminderRepository,
)
from storage.repositories.rsvps import RsvpRepository
from storage.repositories.users import UserRepository

__all__ = [
    "BroadcastRepository",
    "CatalogRepository",
    "CodeRepository",
    "ConversationRecord",
    "ConversationRepository",
    "DigestRepository",
    "EventRepository",
    "InterpreterRepository",
    "JobRecord",
    "JobRepository",
    "LinkRepository",
    "MessageRepository",
    "NoticeRepository",
    "OfferRepository",
    "OrganisationRecord",
    "OrganiserRepository",
    "OutboxRepository",
    "PaceRepository",
    "ReminderRepository",
    "RsvpRepository",
    "Select",
    "Session",
    "UserRepository",
]
