//! The offline engine: [`parse`] a question into an intent, resolve its names and
//! companies against the user's contacts, answer through the tools. Deterministic: the
//! same data, question and `now` give the same answer.

use api::Direction;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::answer::{
    Answer, AnswerValue, Person, contact_href, link, message_href, name_key, people_of,
};
use super::names::{Resolved, resolve};
use super::parse::{Field, Flow, Intent, mentions, parse_after, suggested};
use super::period::Period;
use super::tools::{
    Awaiting, CompanyRow, ContactCount, ContactFilter, ContactHit, Limit, MessageFilter,
    MessageRef, Metric,
};
use crate::{DomainError, UserScope};

/// Longest list an answer spells out.
const LISTED: usize = 20;

/// Answers `question` for the scope's user as of `now`.
pub async fn answer(
    scope: UserScope<'_>,
    question: &str,
    now: DateTime<Utc>,
) -> Result<Answer, DomainError> {
    answer_after(scope, &[], question, now).await
}

/// Answers `question` asked after `earlier` questions of the same conversation (oldest
/// first), which give meaning to "and her phone?" or "what about last year?".
pub async fn answer_after(
    scope: UserScope<'_>,
    earlier: &[&str],
    question: &str,
    now: DateTime<Utc>,
) -> Result<Answer, DomainError> {
    let previous = earlier.iter().fold(None, |previous: Option<Intent>, q| {
        parse_after(q, previous.as_ref(), now).or(previous)
    });
    let mut run = Run {
        scope,
        tools: Vec::new(),
        directory: None,
        asked: None,
    };
    let Some(intent) = parse_after(question, previous.as_ref(), now) else {
        let text = run.not_understood(question, now).await?;
        return Ok(Answer::refusal(text, run.tools));
    };
    run.asked = Some(intent.clone());
    match run.intent(intent, now).await? {
        Ok(answer) => Ok(answer),
        Err(refusal) => Ok(Answer::refusal(refusal, run.tools)),
    }
}

/// "I read this as …, but …": a refusal that says what was understood and offers
/// the closest questions, filled with the people it could mean.
fn several(typed: &str, people: &[Person], asked: Option<&Intent>) -> String {
    let names: Vec<String> = people
        .iter()
        .take(10)
        .map(|p| {
            format!(
                "{} ({})",
                p.link(),
                p.emails.first().cloned().unwrap_or_default()
            )
        })
        .collect();
    let mut text = format!(
        "Several people match “{typed}”: {}. Which one do you mean?",
        names.join(", ")
    );
    if let Some(asked) = asked {
        let offers: Vec<String> = people
            .iter()
            .take(3)
            .filter_map(|p| asked.with_subject(&p.label()))
            .map(|i| format!("• {}", i.question()))
            .collect();
        text.push_str(&format!(" Ask for example:\n{}", offers.join("\n")));
    }
    text
}

/// The refusal for a question about `person` that fits no intent.
fn about_person(person: &Person, period: Option<Period>) -> String {
    let name = person.label();
    let offers = [
        Intent::CountMessages {
            person: name.clone(),
            flow: Flow::Both,
            period,
        },
        Intent::LastInteraction {
            person: name.clone(),
            flow: Flow::Both,
        },
        Intent::ContactField {
            person: name.clone(),
            field: Field::Phone,
        },
        Intent::Summary { person: name },
    ];
    let offers: Vec<String> = offers
        .iter()
        .map(|i| format!("• {}", i.question()))
        .collect();
    let when = period
        .map(|p| format!(" and the period {}", period_words(Some(p), "")))
        .unwrap_or_default();
    format!(
        "I understood that you are asking about {}{when}, but not what you want to know. I can answer, for example:\n{}",
        person.link(),
        offers.join("\n")
    )
}

