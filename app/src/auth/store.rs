//! SQL for people and the session's user.

use sqlx::{PgConnection, PgPool};
use tower_sessions::Session;

use super::model::{Person, SignInName};
use crate::error::AppError;

/// The session key under which the signed-in user's id is kept.
const USER_ID_KEY: &str = "user_id";

/// Finds the person with this handle, creating them on first sign-in.
#[tracing::instrument(skip_all)]
pub async fn upsert_by_handle(
    conn: &mut PgConnection,
    name: &SignInName,
) -> Result<Person, AppError> {
    let person = sqlx::query_as!(
        Person,
        r#"INSERT INTO users (handle, display_name) VALUES ($1, $2)
           ON CONFLICT (handle) DO UPDATE SET display_name = EXCLUDED.display_name
           RETURNING id, display_name AS name"#,
        name.handle(),
        name.display_name(),
    )
    .fetch_one(conn)
    .await?;
    Ok(person)
}

/// One person by id.
pub async fn person(conn: &mut PgConnection, id: i64) -> Result<Option<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT id, display_name AS name FROM users WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Everyone, by name (for "assign to…" pickers).
pub async fn everyone(pool: &PgPool) -> Result<Vec<Person>, AppError> {
    Ok(sqlx::query_as!(
        Person,
        "SELECT id, display_name AS name FROM users ORDER BY display_name"
    )
    .fetch_all(pool)
    .await?)
}

/// Signs `person` in on this session, rotating its id so a planted id is worthless.
pub async fn sign_in(session: &Session, person: &Person) -> Result<(), AppError> {
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e)))?;
    session
        .insert(USER_ID_KEY, person.id)
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e)))
}

/// Ends the session everywhere it is stored.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session
        .flush()
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e)))
}

/// The signed-in person of this session, if any.
pub async fn session_person(session: &Session, pool: &PgPool) -> Result<Option<Person>, AppError> {
    let user_id: Option<i64> = session
        .get(USER_ID_KEY)
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e)))?;
    match user_id {
        Some(id) => person(&mut *pool.acquire().await?, id).await,
        None => Ok(None),
    }
}
