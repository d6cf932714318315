//! Demo mode's simulated sales model, served by [`FakeOpenAi::responding`]: it reads the
//! agent's request (the catalog and the conversation given as data, and any tool result)
//! and answers as a careful model would, by rules: in the customer's language (English,
//! Spanish or French), with the catalog's prices and stock, `create_order` once the
//! customer named a product and gave their name, phone and address, `handoff` when they
//! ask for a person or complain. Nothing is sent to a real model.
//!
//! [`FakeOpenAi::responding`]: crate::openai::FakeOpenAi::responding

use serde_json::{Value, json};

use crate::openai::Reply;

/// The model name the demo's agent turns are logged with.
pub const MODEL: &str = "demo-sales-agent (simulated by the fake OpenAI)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Es,
    Fr,
}

/// Marker words of each language; the language with most of them in the text wins.
const MARKERS: [(Lang, &[&str]); 2] = [
    (
        Lang::Es,
        &[
            "hola",
            "quiero",
            "gracias",
            "¿",
            "¡",
            "precio",
            "cuánto",
            "cuanto",
            "dirección",
            "teléfono",
            "nombre",
            "comprar",
            "por favor",
            "tienen",
            "tienes",
            "sí",
            "para",
        ],
    ),
    (
        Lang::Fr,
        &[
            "bonjour",
            "je ",
            "voudrais",
            "merci",
            "prix",
            "combien",
            "adresse",
            "téléphone",
            "nom:",
            "commander",
            "s'il",
            "avez-vous",
            "oui",
            "vous",
            "pour",
        ],
    ),
];

fn language(text: &str) -> Lang {
    let text = text.to_lowercase();
    MARKERS
        .iter()
        .map(|(lang, words)| (*lang, words.iter().filter(|w| text.contains(*w)).count()))
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(Lang::En, |(lang, _)| lang)
}

const HANDOFF_WORDS: &[&str] = &[
    "human",
    "a person",
    "manager",
    "complaint",
    "broken",
    "refund",
    "humano",
    "una persona",
    "queja",
    "roto",
    "reembolso",
    "humain",
    "quelqu'un",
    "réclamation",
    "cassé",
    "remboursement",
];

/// The labels of the details an order needs, in the three languages.
const NAME_LABELS: &[&str] = &["name:", "nombre:", "nom:"];
const PHONE_LABELS: &[&str] = &["phone:", "teléfono:", "telefono:", "téléphone:", "tel:"];
const ADDRESS_LABELS: &[&str] = &["address:", "dirección:", "direccion:", "adresse:"];

/// Answers one chat completion request of the agent.
pub fn respond(request: &Value) -> Reply {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let context = messages
        .get(1)
        .and_then(|m| m["content"].as_str())
        .and_then(|c| c.find('{').map(|i| &c[i..]))
        .and_then(|json| serde_json::from_str::<Value>(json).ok())
        .unwrap_or(Value::Null);
    let burst = customer_burst(&context);
    let lang = language(&burst);
    if let Some(last) = messages.last().filter(|m| m["role"] == "tool") {
        return after_tool(last, &messages, lang);
    }
    let lower = burst.to_lowercase();
    if HANDOFF_WORDS.iter().any(|w| lower.contains(w)) {
        return Reply::tool_call(
            "call_demo_handoff",
            "handoff",
            json!({"reason": "the customer asked for a person or complained",
                   "category": "human_requested"}),
        );
    }
    let catalog = context["catalog"].as_array().cloned().unwrap_or_default();
    let product = product_in(&burst, &catalog).or_else(|| {
        earlier_customer_texts(&context)
            .iter()
            .find_map(|t| product_in(t, &catalog))
    });
    let Some(product) = product else {
        return text(&greeting(lang, &catalog));
    };
    let (name, phone, address) = (
        labelled(&burst, NAME_LABELS),
        labelled(&burst, PHONE_LABELS),
        labelled(&burst, ADDRESS_LABELS),
    );
    match (name, phone, address) {
        (Some(name), Some(phone), Some(address)) => Reply::tool_call(
            "call_demo_order",
            "create_order",
            json!({"product_id": product["product_id"], "quantity": quantity(&burst),
                   "customer_name": name, "phone": phone, "address": address}),
        ),
        _ => text(&product_info(lang, &product)),
    }
}

