//! `GET /api/v1/search?q=...&page=N`: mail search for API tokens, the same results as
//! the `/search` page (ranked, then newest first, marked fragments, links).

use std::collections::HashMap;

use api::search::SearchPage;
use app::pages::search::query_error;
use axum::Json;
use axum::extract::{Query, State};
use domain::search::{SearchQuery, parse_page};

use crate::api_v1::{ApiError, TokenCaller};
use crate::startup::AppState;

pub async fn search(
    State(state): State<AppState>,
    caller: TokenCaller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<SearchPage>, ApiError> {
    let q = params.get("q").map(String::as_str).unwrap_or_default();
    let query = SearchQuery::parse(q).map_err(query_error)?;
    let page = parse_page(params.get("page").map(String::as_str).unwrap_or_default())?;
    let page = state
        .db
        .for_user(caller.user())
        .search()
        .page(&query, page)
        .await?;
    Ok(Json(page))
}