fn nobody(typed: &str, nearest: &[Person], asked: Option<&Intent>) -> String {
    let understood = asked
        .map(|i| format!("I read this as “{}”, but ", i.question()))
        .unwrap_or_default();
    let mut text = format!("{understood}I couldn't find anyone called “{typed}” in your contacts.");
    let offers: Vec<String> = nearest
        .iter()
        .filter_map(|p| asked?.with_subject(&p.label()))
        .map(|i| format!("• {}", i.question()))
        .collect();
    if !offers.is_empty() {
        text.push_str(&format!(" Did you mean:\n{}", offers.join("\n")));
    }
    text
}
/// One answer in progress: the scope and the tools called so far. Handlers return
/// `Ok(Err(text))` to refuse (unknown or ambiguous name), `Err` on database errors.
struct Run<'a> {
    scope: UserScope<'a>,
    tools: Vec<String>,
    /// Every contact, read once when a name is first looked up.
    directory: Option<Vec<ContactHit>>,
    /// The question as understood, for refusals to offer it with other names.
    asked: Option<Intent>,
}

type Outcome = Result<Result<Answer, String>, DomainError>;

impl Run<'_> {
    async fn intent(&mut self, intent: Intent, now: DateTime<Utc>) -> Outcome {
        match intent {
            Intent::TopContacts {
                metric,
                period,
                company,
                limit,
            } => self.top_contacts(metric, period, company, limit).await,
            Intent::ActiveContacts { period } => self.active(period).await,
            Intent::Unanswered {
                awaiting,
                period,
                person,
            } => self.unanswered(awaiting, period, person).await,
            Intent::LastInteraction { person, flow } => {
                self.interaction(&person, flow, false).await
            }
            Intent::FirstInteraction { person, flow } => {
                self.interaction(&person, flow, true).await
            }
            Intent::CountMessages {
                person,
                flow,
                period,
            } => self.count(&person, flow, period).await,
            Intent::WhoIs { person } => self.who_is(&person).await,
            Intent::ContactField { person, field } => self.field(&person, field).await,
            Intent::PeopleAt { company, count } => self.people_at(&company, count).await,
            Intent::Dormant { before } => self.dormant(before, now).await,
            Intent::Summary { person } => self.summary(&person, now).await,
            Intent::RecentPosts { person } => self.posts(&person).await,
            Intent::Timeline { person, period } => self.timeline(&person, period).await,
            Intent::SearchMessages {
                text,
                person,
                period,
            } => self.search(&text, person, period).await,
            Intent::TopCompanies { limit } => self.top_companies(limit).await,
            Intent::CountContacts => self.count_contacts().await,
            Intent::KeepInTouch(question) => self.keep_in_touch(question, now).await,
        }
    }

    async fn keep_in_touch(
        &mut self,
        question: super::keep_in_touch::Question,
        now: DateTime<Utc>,
    ) -> Outcome {
        let person = match question.person() {
            Some(name) => match self.person(name).await? {
                Ok(p) => Some(p),
                Err(refusal) => return Ok(Err(refusal)),
            },
            None => None,
        };
        let answered =
            super::keep_in_touch::answer(self.scope, &question, person.as_ref(), now).await?;
        self.tools.extend(answered.tools);
        self.done(answered.text, answered.value)
    }

    fn done(&self, text: String, value: AnswerValue) -> Outcome {
        Ok(Ok(Answer::answered(text, value, self.tools.clone())))
    }

    fn called(&mut self, tool: &str) {
        self.tools.push(tool.to_owned());
    }

    async fn directory(&mut self) -> Result<&[ContactHit], DomainError> {
        if self.directory.is_none() {
            self.directory = Some(self.scope.ask().directory().await?);
        }
        Ok(self.directory.as_deref().unwrap_or_default())
    }

    /// A refusal for a question no intent fits: what it understood (a contact it
    /// names, a period) and questions it can answer, filled with that contact or with
    /// the user's own top contacts and company.
    async fn not_understood(
        &mut self,
        question: &str,
        now: DateTime<Utc>,
    ) -> Result<String, DomainError> {
        self.called("search_contacts");
        let (names, period) = mentions(question, now);
        let everyone = self.directory().await?;
        if let Some(person) = names.iter().find_map(|name| match resolve(name, everyone) {
            Resolved::One(person) => Some(person),
            _ => None,
        }) {
            return Ok(about_person(&person, period));
        }
        let top: Vec<String> = people_of(&everyone[..everyone.len().min(3)])
            .iter()
            .map(Person::label)
            .collect();
        let company = everyone.iter().find_map(|c| c.company_domain.clone());
        let examples: Vec<String> = suggested(&top, company.as_deref())
            .iter()
            .map(|e| format!("• {e}"))
            .collect();
        Ok(format!(
            "I don't understand that question without a language model. These are the kinds of questions I can answer:\n{}",
            examples.join("\n")
        ))
    }

    /// The one person `name` means (see [`resolve`]). Refuses with the candidates when
    /// several people fit, or with the nearest names when no one does.
    async fn person(&mut self, name: &str) -> Result<Result<Person, String>, DomainError> {
        self.called("search_contacts");
        let found = resolve(name, self.directory().await?);
        Ok(match found {
            Resolved::One(person) => Ok(person),
            Resolved::Several(people) => Err(several(name, &people, self.asked.as_ref())),
            Resolved::Nobody { nearest } => Err(nobody(name, &nearest, self.asked.as_ref())),
        })
    }

    /// The company `text` names: by domain, else by name.
    async fn company(&mut self, text: &str) -> Result<Result<CompanyRow, String>, DomainError> {
        self.called("companies");
        let rows = self
            .scope
            .ask()
            .companies(Some(text), Limit::parse(20)?)
            .await?;
        let wanted = text.trim().to_lowercase();
        let exact: Vec<&CompanyRow> = rows
            .iter()
            .filter(|c| {
                c.domain == wanted
                    || c.name.as_deref().map(name_key) == Some(name_key(&wanted))
                    || c.name
                        .as_deref()
                        .is_some_and(|n| name_key(n).trim_end_matches(" inc.") == wanted)
            })
            .collect();
        Ok(match (exact.as_slice(), rows.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            ([], [one]) => Ok(one.clone()),
            ([], []) => Err(format!("I don't know any company called “{text}”.")),
            _ => {
                let names: Vec<String> = rows.iter().map(company_label).collect();
                Err(format!(
                    "Several companies match “{text}”: {}. Which one do you mean?",
                    names.join(", ")
                ))
            }
        })
    }

    async fn top_contacts(
        &mut self,
        metric: Metric,
        period: Option<Period>,
        company: Option<String>,
        limit: i64,
    ) -> Outcome {
        let company = match company {
            Some(text) => match self.company(&text).await? {
                Ok(c) => Some(c),
                Err(refusal) => return Ok(Err(refusal)),
            },
            None => None,
        };
        self.called("top_contacts");
        let rows = self
            .scope
            .ask()
            .message_counts(metric, period, company.as_ref().map(|c| c.id))
            .await?;
        let mut ranked = ranked_people(&rows, metric);
        ranked.truncate(limit.clamp(1, 50) as usize);
        let what = match metric {
            Metric::Emails => "emails exchanged",
            Metric::Sent => "emails you sent",
            Metric::Received => "emails you received",
            Metric::Strength => "relationship strength",
        };
        let place = company
            .as_ref()
            .map(|c| format!(" at {}", company_label(c)))
            .unwrap_or_default();
        if ranked.is_empty() {
            return self.done(
                format!("No one{place} {}.", period_words(period, "in this period")),
                AnswerValue::People(Vec::new()),
            );
        }
        let lines: Vec<String> = ranked
            .iter()
            .enumerate()
            .map(|(i, (p, sent, received, strength))| {
                let figure = match metric {
                    Metric::Strength => format!("strength {strength}"),
                    _ => format!(
                        "{} emails ({sent} sent, {received} received)",
                        sent + received
                    ),
                };
                format!("{}. {} — {figure}", i + 1, p.link())
            })
            .collect();
        let scope_words = match metric {
            Metric::Strength => String::new(),
            _ => format!(" {}", period_words(period, "of all time")),
        };
        self.done(
            format!("By {what}{place}{scope_words}:\n{}", lines.join("\n")),
            AnswerValue::People(ranked.into_iter().map(|r| r.0).collect()),
        )
    }

    async fn active(&mut self, period: Period) -> Outcome {
        self.called("top_contacts");
        let rows = self
            .scope
            .ask()
            .message_counts(Metric::Emails, Some(period), None)
            .await?;
        let ranked = ranked_people(&rows, Metric::Emails);
        let people: Vec<Person> = ranked.into_iter().map(|r| r.0).collect();
        let text = if people.is_empty() {
            format!(
                "You exchanged no email with anyone {}.",
                period_words(Some(period), "")
            )
        } else {
            format!(
                "{} people {}: {}",
                people.len(),
                period_words(Some(period), ""),
                listed(&people)
            )
        };
        self.done(text, AnswerValue::People(people))
    }

    async fn unanswered(
        &mut self,
        awaiting: Awaiting,
        period: Option<Period>,
        person: Option<String>,
    ) -> Outcome {
        let who = match &person {
            Some(name) => match self.person(name).await? {
                Ok(p) => Some(p),
                Err(refusal) => return Ok(Err(refusal)),
            },
            None => None,
        };
        self.called("unanswered_threads");
        let contacts = who
            .as_ref()
            .map(|p| p.contact_ids.clone())
            .unwrap_or_default();
        let threads = self
            .scope
            .ask()
            .unanswered(
                awaiting,
                period.map(|p| p.from),
                &contacts,
                Limit::parse(50)?,
            )
            .await?;
        let ids: Vec<Uuid> = threads.iter().map(|t| t.contact_id).collect();
        let people = self.people_by_ids(&ids).await?;
        let waiting = match awaiting {
            Awaiting::MyReply => "waiting for your reply",
            Awaiting::TheirReply => "waiting for their reply",
        };
        if threads.is_empty() {
            return self.done(
                format!("No threads {waiting} {}.", period_words(period, "")).replace(" .", "."),
                AnswerValue::People(Vec::new()),
            );
        }
        let lines: Vec<String> = threads
            .iter()
            .take(LISTED)
            .map(|t| {
                let person = people
                    .iter()
                    .find(|p| p.contact_ids.contains(&t.contact_id))
                    .map(Person::link)
                    .unwrap_or_default();
                let subject = t.subject.as_deref().unwrap_or("(no subject)");
                let href = format!("{}#activity-{}", contact_href(t.contact_id), t.activity_id);
                format!(
                    "• {person}: {} ({})",
                    link(subject, &href),
                    t.at.format("%Y-%m-%d")
                )
            })
            .collect();
        self.done(
            format!(
                "{} thread(s) {waiting}{}:\n{}",
                threads.len(),
                period
                    .map(|p| format!(" {}", period_words(Some(p), "")))
                    .unwrap_or_default(),
                lines.join("\n")
            ),
            AnswerValue::People(people),
        )
    }

    /// People of `ids` in first-seen order, folded by name.
    async fn people_by_ids(&mut self, ids: &[Uuid]) -> Result<Vec<Person>, DomainError> {
        let mut hits: Vec<ContactHit> = Vec::new();
        for id in ids {
            if hits.iter().any(|h| h.id == *id) {
                continue;
            }
            self.called("contact_details");
            hits.push(self.scope.ask().contact_details(*id).await?.contact);
        }
        Ok(people_of(&hits))
    }

    async fn interaction(&mut self, name: &str, flow: Flow, first: bool) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("timeline");
        let messages = self
            .scope
            .ask()
            .activity_timeline(
                &person.contact_ids,
                None,
                None,
                first,
                Limit::parse(MAX_SCAN)?,
            )
            .await?;
        let wanted = |m: &&MessageRef| match flow {
            Flow::Both => true,
            Flow::Sent => m.direction == Some(Direction::Outbound),
            Flow::Received => m.direction == Some(Direction::Inbound),
        };
        let Some(message) = messages.iter().find(wanted) else {
            return self.done(
                format!("You have no {} {}.", flow_words(flow), person.link()),
                AnswerValue::Nothing,
            );
        };
        let which = if first { "first" } else { "last" };
        let subject = message.subject.as_deref().unwrap_or("(no subject)");
        let cited = message_href(message)
            .map(|href| link(subject, &href))
            .unwrap_or_else(|| subject.to_owned());
        let direction = match message.direction {
            Some(Direction::Outbound) => "you wrote to them",
            Some(Direction::Inbound) => "they wrote to you",
            None => "an interaction",
        };
        self.done(
            format!(
                "Your {which} {} {} was on {} ({direction}): {cited}.",
                flow_words(flow),
                person.link(),
                message.at.format("%Y-%m-%d")
            ),
            AnswerValue::Date(message.at),
        )
    }

    async fn count(&mut self, name: &str, flow: Flow, period: Option<Period>) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("message_counts");
        let (sent, received) = self
            .scope
            .ask()
            .exchange_counts(&person.contact_ids, period)
            .await?;
        let (n, words) = match flow {
            Flow::Both => (
                sent + received,
                format!(
                    "emails with {} ({sent} sent, {received} received)",
                    person.link()
                ),
            ),
            Flow::Sent => (sent, format!("emails sent to {}", person.link())),
            Flow::Received => (received, format!("emails received from {}", person.link())),
        };
        self.done(
            format!("{n} {words} {}.", period_words(period, "in total")),
            AnswerValue::Number(n),
        )
    }

    async fn who_is(&mut self, name: &str) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("contact_details");
        let details = self
            .scope
            .ask()
            .contact_details(person.contact_ids[0])
            .await?;
        let c = &details.contact;
        let role = match (&c.title, &c.company) {
            (Some(t), Some(co)) => format!(", {t} at {co}"),
            (Some(t), None) => format!(", {t}"),
            (None, Some(co)) => format!(", at {co}"),
            (None, None) => String::new(),
        };
        let last = c
            .last_interaction_at
            .map(|at| format!(" Last interaction: {}.", at.format("%Y-%m-%d")))
            .unwrap_or_default();
        self.done(
            format!(
                "{}{role} ({}). {} emails ({} sent, {} received).{last}",
                person.link(),
                person.emails.join(", "),
                details.sent_count + details.received_count,
                details.sent_count,
                details.received_count,
            ),
            AnswerValue::People(vec![person]),
        )
    }

    async fn field(&mut self, name: &str, field: Field) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut values: Vec<String> = Vec::new();
        for id in &person.contact_ids {
            self.called("contact_details");
            let d = self.scope.ask().contact_details(*id).await?;
            let found: Vec<String> = match field {
                Field::Phone => d.phones,
                Field::Email => d.contact.emails,
                Field::Title => d.contact.title.into_iter().collect(),
                Field::Employer => d.contact.company.into_iter().collect(),
            };
            for v in found {
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        let what = match field {
            Field::Phone => "phone number",
            Field::Email => "email address",
            Field::Title => "title",
            Field::Employer => "company",
        };
        if values.is_empty() {
            return Ok(Err(format!(
                "I don't know {}'s {what}: it is in none of their emails' signatures or their profile.",
                person.link()
            )));
        }
        self.done(
            format!("{}'s {what}: {}.", person.link(), values.join(", ")),
            AnswerValue::Facts(values),
        )
    }

    async fn people_at(&mut self, text: &str, count: bool) -> Outcome {
        let company = match self.company(text).await? {
            Ok(c) => c,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("search_contacts");
        let filter = ContactFilter {
            company: Some(company.id),
            ..ContactFilter::default()
        };
        let hits = self
            .scope
            .ask()
            .find_contacts(&filter, Limit::parse(50)?)
            .await?;
        let people = people_of(&hits);
        let label = company_label(&company);
        if count {
            return self.done(
                format!(
                    "You know {} people at {label}: {}",
                    people.len(),
                    listed(&people)
                ),
                AnswerValue::Number(people.len() as i64),
            );
        }
        self.done(
            format!("{} people at {label}: {}", people.len(), listed(&people)),
            AnswerValue::People(people),
        )
    }

    /// People whose every contact (one per address) was last in touch before `before`:
    /// mail to a new address keeps a person in touch.
    async fn dormant(&mut self, before: DateTime<Utc>, now: DateTime<Utc>) -> Outcome {
        self.called("search_contacts");
        let everyone = self.directory().await?;
        let people: Vec<Person> = people_of(everyone)
            .into_iter()
            .filter(|p| {
                let last = everyone
                    .iter()
                    .filter(|c| p.contact_ids.contains(&c.id))
                    .filter_map(|c| c.last_interaction_at)
                    .max();
                last.is_some_and(|at| at < before)
            })
            .collect();
        let days = (now - before).num_days();
        let text = if people.is_empty() {
            format!("You have been in touch with everyone in the last {days} days.")
        } else {
            format!(
                "{} people you haven't been in touch with in {days} days (most emails first): {}",
                people.len(),
                listed(&people)
            )
        };
        self.done(text, AnswerValue::People(people))
    }

    async fn summary(&mut self, name: &str, now: DateTime<Utc>) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("contact_details");
        let d = self
            .scope
            .ask()
            .contact_details(person.contact_ids[0])
            .await?;
        self.called("timeline");
        let recent = self
            .scope
            .ask()
            .activity_timeline(&person.contact_ids, None, None, false, Limit::parse(5)?)
            .await?;
        let text = super::relationship::summary_text(&person, &d, &recent, now);
        self.done(text, AnswerValue::People(vec![person]))
    }

    async fn posts(&mut self, name: &str) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut posts = Vec::new();
        for id in &person.contact_ids {
            self.called("recent_posts");
            posts.extend(
                self.scope
                    .contacts()
                    .recent_posts(*id, super::posts::POSTS)
                    .await?,
            );
        }
        posts.sort_by_key(|p| std::cmp::Reverse(p.posted_at));
        posts.truncate(super::posts::POSTS as usize);
        let (text, facts) = super::posts::posts_text(&person.link(), &posts);
        self.done(text, AnswerValue::Facts(facts))
    }

    async fn timeline(&mut self, name: &str, period: Option<Period>) -> Outcome {
        let person = match self.person(name).await? {
            Ok(p) => p,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.called("timeline");
        let messages = self
            .scope
            .ask()
            .activity_timeline(
                &person.contact_ids,
                period,
                None,
                false,
                Limit::parse(LISTED as i64)?,
            )
            .await?;
        let header = format!(
            "Latest messages with {} {}",
            person.link(),
            period_words(period, "")
        );
        self.done(
            message_list(header.trim_end(), &messages),
            AnswerValue::Messages(messages),
        )
    }

    async fn search(
        &mut self,
        text: &str,
        person: Option<String>,
        period: Option<Period>,
    ) -> Outcome {
        let who = match person {
            Some(name) => match self.person(&name).await? {
                Ok(p) => Some(p),
                Err(refusal) => return Ok(Err(refusal)),
            },
            None => None,
        };
        self.called("search_messages");
        let filter = MessageFilter {
            text: Some(text.to_owned()),
            contacts: who
                .as_ref()
                .map(|p| p.contact_ids.clone())
                .unwrap_or_default(),
            period,
            ..MessageFilter::default()
        };
        let messages = self
            .scope
            .ask()
            .search_messages(&filter, Limit::parse(LISTED as i64)?)
            .await?;
        let header = format!("Messages mentioning “{text}”");
        self.done(
            message_list(&header, &messages),
            AnswerValue::Messages(messages),
        )
    }

    async fn top_companies(&mut self, limit: i64) -> Outcome {
        self.called("companies");
        let rows = self
            .scope
            .ask()
            .companies(None, Limit::parse(limit.clamp(1, 50))?)
            .await?;
        let lines: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "{}. {} — {} emails with {} contact(s)",
                    i + 1,
                    link(&company_label(c), &format!("/companies/{}", c.id)),
                    c.emails,
                    c.contacts
                )
            })
            .collect();
        self.done(
            format!("Companies by emails exchanged:\n{}", lines.join("\n")),
            AnswerValue::Companies(rows),
        )
    }

    async fn count_contacts(&mut self) -> Outcome {
        self.called("search_contacts");
        let total = self.scope.contacts().count().await?;
        self.done(
            format!("You have {total} contacts."),
            AnswerValue::Number(total),
        )
    }
}

