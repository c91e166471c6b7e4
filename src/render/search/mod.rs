//! Built-in search: the tokenizer shared with the client, and the sharded index.

pub mod index;
pub mod tokenizer;
