use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::Db;
use serde_json::{Value, json};

/// Liveness and readiness in one: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(db): State<Db>) -> (StatusCode, Json<Value>) {
    match db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "up" })),
        ),
        Err(error) => {
            tracing::warn!(%error, "health check: database is down");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "down" })),
            )
        }
    }
}