/// Messages a "first"/"last" question scans for one of the right direction.
const MAX_SCAN: i64 = 50;

/// People ranked by `metric`, same-name contacts summed: (person, sent, received, strength).
fn ranked_people(rows: &[ContactCount], metric: Metric) -> Vec<(Person, i64, i64, i16)> {
    let hits: Vec<ContactHit> = rows.iter().map(|r| r.contact.clone()).collect();
    let mut ranked: Vec<(Person, i64, i64, i16)> = people_of(&hits)
        .into_iter()
        .map(|p| {
            let mine = rows
                .iter()
                .filter(|r| p.contact_ids.contains(&r.contact.id));
            let (sent, received, strength) = mine.fold((0, 0, 0), |(s, r, st), row| {
                (s + row.sent, r + row.received, st.max(row.contact.strength))
            });
            (p, sent, received, strength)
        })
        .collect();
    ranked.sort_by(|a, b| {
        let value = |r: &(Person, i64, i64, i16)| match metric {
            Metric::Emails => r.1 + r.2,
            Metric::Sent => r.1,
            Metric::Received => r.2,
            Metric::Strength => i64::from(r.3),
        };
        value(b)
            .cmp(&value(a))
            .then_with(|| a.0.label().to_lowercase().cmp(&b.0.label().to_lowercase()))
    });
    ranked
}

