//! Markdown from users, rendered to HTML once when it is written and sanitised before
//! display.
//!
//! Rendering costs CPU, and deep nesting made it superlinear (20,000 `>` took 1.5 s), so:
//! texts are rendered when written and the HTML is stored beside the source with
//! [`RENDERER_VERSION`] (reads never render, unless a row predates the current renderer);
//! rendering always runs on tokio's blocking threads, never on the async workers that
//! serve requests; new texts nested deeper than [`MAX_NESTING`] are refused, and the
//! renderer flattens anything deeper in older texts, so no stored text can be costly.
//!
//! What a person typed is shown as they typed it: raw HTML is displayed as text (never
//! interpreted), and images become links (an image from another host would tell it who
//! reads the incident, from where and when).

use pulldown_cmark::{html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

use crate::error::AppError;

/// The version of [`render`]'s output. Stored beside every rendering; a row with another
/// version is rendered again when read (and rewritten by the start-up upgrade).
pub const RENDERER_VERSION: i16 = 2;

/// How deeply quotes and lists may nest (block quotes and lists count one level each).
pub const MAX_NESTING: usize = 32;

fn parser(markdown: &str) -> Parser<'_> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    Parser::new_ext(markdown, options)
}

/// How deeply block quotes and lists nest in `markdown`.
pub fn nesting_depth(markdown: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in parser(markdown) {
        match event {
            Event::Start(Tag::BlockQuote(_) | Tag::List(_)) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_)) => depth -= 1,
            _ => {}
        }
    }
    deepest
}

/// Refuses a text nested deeper than [`MAX_NESTING`], naming the field.
pub fn check_nesting(field: &str, markdown: &str) -> Result<(), AppError> {
    let depth = nesting_depth(markdown);
    if depth > MAX_NESTING {
        return Err(AppError::invalid(
            field,
            format!(
                "Quotes and lists are nested {depth} levels deep here; at most {MAX_NESTING} are allowed."
            ),
        ));
    }
    Ok(())
}

/// A container that was opened: whether its start was written (deeper ones are not).
#[derive(Clone, Copy)]
struct Open {
    list_or_quote: bool,
    written: bool,
}

/// The event stream with containers deeper than [`MAX_NESTING`] flattened into their
/// parent, raw HTML turned into text and images into links.
fn bounded_events(markdown: &str) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut depth = 0usize;
    for event in parser(markdown) {
        match event {
            Event::Start(tag @ (Tag::BlockQuote(_) | Tag::List(_))) => {
                let written = depth < MAX_NESTING;
                if written {
                    depth += 1;
                    out.push(Event::Start(tag));
                }
                open.push(Open {
                    list_or_quote: true,
                    written,
                });
            }
            Event::Start(Tag::Item) => {
                // An item is written when its list was.
                let written = open
                    .iter()
                    .rev()
                    .find(|o| o.list_or_quote)
                    .is_none_or(|o| o.written);
                if written {
                    out.push(Event::Start(Tag::Item));
                }
                open.push(Open {
                    list_or_quote: false,
                    written,
                });
            }
            Event::End(end @ (TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item)) => {
                let closed = open.pop().unwrap_or(Open {
                    list_or_quote: false,
                    written: true,
                });
                if closed.written {
                    if closed.list_or_quote {
                        depth -= 1;
                    }
                    out.push(Event::End(end));
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            Event::Start(Tag::Image {
                dest_url,
                title,
                id,
                ..
            }) => {
                out.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title,
                    id,
                }));
                out.push(Event::Text(CowStr::Borrowed("Image: ")));
            }
            Event::End(TagEnd::Image) => out.push(Event::End(TagEnd::Link)),
            other => out.push(other),
        }
    }
    out
}

/// Renders CommonMark (with tables, strikethrough and task lists) to safe HTML: scripts,
/// event handlers, `javascript:` links and styles are removed by ammonia, and links get
/// `rel="noopener noreferrer"`. CPU-bound: call it from a blocking thread
/// ([`render_texts`]), not from an async task.
pub fn render(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, bounded_events(markdown).into_iter());
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

