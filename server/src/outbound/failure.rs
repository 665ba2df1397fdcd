//! What a failed call means for whoever retries it: permanent (stop, surface the error to
//! an admin) or temporary (retry later, no sooner than the server asked with
//! `Retry-After`). Every integration's jobs decide through [`classify`], so a subscriber
//! answering 410 Gone is not retried for hours while one answering 503 is.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use super::{Answer, OutboundError};

/// The longest wait a `Retry-After` may ask for that Warroom honours as given; a longer
/// one is cut to this (a typo'd header must not park a notification for a week).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Why a call did not succeed, and whether trying again can help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Trying again will fail the same way (a 4xx other than 408 and 429, a refused
    /// destination, a request that cannot be built, an answer over the cap).
    #[error("{message}")]
    Permanent {
        message: String,
        status: Option<u16>,
    },
    /// Worth another try: 5xx, 408, 429, no answer, a timeout, an answer broken off.
    /// `retry_after` is what the server asked for, if it did.
    #[error("{message}")]
    Temporary {
        message: String,
        status: Option<u16>,
        retry_after: Option<Duration>,
    },
}

impl Failure {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Failure::Permanent { .. })
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Permanent { status, .. } | Failure::Temporary { status, .. } => *status,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Temporary { retry_after, .. } => *retry_after,
            Failure::Permanent { .. } => None,
        }
    }

    /// The same failure, its message prefixed with what was being done.
    pub fn context(self, doing: &str) -> Failure {
        match self {
            Failure::Permanent { message, status } => Failure::Permanent {
                message: format!("{doing}: {message}"),
                status,
            },
            Failure::Temporary {
                message,
                status,
                retry_after,
            } => Failure::Temporary {
                message: format!("{doing}: {message}"),
                status,
                retry_after,
            },
        }
    }

    /// A failure found by the caller in an answer it received (e.g. a challenge not
    /// echoed): the server will answer the same again.
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure::Permanent {
            message: message.into(),
            status: None,
        }
    }
}

/// `Ok` with the answer when it is a success (2xx), else the failure it means.
/// `now` reads `Retry-After` given as an HTTP date.
pub fn classify(
    result: Result<Answer, OutboundError>,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    match result {
        Ok(answer) if answer.status.is_success() => Ok(answer),
        Ok(answer) => Err(answer_failure(answer.status, &answer.headers, now)),
        Err(err) => Err(error_failure(&err)),
    }
}

/// What a non-success status means.
pub fn answer_failure(status: StatusCode, headers: &HeaderMap, now: DateTime<Utc>) -> Failure {
    let message = format!("the server answered {status}");
    let code = Some(status.as_u16());
    let temporary = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if temporary {
        Failure::Temporary {
            message,
            status: code,
            retry_after: retry_after(headers, now),
        }
    } else {
        // 4xx (the request is wrong for this server: gone, unauthorised, not found) and
        // 3xx (redirects are never followed, so the answer will not change).
        Failure::Permanent {
            message,
            status: code,
        }
    }
}

/// What an error without a (complete) answer means.
pub fn error_failure(err: &OutboundError) -> Failure {
    let message = err.to_string();
    match err {
        OutboundError::Destination(_)
        | OutboundError::Request(_)
        | OutboundError::AnswerTooLarge { .. } => Failure::Permanent {
            message,
            status: None,
        },
        OutboundError::Unreachable(_) | OutboundError::TimedOut(_) | OutboundError::Answer(_) => {
            Failure::Temporary {
                message,
                status: None,
                retry_after: None,
            }
        }
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3), at most
/// [`MAX_RETRY_AFTER`]; `None` when absent or unreadable. A date in the past is "now".
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn headers(retry: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn client_errors_are_permanent_except_timeout_and_too_many_requests() {
        for code in [400, 401, 403, 404, 405, 410, 413, 422, 301, 302] {
            let status = StatusCode::from_u16(code).unwrap();
            let failure = answer_failure(status, &headers(None), at(0));
            assert!(failure.is_permanent(), "{code}");
            assert_eq!(failure.status(), Some(code));
        }
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                !answer_failure(status, &headers(None), at(0)).is_permanent(),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date_and_bounded() {
        let now = DateTime::parse_from_rfc2822("Tue, 08 Dec 2026 10:00:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        let failure = answer_failure(StatusCode::TOO_MANY_REQUESTS, &headers(Some("120")), now);
        assert_eq!(failure.retry_after(), Some(Duration::from_secs(120)));
        let dated = headers(Some("Tue, 08 Dec 2026 10:01:30 GMT"));
        assert_eq!(retry_after(&dated, now), Some(Duration::from_secs(90)));
        let past = headers(Some("Tue, 08 Dec 2026 09:00:00 GMT"));
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers(Some("99999999")), now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(&headers(Some("soon")), now), None);
        assert_eq!(retry_after(&headers(None), now), None);
        // A permanent answer carries no wait, whatever its headers say.
        let gone = answer_failure(StatusCode::GONE, &headers(Some("10")), now);
        assert_eq!(gone.retry_after(), None);
    }

    #[test]
    fn errors_without_an_answer_are_temporary_unless_retrying_cannot_help() {
        assert!(!error_failure(&OutboundError::Unreachable("refused".into())).is_permanent());
        assert!(!error_failure(&OutboundError::TimedOut(Duration::from_secs(10))).is_permanent());
        assert!(!error_failure(&OutboundError::Answer("reset".into())).is_permanent());
        assert!(error_failure(&OutboundError::Destination("private".into())).is_permanent());
        assert!(error_failure(&OutboundError::AnswerTooLarge {
            limit: 10,
            announced: Some(20)
        })
        .is_permanent());
    }

    #[test]
    fn successes_pass_through() {
        let answer = Answer {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: bytes::Bytes::new(),
        };
        assert!(classify(Ok(answer), at(0)).is_ok());
    }
}
