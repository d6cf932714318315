//! Reading JSON objects field by field, with errors that carry the field's path
//! (`from.email`, `attachments[1].url`).

use serde_json::{Map, Value};

use crate::EmailAddress;
use crate::channels::{Address, ChannelError, PhoneNumber};

#[derive(Clone)]
pub(super) struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// The top-level object of a payload.
    pub(super) fn root(value: &'a Value) -> Result<Self, ChannelError> {
        value
            .as_object()
            .map(|map| Fields {
                path: String::new(),
                map,
            })
            .ok_or_else(|| ChannelError::invalid("body", "must be a JSON object"))
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// A string field; absent, null and "" are `None`, other types an error.
    pub(super) fn text(&self, key: &str) -> Result<Option<&'a str>, ChannelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ChannelError::invalid(self.path(key), "must be a string")),
        }
    }

    pub(super) fn required_text(&self, key: &str) -> Result<&'a str, ChannelError> {
        self.text(key)?
            .ok_or_else(|| ChannelError::invalid(self.path(key), "is required"))
    }

    /// A string or a number (ids and sizes arrive as either), as text.
    pub(super) fn text_or_number(&self, key: &str) -> Result<Option<String>, ChannelError> {
        match self.map.get(key) {
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            _ => Ok(self.text(key)?.map(str::to_owned)),
        }
    }

    pub(super) fn number(&self, key: &str) -> Result<Option<u64>, ChannelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| ChannelError::invalid(self.path(key), "must be a whole number")),
            Some(_) => Err(ChannelError::invalid(self.path(key), "must be a number")),
        }
    }

    pub(super) fn boolean(&self, key: &str) -> Result<Option<bool>, ChannelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ChannelError::invalid(
                self.path(key),
                "must be true or false",
            )),
        }
    }

    /// A nested object, whose errors report paths under this one.
    pub(super) fn object(&self, key: &str) -> Result<Option<Fields<'a>>, ChannelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                path: self.path(key),
                map,
            })),
            Some(_) => Err(ChannelError::invalid(self.path(key), "must be an object")),
        }
    }

    /// An array field (absent or null is empty); a single object counts as one item.
    pub(super) fn list(&self, key: &str) -> Result<Vec<&'a Value>, ChannelError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().collect()),
            Some(item @ Value::Object(_)) => Ok(vec![item]),
            Some(_) => Err(ChannelError::invalid(self.path(key), "must be an array")),
        }
    }

    /// The objects of an array field, each reporting paths as `key[i]`.
    pub(super) fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>, ChannelError> {
        self.list(key)?
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let path = format!("{}[{i}]", self.path(key));
                match value.as_object() {
                    Some(map) => Ok(Fields { path, map }),
                    None => Err(ChannelError::invalid(path, "must be an object")),
                }
            })
            .collect()
    }
}

pub(super) fn email(value: &str, field: &str) -> Result<Address, ChannelError> {
    EmailAddress::parse(value)
        .map(Address::Email)
        .map_err(|_| ChannelError::invalid(field, format!("{value:?} is not an email address")))
}

pub(super) fn phone(value: &str, field: &str) -> Result<Address, ChannelError> {
    PhoneNumber::parse(value)
        .map(Address::Phone)
        .map_err(|_| ChannelError::invalid(field, format!("{value:?} is not a phone number")))
}
