//! TAXII 2.1 query parameters: which ones each endpoint allows (any other is a 400), and
//! their strict parsing into a store filter. Values are checked for shape, so hostile
//! strings are refused with a precise message before they reach the store.

use comity_node::intake::version_key;
use comity_store::{ObjectFilter, VersionFilter};

use crate::error::ApiError;
use comity_stix::clock as timefmt;
use comity_stix::{is_identifier as is_stix_id, is_type_key as is_stix_type};

/// The filters an endpoint accepts.
#[derive(Clone, Copy)]
pub enum Endpoint {
    /// `…/objects/` and `…/manifest/`.
    Objects,
    /// `…/objects/{id}/` (GET).
    Object,
    /// `…/objects/{id}/` (DELETE).
    DeleteObject,
    /// `…/objects/{id}/versions/`.
    Versions,
}

impl Endpoint {
    /// A short name, used to bind `next` tokens to the endpoint that issued them.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Objects => "objects",
            Endpoint::Object => "object",
            Endpoint::DeleteObject => "delete",
            Endpoint::Versions => "versions",
        }
    }

    fn allows(self, name: &str) -> bool {
        let paging = matches!(name, "added_after" | "limit" | "next");
        match self {
            Endpoint::Objects => {
                paging
                    || matches!(
                        name,
                        "match[id]" | "match[type]" | "match[version]" | "match[spec_version]"
                    )
            }
            Endpoint::Object => paging || matches!(name, "match[version]" | "match[spec_version]"),
            Endpoint::DeleteObject => matches!(name, "match[version]" | "match[spec_version]"),
            Endpoint::Versions => paging || name == "match[spec_version]",
        }
    }
}

/// A parsed query.
pub struct Query {
    /// The store filter.
    pub filter: ObjectFilter,
    /// `limit`, when given.
    pub limit: Option<usize>,
    /// `next`, when given (still encoded).
    pub next: Option<String>,
}

/// Refuses any query parameter, for endpoints that take none.
pub fn none(raw: Option<&str>) -> Result<(), ApiError> {
    match raw {
        Some(q) if !q.is_empty() => Err(ApiError::bad_request(
            "this endpoint takes no query parameters",
        )),
        _ => Ok(()),
    }
}

fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim)
}

/// Parses the raw query string for an endpoint; `default_versions` applies when
/// `match[version]` is absent.
pub fn parse(
    raw: Option<&str>,
    endpoint: Endpoint,
    default_versions: VersionFilter,
) -> Result<Query, ApiError> {
    let mut filter = ObjectFilter::default();
    let mut versions: Option<VersionFilter> = None;
    let mut limit = None;
    let mut next = None;
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !endpoint.allows(&name) {
            return Err(ApiError::bad_request(format!(
                "unknown or unsupported query parameter {:?} on this endpoint",
                name.chars().take(64).collect::<String>()
            )));
        }
        match name.as_ref() {
            "added_after" => {
                let t = timefmt::parse_us(&value).ok_or_else(|| {
                    ApiError::bad_request("added_after must be an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z")
                })?;
                filter.added_after = Some(t);
            }
            "limit" => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ApiError::bad_request("limit must be a positive integer"))?;
                limit = Some(n);
            }
            "next" => next = Some(value.into_owned()),
            "match[id]" => {
                for id in items(&value) {
                    if !is_stix_id(id) {
                        return Err(ApiError::bad_request(format!(
                            "match[id]: {:?} is not a STIX identifier (type--UUID)",
                            id.chars().take(80).collect::<String>()
                        )));
                    }
                    filter.ids.push(id.to_owned());
                }
            }
            "match[type]" => {
                for t in items(&value) {
                    if !is_stix_type(t) {
                        return Err(ApiError::bad_request(format!(
                            "match[type]: {:?} is not a STIX type name",
                            t.chars().take(80).collect::<String>()
                        )));
                    }
                    filter.types.push(t.to_owned());
                }
            }
            "match[spec_version]" => {
                for v in items(&value) {
                    if !matches!(v, "2.0" | "2.1") {
                        return Err(ApiError::bad_request(format!(
                            "match[spec_version]: {:?} is not a STIX version (2.0 or 2.1)",
                            v.chars().take(80).collect::<String>()
                        )));
                    }
                    filter.spec_versions.push(v.to_owned());
                }
            }
            "match[version]" => {
                let v = versions.get_or_insert_with(VersionFilter::default);
                for item in items(&value) {
                    match item {
                        "all" => v.all = true,
                        "first" => v.first = true,
                        "last" => v.last = true,
                        ts => v.at.push(version_key(ts).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "match[version]: {:?} is neither first, last, all nor an RFC 3339 UTC timestamp",
                                ts.chars().take(80).collect::<String>()
                            ))
                        })?),
                    }
                }
            }
            _ => unreachable!("allows() admits only the names above"),
        }
    }
    filter.versions = versions.unwrap_or(default_versions);
    Ok(Query {
        filter,
        limit,
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_misplaced_parameters_are_refused() {
        assert!(parse(Some("foo=1"), Endpoint::Objects, VersionFilter::last()).is_err());
        assert!(parse(
            Some("match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Endpoint::Versions,
            VersionFilter::all()
        )
        .is_err());
        assert!(parse(
            Some("limit=5"),
            Endpoint::DeleteObject,
            VersionFilter::all()
        )
        .is_err());
    }

    #[test]
    fn lists_and_versions_parse() {
        let q = parse(
            Some("match[type]=indicator,malware&match[version]=first,2016-01-01T01:01:01.1Z&limit=10"),
            Endpoint::Objects,
            VersionFilter::last(),
        )
        .unwrap();
        assert_eq!(q.filter.types, vec!["indicator", "malware"]);
        assert!(q.filter.versions.first && !q.filter.versions.last);
        assert_eq!(q.filter.versions.at, vec!["2016-01-01T01:01:01.100000000Z"]);
        assert_eq!(q.limit, Some(10));
    }

    #[test]
    fn hostile_values_are_refused() {
        for bad in [
            "match[id]=indicator--x'%20OR%201=1",
            "match[type]=../../etc",
            "match[spec_version]=3.0",
            "match[version]=yesterday",
            "limit=0",
            "limit=-1",
            "added_after=now",
        ] {
            assert!(
                parse(Some(bad), Endpoint::Objects, VersionFilter::last()).is_err(),
                "{bad}"
            );
        }
    }
}
