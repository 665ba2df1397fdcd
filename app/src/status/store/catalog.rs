//! SQL of the admin catalog: component groups and components (names, descriptions, order,
//! visibility, manual status) and the page's branding. Every write bumps `updated_at`;
//! the tables' triggers tell the public page to rebuild.
//!
//! Order: groups and ungrouped components share one top-level order; each group orders
//! its own components. Writes that place or rename things take one transaction-scoped
//! advisory lock (`lock_catalog`), because row locks cannot stop a concurrent insert from
//! taking the same position or the same name; the rows moved are locked as well.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::error::AppError;
use crate::status::model::{
    Branding, BrandingSettings, Catalog, CatalogComponent, CatalogGroup, ComponentDescription,
    ComponentName, ComponentStatus, Direction, GroupName, PageLink,
};

/// A `status_components` row as stored (the override as text).
struct ComponentRow {
    id: i64,
    public_id: String,
    group_id: Option<i64>,
    name: String,
    description: String,
    position: i32,
    hidden: bool,
    status_override: Option<String>,
    updated_at: DateTime<Utc>,
}

impl ComponentRow {
    fn into_component(self) -> Result<CatalogComponent, AppError> {
        Ok(CatalogComponent {
            id: self.id,
            public_id: self.public_id,
            group_id: self.group_id,
            name: self.name,
            description: self.description,
            position: self.position,
            hidden: self.hidden,
            status_override: self
                .status_override
                .as_deref()
                .map(ComponentStatus::parse)
                .transpose()?,
            updated_at: self.updated_at,
        })
    }
}

/// Serialises the catalog's structural writes (placing, moving, naming) until commit.
async fn lock_catalog(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('warroom_status_catalog'))")
        .execute(conn)
        .await?;
    Ok(())
}

/// Every group and component, hidden ones included, each list in stored order.
#[tracing::instrument(skip_all)]
pub async fn catalog(conn: &mut PgConnection) -> Result<Catalog, AppError> {
    let groups = sqlx::query_as!(
        CatalogGroup,
        r#"SELECT id, public_id, name, description, position, hidden,
                  updated_at AS "updated_at: DateTime<Utc>"
           FROM status_component_groups ORDER BY position, id"#
    )
    .fetch_all(&mut *conn)
    .await?;
    let components = sqlx::query_as!(
        ComponentRow,
        r#"SELECT id, public_id, group_id, name, description, position, hidden, status_override,
                updated_at AS "updated_at: DateTime<Utc>"
         FROM status_components ORDER BY position, id"#
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(ComponentRow::into_component)
    .collect::<Result<_, _>>()?;
    Ok(Catalog { groups, components })
}

/// The next free position at the end of a group (`Some`) or of the top level (`None`).
async fn next_position(conn: &mut PgConnection, group_id: Option<i64>) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(position), 0) + 1 AS "next!"
           FROM (SELECT position FROM status_component_groups WHERE $1::bigint IS NULL
                 UNION ALL
                 SELECT position FROM status_components WHERE group_id IS NOT DISTINCT FROM $1)
                AS scope"#,
        group_id,
    )
    .fetch_one(conn)
    .await?)
}

/// Refuses `name` when another component (not `except`) already has it, in any case.
async fn check_component_name(
    conn: &mut PgConnection,
    name: &ComponentName,
    except: Option<i64>,
) -> Result<(), AppError> {
    let taken = sqlx::query_scalar!(
        "SELECT name FROM status_components
         WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2 LIMIT 1",
        name.as_str(),
        except,
    )
    .fetch_optional(conn)
    .await?;
    match taken {
        Some(existing) => Err(AppError::invalid(
            "name",
            format!("A component named \"{existing}\" already exists: choose another name."),
        )),
        None => Ok(()),
    }
}

/// Refuses `name` when another group (not `except`) already has it, in any case.
async fn check_group_name(
    conn: &mut PgConnection,
    name: &GroupName,
    except: Option<i64>,
) -> Result<(), AppError> {
    let taken = sqlx::query_scalar!(
        "SELECT name FROM status_component_groups
         WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2 LIMIT 1",
        name.as_str(),
        except,
    )
    .fetch_optional(conn)
    .await?;
    match taken {
        Some(existing) => Err(AppError::invalid(
            "name",
            format!("A group named \"{existing}\" already exists: choose another name."),
        )),
        None => Ok(()),
    }
}

