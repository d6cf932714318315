use super::*;

fn hint<'a>(name: &'a str, email: &'a str) -> SenderHint<'a> {
    SenderHint {
        name: Some(name),
        email: Some(email),
        default_region: Some("US"),
    }
}

/// A sender known by neither name nor address (a quoted segment without headers).
fn anonymous() -> SenderHint<'static> {
    SenderHint {
        name: None,
        email: None,
        default_region: Some("US"),
    }
}

fn phones(s: &Signature) -> Vec<(&str, PhoneKind)> {
    s.phones
        .iter()
        .map(|p| (p.number.as_str(), p.kind))
        .collect()
}

#[test]
fn classic_us_signature_with_closing() {
    let text = "Hi Tom,\n\nAttached is the revised draft.\n\nBest regards,\n\nDana K. Whitfield\nSenior Counsel\nNorthwind Logistics, Inc.\n1200 Main Street, Suite 400\nDallas, TX 75201\nDirect: (214) 555-0147\nMobile: 469.555.0190\nFax: (214) 555-0100\ndana.whitfield@northwind.com\nwww.northwind.com\n";
    let s = extract_signature(
        text,
        &hint("Whitfield, Dana", "dana.whitfield@northwind.com"),
    )
    .unwrap();
    assert_eq!(s.name.as_ref().unwrap().value, "Dana K. Whitfield");
    assert_eq!(s.title.as_ref().unwrap().value, "Senior Counsel");
    assert_eq!(
        s.company.as_ref().unwrap().value,
        "Northwind Logistics, Inc."
    );
    assert_eq!(
        phones(&s),
        [
            ("+12145550147", PhoneKind::Phone),
            ("+14695550190", PhoneKind::Mobile),
            ("+12145550100", PhoneKind::Fax)
        ]
    );
    assert_eq!(s.emails[0].value, "dana.whitfield@northwind.com");
    assert_eq!(s.websites[0].value, "www.northwind.com");
    assert_eq!(s.name.as_ref().unwrap().line, 6);
}

#[test]
fn uk_signature_with_dash_delimiter_and_disclaimer() {
    let text = "Thanks, will review.\n\n-- \nOliver Grant | Head of Partnerships | Brightline Analytics Ltd\nT: +44 (0)20 7946 0321  M: 07911 123456\nlinkedin.com/in/olivergrant\n\nThis e-mail and any attachments are confidential and intended solely for the addressee. If you have received this in error please notify the sender.";
    let s = extract_signature(text, &hint("Oliver Grant", "oliver@brightline.co.uk")).unwrap();
    assert_eq!(s.name.as_ref().unwrap().value, "Oliver Grant");
    assert_eq!(s.title.as_ref().unwrap().value, "Head of Partnerships");
    assert_eq!(
        s.company.as_ref().unwrap().value,
        "Brightline Analytics Ltd"
    );
    assert_eq!(
        phones(&s),
        [
            ("+442079460321", PhoneKind::Phone),
            ("+447911123456", PhoneKind::Mobile)
        ]
    );
    assert_eq!(
        s.linkedin.as_ref().unwrap().value,
        "linkedin.com/in/olivergrant"
    );
}

#[test]
fn german_signature_uses_cctld_region() {
    let text = "Hallo Herr Meyer,\n\nanbei das Angebot.\n\nMit freundlichen Grüßen\nJürgen Müller\nGeschäftsführer\nMüller & Söhne GmbH\nTel. 089 1234567\nMobil/Handy: 0171 1234567\n";
    let s =
        extract_signature(text, &hint("Müller, Jürgen", "j.mueller@mueller-soehne.de")).unwrap();
    // Right under the closing the name signs the message off.
    assert_eq!(s.signed_as.as_ref().unwrap().value, "Jürgen Müller");
    assert_eq!(s.title.as_ref().unwrap().value, "Geschäftsführer");
    assert_eq!(s.company.as_ref().unwrap().value, "Müller & Söhne GmbH");
    assert_eq!(
        phones(&s),
        [
            ("+49891234567", PhoneKind::Phone),
            ("+491711234567", PhoneKind::Mobile)
        ]
    );
}

