//! SQL of the metrics: the job queue (`underway`'s tables), read at scrape time.

use sqlx::PgPool;

/// One job's queue.
#[derive(Debug)]
pub struct Queue {
    pub job: String,
    /// Tasks waiting (due or delayed for a retry).
    pub depth: i64,
    /// How long the oldest due task has waited, in seconds.
    pub oldest_age_seconds: f64,
    /// Failed attempts on record.
    pub failures: i64,
}

/// Every job's queue, by name.
pub async fn queues(pool: &PgPool) -> sqlx::Result<Vec<Queue>> {
    sqlx::query_as!(
        Queue,
        r#"SELECT q.name AS "job!",
                  (SELECT count(*) FROM underway.task t
                    WHERE t.task_queue_name = q.name AND t.state = 'pending') AS "depth!",
                  COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(t.created_at + t.delay))::float8
                              FROM underway.task t
                             WHERE t.task_queue_name = q.name AND t.state = 'pending'
                               AND t.created_at + t.delay <= now()), 0) AS "oldest_age_seconds!",
                  (SELECT count(*) FROM underway.task_attempt a
                    WHERE a.task_queue_name = q.name AND a.state = 'failed') AS "failures!"
           FROM underway.task_queue q
           ORDER BY q.name"#
    )
    .fetch_all(pool)
    .await
}
