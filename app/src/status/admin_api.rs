//! Server functions of the status page's admin catalog (admins only): components, groups,
//! their order and visibility, manual statuses, and the page's branding. Each change is
//! audited in the transaction that makes it.

use leptos::prelude::*;

use super::model::{Branding, Catalog, CatalogComponent, CatalogGroup, SubscriberInfo};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use {
    super::model::{
        parse_status_override, BrandingSettings, ComponentDescription, ComponentName, Direction,
        GroupName,
    },
    super::store::catalog as store,
    super::store::subscribers,
    crate::audit::model::AuditAction,
    crate::audit::store::record,
    crate::auth::api::Caller,
    crate::auth::model::Capability,
    crate::error::respond,
    serde_json::json,
};

/// A group or a component of the catalog, by id.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy)]
enum Item {
    Group(i64),
    Component(i64),
}

#[cfg(feature = "ssr")]
impl Item {
    /// How its audit entries name it.
    fn target(self) -> String {
        match self {
            Item::Group(id) => format!("status group {id}"),
            Item::Component(id) => format!("status component {id}"),
        }
    }

    fn changed(self) -> AuditAction {
        match self {
            Item::Group(_) => AuditAction::StatusGroupChanged,
            Item::Component(_) => AuditAction::StatusComponentChanged,
        }
    }
}

/// Hides `item` or shows it again; audited when that changed anything.
#[cfg(feature = "ssr")]
async fn set_hidden(item: Item, hidden: bool) -> Result<(), AppError> {
    let caller = Caller::allowed(Capability::Administer).await?;
    let mut tx = caller.state.pool.begin().await?;
    let (name, changed) = match item {
        Item::Group(id) => store::set_group_hidden(&mut tx, id, hidden).await?,
        Item::Component(id) => store::set_component_hidden(&mut tx, id, hidden).await?,
    };
    if changed {
        let event = caller
            .audit(item.changed())
            .target(item.target())
            .details(json!({ "change": if hidden { "hidden" } else { "shown" }, "name": name }));
        record(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Moves `item` one place `up` or `down` among its siblings; false when it is already at
/// that end. Audited when it moved.
#[cfg(feature = "ssr")]
async fn move_item(item: Item, direction: &str) -> Result<bool, AppError> {
    let caller = Caller::allowed(Capability::Administer).await?;
    let direction = Direction::parse(direction)?;
    let mut tx = caller.state.pool.begin().await?;
    let (name, moved) = match item {
        Item::Group(id) => store::move_group(&mut tx, id, direction).await?,
        Item::Component(id) => store::move_component(&mut tx, id, direction).await?,
    };
    if moved {
        let event = caller
            .audit(item.changed())
            .target(item.target())
            .details(json!({ "change": "moved", "direction": direction.as_str(), "name": name }));
        record(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

/// A group id from a form: 0 means "no group".
#[cfg(feature = "ssr")]
fn group_choice(group_id: i64) -> Option<i64> {
    (group_id != 0).then_some(group_id)
}

/// Every group and component, hidden ones included, with their manual statuses.
#[server(endpoint = "get_status_catalog")]
pub async fn get_status_catalog() -> Result<Catalog, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            store::catalog(&mut *caller.state.pool.acquire().await?).await
        }
        .await,
    )
}

/// Adds a component group at the end of the page.
#[server(endpoint = "create_status_group")]
pub async fn create_status_group(
    name: String,
    #[server(default)] description: String,
) -> Result<CatalogGroup, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let name = GroupName::parse(&name)?;
            let description = ComponentDescription::parse(&description)?;
            let mut tx = caller.state.pool.begin().await?;
            let group = store::create_group(&mut tx, &name, &description).await?;
            let event = caller
                .audit(AuditAction::StatusGroupCreated)
                .target(Item::Group(group.id).target())
                .details(json!({ "name": group.name, "description": group.description }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(group)
        }
        .await,
    )
}

/// Renames or re-describes a component group.
#[server(endpoint = "edit_status_group")]
pub async fn edit_status_group(
    id: i64,
    name: String,
    #[server(default)] description: String,
) -> Result<CatalogGroup, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let name = GroupName::parse(&name)?;
            let description = ComponentDescription::parse(&description)?;
            let mut tx = caller.state.pool.begin().await?;
            let (before, after) = store::edit_group(&mut tx, id, &name, &description).await?;
            if before != after {
                let event = caller
                    .audit(AuditAction::StatusGroupChanged)
                    .target(Item::Group(id).target())
                    .details(json!({
                        "change": "edited",
                        "before": { "name": before.name, "description": before.description },
                        "after": { "name": after.name, "description": after.description },
                    }));
                record(&mut tx, &event).await?;
            }
            tx.commit().await?;
            Ok(after)
        }
        .await,
    )
}

/// Hides a group (with its components) from the public page, or shows it again.
#[server(endpoint = "set_status_group_hidden")]
pub async fn set_status_group_hidden(id: i64, hidden: bool) -> Result<(), AppError> {
    respond(set_hidden(Item::Group(id), hidden).await)
}

/// Moves a group one place `up` or `down` the page. Answers false when it is already
/// at that end.
#[server(endpoint = "move_status_group")]
pub async fn move_status_group(id: i64, direction: String) -> Result<bool, AppError> {
    respond(move_item(Item::Group(id), &direction).await)
}