/// Refuses a group that does not exist (e.g. a form older than someone else's change).
async fn check_group_exists(conn: &mut PgConnection, group_id: i64) -> Result<(), AppError> {
    let found = sqlx::query_scalar!(
        "SELECT id FROM status_component_groups WHERE id = $1 FOR SHARE",
        group_id,
    )
    .fetch_optional(conn)
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(AppError::invalid(
            "group_id",
            "That group does not exist (any more): reload the page and choose another.",
        )),
    }
}

/// Adds a group at the end of the top-level order. Call inside a transaction.
#[tracing::instrument(skip_all)]
pub async fn create_group(
    conn: &mut PgConnection,
    name: &GroupName,
    description: &ComponentDescription,
) -> Result<CatalogGroup, AppError> {
    lock_catalog(conn).await?;
    check_group_name(conn, name, None).await?;
    let position = next_position(conn, None).await?;
    Ok(sqlx::query_as!(
        CatalogGroup,
        r#"INSERT INTO status_component_groups (name, description, position) VALUES ($1, $2, $3)
         RETURNING id, public_id, name, description, position, hidden,
                   updated_at AS "updated_at: DateTime<Utc>""#,
        name.as_str(),
        description.as_str(),
        position,
    )
    .fetch_one(conn)
    .await?)
}

/// Adds a component at the end of its group, or of the top level without one. Call
/// inside a transaction.
#[tracing::instrument(skip_all)]
pub async fn create_component(
    conn: &mut PgConnection,
    name: &ComponentName,
    description: &ComponentDescription,
    group_id: Option<i64>,
) -> Result<CatalogComponent, AppError> {
    lock_catalog(conn).await?;
    check_component_name(conn, name, None).await?;
    if let Some(group_id) = group_id {
        check_group_exists(conn, group_id).await?;
    }
    let position = next_position(conn, group_id).await?;
    sqlx::query_as!(
        ComponentRow,
        r#"INSERT INTO status_components (group_id, name, description, position)
         VALUES ($1, $2, $3, $4)
         RETURNING id, public_id, group_id, name, description, position, hidden,
                   status_override, updated_at AS "updated_at: DateTime<Utc>""#,
        group_id,
        name.as_str(),
        description.as_str(),
        position,
    )
    .fetch_one(conn)
    .await?
    .into_component()
}

/// A group, locked until the transaction ends; `NotFound` if there is none.
async fn group_for_update(conn: &mut PgConnection, id: i64) -> Result<CatalogGroup, AppError> {
    sqlx::query_as!(
        CatalogGroup,
        r#"SELECT id, public_id, name, description, position, hidden,
                  updated_at AS "updated_at: DateTime<Utc>"
           FROM status_component_groups WHERE id = $1 FOR UPDATE"#,
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("component group {id}")))
}

/// A component, locked until the transaction ends; `NotFound` if there is none.
async fn component_for_update(
    conn: &mut PgConnection,
    id: i64,
) -> Result<CatalogComponent, AppError> {
    sqlx::query_as!(
        ComponentRow,
        r#"SELECT id, public_id, group_id, name, description, position, hidden, status_override,
                updated_at AS "updated_at: DateTime<Utc>"
         FROM status_components WHERE id = $1 FOR UPDATE"#,
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("component {id}")))?
    .into_component()
}

/// Renames or re-describes a group; returns it before and after (the same when nothing
/// changed: then nothing is written). Call inside a transaction.
#[tracing::instrument(skip_all, fields(group.id = id))]
pub async fn edit_group(
    conn: &mut PgConnection,
    id: i64,
    name: &GroupName,
    description: &ComponentDescription,
) -> Result<(CatalogGroup, CatalogGroup), AppError> {
    lock_catalog(conn).await?;
    let before = group_for_update(conn, id).await?;
    if before.name == name.as_str() && before.description == description.as_str() {
        return Ok((before.clone(), before));
    }
    check_group_name(conn, name, Some(id)).await?;
    let after = sqlx::query_as!(
        CatalogGroup,
        r#"UPDATE status_component_groups SET name = $2, description = $3, updated_at = now()
         WHERE id = $1
         RETURNING id, public_id, name, description, position, hidden,
                   updated_at AS "updated_at: DateTime<Utc>""#,
        id,
        name.as_str(),
        description.as_str(),
    )
    .fetch_one(conn)
    .await?;
    Ok((before, after))
}

