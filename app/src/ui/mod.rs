//! Shared components and formatting: errors, badges, times.

pub mod layout;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::error::AppError;
use crate::incidents::model::{Severity, Status};

/// The document title of a page whose own title is `page` ("" for none).
///
/// On the server the result is escaped for HTML: leptos_meta 0.8 writes the title into
/// `<title>` during server rendering without escaping it (`MetaContext`'s head injection
/// pushes the formatted string verbatim), so a title containing `</title>` would end the
/// element and become markup — an incident title is anyone's text. In the browser the
/// title is set through `document.title`, as plain text, so it stays unescaped there.
/// Every page's title passes through here: it is the root `<Title formatter>`.
pub fn document_title(page: String) -> String {
    let title = if page.is_empty() {
        "Warroom".to_string()
    } else {
        format!("{page} · Warroom")
    };
    #[cfg(feature = "ssr")]
    let title = escape_html_text(&title);
    title
}

/// Text for an HTML element's content: `&`, `<` and `>` as character references.
pub fn escape_html_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The error of the last submission of a form, if it failed.
#[component]
pub fn ErrorNote<T>(#[prop(into)] result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    move || {
        result.with(|r| match r {
            Some(Err(err)) => Some(view! { <p class="error" role="alert">{err.to_string()}</p> }),
            _ => None,
        })
    }
}

/// A failed page load: signed-out people go to sign in, everyone else reads why.
#[component]
pub fn Failure(error: AppError) -> impl IntoView {
    // The HTTP status is already set: the failing server function, called during
    // rendering, shares this response's options (see `error::respond`).
    match error {
        AppError::Unauthorized => view! { <Redirect path="/login"/> }.into_any(),
        other => view! {
            <section class="card narrow">
                <h1>{match other {
                    AppError::NotFound(_) => "Not found",
                    AppError::Forbidden => "Not allowed",
                    _ => "Something went wrong",
                }}</h1>
                <p class="error" role="alert">{match other {
                    AppError::Forbidden => "Your role does not include this. If you need it, ask an admin.".to_string(),
                    other => other.to_string(),
                }}</p>
                <p><a href="/incidents">"Back to incidents"</a></p>
            </section>
        }
        .into_any(),
    }
}

/// A severity chip in the severity's colour.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class="badge severity" style=format!("--sev: {}", severity.color) title=severity.description.clone()
            data-testid="incident-severity">
            {severity.key.clone()}
        </span>
    }
}

/// A status chip.
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! {
        <span class=format!("badge status status-{}", status.as_str()) data-testid="incident-status">
            {status.label()}
        </span>
    }
}

/// A full date-time, in UTC so that everyone in the room reads the same clock.
pub fn date_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A compact duration: "45s", "12m", "3h 05m", "2d 4h".
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// "12m ago" relative to `now`.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", duration((now - at).num_seconds()))
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_are_compact() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(12 * 60 + 5), "12m");
        assert_eq!(duration(3 * 3600 + 5 * 60), "3h 05m");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2d 4h");
        assert_eq!(duration(-5), "0s");
    }
}

#[cfg(test)]
mod title_tests {
    use super::{document_title, escape_html_text};

    #[test]
    fn titles_are_escaped_for_the_server_rendered_head() {
        assert_eq!(
            escape_html_text("</title><meta http-equiv=refresh> & co"),
            "&lt;/title&gt;&lt;meta http-equiv=refresh&gt; &amp; co"
        );
        assert_eq!(document_title(String::new()), "Warroom");
        #[cfg(feature = "ssr")]
        assert_eq!(
            document_title("INC-7 </title><b>".into()),
            "INC-7 &lt;/title&gt;&lt;b&gt; · Warroom"
        );
    }
}
