//! The one mapping from sqlx errors to [`StoreError`], and the redaction of connection URLs.
//! Nothing here may ever put a password into a message.

use comity_store::StoreError;
use sqlx::postgres::{PgDatabaseError, PgSeverity};

/// Maps a database error to a store error: connection trouble, shutdowns, refused logins,
/// lock conflicts and a missing database are [`StoreError::Unavailable`] (the server
/// answers 503 and the request can be retried); the rest is [`StoreError::Backend`].
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // A FATAL error ends the session (refused login, shutdown, a database closed to
        // connections): whatever its code, the database is not there for us now.
        sqlx::Error::Database(d)
            if d.try_downcast_ref::<PgDatabaseError>()
                .is_some_and(|p| matches!(p.severity(), PgSeverity::Fatal | PgSeverity::Panic)) =>
        {
            true
        }
        sqlx::Error::Database(d) => d.code().is_some_and(|code| {
            // 08: connection exception; 28: invalid authorisation; 3D000: no such
            // database; 40001/40P01: serialisation failure, deadlock; 53300: too many
            // connections; 57P0x: the server is shutting down or starting.
            code.starts_with("08")
                || code.starts_with("28")
                || code.starts_with("57P")
                || matches!(&*code, "3D000" | "40001" | "40P01" | "53300")
        }),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Backend(e.to_string())
    }
}

/// Maps an insert's error: a unique-key violation means `what` exists already.
pub(crate) fn conflict_or_db(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(what())
    } else {
        db(e)
    }
}

/// Whether the error is a unique-constraint violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// The URL with its password (in the authority or a `password=` parameter) replaced by
/// `***`, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, want) in [
            (
                "postgres://comity:s3cret@db.example:5432/comity",
                "postgres://comity:***@db.example:5432/comity",
            ),
            (
                "postgres://comity:p%40ss:w@rd@db/x?sslmode=require",
                "postgres://comity:***@db/x?sslmode=require",
            ),
            (
                "postgresql://u@h/d?password=s3cret&application_name=a",
                "postgresql://u@h/d?password=***&application_name=a",
            ),
            ("postgres://h/d", "postgres://h/d"),
        ] {
            assert_eq!(redact_url(url), want);
        }
    }
}
