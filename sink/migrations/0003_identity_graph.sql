-- The identity graph. Record keys, tokens and encodings are keyed hashes; nothing here is a raw
-- identifier. Person ids are earlylink's own.

-- One row per source record (latest version). payload = the pseudonymised record as received
-- (single-object Avro: tokens + encodings); purged (NULL) when consent is withdrawn or the
-- record is retracted.
CREATE TABLE IF NOT EXISTS records (
    record_key      text PRIMARY KEY,
    source_system   text        NOT NULL,
    role            text        NOT NULL,
    record_version  bigint      NOT NULL,
    state           text        NOT NULL CHECK (state IN ('ACTIVE', 'SUPPRESSED', 'RETRACTED')),
    consent         text        NOT NULL,
    event_id        uuid        NOT NULL,
    event_time      timestamptz NOT NULL,
    payload         bytea,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS records_source_idx ON records (source_system);

-- Blocking index: candidates are found by tokens only.
CREATE TABLE IF NOT EXISTS block_keys (
    token       bytea NOT NULL,
    record_key  text  NOT NULL,
    PRIMARY KEY (token, record_key)
);
CREATE INDEX IF NOT EXISTS block_keys_record_idx ON block_keys (record_key);

-- Match edges above the link threshold, stored in both directions (a -> b and b -> a).
CREATE TABLE IF NOT EXISTS match_edges (
    a              text   NOT NULL,
    b              text   NOT NULL,
    weight         double precision NOT NULL,
    evidence       jsonb  NOT NULL,
    model_version  text   NOT NULL,
    PRIMARY KEY (a, b)
);

CREATE TABLE IF NOT EXISTS persons (
    person_id     text PRIMARY KEY,
    record_count  int         NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS memberships (
    record_key  text PRIMARY KEY,
    person_id   text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS memberships_person_idx ON memberships (person_id);

CREATE TABLE IF NOT EXISTS person_aliases (
    old_id     text PRIMARY KEY,
    new_id     text NOT NULL,
    merged_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS identity_history (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('MERGE', 'SPLIT', 'RETIRE')),
    before_ids  text[] NOT NULL,
    after_ids   text[] NOT NULL,
    model_version text NOT NULL
);

-- Typed references between records of one source (e.g. a child's mother's record).
CREATE TABLE IF NOT EXISTS record_relations (
    record_key    text NOT NULL,
    related_key   text NOT NULL,
    relationship  text NOT NULL,
    PRIMARY KEY (record_key, related_key, relationship)
);
CREATE INDEX IF NOT EXISTS record_relations_related_idx ON record_relations (related_key);

CREATE TABLE IF NOT EXISTS service_contacts (
    item_key       text PRIMARY KEY,
    record_key     text NOT NULL,
    source_system  text NOT NULL,
    service_code   text,
    activity_code  text,
    contact_type   text,
    contact_date   date,
    location_code  text,
    event_id       uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS service_contacts_record_idx ON service_contacts (record_key);

CREATE TABLE IF NOT EXISTS outcome_measures (
    item_key       text PRIMARY KEY,
    record_key     text NOT NULL,
    source_system  text NOT NULL,
    tool_code      text,
    domain         text,
    score          double precision,
    measured_on    date,
    event_id       uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS outcome_measures_record_idx ON outcome_measures (record_key);

-- What was done and why, never who: consent withdrawals, retractions.
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    reason      text,
    record_key  text,
    source_system text,
    event_id    uuid
);
