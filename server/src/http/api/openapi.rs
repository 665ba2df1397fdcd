//! The token API's OpenAPI 3.1 document, generated from the handlers' annotations and the
//! wire types ([`super::v1`]), served at `GET /api/v1/openapi.json` (no token needed).
//! Every route of the API is in it (a test checks it against the router's list), with its
//! scope, parameters, body and every answer, errors included.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::v1;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warroom token API",
        description = "Incidents for scripts and other systems. Every call but this document's \
                       takes `Authorization: Bearer wr_…` from a token an admin issued at \
                       /admin/tokens; each operation names the scope it needs. Errors answer \
                       `{\"error\": \"…\"}`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(super::list_incidents, super::get_incident, super::declare_incident, document),
    components(schemas(v1::Error, v1::StatusFilter)),
    modifiers(&BearerToken),
    tags((name = "incidents", description = "Declare and read incidents and their timelines.")),
)]
pub struct ApiDoc;

/// The `bearer` security scheme the operations name.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wr_…")
                    .description(Some(
                        "An API token (`wr_…`), shown once when an admin creates it.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as served (built once per process: it only changes with the code).
fn json() -> &'static str {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the token API.",
            body = Object, content_type = "application/json"),
    ),
)]
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json()).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ApiDoc;
    use utoipa::OpenApi;

    #[test]
    fn the_document_is_stable() {
        insta::assert_json_snapshot!("openapi", ApiDoc::openapi());
    }

    #[test]
    fn every_route_of_the_api_is_in_the_document_and_nothing_else() {
        let document = ApiDoc::openapi();
        let documented: BTreeSet<(String, String)> = document
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                let value = serde_json::to_value(item).unwrap();
                let methods: Vec<String> = value
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                    .map(|m| m.to_uppercase())
                    .collect();
                methods.into_iter().map(move |m| (m, path.clone()))
            })
            .collect();
        let routed: BTreeSet<(String, String)> = super::super::routes()
            .iter()
            .flat_map(|route| {
                route.methods.iter().map(|m| {
                    (
                        m.to_string(),
                        format!("{}{}", crate::http::API_V1, route.path),
                    )
                })
            })
            .collect();
        assert_eq!(documented, routed);
    }

    #[test]
    fn every_operation_but_the_document_needs_a_token_and_documents_its_refusals() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                if path.ends_with("/openapi.json") {
                    continue;
                }
                assert!(
                    operation["security"][0]["bearer"].is_array(),
                    "{method} {path}"
                );
                for status in ["401", "403", "429"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
                let www = &responses["401"]["headers"]["WWW-Authenticate"];
                assert!(www.is_object(), "{method} {path}");
            }
        }
    }
}
