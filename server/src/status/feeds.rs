//! The status page's Atom and RSS feeds: incidents and maintenance, most recently updated
//! first, each entry linking to its page with all its updates as (escaped) HTML.
//!
//! Written with askama rather than a feed crate: two short templates whose escaping is the
//! same as the pages', and the tests parse the result back to prove it well-formed.

use askama::Template;
use chrono::{DateTime, SecondsFormat, Utc};
use warroom_app::status::model::{PublicData, PublicIncident, PublicMaintenance, PublicUpdate};

use super::pages::{text_time, update_status_label};

/// How many incidents and maintenances a feed carries.
pub const FEED_LIMIT: usize = 50;

/// `/status/feed.atom`.
pub fn atom(data: &PublicData) -> String {
    let feed = Feed::new(data, "feed.atom", |t| {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    });
    AtomFeed {
        title: &feed.title,
        name: &data.branding.name,
        page_url: &feed.page_url,
        self_url: &feed.self_url,
        updated: &feed.updated,
        entries: &feed.entries,
    }
    .render()
    .expect("feed templates only write to a String")
}

/// `/status/feed.rss`.
pub fn rss(data: &PublicData) -> String {
    let feed = Feed::new(data, "feed.rss", |t| t.to_rfc2822());
    RssFeed {
        title: &feed.title,
        name: &data.branding.name,
        page_url: &feed.page_url,
        self_url: &feed.self_url,
        updated: &feed.updated,
        entries: &feed.entries,
    }
    .render()
    .expect("feed templates only write to a String")
}

#[derive(Template)]
#[template(path = "status/atom.xml", whitespace = "minimize")]
struct AtomFeed<'a> {
    title: &'a str,
    name: &'a str,
    page_url: &'a str,
    self_url: &'a str,
    updated: &'a str,
    entries: &'a [Entry],
}

#[derive(Template)]
#[template(path = "status/rss.xml", whitespace = "minimize")]
struct RssFeed<'a> {
    title: &'a str,
    name: &'a str,
    page_url: &'a str,
    self_url: &'a str,
    updated: &'a str,
    entries: &'a [Entry],
}

/// The HTML of one entry, which the feed templates escape once more into the XML.
#[derive(Template)]
#[template(path = "status/feed_entry.html", whitespace = "minimize")]
struct EntryContent<'a> {
    window: Option<String>,
    affected: String,
    updates: Vec<EntryUpdate<'a>>,
}

struct EntryUpdate<'a> {
    time: String,
    status: String,
    body_html: &'a str,
}

/// What both formats say, times already in the format's own notation.
struct Feed {
    title: String,
    page_url: String,
    self_url: String,
    updated: String,
    entries: Vec<Entry>,
}

struct Entry {
    title: String,
    url: String,
    published: String,
    updated: String,
    content: String,
}

impl Feed {
    fn new(data: &PublicData, file: &str, format: impl Fn(DateTime<Utc>) -> String) -> Self {
        let base = data.base_url.trim_end_matches('/');
        let mut notices: Vec<Notice<'_>> = data
            .incidents
            .iter()
            .map(Notice::Incident)
            .chain(data.maintenances.iter().map(Notice::Maintenance))
            .collect();
        notices.sort_by_key(|n| std::cmp::Reverse(n.updated_at()));
        Feed {
            title: format!("{} status", data.branding.name),
            page_url: format!("{base}/status"),
            self_url: format!("{base}/status/{file}"),
            updated: format(data.changed_at),
            entries: notices
                .into_iter()
                .take(FEED_LIMIT)
                .map(|notice| Entry {
                    title: notice.name().to_string(),
                    url: format!("{base}{}", notice.path()),
                    published: format(notice.created_at()),
                    updated: format(notice.updated_at()),
                    content: notice.content(),
                })
                .collect(),
        }
    }
}

