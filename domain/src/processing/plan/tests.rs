use chrono::TimeZone;
use serde_json::json;

use super::*;

fn participant(role: &str, address: &str, name: Option<&str>) -> ParticipantFacts {
    ParticipantFacts {
        role: role.parse().unwrap(),
        address_kind: AddressKind::Email,
        address: address.to_owned(),
        display_name: name.map(str::to_owned),
    }
}

fn facts(
    direction: &str,
    headers: serde_json::Value,
    body: &str,
    people: Vec<ParticipantFacts>,
) -> ActivityFacts {
    ActivityFacts {
        id: Uuid::nil(),
        direction: Some(direction.parse().unwrap()),
        occurred_at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
        headers,
        body_text: Some(body.to_owned()),
        participants: people,
    }
}

fn owner() -> Owner {
    Owner::new([
        "me@mycorp.co.uk".to_owned(),
        "ME.alias@gmail.com".to_owned(),
    ])
}

#[test]
fn owner_is_never_planned_and_owner_domain_is_no_company() {
    let plan = plan_activity(
        &facts(
            "outbound",
            json!({}),
            "Hi",
            vec![
                participant("from", "me@mycorp.co.uk", Some("Me")),
                participant("to", "Colleague@mail.mycorp.co.uk", Some("Kim Lee")),
                participant("cc", "me.alias@gmail.com", None),
                participant("to", "jo@gmail.com", Some("Doe, Jo")),
            ],
        ),
        &owner(),
    );
    let addresses: Vec<&str> = plan.people.iter().map(|p| p.address.as_str()).collect();
    assert_eq!(addresses, ["colleague@mail.mycorp.co.uk", "jo@gmail.com"]);
    assert!(plan.people.iter().all(|p| p.owner_wrote_here));
    assert!(plan.people.iter().all(|p| p.company_domain.is_none()));
    assert_eq!(plan.people[1].name.as_ref().unwrap().as_str(), "Jo Doe");
    assert_eq!(owner().default_region, "GB");
}

#[test]
fn machines_groups_and_bulk_mail_never_create() {
    let plan = plan_activity(
        &facts(
            "inbound",
            json!({"list_unsubscribe": ["<mailto:u@news.acme.com>"]}),
            "Our news",
            vec![
                participant("from", "jane@acme.com", Some("Jane Roe")),
                participant("to", "me@mycorp.co.uk", None),
            ],
        ),
        &owner(),
    );
    assert_eq!(plan.people[0].creatable, Err(NotAPerson::BulkMail));
    assert!(plan.bulk.is_some());

    let plan = plan_activity(
        &facts(
            "inbound",
            json!({"list_id": null, "precedence": null}),
            "Hello",
            vec![
                participant("from", "no-reply@acme.com", None),
                participant("cc", "support@acme.com", None),
                participant("cc", "ann@acme.com", Some("Ann Berg")),
            ],
        ),
        &owner(),
    );
    let creatable: Vec<_> = plan
        .people
        .iter()
        .map(|p| (p.address.as_str(), p.creatable))
        .collect();
    assert_eq!(
        creatable,
        [
            ("ann@acme.com", Ok(())),
            ("no-reply@acme.com", Err(NotAPerson::Automated)),
            ("support@acme.com", Err(NotAPerson::Group)),
        ]
    );
    assert!(plan.bulk.is_none());
    assert!(plan.people.iter().all(|p| !p.owner_wrote_here));
}

#[test]
fn inbound_sender_signature_becomes_fields_in_stored_forms() {
    let body = "Hi,\n\nSee you Tuesday.\n\nBest regards,\nJane Roe\nHead of Partnerships\nAcme Widgets Ltd\nTel: 020 7946 0958\nlinkedin.com/in/janeroe/\nTwitter: @janeroe\nwww.acme.co.uk\n\nOn Mon, 3 Mar 2025, Me <me@mycorp.co.uk> wrote:\n> Bob Quoted\n> CEO\n> +1 415 555 0100\n";
    let plan = plan_activity(
        &facts(
            "inbound",
            json!({}),
            body,
            vec![
                participant("from", "jane@mail.acme.co.uk", Some("Jane Roe")),
                participant("to", "me@mycorp.co.uk", None),
            ],
        ),
        &owner(),
    );
    let jane = &plan.people[0];
    assert_eq!(jane.company_domain.as_ref().unwrap().as_str(), "acme.co.uk");
    let sig = jane.signature.as_ref().expect("signature");
    assert_eq!(sig.title.as_deref(), Some("Head of Partnerships"));
    assert_eq!(sig.company.as_deref(), Some("Acme Widgets Ltd"));
    assert_eq!(sig.phones, ["+442079460958"]);
    assert_eq!(
        sig.linkedin.as_deref(),
        Some("https://www.linkedin.com/in/janeroe")
    );
    assert_eq!(sig.twitter.as_deref(), Some("https://x.com/janeroe"));
    assert_eq!(sig.website.as_deref(), Some("https://www.acme.co.uk"));
}

