//! Markdown from users, rendered to HTML on the server and sanitised before display.

use pulldown_cmark::{html, Options, Parser};

/// Renders CommonMark (with tables, strikethrough and task lists) to safe HTML: scripts,
/// event handlers, `javascript:` links and styles are removed by ammonia, and links get
/// `rel="noopener noreferrer"`.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_common_markdown() {
        let html = render("**Root cause:** disk full\n\n- one\n- two");
        assert!(html.contains("<strong>Root cause:</strong>"), "{html}");
        assert!(html.contains("<li>two</li>"), "{html}");
    }

    #[test]
    fn script_tags_and_handlers_are_removed() {
        let html = render("hello <script>alert(1)</script><img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
    }

    #[test]
    fn javascript_links_are_neutralised() {
        let html = render("[click](javascript:alert(1)) and [ok](https://example.com)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }
}