#[test]
fn french_indian_australian_brazilian_numbers() {
    let fr = "Merci.\n\nCordialement,\nÉlodie Lefèvre\nDirectrice commerciale, Exemple SAS\nTél : 01 42 68 53 00\n";
    let s = extract_signature(fr, &hint("Élodie Lefèvre", "elodie@exemple.fr")).unwrap();
    assert_eq!(phones(&s), [("+33142685300", PhoneKind::Phone)]);
    assert_eq!(
        s.company.as_ref().unwrap().value,
        "Directrice commerciale, Exemple SAS"
    );

    let inn = "Regards,\nPriya Raman\nAnalyst, Tata Finance Ltd\nMumbai, India\nM: 98200 12345\n";
    let s = extract_signature(inn, &hint("Priya Raman", "priya.raman@gmail.com")).unwrap();
    assert_eq!(phones(&s), [("+919820012345", PhoneKind::Mobile)]);

    let au = "Cheers,\nLiam Kelly\nSydney office\nPh: (02) 9374 4000\n";
    let s = extract_signature(au, &hint("Liam Kelly", "liam@outlook.com")).unwrap();
    assert_eq!(phones(&s), [("+61293744000", PhoneKind::Phone)]);

    let br = "Abraços,\nAna Souza\nGerente de Projetos\nCel: +55 11 98765-4321\n";
    let s = extract_signature(br, &hint("Ana Souza", "ana@empresa.com.br")).unwrap();
    assert_eq!(s.title.as_ref().unwrap().value, "Gerente de Projetos");
    assert_eq!(phones(&s), [("+5511987654321", PhoneKind::Mobile)]);
}

#[test]
fn multi_column_block_without_closing() {
    let text = "Please see the attached schedule.\n\nRoberta Diaz\nEnergy Trading Desk                Tel:   (713) 555-0172\nVice President                     Cell:  (713) 555-0199\n";
    let s = extract_signature(text, &hint("Diaz, Roberta", "roberta.diaz@enertek.com")).unwrap();
    assert_eq!(s.title.as_ref().unwrap().value, "Vice President");
    assert_eq!(
        phones(&s),
        [
            ("+17135550172", PhoneKind::Phone),
            ("+17135550199", PhoneKind::Mobile)
        ]
    );
}

#[test]
fn company_recognised_from_sender_domain() {
    let text = "Done.\n\nKaren Holt\nInitech Europe\nkaren.holt@initech.de\n";
    let s = extract_signature(text, &hint("Karen Holt", "karen.holt@initech.de")).unwrap();
    assert_eq!(s.company.as_ref().unwrap().value, "Initech Europe");
    assert_eq!(s.emails[0].value, "karen.holt@initech.de");
}

#[test]
fn sign_off_only_is_not_a_signature() {
    let text = "Sounds good, talk tomorrow.\n\nThanks,\nJane\n\nSent from my iPhone";
    assert_eq!(
        extract_signature(text, &hint("Jane Doe", "jane@acme.com")),
        None
    );
}

#[test]
fn no_signature_extracts_nothing() {
    let text = "Can you call the vendor about order #4412398711 before 12/05/2023? The total was $1,250,000.";
    assert_eq!(
        extract_signature(text, &hint("Jane Doe", "jane@acme.com")),
        None
    );
    assert_eq!(
        extract_signature("", &hint("Jane Doe", "jane@acme.com")),
        None
    );
}

#[test]
fn twitter_handle_and_pipe_separated_line() {
    let text = "Talk soon!\n\nBest,\nSam Ortiz\nFounder | Parcelly\nTwitter: @samortiz · https://parcelly.io\n";
    let s = extract_signature(text, &hint("Sam Ortiz", "sam@parcelly.io")).unwrap();
    assert_eq!(s.title.as_ref().unwrap().value, "Founder");
    assert_eq!(s.company.as_ref().unwrap().value, "Parcelly");
    assert_eq!(s.twitter.as_ref().unwrap().value, "@samortiz");
    assert_eq!(s.websites[0].value, "https://parcelly.io");
}

