//! Ask's mail search: the `search_messages` tool over the full-text index of
//! [`crate::search`] (stemmed words, "phrases", `from:` / `to:` / `has:attachment`, in
//! the subject, body, participants and attachment names), ranked then newest first,
//! and the question it answers for the offline engine: "what did Dana say about the
//! contract?" (the messages with Dana that match "contract", each cited by its link).

use std::sync::LazyLock;

use api::{Channel, Direction};
use regex::Regex;

use super::tools::{Limit, MessageFilter, MessageRef};
use crate::DomainError;
use crate::db::scopes::AskScope;
use crate::search::{Matching, RANK_WINDOW, SearchQuery};

static SAID_ABOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^what (?:did|has|have|does) (.+?) (?:say|said|write|wrote|written|mention|mentioned|tell me|told me|send me|sent me|email me|emailed me)(?: to me)? (?:about|regarding|on|re:?) (.+?)[?.!]*$",
    )
    .expect("a valid pattern")
});

/// "what did Dana say about the contract?" (lowercased): who, and about what.
pub fn said_about(question: &str) -> Option<(&str, &str)> {
    let c = SAID_ABOUT.captures(question)?;
    Some((c.get(1)?.as_str(), c.get(2)?.as_str()))
}

/// The search a tool's text stands for: the search box's language when it parses
/// (words, phrases, operators), else its words as plain words.
fn text_query(text: &str) -> SearchQuery {
    SearchQuery::parse(text).unwrap_or_else(|_| SearchQuery {
        words: text.split_whitespace().map(str::to_owned).collect(),
        ..SearchQuery::default()
    })
}

impl AskScope<'_> {
    /// Messages matching `filter`: the best matches of its text first (among the newest
    /// [`RANK_WINDOW`]), then newest first; all of them newest first without text.
    pub async fn search_messages(
        self,
        filter: &MessageFilter,
        limit: Limit,
    ) -> Result<Vec<MessageRef>, DomainError> {
        let query = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(text_query);
        // Planned for its own tsquery, like the search page (see `begin_planned`).
        let (mut tx, matching) = match &query {
            Some(q) => q.begin_planned(self.pool).await?,
            None => (self.pool.begin().await?, Matching::Everything),
        };
        if matching == Matching::Nothing {
            return Ok(Vec::new());
        }
        let after = [
            filter.period.map(|p| p.from),
            query.as_ref().and_then(SearchQuery::after_instant),
        ]
        .into_iter()
        .flatten()
        .max();
        let before = [
            filter.period.map(|p| p.to),
            query.as_ref().and_then(SearchQuery::before_instant),
        ]
        .into_iter()
        .flatten()
        .min();
        let messages = sqlx::query_as!(
            MessageRef,
            r#"with candidates as materialized (
                 select s.activity_id, s.occurred_at, s.doc
                 from activity_search s
                 join activities a on a.user_id = $1 and a.id = s.activity_id
                 where s.user_id = $1
                   and ($2::text is null or s.doc @@ $2::tsquery)
                   and s.occurred_at >= coalesce($5::timestamptz, '-infinity')
                   and s.occurred_at < coalesce($6::timestamptz, 'infinity')
                   and (cardinality($3::uuid[]) = 0 or exists (
                         select 1 from activity_participants ap
                         where ap.user_id = $1 and ap.activity_id = a.id and ap.contact_id = any($3)))
                   and ($4::uuid is null or exists (
                         select 1 from activity_participants ap
                         join contacts c on c.user_id = ap.user_id and c.id = ap.contact_id
                         where ap.user_id = $1 and ap.activity_id = a.id and c.company_id = $4))
                   and ($7::text is null or a.channel = $7)
                 order by s.occurred_at desc
                 limit $9
               )
               select a.id as activity_id, a.thread_key,
                      (select ap.contact_id from activity_participants ap
                        where ap.user_id = a.user_id and ap.activity_id = a.id and ap.contact_id is not null
                        order by (ap.role = 'from') = (a.direction = 'inbound') desc, ap.role
                        limit 1) as "contact_id?",
                      a.occurred_at as at, a.channel as "channel: Channel", a.direction as "direction: Direction",
                      a.subject, a.snippet
               from candidates r
               join activities a on a.user_id = $1 and a.id = r.activity_id
               order by case when $2::text is null then 0 else ts_rank(r.doc, $2::tsquery) end desc,
                        r.occurred_at desc, r.activity_id
               limit $8"#,
            self.user.0,
            matching.tsquery(),
            &filter.contacts,
            filter.company,
            after,
            before,
            filter.channel.map(Channel::as_str),
            limit.get() as i64,
            RANK_WINDOW as i64,
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_someone_said_about_something_names_both() {
        assert_eq!(
            said_about("what did dana say about the contract?"),
            Some(("dana", "the contract"))
        );
        assert_eq!(
            said_about("what has sam rivera written about pricing"),
            Some(("sam rivera", "pricing"))
        );
        assert_eq!(said_about("what do i know about dana"), None);
        assert_eq!(said_about("what did dana say"), None);
    }

    #[test]
    fn tool_text_is_the_search_language_or_plain_words() {
        let q = text_query("from:dana \"signed contract\"");
        assert_eq!(q.from, vec!["dana"]);
        assert_eq!(q.phrases, vec!["signed contract"]);
        let q = text_query("subject:lunch plans");
        assert_eq!(q.words, vec!["subject:lunch", "plans"]);
    }
}
