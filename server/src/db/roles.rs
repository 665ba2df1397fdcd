//! Who may do what in Warroom's database. The schema belongs to an owner role, which runs
//! the migrations; Warroom serves with a role that reads and writes rows but owns nothing
//! and is no superuser, so SQL run through it cannot drop or disable the append-only
//! triggers, alter or drop tables, or truncate them. The embedded Postgres is set up so
//! here (its bootstrap superuser only sets up); for an external one README.md gives the
//! operator's SQL, and Warroom warns when the serving role could remove the guards.

use anyhow::Context;
use sqlx::PgConnection;

/// The embedded cluster's role that owns the schema and migrates it.
pub const OWNER_ROLE: &str = "warroom_owner";
/// The embedded cluster's role that Warroom serves with.
pub const SERVING_ROLE: &str = "warroom_app";

/// Creates the owner and serving roles if missing, and takes from them any power they
/// were given since (superuser, creating roles or databases, replication, bypassing
/// row security). Run as a superuser; the SQL names the roles of `OWNER_ROLE` and
/// `SERVING_ROLE`.
pub async fn create_embedded_roles(superuser: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query!(
        r#"DO $roles$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warroom_owner') THEN
                CREATE ROLE warroom_owner;
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warroom_app') THEN
                CREATE ROLE warroom_app;
            END IF;
            ALTER ROLE warroom_owner
                LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
            ALTER ROLE warroom_app
                LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        END
        $roles$"#
    )
    .execute(superuser)
    .await
    .context("creating the database roles")?;
    Ok(())
}

/// Creates the `warroom` database owned by the owner role, or gives it to that role (an
/// earlier version's database belongs to the bootstrap superuser). Run as a superuser.
pub async fn create_embedded_database(superuser: &mut PgConnection) -> anyhow::Result<()> {
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT FROM pg_database WHERE datname = 'warroom') AS "exists!""#
    )
    .fetch_one(&mut *superuser)
    .await
    .context("looking for the warroom database")?;
    if exists {
        sqlx::query!("ALTER DATABASE warroom OWNER TO warroom_owner")
            .execute(superuser)
            .await
            .context("giving the warroom database to its owner role")?;
    } else {
        sqlx::query!("CREATE DATABASE warroom OWNER warroom_owner")
            .execute(superuser)
            .await
            .context("creating the warroom database")?;
    }
    Ok(())
}

/// In the `warroom` database, as a superuser, in one statement (all or nothing, and
/// nothing to do the second time):
/// - gives the owner role every schema, table, view, sequence, type and function that a
///   superuser owns (an earlier version migrated as the bootstrap superuser). Objects
///   that belong to an extension stay as they are. `REASSIGN OWNED` would be shorter but
///   refuses objects of the bootstrap superuser;
/// - lets nobody else create objects in `public` (Postgres before 15 let everyone);
/// - lets the serving role use every schema and read and write rows of every table and
///   use every sequence, now and (default privileges) in whatever later migrations
///   create. Not TRUNCATE, REFERENCES, TRIGGER nor ownership: those would undo the guards.
///   Functions and types are usable by everyone by default.
pub async fn hand_schema_to_owner(superuser: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query!(
        r#"DO $hand_over$
        DECLARE
            item record;
        BEGIN
            FOR item IN
                SELECT n.nspname AS name
                FROM pg_namespace n
                WHERE n.nspowner IN (SELECT oid FROM pg_roles WHERE rolsuper)
                  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
            LOOP
                EXECUTE format('ALTER SCHEMA %I OWNER TO warroom_owner', item.name);
            END LOOP;

            -- Indexes, and sequences that belong to a column, follow their table.
            FOR item IN
                SELECT c.oid::regclass AS name,
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                           WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                           WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relowner IN (SELECT oid FROM pg_roles WHERE rolsuper)
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
                  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
                  AND NOT EXISTS (
                      SELECT FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND (d.deptype = 'e'
                             OR (d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass)))
            LOOP
                EXECUTE format('ALTER %s %s OWNER TO warroom_owner', item.kind, item.name);
            END LOOP;

            -- Enums, domains and ranges; array types follow their element type.
            FOR item IN
                SELECT t.oid::regtype AS name,
                       CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE t.typowner IN (SELECT oid FROM pg_roles WHERE rolsuper)
                  AND t.typtype IN ('e', 'd', 'r') AND t.typrelid = 0
                  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
                  AND NOT EXISTS (
                      SELECT FROM pg_depend d
                      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                        AND d.deptype IN ('e', 'i'))
            LOOP
                EXECUTE format('ALTER %s %s OWNER TO warroom_owner', item.kind, item.name);
            END LOOP;

            FOR item IN
                SELECT p.oid::regprocedure AS name,
                       CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                           ELSE 'FUNCTION' END AS kind
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.proowner IN (SELECT oid FROM pg_roles WHERE rolsuper)
                  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
                  AND NOT EXISTS (
                      SELECT FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                        AND d.deptype = 'e')
            LOOP
                EXECUTE format('ALTER %s %s OWNER TO warroom_owner', item.kind, item.name);
            END LOOP;

            REVOKE CREATE ON SCHEMA public FROM PUBLIC;

            ALTER DEFAULT PRIVILEGES FOR ROLE warroom_owner
                GRANT USAGE ON SCHEMAS TO warroom_app;
            ALTER DEFAULT PRIVILEGES FOR ROLE warroom_owner
                GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO warroom_app;
            ALTER DEFAULT PRIVILEGES FOR ROLE warroom_owner
                GRANT USAGE, SELECT ON SEQUENCES TO warroom_app;

            -- What exists already (default privileges apply to what is created later).
            FOR item IN
                SELECT n.nspname AS name
                FROM pg_namespace n
                WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
            LOOP
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO warroom_app', item.name);
                EXECUTE format(
                    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO warroom_app',
                    item.name);
                EXECUTE format(
                    'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO warroom_app',
                    item.name);
            END LOOP;
        END
        $hand_over$"#
    )
    .execute(superuser)
    .await
    .context("giving the schema to its owner role and granting the serving role")?;
    Ok(())
}

