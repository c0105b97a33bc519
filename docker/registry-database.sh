#!/bin/sh
# Run once by the postgres image on its first start (/docker-entrypoint-initdb.d): the schema
# registry's own login and database, the login's password from the registry's secret file.
set -eu
password=$(sed -n 's/^APICURIO_DATASOURCE_PASSWORD=//p' /run/secrets/registry_env)
psql -v ON_ERROR_STOP=1 -v password="$password" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE earlylink_registry LOGIN PASSWORD :'password';
CREATE DATABASE earlylink_registry OWNER earlylink_registry;
SQL