/// Renames, re-describes or regroups a component (moved to another group, or out of one,
/// it goes to the end there); returns it before and after (the same when nothing changed:
/// then nothing is written). Call inside a transaction.
#[tracing::instrument(skip_all, fields(component.id = id))]
pub async fn edit_component(
    conn: &mut PgConnection,
    id: i64,
    name: &ComponentName,
    description: &ComponentDescription,
    group_id: Option<i64>,
) -> Result<(CatalogComponent, CatalogComponent), AppError> {
    lock_catalog(conn).await?;
    let before = component_for_update(conn, id).await?;
    let regrouped = before.group_id != group_id;
    if !regrouped && before.name == name.as_str() && before.description == description.as_str() {
        return Ok((before.clone(), before));
    }
    check_component_name(conn, name, Some(id)).await?;
    let position = if regrouped {
        if let Some(group_id) = group_id {
            check_group_exists(conn, group_id).await?;
        }
        next_position(conn, group_id).await?
    } else {
        before.position
    };
    let after = sqlx::query_as!(
        ComponentRow,
        r#"UPDATE status_components
         SET name = $2, description = $3, group_id = $4, position = $5, updated_at = now()
         WHERE id = $1
         RETURNING id, public_id, group_id, name, description, position, hidden,
                   status_override, updated_at AS "updated_at: DateTime<Utc>""#,
        id,
        name.as_str(),
        description.as_str(),
        group_id,
        position,
    )
    .fetch_one(conn)
    .await?
    .into_component()?;
    Ok((before, after))
}

/// Hides a group from the public page or shows it again; returns its name and whether
/// that changed anything. Call inside a transaction.
#[tracing::instrument(skip_all, fields(group.id = id))]
pub async fn set_group_hidden(
    conn: &mut PgConnection,
    id: i64,
    hidden: bool,
) -> Result<(String, bool), AppError> {
    let group = group_for_update(conn, id).await?;
    if group.hidden == hidden {
        return Ok((group.name, false));
    }
    sqlx::query!(
        "UPDATE status_component_groups SET hidden = $2, updated_at = now() WHERE id = $1",
        id,
        hidden,
    )
    .execute(conn)
    .await?;
    Ok((group.name, true))
}

/// Hides a component from the public page or shows it again; returns its name and
/// whether that changed anything. Call inside a transaction.
#[tracing::instrument(skip_all, fields(component.id = id))]
pub async fn set_component_hidden(
    conn: &mut PgConnection,
    id: i64,
    hidden: bool,
) -> Result<(String, bool), AppError> {
    let component = component_for_update(conn, id).await?;
    if component.hidden == hidden {
        return Ok((component.name, false));
    }
    sqlx::query!(
        "UPDATE status_components SET hidden = $2, updated_at = now() WHERE id = $1",
        id,
        hidden,
    )
    .execute(conn)
    .await?;
    Ok((component.name, true))
}

/// Sets (`Some`) or clears (`None`) a component's manual status; returns the component
/// before and after. Call inside a transaction.
#[tracing::instrument(skip_all, fields(component.id = id))]
pub async fn set_override(
    conn: &mut PgConnection,
    id: i64,
    status: Option<ComponentStatus>,
) -> Result<(CatalogComponent, CatalogComponent), AppError> {
    let before = component_for_update(conn, id).await?;
    if before.status_override == status {
        return Ok((before.clone(), before));
    }
    let after = sqlx::query_as!(
        ComponentRow,
        r#"UPDATE status_components SET status_override = $2, updated_at = now() WHERE id = $1
         RETURNING id, public_id, group_id, name, description, position, hidden,
                   status_override, updated_at AS "updated_at: DateTime<Utc>""#,
        id,
        status.map(ComponentStatus::as_str),
    )
    .fetch_one(conn)
    .await?
    .into_component()?;
    Ok((before, after))
}

/// One thing in an order being rearranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placed {
    Group(i64),
    Component(i64),
}

