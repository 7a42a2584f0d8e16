//! What visitors see: Tera templates and their typed views, the room page's view, and the
//! rendered pages shared by visitors who bring nothing of their own.

pub mod page_cache;
pub mod pages;
pub mod room;
pub mod spliced;

pub use page_cache::PageCache;
pub use pages::{
    CountdownView, ErrorPage, FinishedPage, NoticePage, PLAIN_500, Pages, PromptView, RoomPage,
    RoomView, ScheduleView, SignedInView, SiteView, TEMPLATES, html_response,
};
