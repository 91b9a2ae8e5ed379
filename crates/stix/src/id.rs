//! STIX identifiers (`type--UUID`), type names and property names: syntax only, no knowledge of
//! which types or properties exist.

/// Why a string is not a STIX identifier.
pub(crate) enum IdError {
    /// No `--` separator, or an invalid type-name part.
    Shape,
    /// The UUID part is not an RFC 4122 UUID (variant bits `10`, version 1 to 5).
    Uuid,
}

/// Splits `type--uuid`, checking the type name and that the UUID is RFC 4122-compliant.
pub(crate) fn parse_identifier(s: &str) -> Result<(&str, &str), IdError> {
    let (ty, uuid) = s.split_once("--").ok_or(IdError::Shape)?;
    if !is_type_name(ty) {
        return Err(IdError::Shape);
    }
    if !is_rfc4122_uuid(uuid) {
        return Err(IdError::Uuid);
    }
    Ok((ty, uuid))
}

/// Whether `s` has the shape of a STIX identifier as a look-up key: a type of a-z, 0-9 and
/// `-` (1 to 250 characters), `--`, and a UUID in its 8-4-4-4-12 form. Looser than
/// validation (any UUID version), so that a look-up of any stored id is accepted and
/// anything else is refused before it reaches a store.
pub fn is_identifier(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, uuid)) => {
            is_type_key(t) && uuid.len() == 36 && uuid::Uuid::try_parse(uuid).is_ok()
        }
        None => false,
    }
}

/// Whether `s` has the shape of a STIX type as a look-up key: a-z, 0-9 and `-`, 1 to 250
/// characters (looser than the type-name rule of validation).
pub fn is_type_key(s: &str) -> bool {
    (1..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Type-name rule: a-z, 0-9 and `-`, no `--`, 3 to 250 characters, starting with a letter.
pub(crate) fn is_type_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !s.contains("--")
}

/// Property-name rule: a-z, 0-9 and `_`, 3 to 250 characters, starting with a letter.
pub(crate) fn is_property_name(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An RFC 4122 UUID in its 8-4-4-4-12 hex form, with version 1-5 and the RFC 4122 variant.
pub(crate) fn is_rfc4122_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    let shape = b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    });
    shape
        && (b'1'..=b'5').contains(&b[14])
        && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

/// The UUID version digit of a well-formed identifier's UUID part.
pub(crate) fn uuid_version(uuid: &str) -> u8 {
    uuid.as_bytes()[14] - b'0'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_spec_identifiers() {
        assert!(parse_identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_ok());
        assert!(parse_identifier("x-mitre-tactic--69da72d2-f550-41c5-ab9e-e8255707f28a").is_ok());
        assert!(parse_identifier("file--5a27d487-c542-5f97-a131-a8866b477b46").is_ok());
    }

    #[test]
    fn rejects_bad_shapes_and_non_rfc4122_uuids() {
        assert!(matches!(
            parse_identifier("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(IdError::Shape)
        ));
        assert!(matches!(
            parse_identifier("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(IdError::Shape)
        ));
        // version 0 and the NCS variant are not RFC 4122 UUIDs
        assert!(matches!(
            parse_identifier("indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"),
            Err(IdError::Uuid)
        ));
        assert!(matches!(
            parse_identifier("indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f"),
            Err(IdError::Uuid)
        ));
        assert!(matches!(
            parse_identifier("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f"),
            Err(IdError::Uuid)
        ));
    }

    #[test]
    fn type_names_follow_the_naming_rule() {
        assert!(is_type_name("x-mitre-data-component"));
        assert!(!is_type_name("ab"));
        assert!(!is_type_name("x--y"));
        assert!(!is_type_name("X-y"));
        assert!(!is_type_name("x_y"));
    }
}
