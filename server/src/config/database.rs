//! Settings of the database: an external Postgres, or Warroom's own under the data
//! directory.

use super::settings::Setting;

pub const DATABASE_URL: Setting = Setting::new(
    "DATABASE_URL",
    "database.url",
    "",
    "an external Postgres (the serving role); without it Warroom runs its own",
)
.secret();
pub const MIGRATION_DATABASE_URL: Setting = Setting::new(
    "WARROOM_MIGRATION_DATABASE_URL",
    "database.migration_url",
    "DATABASE_URL",
    "the external Postgres as the schema's owner, for migrations only",
)
.secret();
pub const DATA_DIR: Setting = Setting::new(
    "WARROOM_DATA_DIR",
    "database.data_dir",
    ".warroom",
    "where the embedded Postgres and other local state live",
);
pub const PG_BIN: Setting = Setting::new(
    "WARROOM_PG_BIN",
    "database.pg_bin",
    "found on PATH or /usr/lib/postgresql/*/bin",
    "directory of initdb/pg_ctl",
);
pub const POOL: Setting = Setting::new(
    "WARROOM_DB_POOL",
    "database.pool",
    "20",
    "maximum database connections",
);

pub const SETTINGS: &[&Setting] = &[
    &DATABASE_URL,
    &MIGRATION_DATABASE_URL,
    &DATA_DIR,
    &PG_BIN,
    &POOL,
];