/// Renders several texts on one of tokio's blocking threads, in order.
pub async fn render_texts(sources: Vec<String>) -> Result<Vec<String>, AppError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    tokio::task::spawn_blocking(move || sources.iter().map(|s| render(s)).collect())
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e).context("rendering Markdown")))
}

/// A text as stored: the source and its rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub source: String,
    pub html: String,
}

/// Checks the nesting of a new text (named `field` in errors) and renders it off the
/// async threads.
pub async fn render_new(field: &str, source: &str) -> Result<Rendered, AppError> {
    check_nesting(field, source)?;
    let html = render_texts(vec![source.to_string()])
        .await?
        .pop()
        .unwrap_or_default();
    Ok(Rendered {
        source: source.to_string(),
        html,
    })
}

/// The stored rendering when it is current, else `None` (render it again).
pub fn stored(html: Option<String>, version: Option<i16>) -> Option<String> {
    html.filter(|_| version == Some(RENDERER_VERSION))
}

/// Fills in the renderings a read found missing or outdated: `texts` holds, per item,
/// the source and the stored rendering if current.
pub async fn complete(texts: Vec<(String, Option<String>)>) -> Result<Vec<String>, AppError> {
    let missing: Vec<String> = texts
        .iter()
        .filter(|(_, html)| html.is_none())
        .map(|(source, _)| source.clone())
        .collect();
    let mut rendered = render_texts(missing).await?.into_iter();
    Ok(texts
        .into_iter()
        .map(|(_, html)| html.unwrap_or_else(|| rendered.next().unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_common_markdown() {
        let html = render("**Root cause:** disk full\n\n- one\n- two");
        assert!(html.contains("<strong>Root cause:</strong>"), "{html}");
        assert!(html.contains("<li>two</li>"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_the_text_that_was_typed() {
        let html = render("hello <script>alert(1)</script><img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(2)&gt;"),
            "{html}"
        );
        let block = render("<div onclick=\"x()\">\n\n**bold**\n\n</div>");
        assert!(!block.contains("<div"), "{block}");
        assert!(block.contains("&lt;div onclick="), "{block}");
        assert!(block.contains("<strong>bold</strong>"), "{block}");
    }

    #[test]
    fn javascript_links_are_neutralised() {
        let html = render("[click](javascript:alert(1)) and [ok](https://example.com)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }

    #[test]
    fn images_become_links_so_no_other_host_learns_who_reads() {
        let html = render("![graph](https://tracker.example/pixel.png \"p99\")");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://tracker.example/pixel.png""#),
            "{html}"
        );
        assert!(html.contains("Image: graph</a>"), "{html}");
    }

    #[test]
    fn nesting_is_measured_and_refused_past_the_limit() {
        assert_eq!(nesting_depth("plain"), 0);
        assert_eq!(nesting_depth("> a\n>> b"), 2);
        assert_eq!(nesting_depth("- a\n  - b\n    - c"), 3);
        let deep = ">".repeat(MAX_NESTING + 1) + " x";
        let err = check_nesting("body", &deep).unwrap_err();
        assert!(err.to_string().contains("nested 33 levels deep"), "{err}");
        assert!(check_nesting("body", &(">".repeat(MAX_NESTING) + " x")).is_ok());
    }

    #[test]
    fn deep_nesting_is_flattened_when_rendered() {
        let html = render(&(">".repeat(20_000) + " bottom"));
        assert_eq!(html.matches("<blockquote>").count(), MAX_NESTING, "{html}");
        assert_eq!(html.matches("</blockquote>").count(), MAX_NESTING);
        assert!(html.contains("bottom"), "{html}");
        let list: String = (0..200)
            .map(|level| format!("{}- level {level}\n", "  ".repeat(level)))
            .collect();
        let html = render(&list);
        assert_eq!(html.matches("<ul>").count(), MAX_NESTING, "{html}");
        assert!(html.contains("level 199"), "{html}");
    }

    #[test]
    fn only_current_renderings_are_reused() {
        assert_eq!(
            stored(Some("<p>x</p>".into()), Some(RENDERER_VERSION)),
            Some("<p>x</p>".into())
        );
        assert_eq!(stored(Some("<p>x</p>".into()), Some(1)), None);
        assert_eq!(stored(None, None), None);
    }
}