#[test]
fn bare_address_senders_get_their_signature_name_when_the_address_spells_it() {
    let hint = SenderHint {
        name: None,
        email: Some("sofia.mueller@hotmail.com"),
        default_region: Some("DE"),
    };
    let sig = extract_signature(
        "Danke!\n\nSofia Müller\nProduct Designer\n+49 30 901820\n",
        &hint,
    )
    .expect("signature");
    assert_eq!(sig.name.unwrap().value, "Sofia Müller");
    let initial = SenderHint {
        name: None,
        email: Some("mdvorak@silverpine-legal.de"),
        default_region: Some("DE"),
    };
    let sig = extract_signature("Best,\nMalik Dvořák\nPartner\n+49 30 901820\n", &initial)
        .expect("signature");
    assert_eq!(sig.writer_name().unwrap().value, "Malik Dvořák");
    let stranger = SenderHint {
        name: None,
        email: Some("ops@acme.com"),
        default_region: Some("US"),
    };
    let sig = extract_signature("Best,\nMalik Dvořák\nPartner\n+1 415 555 0100\n", &stranger);
    assert!(sig.is_none_or(|s| s.writer_name().is_none()));
}

#[test]
fn lone_handles_and_bare_hosts_in_a_signature() {
    let hint = SenderHint {
        name: Some("Monica Harrington"),
        email: Some("monica.harrington@gmail.com"),
        default_region: Some("US"),
    };
    let sig = extract_signature(
        "See you.\n\nMonica Harrington\nIllustrator\nmonicaharrington.design\n@monica_h\n",
        &hint,
    )
    .expect("signature");
    assert_eq!(sig.websites[0].value, "monicaharrington.design");
    assert_eq!(sig.twitter.unwrap().value, "@monica_h");
}

#[test]
fn a_title_ending_in_a_role_is_a_title_even_with_a_company_word() {
    let sig = extract_signature(
        "Thanks,\nBeatrix Nunez\nSolutions Architect\nUmberfield Foods Inc.\n+1 415 555 0100\n",
        &hint("Beatrix Nunez", "beatrix.nunez@umberfield-foods.io"),
    )
    .expect("signature");
    assert_eq!(sig.title.unwrap().value, "Solutions Architect");
    assert_eq!(sig.company.unwrap().value, "Umberfield Foods Inc.");
}

#[test]
fn a_name_in_the_closing_signs_the_message_off_and_a_block_name_heads_a_title() {
    let h = hint("Susan Bailey", "susan.bailey@globex.com");
    let right_under = extract_signature(
        "Please advise.\n\nCordially,\nSusan S. Bailey\nGlobex Corp.\n1400 Smith Street\nPhone: (713) 555-4737\n",
        &h,
    )
    .expect("signature");
    assert_eq!(right_under.name, None);
    assert_eq!(right_under.writer_name().unwrap().value, "Susan S. Bailey");
    assert_eq!(right_under.company.as_ref().unwrap().value, "Globex Corp.");
    let numbers_below = extract_signature(
        "Let me know.\n\nThanks,\n\nSusan Bailey\n713-555-7667\nBuilding 3886\n",
        &h,
    )
    .expect("signature");
    assert_eq!(numbers_below.name, None);
    assert_eq!(
        numbers_below.signed_as.as_ref().unwrap().value,
        "Susan Bailey"
    );
    let block = extract_signature(
        "Let me know.\n\nThanks,\n\nSusan Bailey\nSenior Counsel\nGlobex Corp.\n713-555-7667\n",
        &h,
    )
    .expect("signature");
    assert_eq!(block.name.as_ref().unwrap().value, "Susan Bailey");
    assert_eq!(block.signed_as, None);
}

#[test]
fn a_title_and_company_on_one_line_are_split_but_credentials_stay() {
    let sig = extract_signature(
        "FYI\n\nMark\nSenior Counsel, EWS\nPhone:     713-555-8897\n",
        &hint("Mark Greenberg", "mark.greenberg@enron.com"),
    )
    .expect("signature");
    assert_eq!(sig.title.as_ref().unwrap().value, "Senior Counsel");
    assert_eq!(sig.company.as_ref().unwrap().value, "EWS");
    assert_eq!(split_title_company("Analyst, CFA", None), None);
    assert_eq!(split_title_company("Vice President, CFO", None), None);
    assert_eq!(
        split_title_company("CEO, FairAir", None),
        Some(["CEO".to_string(), "FairAir".to_string()])
    );
}

