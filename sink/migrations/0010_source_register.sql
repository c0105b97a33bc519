-- The register of source systems. The envelope's source_system comes from the producer; with
-- the register required (EARLYLINK_SOURCES_REQUIRE_REGISTERED, the default) the pseudonymiser
-- dead-letters an event from a source that is not registered (UNREGISTERED_SOURCE) or is
-- disabled (SOURCE_DISABLED), so an unknown producer cannot withdraw, retract or overwrite a
-- service's records under a name of its choosing. Binding each source to its own topic with
-- Kafka ACLs is the stronger control: docs/operations.md.
CREATE TABLE IF NOT EXISTS sources (
    name         text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,99}$'),
    description  text        NOT NULL DEFAULT '',
    enabled      boolean     NOT NULL DEFAULT true,
    -- publishes on a raw topic of its own (<prefix>.raw.<name>), which Kafka ACLs let only it
    -- write: the pseudonymiser then takes the source from the topic, and refuses the name on
    -- any other topic (SOURCE_MISMATCH)
    own_topic    boolean     NOT NULL DEFAULT false,
    added_at     timestamptz NOT NULL DEFAULT now(),
    changed_at   timestamptz NOT NULL DEFAULT now()
);