fn company_label(c: &CompanyRow) -> String {
    match &c.name {
        Some(name) => format!("{name} ({})", c.domain),
        None => c.domain.clone(),
    }
}

fn listed(people: &[Person]) -> String {
    let mut names: Vec<String> = people.iter().take(LISTED).map(Person::link).collect();
    if people.len() > LISTED {
        names.push(format!("and {} more", people.len() - LISTED));
    }
    names.join(", ")
}

fn message_list(header: &str, messages: &[MessageRef]) -> String {
    if messages.is_empty() {
        return format!("{header}: none.");
    }
    let lines: Vec<String> = messages
        .iter()
        .map(|m| {
            let subject = m.subject.as_deref().unwrap_or("(no subject)");
            let arrow = match m.direction {
                Some(Direction::Outbound) => "→",
                Some(Direction::Inbound) => "←",
                None => "·",
            };
            let cited = message_href(m)
                .map(|href| link(subject, &href))
                .unwrap_or_else(|| subject.to_owned());
            format!("• {} {arrow} {cited}", m.at.format("%Y-%m-%d"))
        })
        .collect();
    format!("{header}:\n{}", lines.join("\n"))
}

fn flow_words(flow: Flow) -> &'static str {
    match flow {
        Flow::Both => "interaction with",
        Flow::Sent => "email to",
        Flow::Received => "email from",
    }
}