#[test]
fn outbound_mail_has_no_signature_facts_about_recipients() {
    let body = "Thanks!\n\nMe\nDirector\nMy Corp Ltd\n+44 20 7946 0000\n";
    let plan = plan_activity(
        &facts(
            "outbound",
            json!({}),
            body,
            vec![
                participant("from", "me@mycorp.co.uk", None),
                participant("to", "jane@acme.com", None),
            ],
        ),
        &owner(),
    );
    assert_eq!(plan.people.len(), 1);
    assert_eq!(plan.people[0].signature, None);
    assert_eq!(plan.people[0].name, None, "a bare address invents no name");
}

#[test]
fn the_best_header_name_of_repeated_addresses_is_kept() {
    let plan = plan_activity(
        &facts(
            "inbound",
            json!({}),
            "",
            vec![
                participant("to", "jo@x.org", Some("Jo")),
                participant("cc", "jo@x.org", Some("Jo Smith via LinkedIn")),
            ],
        ),
        &owner(),
    );
    assert_eq!(plan.people.len(), 1);
    assert_eq!(plan.people[0].name.as_ref().unwrap().as_str(), "Jo Smith");
}

#[test]
fn a_new_address_notice_names_the_other_address() {
    let plan = plan_activity(
        &facts(
            "inbound",
            json!({}),
            "Hi,\n\nI'm leaving Acme on Friday. My new email is jr@newco.io.\n\nJane",
            vec![
                participant("from", "jane@acme.co.uk", Some("Jane Roe")),
                participant("to", "me@mycorp.co.uk", None),
            ],
        ),
        &owner(),
    );
    assert_eq!(
        plan.new_address,
        Some(NewAddress {
            sender: "jane@acme.co.uk".to_owned(),
            mentioned: Some("jr@newco.io".to_owned()),
        })
    );
}

#[test]
fn names_come_from_headers_quoted_attributions_and_spelled_addresses() {
    let plan = plan_activity(
        &facts(
            "outbound",
            json!({}),
            "Sounds good.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Anaïs Moreau <anais_moreau@everbright.fr> wrote:\n> Shall we meet?\n",
            vec![
                participant("from", "me@mycorp.co.uk", Some("Me")),
                participant("to", "anais_moreau@everbright.fr", None),
                participant("cc", "jordan.whitlock@acme.com", Some("jordan.whitlock")),
                participant("cc", "jw@acme.com", Some("JW")),
                participant("cc", "ap@acme.com", Some("Accounts Payable")),
            ],
        ),
        &owner(),
    );
    let named = |address: &str| {
        let p = plan.people.iter().find(|p| p.address == address).unwrap();
        (
            p.name.as_ref().map(|n| n.as_str().to_owned()),
            p.name_source,
        )
    };
    // The owner's client quoted her with the name her mail carried.
    assert_eq!(
        named("anais_moreau@everbright.fr"),
        (Some("Anaïs Moreau".to_owned()), NameSource::Header)
    );
    // A header name that only repeats the local part is the address's name.
    assert_eq!(
        named("jordan.whitlock@acme.com"),
        (Some("Jordan Whitlock".to_owned()), NameSource::Address)
    );
    assert_eq!(named("jw@acme.com").0, None);
    let whitlock = plan
        .people
        .iter()
        .find(|p| p.address == "jordan.whitlock@acme.com")
        .unwrap();
    assert_eq!(whitlock.written_name(), None, "no one wrote that name");
    // A role's display name makes the address a role mailbox, and names no one.
    let ap = plan
        .people
        .iter()
        .find(|p| p.address == "ap@acme.com")
        .unwrap();
    assert_eq!(ap.creatable, Err(NotAPerson::Group));
    assert_eq!(ap.name, None);
}