#[test]
fn the_block_under_a_delimiter_above_a_pasted_article() {
    let article = "Calif Gov To Make Energy Announcement\n\nLOS ANGELES (Dow Jones)--In a highly unusual move, the governor\nrequested radio and television stations in the state to clear five\nminutes of time Thursday evening so he can make an announcement.\n";
    let text = format!(
        "We'll keep you posted.\n\nThanks,\nJean\n\n\n-- \nJean Munoz\nMcNally Temple Associates, Inc.\n916-555-8186\n916-555-6326 (fx)\n\n\n\n{article}"
    );
    let sig = extract_signature(&text, &hint("Jean Munoz", "jmunoz@mcnallytemple.com"))
        .expect("signature");
    assert_eq!(sig.name.as_ref().unwrap().value, "Jean Munoz");
    assert_eq!(
        sig.company.as_ref().unwrap().value,
        "McNally Temple Associates, Inc."
    );
    assert_eq!(
        phones(&sig),
        [
            ("+19165558186", PhoneKind::Phone),
            ("+19165556326", PhoneKind::Fax)
        ]
    );
}

#[test]
fn name_and_title_paragraphs_above_the_numbers_belong_to_the_block() {
    let text = "Contact me at the numbers below.\n\nJ\n\nJoseph S. Fichera\nSenior Managing Director & CEO\nSaber Partners, LLC\n\nTel: 916-555-3628\nCel: 917-555-0619\n\n - Action Items\n";
    let sig = extract_signature(text, &anonymous()).expect("signature");
    assert_eq!(
        sig.title.as_ref().unwrap().value,
        "Senior Managing Director & CEO"
    );
    assert_eq!(sig.company.as_ref().unwrap().value, "Saber Partners, LLC");
    assert_eq!(
        phones(&sig),
        [
            ("+19165553628", PhoneKind::Phone),
            ("+19175550619", PhoneKind::Mobile)
        ]
    );
}

#[test]
fn a_ruled_off_slogan_and_webmail_ads_are_not_the_signature() {
    let text = "Buy tickets!\n\n****************\nFrank Levy\nCEO, FairAir\n415-555-4942 cell\nfranklevy@fairair.com\n****************\nFairAir is the world's only airline ticket exchange - buy a\nticket at FairAir and sell it if your plans change.\nVisit us today at <http://www.fairair.com/>\n****************\n";
    let sig = extract_signature(text, &anonymous()).expect("signature");
    assert_eq!(sig.title.as_ref().unwrap().value, "CEO");
    assert_eq!(sig.company.as_ref().unwrap().value, "FairAir");
    assert_eq!(phones(&sig), [("+14155554942", PhoneKind::Mobile)]);
    let yahoo = "See you there.\n\nAnne Lee\n713-555-0142\nanne.lee@yahoo.com\n\n__________________________________________________\nDo You Yahoo!?\nSend FREE video emails in Yahoo! Mail!\nhttp://promo.yahoo.com/videomail/\n";
    let sig = extract_signature(yahoo, &hint("Anne Lee", "anne.lee@yahoo.com")).expect("signature");
    assert!(sig.websites.is_empty(), "{:?}", sig.websites);
    assert_eq!(phones(&sig), [("+17135550142", PhoneKind::Phone)]);
}

#[test]
fn attached_files_and_sentences_are_never_name_title_or_company() {
    let sig = extract_signature(
        "See attached.\n\nSteve Howarth\nName: nonsolicit language.doc\nPlease click on the link below to indicate you have received this\n415-555-0100\n",
        &hint("Steve Howarth", "steve.howarth@bea.com"),
    )
    .expect("signature");
    for field in [&sig.title, &sig.company] {
        assert_eq!(*field, None);
    }
    assert_eq!(sig.writer_name().unwrap().value, "Steve Howarth");
}

#[test]
fn a_department_line_is_the_title_when_the_block_has_a_company_but_no_title() {
    let sig = extract_signature(
        "Please call with questions.\n\nKimberly A. Dautenhahn\nTransaction Management\nLehman Brothers\n(646) 555-2011\n",
        &hint("Kimberly Dautenhahn", "kdautenh@lehman.com"),
    )
    .expect("signature");
    assert_eq!(sig.title.as_ref().unwrap().value, "Transaction Management");
    assert_eq!(sig.company.as_ref().unwrap().value, "Lehman Brothers");
    let below = extract_signature(
        "Please advise.\n\nDeb Korkmas\nGlobex North America Corp.\nGNA Legal Dept.\n1400 Smith Street, Room 3819\n(713) 555-5448\n",
        &hint("Deb Korkmas", "deb.korkmas@globex.com"),
    )
    .expect("signature");
    assert_eq!(below.title.as_ref().unwrap().value, "GNA Legal Dept.");
    assert_eq!(
        below.company.as_ref().unwrap().value,
        "Globex North America Corp."
    );
}