#[derive(Clone, Copy)]
enum Notice<'a> {
    Incident(&'a PublicIncident),
    Maintenance(&'a PublicMaintenance),
}

impl Notice<'_> {
    fn name(&self) -> &str {
        match self {
            Notice::Incident(i) => &i.name,
            Notice::Maintenance(m) => &m.name,
        }
    }

    fn path(&self) -> String {
        match self {
            Notice::Incident(i) => format!("/status/incidents/{}", i.id),
            Notice::Maintenance(m) => format!("/status/maintenances/{}", m.id),
        }
    }

    fn created_at(&self) -> DateTime<Utc> {
        match self {
            Notice::Incident(i) => i.created_at,
            Notice::Maintenance(m) => m.created_at,
        }
    }

    fn updated_at(&self) -> DateTime<Utc> {
        match self {
            Notice::Incident(i) => i.updated_at,
            Notice::Maintenance(m) => m.updated_at,
        }
    }

    fn content(&self) -> String {
        let (window, names, updates): (Option<String>, Vec<&str>, &[PublicUpdate]) = match self {
            Notice::Incident(i) => (
                None,
                i.components.iter().map(|c| c.name.as_str()).collect(),
                &i.updates,
            ),
            Notice::Maintenance(m) => (
                Some(format!(
                    "{} – {}",
                    text_time(m.scheduled_for),
                    text_time(m.scheduled_until)
                )),
                m.components.iter().map(|c| c.name.as_str()).collect(),
                &m.updates,
            ),
        };
        EntryContent {
            window,
            affected: names.join(", "),
            updates: updates
                .iter()
                .map(|u| EntryUpdate {
                    time: text_time(u.created_at),
                    status: update_status_label(&u.status),
                    body_html: &u.body_html,
                })
                .collect(),
        }
        .render()
        .expect("feed templates only write to a String")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::pages::fixture::small;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    /// Parses `xml` (failing on anything not well-formed) and returns the text of every
    /// element named `name`, entities resolved.
    fn texts_of(xml: &str, name: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut found = Vec::new();
        let mut current: Option<String> = None;
        let mut depth = 0usize;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    depth += 1;
                    if e.name().as_ref() == name.as_bytes() {
                        current = Some(String::new());
                    }
                }
                Event::End(e) => {
                    depth -= 1;
                    if e.name().as_ref() == name.as_bytes() {
                        found.push(current.take().unwrap());
                    }
                }
                Event::Text(t) => {
                    if let Some(text) = current.as_mut() {
                        text.push_str(&t.decode().unwrap());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(text) = current.as_mut() {
                        let reference = format!("&{};", r.decode().unwrap());
                        text.push_str(&quick_xml::escape::unescape(&reference).unwrap());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element closed");
        found
    }

    #[test]
    fn the_atom_feed_is_well_formed_with_one_entry_per_notice() {
        let data = small();
        let xml = atom(&data);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""));
        let titles = texts_of(&xml, "title");
        assert_eq!(
            titles,
            [
                "Acme status",
                "Network maintenance in Virginia",
                "Elevated API error rates",
                "Delayed webhook deliveries",
                "Database upgrade in the EU",
                "Certificate rotation",
            ],
            "most recently updated first"
        );
        let ids = texts_of(&xml, "id");
        assert_eq!(ids[0], "https://status.acme.example/status");
        assert_eq!(
            ids[1],
            "https://status.acme.example/status/maintenances/mnt2netus004"
        );
        assert_eq!(
            ids[2],
            "https://status.acme.example/status/incidents/inc1apierr01"
        );
        assert_eq!(texts_of(&xml, "updated")[0], "2026-11-20T11:00:00Z");
        let contents = texts_of(&xml, "content");
        assert_eq!(contents.len(), 5);
        assert_eq!(
            contents[1],
            "<p>Affected: API, Webhooks</p>\
             <p><small>20 Nov 2026, 10:40 UTC</small><br><strong>Identified</strong></p>\
             <p>We found a faulty cache node in <strong>eu-west</strong> and are replacing it. Error rates are falling.</p>\n\
             <p><small>20 Nov 2026, 10:12 UTC</small><br><strong>Investigating</strong></p>\
             <p>We are investigating increased error rates (HTTP 502) on the API. Webhook deliveries are delayed.</p>\n"
        );
        assert!(contents[0].starts_with("<p>Scheduled for 20 Nov 2026, 11:00 UTC – 20 Nov 2026, 13:00 UTC</p><p>Affected: US (Virginia)</p>"));
        assert!(
            xml.contains("&#60;strong&#62;eu-west&#60;/strong&#62;")
                || xml.contains("&lt;strong&gt;")
        );
    }

    #[test]
    fn the_rss_feed_is_well_formed_with_rfc_2822_dates() {
        let data = small();
        let xml = rss(&data);
        let titles = texts_of(&xml, "title");
        assert_eq!(titles.len(), 6);
        assert_eq!(titles[0], "Acme status");
        assert_eq!(
            texts_of(&xml, "lastBuildDate"),
            ["Fri, 20 Nov 2026 11:00:00 +0000"]
        );
        assert_eq!(
            texts_of(&xml, "guid")[1],
            "https://status.acme.example/status/incidents/inc1apierr01"
        );
        assert_eq!(
            texts_of(&xml, "pubDate")[1],
            "Fri, 20 Nov 2026 10:12:00 +0000"
        );
        let descriptions = texts_of(&xml, "description");
        assert_eq!(descriptions[0], "Incidents and maintenance of Acme");
        assert!(descriptions[2].contains("<strong>Identified</strong>"));
    }

    #[test]
    fn names_that_look_like_markup_stay_text() {
        let mut data = small();
        data.branding.name = "A&B <Ops>".into();
        data.incidents[0].name = "Errors in <head> & \"quotes\"".into();
        for xml in [atom(&data), rss(&data)] {
            let titles = texts_of(&xml, "title");
            assert_eq!(titles[0], "A&B <Ops> status");
            assert!(titles.contains(&"Errors in <head> & \"quotes\"".to_string()));
        }
    }

    #[test]
    fn feeds_keep_the_fifty_latest() {
        let mut data = small();
        let template = data.incidents[1].clone();
        data.incidents = (0..70)
            .map(|n| {
                let mut i = template.clone();
                i.id = format!("inc{n:09}");
                i.updated_at = template.updated_at - chrono::Duration::hours(n);
                i
            })
            .collect();
        data.maintenances.clear();
        assert_eq!(texts_of(&atom(&data), "entry").len(), 50);
        assert_eq!(texts_of(&rss(&data), "item").len(), 50);
    }
}