/// `items` (in their current order) with `moving` swapped with its neighbour towards
/// `direction`; `None` when it is already first (up) or last (down), or not there.
fn swapped(items: &[Placed], moving: Placed, direction: Direction) -> Option<Vec<Placed>> {
    let at = items.iter().position(|item| *item == moving)?;
    let neighbour = match direction {
        Direction::Up => at.checked_sub(1)?,
        Direction::Down => Some(at + 1).filter(|n| *n < items.len())?,
    };
    let mut order = items.to_vec();
    order.swap(at, neighbour);
    Some(order)
}

/// The top level (groups and ungrouped components), rows locked, in page order (ties:
/// groups first, then the older). Call with the catalog locked.
async fn top_level_for_update(conn: &mut PgConnection) -> Result<Vec<(Placed, i32)>, AppError> {
    let groups =
        sqlx::query!("SELECT id, position FROM status_component_groups ORDER BY id FOR UPDATE")
            .fetch_all(&mut *conn)
            .await?;
    let components = sqlx::query!(
        "SELECT id, position FROM status_components WHERE group_id IS NULL ORDER BY id FOR UPDATE"
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut items: Vec<(i32, u8, i64, Placed)> = groups
        .into_iter()
        .map(|g| (g.position, 0, g.id, Placed::Group(g.id)))
        .chain(
            components
                .into_iter()
                .map(|c| (c.position, 1, c.id, Placed::Component(c.id))),
        )
        .collect();
    items.sort_by_key(|(position, kind, id, _)| (*position, *kind, *id));
    Ok(items
        .into_iter()
        .map(|(position, _, _, item)| (item, position))
        .collect())
}

/// A group's components, rows locked, in page order. Call with the catalog locked.
async fn group_members_for_update(
    conn: &mut PgConnection,
    group_id: i64,
) -> Result<Vec<(Placed, i32)>, AppError> {
    let mut rows = sqlx::query!(
        "SELECT id, position FROM status_components WHERE group_id = $1 ORDER BY id FOR UPDATE",
        group_id,
    )
    .fetch_all(conn)
    .await?;
    rows.sort_by_key(|r| (r.position, r.id));
    Ok(rows
        .into_iter()
        .map(|r| (Placed::Component(r.id), r.position))
        .collect())
}

/// Writes positions 1, 2, … for `order`, touching only the rows whose position changes
/// (which also closes gaps and ties left by regrouping).
async fn renumber(
    conn: &mut PgConnection,
    current: &[(Placed, i32)],
    order: &[Placed],
) -> Result<(), AppError> {
    for (index, item) in order.iter().enumerate() {
        let position = index as i32 + 1;
        let unchanged = current
            .iter()
            .any(|(placed, old)| placed == item && *old == position);
        if unchanged {
            continue;
        }
        match *item {
            Placed::Group(id) => {
                sqlx::query!(
                    "UPDATE status_component_groups SET position = $2, updated_at = now()
                     WHERE id = $1",
                    id,
                    position,
                )
                .execute(&mut *conn)
                .await?;
            }
            Placed::Component(id) => {
                sqlx::query!(
                    "UPDATE status_components SET position = $2, updated_at = now() WHERE id = $1",
                    id,
                    position,
                )
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

/// Moves `moving` one place within `scope`; false when it is already at that end.
async fn move_within(
    conn: &mut PgConnection,
    scope: Vec<(Placed, i32)>,
    moving: Placed,
    direction: Direction,
) -> Result<bool, AppError> {
    let items: Vec<Placed> = scope.iter().map(|(item, _)| *item).collect();
    let Some(order) = swapped(&items, moving, direction) else {
        return Ok(false);
    };
    renumber(conn, &scope, &order).await?;
    Ok(true)
}

/// Moves a group one place up or down the top-level order (past a group or an
/// ungrouped component); returns its name and false when it is already at that end.
/// Call inside a transaction.
#[tracing::instrument(skip_all, fields(group.id = id))]
pub async fn move_group(
    conn: &mut PgConnection,
    id: i64,
    direction: Direction,
) -> Result<(String, bool), AppError> {
    lock_catalog(conn).await?;
    let group = group_for_update(conn, id).await?;
    let scope = top_level_for_update(conn).await?;
    let moved = move_within(conn, scope, Placed::Group(id), direction).await?;
    Ok((group.name, moved))
}

/// Moves a component one place up or down within its group, or within the top level
/// when ungrouped; returns its name and false when it is already at that end. Call
/// inside a transaction.
#[tracing::instrument(skip_all, fields(component.id = id))]
pub async fn move_component(
    conn: &mut PgConnection,
    id: i64,
    direction: Direction,
) -> Result<(String, bool), AppError> {
    lock_catalog(conn).await?;
    let component = component_for_update(conn, id).await?;
    let scope = match component.group_id {
        Some(group_id) => group_members_for_update(conn, group_id).await?,
        None => top_level_for_update(conn).await?,
    };
    let moved = move_within(conn, scope, Placed::Component(id), direction).await?;
    Ok((component.name, moved))
}

/// A `status_settings` row as stored (links as JSON).
struct BrandingRow {
    page_name: String,
    logo_url: Option<String>,
    accent_color: String,
    links: serde_json::Value,
    updated_at: DateTime<Utc>,
}

impl BrandingRow {
    fn into_branding(self) -> Result<Branding, AppError> {
        let links: Vec<PageLink> = serde_json::from_value(self.links)
            .map_err(|e| anyhow::Error::new(e).context("reading the status page's links"))?;
        Ok(Branding {
            name: self.page_name,
            logo_url: self.logo_url,
            accent_color: self.accent_color,
            links,
            updated_at: self.updated_at,
        })
    }
}

/// How the public page presents itself.
#[tracing::instrument(skip_all)]
pub async fn branding(conn: &mut PgConnection) -> Result<Branding, AppError> {
    sqlx::query_as!(
        BrandingRow,
        r#"SELECT page_name, logo_url, accent_color, links,
                  updated_at AS "updated_at: DateTime<Utc>"
           FROM status_settings"#
    )
    .fetch_one(conn)
    .await?
    .into_branding()
}

/// Saves the page's branding; returns it before and after (the same when nothing
/// changed: then nothing is written). Call inside a transaction.
#[tracing::instrument(skip_all)]
pub async fn save_branding(
    conn: &mut PgConnection,
    settings: &BrandingSettings,
) -> Result<(Branding, Branding), AppError> {
    let before = sqlx::query_as!(
        BrandingRow,
        r#"SELECT page_name, logo_url, accent_color, links,
                  updated_at AS "updated_at: DateTime<Utc>"
           FROM status_settings FOR UPDATE"#
    )
    .fetch_one(&mut *conn)
    .await?
    .into_branding()?;
    let unchanged = before.name == settings.name.as_str()
        && before.logo_url.as_deref() == settings.logo_url.as_ref().map(|u| u.as_str())
        && before.accent_color == settings.accent_color.as_str()
        && before.links == settings.links;
    if unchanged {
        return Ok((before.clone(), before));
    }
    let links = serde_json::to_value(&settings.links)
        .map_err(|e| anyhow::Error::new(e).context("writing the status page's links"))?;
    let after = sqlx::query_as!(
        BrandingRow,
        r#"UPDATE status_settings
         SET page_name = $1, logo_url = $2, accent_color = $3, links = $4, updated_at = now()
         RETURNING page_name, logo_url, accent_color, links,
                   updated_at AS "updated_at: DateTime<Utc>""#,
        settings.name.as_str(),
        settings.logo_url.as_ref().map(|u| u.as_str()),
        settings.accent_color.as_str(),
        links,
    )
    .fetch_one(conn)
    .await?
    .into_branding()?;
    Ok((before, after))
}

#[cfg(test)]
mod tests {
    use super::{swapped, Placed};
    use crate::status::model::Direction;

    #[test]
    fn moving_swaps_with_the_neighbour_and_stops_at_the_ends() {
        let items = [Placed::Group(1), Placed::Component(5), Placed::Group(2)];
        assert_eq!(
            swapped(&items, Placed::Component(5), Direction::Up),
            Some(vec![
                Placed::Component(5),
                Placed::Group(1),
                Placed::Group(2)
            ])
        );
        assert_eq!(
            swapped(&items, Placed::Component(5), Direction::Down),
            Some(vec![
                Placed::Group(1),
                Placed::Group(2),
                Placed::Component(5)
            ])
        );
        assert_eq!(swapped(&items, Placed::Group(1), Direction::Up), None);
        assert_eq!(swapped(&items, Placed::Group(2), Direction::Down), None);
        assert_eq!(swapped(&items, Placed::Group(9), Direction::Down), None);
    }
}
