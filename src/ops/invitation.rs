//! What an operator sends to invite one participant, checked field by field and turned
//! into the vendor's form for a personal link.

use serde::Deserialize;
use utoipa::ToSchema;

use super::input::{FieldErrors, error};
use crate::{domain::grammar::clean_email, vendor::client::Form};

/// One participant's personal invitation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    /// The participant's address, stored by the vendor with the personal token.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub last_name: Option<String>,
    /// `attendee` when absent.
    #[serde(default)]
    #[schema(value_type = Option<InvitationRole>)]
    pub role: Option<String>,
}

// The input keeps the role as text, so that another one is a field error (422), not
// malformed JSON (400); this enum only describes it, as `INVITATION_ROLES` lists it.
/// The role a personal link carries.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum InvitationRole {
    Attendee,
    Presenter,
    Moderator,
}

/// Roles a personal link can carry.
pub const INVITATION_ROLES: [&str; 3] = ["attendee", "presenter", "moderator"];

impl InvitationInput {
    /// The vendor form for `widgets/{id}/personal`. The vendor's documentation spells the
    /// address both `email` and `emails`, so both are sent.
    pub fn form(&self) -> Result<Form, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = self.email.trim();
        if clean_email(email).is_none() {
            error(&mut errors, "email", "is not a valid email address");
        }
        let role = self.role.as_deref().unwrap_or("attendee");
        if !INVITATION_ROLES.contains(&role) {
            error(
                &mut errors,
                "role",
                "must be attendee, presenter or moderator",
            );
        }
        for (field, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().count() > 100 || v.contains(char::is_control))
            {
                error(
                    &mut errors,
                    field,
                    "must be at most 100 characters without control characters",
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut form = vec![
            ("email".to_owned(), email.to_owned()),
            ("emails".to_owned(), email.to_owned()),
            ("role".to_owned(), role.to_owned()),
        ];
        if let Some(f) = &self.first_name {
            form.push(("firstname".to_owned(), f.trim().to_owned()));
        }
        if let Some(l) = &self.last_name {
            form.push(("lastname".to_owned(), l.trim().to_owned()));
        }
        Ok(form)
    }

    /// The role, `attendee` when none was given.
    pub fn role(&self) -> &str {
        self.role.as_deref().unwrap_or("attendee")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(form: &'a Form, key: &str) -> Option<&'a str> {
        form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn invitations_send_both_spellings_of_the_address() {
        let form = InvitationInput {
            email: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            role: Some("presenter".into()),
        }
        .form()
        .unwrap();
        assert_eq!(get(&form, "email"), Some("ada@example.com"));
        assert_eq!(get(&form, "emails"), Some("ada@example.com"));
        assert_eq!(get(&form, "role"), Some("presenter"));
        assert_eq!(get(&form, "firstname"), Some("Ada"));
        let bad = InvitationInput {
            email: "nope".into(),
            first_name: None,
            last_name: None,
            role: Some("host".into()),
        };
        let errors = bad.form().unwrap_err();
        assert!(errors.contains_key("email") && errors.contains_key("role"));
    }
}