/// "from 2025-04-01 to 2025-06-30", or `otherwise` for no period.
fn period_words(period: Option<Period>, otherwise: &str) -> String {
    match period {
        Some(p) => format!(
            "from {} to {}",
            p.from.format("%Y-%m-%d"),
            (p.to - chrono::Duration::seconds(1)).format("%Y-%m-%d")
        ),
        None => otherwise.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: &str, email: &str) -> ContactHit {
        ContactHit::bare(Some(name), email)
    }

    #[test]
    fn refusals_say_what_was_understood_and_offer_questions_with_names() {
        let people = people_of(&[
            hit("Dana Ito", "dana@acme.com"),
            hit("Dana Whitfield", "dw@x.com"),
        ]);
        let asked = Intent::LastInteraction {
            person: "dana".into(),
            flow: Flow::Both,
        };
        let text = several("dana", &people, Some(&asked));
        assert!(text.contains("Several people match “dana”"), "{text}");
        assert!(
            text.contains("• When did I last talk to Dana Ito?"),
            "{text}"
        );
        assert!(
            text.contains("• When did I last talk to Dana Whitfield?"),
            "{text}"
        );
        let asked = Intent::ContactField {
            person: "dana ito".into(),
            field: Field::Phone,
        };
        let text = nobody("dana itoh", &people[..1], Some(&asked));
        assert!(
            text.starts_with("I read this as “What's Dana Ito's phone number?”"),
            "{text}"
        );
        assert!(
            text.contains("Did you mean:\n• What's Dana Ito's phone number?"),
            "{text}"
        );
        let text = nobody("zed", &[], None);
        assert_eq!(
            text,
            "I couldn't find anyone called “zed” in your contacts."
        );
    }

    #[test]
    fn not_understood_names_the_person_and_period_found() {
        let dana = people_of(&[hit("Dana Ito", "dana@acme.com")]).remove(0);
        let march = Period::new(
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 3, 1, 0, 0, 0).unwrap(),
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 4, 1, 0, 0, 0).unwrap(),
        );
        let text = about_person(&dana, march);
        assert!(text.contains("[Dana Ito](/contacts/"), "{text}");
        assert!(text.contains("from 2025-03-01 to 2025-03-31"), "{text}");
        assert!(
            text.contains(
                "• How many emails did I exchange with Dana Ito between 2025-03-01 and 2025-03-31?"
            ),
            "{text}"
        );
    }
}
