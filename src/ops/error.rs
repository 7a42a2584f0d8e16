//! Why an operator's request failed. What happened, not how to answer it: the admin API
//! maps each variant to a status in one place, the command line to an exit code.

use super::input::FieldErrors;
use crate::vendor::ApiError;

/// Why an operator's request failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// No room has this key.
    #[error("no such room")]
    NotFound,
    /// The room has no start, so no calendar event.
    #[error("this room has no start time, so there is no calendar event")]
    NoSchedule,
    /// The catalog is edited in its file, not through roomgate.
    #[error("rooms of the catalog are managed in its file")]
    CatalogManaged,
    /// Invitations need the vendor API.
    #[error("personal invitations need rooms.source = \"api\"")]
    NeedsVendor,
    /// The brand serves only the rooms its `rooms` list names, so it cannot create one.
    #[error(
        "this brand serves only the rooms its `rooms` list names: create the room with the top-level settings (or a brand serving every room), then add its key to the list"
    )]
    BrandRoomsListed,
    /// The room source answers lookups only (a source of the tests).
    #[error("this room source cannot list or change its rooms")]
    LookupOnly,
    /// The operator's input is not acceptable; messages per field.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: FieldErrors,
    },
    /// The vendor refused the input, with its messages per field.
    #[error("the vendor: {0}")]
    VendorRejected(ApiError),
    /// The vendor has no such room (any more).
    #[error("the vendor: {0}")]
    VendorNotFound(ApiError),
    /// The vendor failed or could not be reached.
    #[error("the vendor: {0}")]
    VendorFailed(ApiError),
    /// The vendor answered a change with success but, read back, stored none of what
    /// the operator asked for; why, per field.
    #[error("the vendor accepted the change but stored none of it")]
    NotStored { fields: FieldErrors },
    /// The vendor answered `status=active` with success, but the room reads as closed.
    #[error("the vendor did not reopen the room: it is still closed")]
    NotReopened,
    /// The vendor answered `status=inactive` with success, but the room reads as open.
    #[error("the vendor did not close the room: it is still open")]
    NotClosed,
}

impl From<ApiError> for OpsError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Validation { .. } => OpsError::VendorRejected(e),
            ApiError::NotFound { .. } => OpsError::VendorNotFound(e),
            _ => OpsError::VendorFailed(e),
        }
    }
}

impl OpsError {
    pub(super) fn invalid(fields: FieldErrors) -> Self {
        OpsError::Invalid {
            message: "some fields are not acceptable".to_owned(),
            fields,
        }
    }

    /// Messages per field, when there are any (ours or the vendor's).
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            OpsError::Invalid { fields, .. }
            | OpsError::NotStored { fields }
            | OpsError::VendorRejected(ApiError::Validation { fields, .. })
                if !fields.is_empty() =>
            {
                Some(fields)
            }
            _ => None,
        }
    }

    /// Whether the vendor (rather than the operator's input) is to blame: it failed, or
    /// said yes and did not do it.
    pub fn is_vendor_failure(&self) -> bool {
        matches!(
            self,
            OpsError::VendorFailed(_)
                | OpsError::NotStored { .. }
                | OpsError::NotReopened
                | OpsError::NotClosed
        )
    }
}
