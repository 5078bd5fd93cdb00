//! Roles within a workspace, ordered from least to most powerful.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    poem_openapi::Enum,
)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything; changes nothing.
    Viewer,
    /// Reads everything, classifies transactions, runs reports; cannot manage
    /// users, keys or settings.
    Accountant,
    /// Everything an owner can do except granting or removing ownership.
    Admin,
    /// Full control of the workspace.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Accountant, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Accountant => "accountant",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// True when a holder of `self` may do what needs `required`.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}; use owner, admin, accountant or viewer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner.allows(Role::Admin));
        assert!(Role::Admin.allows(Role::Accountant));
        assert!(Role::Accountant.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Accountant));
        assert!(!Role::Admin.allows(Role::Owner));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
