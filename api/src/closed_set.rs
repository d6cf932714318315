//! The behaviour every closed set shares: a fixed list of values, each with one stored name.

/// A value that is not one of a closed set's names; says which set and what was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub set: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} {:?}: must be one of {}",
            self.set,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// A closed set of values with stable stored names.
pub trait ClosedSet: Sized + Copy + 'static {
    /// What the set is called in messages ("channel", "activity state").
    const NAME: &'static str;
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// Every stored name, in the same order as [`ClosedSet::ALL`].
    const NAMES: &'static [&'static str];

    fn as_str(self) -> &'static str;

    fn parse(value: &str) -> Result<Self, UnknownValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == value)
            .ok_or_else(|| UnknownValue {
                set: Self::NAME,
                value: value.to_owned(),
                expected: Self::NAMES,
            })
    }
}

/// Declares a closed set: the enum, its stored names, serde as those names, `Display`,
/// `FromStr`, and (with the `sqlx` feature) Postgres `text` encoding.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $name:ident, $label:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::ClosedSet for $name {
            const NAME: &'static str = $label;
            const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];
            const NAMES: &'static [&'static str] = &[ $( $text ),+ ];

            fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl $name {
            /// The stored (and serialized) name.
            pub fn as_str(self) -> &'static str {
                <Self as $crate::ClosedSet>::as_str(self)
            }

            /// Every value, in display order.
            pub fn all() -> &'static [Self] {
                <Self as $crate::ClosedSet>::ALL
            }

            pub fn parse(value: &str) -> Result<Self, $crate::UnknownValue> {
                <Self as $crate::ClosedSet>::parse(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "sqlx")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?;
                Ok(Self::parse(text)?)
            }
        }
    };
}

pub(crate) use closed_set;