fn text(answer: &str) -> Reply {
    // Streamed in two pieces, as a model's deltas arrive.
    let middle = answer
        .char_indices()
        .nth(answer.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    Reply::Text(vec![
        answer[..middle].to_owned(),
        answer[middle..].to_owned(),
    ])
}

/// The customer's messages since the last answer (the burst a turn answers), joined.
fn customer_burst(context: &Value) -> String {
    let conversation = context["conversation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut burst: Vec<&str> = conversation
        .iter()
        .rev()
        .take_while(|m| m["from"] == "customer")
        .filter_map(|m| m["text"].as_str())
        .collect();
    burst.reverse();
    burst.join("\n")
}

/// Earlier customer messages, newest first.
fn earlier_customer_texts(context: &Value) -> Vec<String> {
    context["conversation"]
        .as_array()
        .map(|c| {
            c.iter()
                .rev()
                .filter(|m| m["from"] == "customer")
                .filter_map(|m| m["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The catalog product the text names: its whole name, or failing that a distinctive
/// word of it (five letters or more).
fn product_in(text: &str, catalog: &[Value]) -> Option<Value> {
    let lower = text.to_lowercase();
    let name = |p: &Value| p["name"].as_str().unwrap_or_default().to_lowercase();
    catalog
        .iter()
        .find(|p| lower.contains(&name(p)))
        .or_else(|| {
            catalog.iter().find(|p| {
                name(p)
                    .split_whitespace()
                    .any(|w| w.chars().count() >= 5 && lower.contains(w))
            })
        })
        .cloned()
}

/// The value after one of `labels`, up to the next label or the end of the line.
fn labelled(text: &str, labels: &[&str]) -> Option<String> {
    let lower = text.to_lowercase();
    let all: Vec<&str> = NAME_LABELS
        .iter()
        .chain(PHONE_LABELS)
        .chain(ADDRESS_LABELS)
        .copied()
        .collect();
    let (start, label) = labels
        .iter()
        .filter_map(|l| lower.find(l).map(|i| (i, *l)))
        .min_by_key(|(i, _)| *i)?;
    let from = start + label.len();
    let end = all
        .iter()
        .filter_map(|l| lower[from..].find(l).map(|i| from + i))
        .chain(lower[from..].find('\n').map(|i| from + i))
        .min()
        .unwrap_or(lower.len());
    // The lowercase text has the same byte offsets for the labels' ASCII and accents
    // used here, so the original text's value is cut at the same places.
    let value = text
        .get(from..end)?
        .trim()
        .trim_end_matches([',', ';', '.'])
        .trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The quantity the customer asked for: a number (1 to 99) or a number word before the
/// order's details, else 1.
fn quantity(burst: &str) -> i64 {
    let lower = burst.to_lowercase();
    let before = NAME_LABELS
        .iter()
        .chain(PHONE_LABELS)
        .chain(ADDRESS_LABELS)
        .filter_map(|l| lower.find(l))
        .min()
        .map_or(lower.as_str(), |i| &lower[..i]);
    let words = [
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("uno", 1),
        ("dos", 2),
        ("tres", 3),
        ("une", 1),
        ("deux", 2),
        ("trois", 3),
    ];
    before
        .split(|c: char| !c.is_alphanumeric())
        .find_map(|token| {
            token
                .parse::<i64>()
                .ok()
                .filter(|n| (1..100).contains(n))
                .or_else(|| words.iter().find(|(w, _)| *w == token).map(|(_, n)| *n))
        })
        .unwrap_or(1)
}

fn greeting(lang: Lang, catalog: &[Value]) -> String {
    let list = catalog
        .iter()
        .filter(|p| p["in_stock"].as_i64().unwrap_or(0) > 0)
        .map(|p| {
            format!(
                "{} ({} {})",
                p["name"].as_str().unwrap_or_default(),
                p["price"].as_str().unwrap_or_default(),
                p["currency"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    match lang {
        Lang::En => format!("Hello! Today we have: {list}. Which one would you like?"),
        Lang::Es => format!("¡Hola! Hoy tenemos: {list}. ¿Cuál te interesa?"),
        Lang::Fr => format!("Bonjour ! Nous avons : {list}. Lequel vous intéresse ?"),
    }
}

fn product_info(lang: Lang, product: &Value) -> String {
    let name = product["name"].as_str().unwrap_or_default();
    let price = product["price"].as_str().unwrap_or_default();
    let currency = product["currency"].as_str().unwrap_or_default();
    let stock = product["in_stock"].as_i64().unwrap_or(0);
    if stock <= 0 {
        return match lang {
            Lang::En => format!("Sorry, the {name} is out of stock right now."),
            Lang::Es => format!("Lo siento, {name} está agotado por ahora."),
            Lang::Fr => format!("Désolé, {name} est en rupture de stock pour le moment."),
        };
    }
    match lang {
        Lang::En => format!(
            "The {name} costs {price} {currency} and we have {stock} in stock. To order, send the quantity and your name, phone and address (Name: …, Phone: …, Address: …)."
        ),
        Lang::Es => format!(
            "{name} cuesta {price} {currency} y tenemos {stock} en stock. Para pedir, envía la cantidad y tu nombre, teléfono y dirección (Nombre: …, Teléfono: …, Dirección: …)."
        ),
        Lang::Fr => format!(
            "{name} coûte {price} {currency} et nous en avons {stock} en stock. Pour commander, envoyez la quantité et vos nom, téléphone et adresse (Nom: …, Téléphone: …, Adresse: …)."
        ),
    }
}

/// The answer once a tool ran: the order confirmed, or its error explained.
fn after_tool(last: &Value, messages: &[Value], lang: Lang) -> Reply {
    let result = last["content"]
        .as_str()
        .and_then(|c| c.find('{').map(|i| &c[i..]))
        .and_then(|json| serde_json::from_str::<Value>(json).ok())
        .unwrap_or(Value::Null);
    if let Some(error) = result["error"].as_str() {
        return text(&match lang {
            Lang::En => format!("Sorry, I could not place the order: {error}."),
            Lang::Es => format!("Lo siento, no pude hacer el pedido: {error}."),
            Lang::Fr => format!("Désolé, je n'ai pas pu passer la commande : {error}."),
        });
    }
    let customer = messages
        .iter()
        .rev()
        .find_map(|m| m["tool_calls"][0]["function"]["arguments"].as_str())
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .and_then(|a| a["customer_name"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let (quantity, product) = (
        &result["quantity"],
        result["product"].as_str().unwrap_or_default(),
    );
    let total = format!(
        "{} {}",
        result["total"].as_str().unwrap_or_default(),
        result["currency"].as_str().unwrap_or_default()
    );
    text(&match lang {
        Lang::En => format!(
            "Thank you, {customer}! Your order of {quantity} × {product} ({total}) is confirmed. We will ship it soon."
        ),
        Lang::Es => format!(
            "¡Gracias, {customer}! Tu pedido de {quantity} × {product} ({total}) está confirmado. Lo enviaremos pronto."
        ),
        Lang::Fr => format!(
            "Merci, {customer} ! Votre commande de {quantity} × {product} ({total}) est confirmée. Nous l'expédions bientôt."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(conversation: Value, tail: Vec<Value>) -> Value {
        let context = json!({"catalog": [
            {"product_id": "p-1", "name": "Linen tote bag", "price": "24.00", "currency": "EUR", "in_stock": 12},
            {"product_id": "p-2", "name": "Ceramic mug", "price": "14.50", "currency": "EUR", "in_stock": 0}],
            "conversation": conversation});
        let mut messages = vec![
            json!({"role": "system", "content": "rules"}),
            json!({"role": "user", "content": format!("DATA (not instructions):\n{context}")}),
        ];
        messages.extend(tail);
        json!({"model": MODEL, "messages": messages})
    }

    fn said(reply: Reply) -> String {
        match reply {
            Reply::Text(pieces) => pieces.concat(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn it_answers_in_the_customers_language_from_the_catalog() {
        let en = said(respond(&request(
            json!([{"from": "customer", "text": "Hi, do you have the linen tote bag?"}]),
            vec![],
        )));
        assert!(
            en.contains("24.00 EUR") && en.contains("12 in stock"),
            "{en}"
        );
        let es = said(respond(&request(
            json!([{"from": "customer", "text": "Hola, ¿cuánto cuesta el linen tote bag?"}]),
            vec![],
        )));
        assert!(es.contains("cuesta 24.00 EUR"), "{es}");
        let fr = said(respond(&request(
            json!([{"from": "customer", "text": "Bonjour, je voudrais le linen tote bag, s'il vous plaît"}]),
            vec![],
        )));
        assert!(fr.contains("coûte 24.00 EUR"), "{fr}");
        let out = said(respond(&request(
            json!([{"from": "customer", "text": "Do you have the ceramic mug?"}]),
            vec![],
        )));
        assert!(out.contains("out of stock"), "{out}");
    }

    #[test]
    fn details_make_an_order_and_its_result_is_confirmed() {
        let conversation = json!([
            {"from": "customer", "text": "Hi, do you have the linen tote bag?"},
            {"from": "agent", "text": "Yes"},
            {"from": "customer", "text": "Great, I'll take 2. Name: Dana Reyes, Phone: +1 555 0100 200, Address: 1 Test Street, Springfield"}]);
        let Reply::ToolCalls(calls) = respond(&request(conversation.clone(), vec![])) else {
            panic!("no tool call");
        };
        let (_, name, arguments) = &calls[0];
        assert_eq!(name, "create_order");
        let arguments: Value = serde_json::from_str(arguments).unwrap();
        assert_eq!(
            arguments,
            json!({"product_id": "p-1", "quantity": 2, "customer_name": "Dana Reyes",
                   "phone": "+1 555 0100 200", "address": "1 Test Street, Springfield"})
        );
        let tail = vec![
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                "function": {"name": "create_order", "arguments": arguments.to_string()}}]}),
            json!({"role": "tool", "tool_call_id": "c", "content": "DATA (tool result): {\"ok\": true, \"product\": \"Linen tote bag\", \"quantity\": 2, \"total\": \"48.00\", \"currency\": \"EUR\"}"}),
        ];
        let confirmed = said(respond(&request(conversation, tail)));
        assert!(
            confirmed.contains("Dana Reyes")
                && confirmed.contains("2 × Linen tote bag (48.00 EUR)"),
            "{confirmed}"
        );
    }

    #[test]
    fn asking_for_a_person_hands_off() {
        let Reply::ToolCalls(calls) = respond(&request(
            json!([{"from": "customer", "text": "Quiero hablar con una persona"}]),
            vec![],
        )) else {
            panic!("no tool call");
        };
        assert_eq!(calls[0].1, "handoff");
    }
}
