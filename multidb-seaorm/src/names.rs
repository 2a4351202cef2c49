//! The short, stable names replicas go by in metrics (`replica` label), on
//! the status page and in [`ReplicaStatus`](crate::ReplicaStatus): a name
//! the user gave, else `host:port` from the URL (never its credentials),
//! else `replica<index>`.

/// `host:port` of a database URL (the port defaulted by scheme), or for a
/// SQLite file its file name; `None` when the URL names no host.
///
/// Credentials (`user:password@`) and the query string are never part of it.
pub(crate) fn from_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "sqlite" {
        // `sqlite://path/to/app.db?mode=ro`: the file's name.
        let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
        let file = path.rsplit('/').next().filter(|f| !f.is_empty())?;
        return Some(file.to_owned());
    }
    // After the last `@` before the query: a password holding `/` or `@`
    // never leaks into the name.
    let before_query = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let after_user = before_query
        .rsplit_once('@')
        .map_or(before_query, |(_, h)| h);
    let host_port = &after_user[..after_user.find('/').unwrap_or(after_user.len())];
    // Several hosts (`h1,h2`): the first names the replica well enough.
    let host_port = host_port.split(',').next().unwrap_or(host_port);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rfind(']') {
        // `[::1]:5432`
        Some(bracket) => host_port[bracket..].contains(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        return Some(host_port.to_owned());
    }
    let port = match scheme.as_str() {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        _ => None,
    };
    Some(match port {
        Some(port) => format!("{host_port}:{port}"),
        None => host_port.to_owned(),
    })
}

/// The name of replica `index`: `given`, else the name from its URL, else
/// `replica<index>`.
pub(crate) fn name(index: usize, given: Option<&str>, url: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| url.and_then(from_url))
        .unwrap_or_else(|| format!("replica{index}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_and_port_without_credentials() {
        let cases = [
            (
                "postgres://app:s3cr@t@db-1.internal:6432/app",
                "db-1.internal:6432",
            ),
            ("postgres://app:a/b@db-2/app", "db-2:5432"),
            (
                "postgres://app@replica-1/app?sslmode=require",
                "replica-1:5432",
            ),
            ("postgresql://10.0.0.7", "10.0.0.7:5432"),
            (
                "mysql://multidb_app:multidb@127.0.0.1:23307/multidb",
                "127.0.0.1:23307",
            ),
            ("mysql://u:p@db", "db:3306"),
            ("postgres://u:p@[::1]:5433/x", "[::1]:5433"),
            ("postgres://u@[::1]/x", "[::1]:5432"),
            ("postgres://h1:5432,h2:5432/x", "h1:5432"),
            ("sqlite:///var/lib/app/replica-1.db?mode=ro", "replica-1.db"),
        ];
        for (url, want) in cases {
            assert_eq!(from_url(url).as_deref(), Some(want), "{url}");
        }
        for url in [
            "sqlite::memory:",
            "not a url",
            "postgres:///app?host=/run/pg",
        ] {
            assert_eq!(from_url(url), None, "{url}");
        }
    }

    #[test]
    fn a_given_name_wins_then_the_url_then_the_index() {
        assert_eq!(name(0, Some("eu-1"), Some("postgres://a@h/x")), "eu-1");
        assert_eq!(name(1, None, Some("postgres://a:pw@h/x")), "h:5432");
        assert_eq!(name(2, None, Some("sqlite::memory:")), "replica2");
        assert_eq!(name(3, None, None), "replica3");
    }
}
