//! One room page request: what the path, the query and the session say, checked and
//! combined into what the page and the embed need. Plain functions, tested without HTTP.

pub mod embed;
pub mod page;
pub mod path;
pub mod query;
pub mod request;
pub mod role;
pub mod schedule;
pub mod validate;
