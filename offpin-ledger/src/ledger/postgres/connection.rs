//! Connection strings, as the ledger names them in messages: a libpq URL
//! (`postgres://user:password@host:port/db?...`) or `key=value` string
//! (`host=db user=offpin password=... dbname=offpin`) is described as
//! `postgres://user@host:port/db`, never with its password or its options
//! (which may hold one), and told apart from a file path.

use postgres::config::Host;

/// The keywords of libpq's `key=value` connection strings.
const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "options",
    "application_name",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// Whether `arg` is a libpq `key=value` connection string rather than a
/// file path: it starts with a libpq keyword and `=` (spaces allowed
/// around it). A file of such a name is named `./host=...`.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::postgres::is_key_value_string;
/// assert!(is_key_value_string("host=db user=offpin password=s3cret"));
/// assert!(is_key_value_string("dbname = offpin"));
/// assert!(!is_key_value_string("./host=db.sqlite"));
/// assert!(!is_key_value_string("ledger.db"));
/// ```
pub fn is_key_value_string(arg: &str) -> bool {
    arg.split_once('=')
        .is_some_and(|(key, _)| KEYWORDS.contains(&key.trim()))
}

/// `postgres://user@host:port/db` of a libpq URL or `key=value`
/// connection string, for messages: never its password (nor its other
/// options); `None` when it cannot be read.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::postgres::describe_connection;
/// let url = "postgresql://offpin:s3cret@db:5433/fleet?password=s3cret";
/// assert_eq!(describe_connection(url).as_deref(), Some("postgres://offpin@db:5433/fleet"));
/// let kv = "host=db user=offpin password=s3cret dbname=fleet";
/// assert_eq!(describe_connection(kv).as_deref(), Some("postgres://offpin@db:5432/fleet"));
/// assert_eq!(describe_connection("host='unclosed password=s3cret"), None);
/// ```
pub fn describe_connection(connection: &str) -> Option<String> {
    connection
        .parse::<postgres::Config>()
        .ok()
        .map(|c| describe(&c))
}

/// `postgres://user@host:port/db` of a configuration (never the password).
pub(super) fn describe(config: &postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wherever a connection string puts its password, its description
    /// leaves it out.
    #[test]
    fn no_description_names_a_password() {
        for (arg, described) in [
            (
                "host=db.internal user=offpin password=s3cret dbname=fleet",
                Some("postgres://offpin@db.internal:5432/fleet"),
            ),
            (
                "password = 's3cret' host=db port=6000 user=o dbname=f",
                Some("postgres://o@db:6000/f"),
            ),
            (
                "postgres://o:s3cret@db/f?password=s3cret&options=-cfoo%3Ds3cret",
                Some("postgres://o@db:5432/f"),
            ),
            ("host='unterminated password=s3cret", None),
        ] {
            assert_eq!(describe_connection(arg).as_deref(), described, "{arg}");
        }
    }
}