#[test]
fn a_title_over_two_lines_is_one_title() {
    let sig = extract_signature(
        "Details to follow.\n\nThanks,\n\nTina Spiller\nAssistant to Greg Piper\nPresident & CEO\nGlobex Net Works LLC\nPhone 713.555.5746\n",
        &hint("Tina Spiller", "tina.spiller@globex.com"),
    )
    .expect("signature");
    assert_eq!(sig.name.as_ref().unwrap().value, "Tina Spiller");
    assert_eq!(
        sig.title.as_ref().unwrap().value,
        "Assistant to Greg Piper, President & CEO"
    );
    assert_eq!(sig.company.as_ref().unwrap().value, "Globex Net Works LLC");
}

#[test]
fn units_are_titles_and_named_firms_are_companies() {
    // A unit's name alone is what the person does; the employer is the mail domain's.
    let unit = extract_signature(
        "Just wanted to let you know.\n\nKate Symes\nTrading Support\n503-555-3488\n",
        &hint("Kate Symes", "kate.symes@globex.com"),
    )
    .expect("signature");
    assert_eq!(unit.title.as_ref().unwrap().value, "Trading Support");
    assert_eq!(unit.company, None);
    // A line with no title word, and no company found, is the company.
    let firm = extract_signature(
        "Best regards,\n\nYair Yaish\nMerrill Lynch (OGC)\n212-555-2456\nyyaish@exchange.ml.com\n",
        &hint("Yair Yaish", "yyaish@exchange.ml.com"),
    )
    .expect("signature");
    assert_eq!(firm.title, None);
    assert_eq!(firm.company.as_ref().unwrap().value, "Merrill Lynch (OGC)");
    // Of two company-like lines, the one with a legal form is the company.
    let bank = extract_signature(
        "Regards\n\nLauri Marttila\nMerita Bank Plc\nDebt Capital Markets\ntel. +358 9 555 1234\n",
        &hint("Marttila Lauri", "lauri.marttila@nordea.com"),
    )
    .expect("signature");
    assert_eq!(bank.company.as_ref().unwrap().value, "Merita Bank Plc");
    assert_eq!(bank.title.as_ref().unwrap().value, "Debt Capital Markets");
}

#[test]
fn a_dash_line_delimits_the_block_below_the_sign_off() {
    let h = hint("Camille Osei", "camille@eu.brightfield.com.au");
    let text = "Let me know what you think.\n\nCheers,\nCamille\n\n\u{2014}\nCamille Osei | Brightfield Software Pty Ltd\n+61 7 5550 5938 | Mob: 0491 570 006\nhttps://www.brightfield.com.au\n";
    let sig = extract_signature(text, &h).expect("signature");
    assert_eq!(sig.name.as_ref().unwrap().value, "Camille Osei");
    assert_eq!(sig.title, None, "the sender's own name is no department");
    assert_eq!(
        sig.company.as_ref().unwrap().value,
        "Brightfield Software Pty Ltd"
    );
}

#[test]
fn national_numbers_read_in_the_country_the_signature_points_to() {
    // A British company on a .com domain: its legal form says where "020" is.
    let text = "Thanks,\nJo\n\nJo Bright\nAccount Executive\nLanternfield Robotics Ltd\nT: 020 7946 0307\n";
    let s = extract_signature(text, &hint("Jo Bright", "jo@lanternfield.com")).unwrap();
    assert_eq!(phones(&s), [("+442079460307", PhoneKind::Phone)]);

    // Free mail, no company: the number written with +44 says where the other is.
    let text = "Cheers,\nRowan\n\nRowan Pike\nIndependent Consultant\n020 7946 0779\nMob: +44 7700 900348\n";
    let s = extract_signature(text, &hint("Rowan Pike", "rowan_pike@hotmail.com")).unwrap();
    assert_eq!(
        phones(&s),
        [
            ("+442079460779", PhoneKind::Phone),
            ("+447700900348", PhoneKind::Mobile)
        ]
    );

    // Nothing points elsewhere: the user's own region, as before.
    let text = "Best,\nSam\n\nSam Rivers\nDesign Lead\nT: (415) 555-0107\n";
    let s = extract_signature(text, &hint("Sam Rivers", "sam@rivers.com")).unwrap();
    assert_eq!(phones(&s), [("+14155550107", PhoneKind::Phone)]);
}
