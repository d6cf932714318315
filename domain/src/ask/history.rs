//! Asking a question end to end: pick the engine (the model when one is configured,
//! else the offline engine), answer, and record the exchange in the user's chat history
//! (`ask_messages`) and as an `ai.query_executed` event (question, engine, tools,
//! latency, tokens).

use std::time::Instant;

use api::ask::{AskData, ExchangeView};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::answer::Answer;
use super::model::{self, ModelConfig, Progress};
use super::offline;
use crate::db::scopes::AskScope;
use crate::events::{AiQueryPayload, Event};
use crate::{DomainError, UserScope};

/// Longest question accepted.
pub const MAX_QUESTION_CHARS: usize = 1000;
/// Exchanges the Ask page shows.
pub const HISTORY_SHOWN: i64 = 50;
/// Earlier questions a follow-up ("and her phone?") may refer to…
const CONVERSATION_QUESTIONS: i64 = 3;
/// …if asked at most this long before.
const CONVERSATION_GAP: chrono::Duration = chrono::Duration::minutes(30);

/// A question worth asking: trimmed, not empty, at most [`MAX_QUESTION_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question(String);

impl Question {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::invalid("question", "is empty"));
        }
        if text.chars().count() > MAX_QUESTION_CHARS {
            return Err(DomainError::invalid(
                "question",
                format!("is longer than {MAX_QUESTION_CHARS} characters"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One question and its answer, as stored: what the page shows, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    #[serde(flatten)]
    pub view: ExchangeView,
    pub latency_ms: i32,
    pub tokens: i32,
}

/// An exchange reads as what the page shows (`exchange.id`, `exchange.answer`).
impl std::ops::Deref for Exchange {
    type Target = ExchangeView;

    fn deref(&self) -> &ExchangeView {
        &self.view
    }
}

/// Answers `question` for the scope's user, streaming the model's text through
/// `progress` (the offline engine reports its whole answer at once), and records it.
pub async fn ask(
    scope: UserScope<'_>,
    model_config: Option<&ModelConfig>,
    question: &Question,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Exchange, DomainError> {
    let started = Instant::now();
    let (answer, engine, tokens) = match model_config {
        Some(config) => {
            match model::answer(scope, config, question.as_str(), now, progress).await {
                Ok(a) => (a.answer, format!("model {}", a.model), a.tokens),
                Err(e) => {
                    tracing::warn!(error = %e, "the model could not answer");
                    let text = e.polite();
                    progress(Progress::Text(text.clone()));
                    (
                        Answer::refusal(text, Vec::new()),
                        format!("model {}", config.model),
                        0,
                    )
                }
            }
        }
        None => {
            // The conversation so far: the questions of the last half hour.
            let recent = scope.ask().history(CONVERSATION_QUESTIONS).await?;
            let earlier: Vec<&str> = recent
                .iter()
                .filter(|e| now - e.created_at <= CONVERSATION_GAP)
                .map(|e| e.question.as_str())
                .collect();
            let answer = offline::answer_after(scope, &earlier, question.as_str(), now).await?;
            for tool in &answer.tools {
                progress(Progress::Tool(tool.clone()));
            }
            progress(Progress::Text(answer.text.clone()));
            (answer, "offline engine".to_owned(), 0)
        }
    };
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    scope
        .ask()
        .record_exchange(question, &answer, &engine, latency_ms, tokens)
        .await
}

impl AskScope<'_> {
    /// Stores an answered question and records it as an `ai.query_executed` event.
    pub async fn record_exchange(
        self,
        question: &Question,
        answer: &Answer,
        engine: &str,
        latency_ms: i32,
        tokens: u32,
    ) -> Result<Exchange, DomainError> {
        let tokens = i32::try_from(tokens).unwrap_or(i32::MAX);
        let mut tx = self.pool.begin().await?;
        let latency_ms = latency_ms.max(0);
        let view = sqlx::query_as!(
            ExchangeView,
            r#"insert into ask_messages (user_id, question, answer, engine, refused, tools, latency_ms, tokens)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               returning id, question, answer, engine, refused, tools, created_at"#,
            self.user.0,
            question.as_str(),
            answer.text,
            engine,
            answer.refused,
            &answer.tools,
            latency_ms,
            tokens,
        )
        .fetch_one(&mut *tx)
        .await?;
        let event = Event::AiQueryExecuted(AiQueryPayload {
            exchange_id: view.id,
            question: view.question.clone(),
            engine: view.engine.clone(),
            tools: view.tools.clone(),
            refused: view.refused,
            latency_ms,
            tokens,
        });
        self.events().record(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(Exchange {
            view,
            latency_ms,
            tokens,
        })
    }

    /// The user's latest exchanges, oldest first (as a chat reads).
    pub async fn history(self, limit: i64) -> Result<Vec<ExchangeView>, DomainError> {
        let mut rows = sqlx::query_as!(
            ExchangeView,
            r#"select id, question, answer, engine, refused, tools, created_at
               from ask_messages where user_id = $1 order by id desc limit $2"#,
            self.user.0,
            limit.clamp(1, 500),
        )
        .fetch_all(self.pool)
        .await?;
        rows.reverse();
        Ok(rows)
    }
}

/// What answers new questions, as the Ask page names it.
fn engine_name(model: Option<&ModelConfig>) -> String {
    match model {
        Some(m) => format!("model {}", m.model),
        None => "offline engine".to_owned(),
    }
}

/// The Ask page: the `history` (oldest first), the engine and the suggested
/// questions, built from the user's top contacts and company.
pub async fn ask_data(
    scope: UserScope<'_>,
    history: Vec<ExchangeView>,
    model: Option<&ModelConfig>,
) -> Result<AskData, DomainError> {
    let contacts = scope
        .ask()
        .find_contacts(
            &super::tools::ContactFilter::default(),
            super::tools::Limit::parse(3)?,
        )
        .await?;
    let people: Vec<String> = super::answer::people_of(&contacts)
        .iter()
        .map(|p| p.label())
        .collect();
    let companies = scope
        .ask()
        .companies(None, super::tools::Limit::parse(1)?)
        .await?;
    let company = companies.first().map(|c| c.domain.clone());
    Ok(AskData {
        history,
        engine: engine_name(model),
        suggestions: super::parse::suggested(&people, company.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_trimmed_and_bounded() {
        assert_eq!(
            Question::parse("  Who is Dana? ").unwrap().as_str(),
            "Who is Dana?"
        );
        assert_eq!(
            Question::parse(" ").unwrap_err().to_string(),
            "invalid question: is empty"
        );
        assert!(Question::parse(&"x".repeat(MAX_QUESTION_CHARS + 1)).is_err());
    }
}
