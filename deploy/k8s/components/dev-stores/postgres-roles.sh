#!/bin/sh
# Each service's own PostgreSQL role and schema (packages/platform/src/db-roles.ts does the same
# for local runs): the role logs in with its password, owns the schema named after it and reaches
# nothing else. Idempotent. The dev PostgreSQL runs it on its first start (/docker-entrypoint-initdb.d);
# for another database, run it as the database's owner:
#   DATABASE_ADMIN_URL=postgres://owner:...@host/palimpsest POSTGRES_PASSWORD_AUTH=... \
#   POSTGRES_PASSWORD_DOCS=... POSTGRES_PASSWORD_FILES=... POSTGRES_PASSWORD_HISTORY=... sh postgres-roles.sh
set -eu
if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
  set -- "$DATABASE_ADMIN_URL"
else
  set -- --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
fi
psql -v ON_ERROR_STOP=1 "$@" <<'SQL'
select format('revoke all on database %I from public', current_database()) \gexec
revoke all on schema public from public;
SQL
for svc in auth docs files history; do
  pw=$(printenv "POSTGRES_PASSWORD_$(echo "$svc" | tr a-z A-Z)")
  psql -v ON_ERROR_STOP=1 -v svc="$svc" -v pw="$pw" "$@" <<'SQL'
select format('create role %I', :'svc') where not exists (select from pg_roles where rolname = :'svc') \gexec
alter role :"svc" with login nosuperuser nocreatedb nocreaterole noinherit password :'pw';
select format('grant %I to %I', :'svc', current_user) \gexec
select format('grant connect, temporary on database %I to %I', current_database(), :'svc') \gexec
create schema if not exists :"svc" authorization :"svc";
alter schema :"svc" owner to :"svc";
SQL
done
