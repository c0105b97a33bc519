"""pydantic mirrors of the Avro contracts, for Python code on either side of Kafka.

``to_avro`` gives the dict fastavro writes; ``from_avro`` validates a decoded dict.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Role(StrEnum):
    CHILD = "CHILD"
    PARENT = "PARENT"
    CARER = "CARER"


class Sex(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    INDETERMINATE = "INDETERMINATE"
    NOT_KNOWN = "NOT_KNOWN"


class ConsentState(StrEnum):
    PERMITTED = "PERMITTED"
    OPTED_OUT = "OPTED_OUT"
    WITHDRAWN = "WITHDRAWN"


class Relationship(StrEnum):
    MOTHER = "MOTHER"
    FATHER = "FATHER"
    PARENT = "PARENT"
    CARER = "CARER"
    CHILD = "CHILD"


class ContactType(StrEnum):
    ATTENDANCE = "ATTENDANCE"
    HOME_VISIT = "HOME_VISIT"
    SESSION = "SESSION"
    APPOINTMENT = "APPOINTMENT"
    REFERRAL = "REFERRAL"


class ConsentReason(StrEnum):
    PERSON_REQUEST = "PERSON_REQUEST"
    PARENT_REQUEST = "PARENT_REQUEST"
    NATIONAL_OPT_OUT = "NATIONAL_OPT_OUT"
    ADMINISTRATIVE = "ADMINISTRATIVE"


class RetractionReason(StrEnum):
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"
    DUPLICATE = "DUPLICATE"
    ERASURE_REQUEST = "ERASURE_REQUEST"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(_Model):
    event_id: uuid.UUID
    event_time: dt.datetime
    source_system: str
    schema_version: int = 1

    @field_validator("event_time")
    @classmethod
    def _millis_utc(cls, value: dt.datetime) -> dt.datetime:
        """Avro carries milliseconds in UTC; hold exactly that so round trips are equal."""
        if value.tzinfo is None:
            raise ValueError("event_time must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)


class LocalId(_Model):
    scheme: str
    value: str


class RelatedRecord(_Model):
    relationship: Relationship
    record_id: str


class Event(_Model):
    """Base of every event: an envelope and the key that orders it on Kafka."""

    EVENT_TYPE: ClassVar[str]
    envelope: Envelope

    @property
    def subject_record_id(self) -> str:
        """The person record this event is about (the Kafka key's second half)."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        return f"{self.envelope.source_system}|{self.subject_record_id}"

    def to_avro(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @classmethod
    def from_avro(cls, record: dict[str, Any]) -> Event:
        return cls.model_validate(record)


class PersonRecord(Event):
    EVENT_TYPE: ClassVar[str] = "PersonRecord"
    record_id: str
    record_version: int
    role: Role
    nhs_number: str | None = None
    unique_pupil_number: str | None = None
    local_ids: list[LocalId] = Field(default_factory=list)
    given_names: str | None = None
    family_name: str | None = None
    former_family_names: list[str] = Field(default_factory=list)
    date_of_birth: dt.date | None = None
    sex: Sex = Sex.NOT_KNOWN
    address_line: str | None = None
    locality: str | None = None  # v3: the town, apart from the address line
    postcode: str | None = None
    related: list[RelatedRecord] = Field(default_factory=list)
    consent: ConsentState = ConsentState.PERMITTED

    @property
    def subject_record_id(self) -> str:
        return self.record_id


class ServiceContact(Event):
    EVENT_TYPE: ClassVar[str] = "ServiceContact"
    contact_id: str
    person_record_id: str
    service_code: str
    activity_code: str
    contact_type: ContactType
    contact_date: dt.date
    location_code: str | None = None
    duration_minutes: int | None = None

    @property
    def subject_record_id(self) -> str:
        return self.person_record_id


class OutcomeMeasure(Event):
    EVENT_TYPE: ClassVar[str] = "OutcomeMeasure"
    measure_id: str
    person_record_id: str
    tool_code: str
    domain: str | None = None
    score: float
    measured_on: dt.date

    @property
    def subject_record_id(self) -> str:
        return self.person_record_id


class ConsentChange(Event):
    EVENT_TYPE: ClassVar[str] = "ConsentChange"
    person_record_id: str
    new_state: ConsentState
    reason: ConsentReason

    @property
    def subject_record_id(self) -> str:
        return self.person_record_id


class RecordRetraction(Event):
    EVENT_TYPE: ClassVar[str] = "RecordRetraction"
    record_id: str
    reason: RetractionReason

    @property
    def subject_record_id(self) -> str:
        return self.record_id


MODELS: dict[str, type[Event]] = {
    m.EVENT_TYPE: m
    for m in (PersonRecord, ServiceContact, OutcomeMeasure, ConsentChange, RecordRetraction)
}