/// Adds a component at the end of its group (`group_id`), or of the page (`group_id` 0).
#[server(endpoint = "create_status_component")]
pub async fn create_status_component(
    name: String,
    #[server(default)] description: String,
    #[server(default)] group_id: i64,
) -> Result<CatalogComponent, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let name = ComponentName::parse(&name)?;
            let description = ComponentDescription::parse(&description)?;
            let mut tx = caller.state.pool.begin().await?;
            let component =
                store::create_component(&mut tx, &name, &description, group_choice(group_id))
                    .await?;
            let event = caller
                .audit(AuditAction::StatusComponentCreated)
                .target(Item::Component(component.id).target())
                .details(json!({
                    "name": component.name,
                    "description": component.description,
                    "group_id": component.group_id,
                }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(component)
        }
        .await,
    )
}

/// Renames, re-describes or regroups a component (`group_id` 0: no group). Moved into
/// another group, it goes to that group's end.
#[server(endpoint = "edit_status_component")]
pub async fn edit_status_component(
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] group_id: i64,
) -> Result<CatalogComponent, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let name = ComponentName::parse(&name)?;
            let description = ComponentDescription::parse(&description)?;
            let mut tx = caller.state.pool.begin().await?;
            let (before, after) =
                store::edit_component(&mut tx, id, &name, &description, group_choice(group_id))
                    .await?;
            if before != after {
                let event = caller
                    .audit(AuditAction::StatusComponentChanged)
                    .target(Item::Component(id).target())
                    .details(json!({
                        "change": "edited",
                        "before": { "name": before.name, "description": before.description, "group_id": before.group_id },
                        "after": { "name": after.name, "description": after.description, "group_id": after.group_id },
                    }));
                record(&mut tx, &event).await?;
            }
            tx.commit().await?;
            Ok(after)
        }
        .await,
    )
}

/// Hides a component from the public page, or shows it again.
#[server(endpoint = "set_status_component_hidden")]
pub async fn set_status_component_hidden(id: i64, hidden: bool) -> Result<(), AppError> {
    respond(set_hidden(Item::Component(id), hidden).await)
}

/// Moves a component one place `up` or `down` within its group (or the page, when
/// ungrouped). Answers false when it is already at that end.
#[server(endpoint = "move_status_component")]
pub async fn move_status_component(id: i64, direction: String) -> Result<bool, AppError> {
    respond(move_item(Item::Component(id), &direction).await)
}

/// Sets a component's status by hand (`status`: a component status such as
/// `major_outage`), which wins over incidents and maintenance; empty `status` clears it,
/// so the component follows incidents again.
#[server(endpoint = "set_status_override")]
pub async fn set_status_override(
    id: i64,
    #[server(default)] status: String,
) -> Result<CatalogComponent, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let status = parse_status_override(&status)?;
            let mut tx = caller.state.pool.begin().await?;
            let (before, after) = store::set_override(&mut tx, id, status).await?;
            if before != after {
                let event = caller
                    .audit(AuditAction::StatusOverrideChanged)
                    .target(Item::Component(id).target())
                    .details(json!({
                        "name": after.name,
                        "from": before.status_override.map(|s| s.as_str()),
                        "to": after.status_override.map(|s| s.as_str()),
                    }));
                record(&mut tx, &event).await?;
            }
            tx.commit().await?;
            Ok(after)
        }
        .await,
    )
}

/// The public page's name, logo, accent colour and header links.
#[server(endpoint = "get_status_branding")]
pub async fn get_status_branding() -> Result<Branding, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            store::branding(&mut *caller.state.pool.acquire().await?).await
        }
        .await,
    )
}

/// Saves the public page's branding. `logo_url` may be empty; links come as parallel
/// lists (`link_labels[i]`, `link_urls[i]`), empty rows skipped, at most 5.
#[server(endpoint = "save_status_branding")]
pub async fn save_status_branding(
    page_name: String,
    #[server(default)] logo_url: String,
    accent_color: String,
    #[server(default)] link_labels: Vec<String>,
    #[server(default)] link_urls: Vec<String>,
) -> Result<Branding, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let settings = BrandingSettings::parse(
                &page_name,
                &logo_url,
                &accent_color,
                &link_labels,
                &link_urls,
            )?;
            let mut tx = caller.state.pool.begin().await?;
            let (before, after) = store::save_branding(&mut tx, &settings).await?;
            if before != after {
                let summary = |b: &Branding| {
                    json!({
                        "name": b.name,
                        "logo_url": b.logo_url,
                        "accent_color": b.accent_color,
                        "links": b.links,
                    })
                };
                let event = caller
                    .audit(AuditAction::StatusBrandingChanged)
                    .target("status page")
                    .details(json!({ "before": summary(&before), "now": summary(&after) }));
                record(&mut tx, &event).await?;
            }
            tx.commit().await?;
            Ok(after)
        }
        .await,
    )
}

/// The status page's webhook subscribers (not those who unsubscribed), oldest first, with
/// how their deliveries fare. URLs are shown as hints only (their paths are often secret).
#[server(endpoint = "get_status_subscribers")]
pub async fn get_status_subscribers() -> Result<Vec<SubscriberInfo>, AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            subscribers::overview(&mut *caller.state.pool.acquire().await?).await
        }
        .await,
    )
}

/// Ends a subscription on an admin's word (a receiver that keeps failing, or that nobody
/// owns any more); updates still queued for it are not sent. Audited.
#[server(endpoint = "remove_status_subscriber")]
pub async fn remove_status_subscriber(id: i64) -> Result<(), AppError> {
    respond(
        async {
            let caller = Caller::allowed(Capability::Administer).await?;
            let mut tx = caller.state.pool.begin().await?;
            let Some(url_hint) = subscribers::remove(&mut tx, id).await? else {
                return Err(AppError::NotFound(
                    "No such subscriber: it may have unsubscribed already.".into(),
                ));
            };
            let event = caller
                .audit(AuditAction::StatusSubscriberRemoved)
                .target(format!("status subscriber {id}"))
                .details(json!({ "url": url_hint }));
            record(&mut tx, &event).await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}