/// What the serving role could do to the append-only guards, as seen from its own
/// connection.
#[derive(Debug, PartialEq, Eq)]
pub enum ServingRolePower {
    /// A superuser: may drop or disable any trigger, or switch triggers off for its session.
    Superuser,
    /// Owns (or may act as the owner of) these tables with triggers: may drop or disable them.
    OwnsGuardedTables(Vec<String>),
    /// Neither.
    Restricted,
}

/// Looks at what the role of `conn` may do to the tables' triggers.
pub async fn serving_role_power(conn: &mut PgConnection) -> anyhow::Result<ServingRolePower> {
    let superuser = sqlx::query_scalar!(
        r#"SELECT rolsuper AS "superuser!" FROM pg_roles WHERE rolname = current_user"#
    )
    .fetch_one(&mut *conn)
    .await
    .context("looking up the serving role")?;
    if superuser {
        return Ok(ServingRolePower::Superuser);
    }
    let tables = sqlx::query_scalar!(
        r#"SELECT DISTINCT c.relname::text AS "table!"
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND pg_has_role(current_user, c.relowner, 'MEMBER')
        ORDER BY 1"#
    )
    .fetch_all(conn)
    .await
    .context("looking up the tables the serving role owns")?;
    Ok(if tables.is_empty() {
        ServingRolePower::Restricted
    } else {
        ServingRolePower::OwnsGuardedTables(tables)
    })
}

/// Warns once when the role Warroom serves with could remove the append-only guards
/// (the URL is not logged: it may hold a password).
pub async fn warn_if_serving_role_is_privileged(pool: &sqlx::PgPool) {
    let power = match pool.acquire().await {
        Ok(mut conn) => serving_role_power(&mut conn).await,
        Err(err) => Err(err.into()),
    };
    match power {
        Ok(ServingRolePower::Restricted) => {}
        Ok(ServingRolePower::Superuser) => tracing::warn!(
            "the serving database role is a superuser: SQL run through Warroom could drop or \
             disable the append-only triggers; serve with a restricted role in DATABASE_URL and \
             migrate with the owner in WARROOM_MIGRATION_DATABASE_URL (see README.md)"
        ),
        Ok(ServingRolePower::OwnsGuardedTables(tables)) => tracing::warn!(
            tables = tables.join(", "),
            "the serving database role owns tables with triggers, so SQL run through Warroom \
             could drop or disable their append-only guards; serve with a role that owns \
             nothing in DATABASE_URL and migrate with the owner in \
             WARROOM_MIGRATION_DATABASE_URL (see README.md)"
        ),
        Err(err) => tracing::warn!(
            error = format!("{err:#}"),
            "could not check the serving database role's privileges"
        ),
    }
}
