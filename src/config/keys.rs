//! The keys site.toml knows, read off the config structs themselves: serde hands a struct's
//! field names to the deserializer, so [`fields_of`] asks for them with a deserializer that
//! only listens. There is no list of keys to keep in step by hand.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A deserializer that records the field names of the struct asked of it, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

/// Why the listening deserializer stopped (always: it has no data).
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = Stop;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The field names of the struct `T` (its keys in site.toml), as serde sees them.
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, MarkdownConfig};

    #[test]
    fn keys_come_from_the_structs() {
        let top = fields_of::<Config>();
        for key in [
            "title",
            "base_url",
            "posts_per_page",
            "markdown",
            "headers",
            "extra",
        ] {
            assert!(top.contains(&key), "{key} missing from {top:?}");
        }
        assert_eq!(
            fields_of::<MarkdownConfig>(),
            ["highlight_theme", "highlight_code", "unsafe_html"]
        );
    }
}
